/** The execution-mode decision on real models from ../shared/models. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { LoadedModel } from '../src/runtime/engine.js';
import { onnxFormat } from '../src/runtime/onnx/onnx-format.js';
import { sharedModels } from './helpers/server.js';

const loaded: LoadedModel[] = [];
after(() => Promise.all(loaded.map((m) => m.close())));

async function load(name: string): Promise<LoadedModel> {
  const model = await onnxFormat.load({
    modelName: name, version: 1, dir: path.join(sharedModels, name, '1'), files: ['model.onnx'],
    options: { nireq: 0, targetDevice: 'CPU', pluginConfig: {} }, logger: pino({ level: 'silent' }),
  });
  loaded.push(model);
  return model;
}

describe('execution mode of real models', { skip: existsSync(sharedModels) ? false : 'needs ../shared/models (missing)' }, () => {
  it('mnist-8 (microseconds per run) runs inline and classifies a blank image', async () => {
    const model = await load('mnist-8');
    assert.equal(model.executionMode, 'inline');
    const out = await model.run(new Map([['Input3', { dtype: 'FP32', shape: [1, 1, 28, 28], data: new Float32Array(784) }]]), ['Plus214_Output_0']);
    const scores = out.get('Plus214_Output_0')!;
    assert.deepEqual(scores.shape, [1, 10]);
    assert.ok([...(scores.data as Float32Array)].every(Number.isFinite));
  });

  it('ppocr-det (dynamic height and width) runs in workers', async () => {
    const model = await load('ppocr-det');
    assert.equal(model.executionMode, 'worker');
    const out = await model.run(new Map([['x', { dtype: 'FP32', shape: [1, 3, 64, 96], data: new Float32Array(3 * 64 * 96) }]]), [model.outputs[0]!.name]);
    assert.deepEqual(out.get(model.outputs[0]!.name)!.shape, [1, 1, 64, 96]);
  });
});
