import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { TensorMap } from '../../core/tensor.js';
import type { LoadedModel, LoadRequest, ModelFormat } from '../engine.js';
import { fromOrtTensor, specFromMetadata, toOrtTensor } from './tensor-convert.js';

/** ONNX models: the first `.onnx` file of a version folder (OVMS picks the first match too). */
export const onnxFormat: ModelFormat = {
  name: 'onnx',
  pick(fileNames) {
    const f = [...fileNames].sort().find((n) => n.toLowerCase().endsWith('.onnx'));
    return f ? [f] : undefined;
  },
  async load(req: LoadRequest): Promise<LoadedModel> {
    const file = path.join(req.dir, req.files[0]!);
    const session = await ort.InferenceSession.create(file, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    const inputs = session.inputMetadata.map(specFromMetadata);
    const outputs = session.outputMetadata.map(specFromMetadata);
    return {
      inputs,
      outputs,
      async run(feeds: TensorMap, outputNames) {
        const ortFeeds: Record<string, ort.Tensor> = {};
        for (const [name, t] of feeds) ortFeeds[name] = toOrtTensor(t);
        const result = await session.run(ortFeeds, outputNames as string[]);
        const out: TensorMap = new Map();
        for (const name of outputNames) out.set(name, fromOrtTensor(result[name]!));
        return out;
      },
      async close() {
        await session.release();
      },
    };
  },
};
