/**
 * Settings side of issue 5 in-process: config.json parsing of layout and the tsms extensions
 * (color_format, mean, scale, dynamic_batching), how settings resolve against a model's inputs,
 * when `auto` asks for a reload, and the ONNX edits on a real onnxruntime session.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { parseModelListConfig } from '../src/config/config-file.js';
import { parseLayoutSpec, SettingError } from '../src/config/model-settings.js';
import type { ModelConfig } from '../src/config/types.js';
import { ServingError } from '../src/core/errors.js';
import type { Tensor, TensorSpec } from '../src/core/tensor.js';
import type { RuntimeOptions } from '../src/runtime/engine.js';
import { buildOnnxModel } from '../src/runtime/onnx/model-builder.js';
import { onnxFormat } from '../src/runtime/onnx/onnx-format.js';
import { autoReshape, planShapes } from '../src/serving/model-shapes.js';
import { tempDir } from './helpers/models.js';

const entry = (extra: Record<string, unknown>) => JSON.stringify({ model_config_list: [{ config: { name: 'm', base_path: '/models/m', ...extra } }] });
const parseOne = (extra: Record<string, unknown>) => parseModelListConfig(entry(extra));

describe('config.json: layout and tsms extensions', () => {
  it('parses color_format, mean, scale and dynamic_batching', () => {
    const { models, rejected } = parseOne({
      color_format: 'rgb', mean: '[123.675, 116.28, 103.53]', scale: 58, dynamic_batching: { max_batch_size: 8, preferred_batch_sizes: [8, 4, 4] },
    });
    assert.deepEqual(rejected, []);
    const m = models[0]!;
    assert.equal(m.colorFormat, 'RGB');
    assert.deepEqual(m.mean, [123.675, 116.28, 103.53]);
    assert.equal(m.scale, 58);
    assert.deepEqual(m.dynamicBatching, { maxBatchSize: 8, maxQueueDelayUs: 0, preferredBatchSizes: [4, 8] });
  });

  it('per-input maps are kept', () => {
    const m = parseOne({ color_format: { image: 'BGR' }, mean: { image: [1, 2, 3] } }).models[0]!;
    assert.deepEqual(m.colorFormat, { image: 'BGR' });
    assert.deepEqual(m.mean, { image: [1, 2, 3] });
  });

  it('bad values reject only their entry, with the reason', () => {
    for (const [extra, text] of [
      [{ color_format: 'YUV' }, /color_format "YUV": expected "RGB" or "BGR"/],
      [{ scale: [1, 0, 1] }, /scale \[1,0,1\]: expected a number or a non-empty array of numbers \(not 0\)/],
      [{ mean: 'abc' }, /mean "abc"/],
      [{ dynamic_batching: { preferred_batch_sizes: [32] } }, /preferred_batch_sizes must hold integers from 1 to max_batch_size/],
      [{ layout: 'NHWC:NCDHW' }, /The provided layout is in wrong format - "NHWC:NCDHW": both sides must name the same dimensions/],
      [{ layout: 'NNHW' }, /a dimension letter appears twice/],
    ] as const) {
      const { models, rejected } = parseOne(extra);
      assert.equal(models.length, 0, JSON.stringify(extra));
      assert.match(rejected[0]!.reason, text);
    }
  });

  it('unknown keys inside dynamic_batching invalidate the file (closed schema)', () => {
    assert.throws(() => parseOne({ dynamic_batching: { max_batch: 8 } }), /unknown field "max_batch"/);
  });

  it('layout strings: client:model, legacy NHWC, brackets', () => {
    assert.deepEqual(parseLayoutSpec('NHWC:NCHW'), { client: 'NHWC', model: 'NCHW', legacy: false });
    assert.deepEqual(parseLayoutSpec('nhwc'), { client: 'NHWC', model: 'NHWC', legacy: true });
    assert.deepEqual(parseLayoutSpec('[N,C,H,W]'), { client: 'NCHW', model: 'NCHW', legacy: false });
    assert.deepEqual(parseLayoutSpec('N...'), { client: 'N...', model: 'N...', legacy: false });
    assert.throws(() => parseLayoutSpec('NH:WC:X'), SettingError);
  });
});

const config = (extra: Partial<ModelConfig>): ModelConfig => ({
  name: 'm', basePath: '/m', versionPolicy: { kind: 'latest', numVersions: 1 }, nireq: 0, targetDevice: 'CPU', pluginConfig: {}, stateful: false, ...extra,
});
const image: TensorSpec = { name: 'x', dtype: 'FP32', shape: [-1, 3, 224, 224] };

describe('settings resolved against the model', () => {
  it('anonymous shape, batch size, layout and normalisation', () => {
    const plan = planShapes(config({ shape: [1, 3, 300, 300], layout: 'NHWC:NCHW', mean: [1, 2, 3], scale: 2 }), { inputs: [image], outputs: [] });
    assert.deepEqual(plan.runtime, {
      inputShapes: { x: [1, 3, 300, 300] },
      layouts: { x: { client: 'NHWC', model: 'NCHW' } },
      normalization: { x: { mean: [1, 2, 3], scale: [2], channelAxis: 1 } },
    });
    assert.deepEqual(plan.clientLayouts, { x: 'NHWC' });
    const batch = planShapes(config({ batchSize: 8 }), { inputs: [image, { name: 'y', dtype: 'INT64', shape: [1, 5] }], outputs: [] });
    assert.deepEqual(batch.runtime.inputShapes, { x: [8, -1, -1, -1], y: [8, -1] });
  });

  it('the OVMS load errors', () => {
    const two = { inputs: [image, { ...image, name: 'y' }], outputs: [] };
    const fails = (c: Partial<ModelConfig>, model: typeof two, text: RegExp) =>
      assert.throws(() => planShapes(config(c), model), (e: unknown) => e instanceof Error && text.test(e.message));
    fails({ shape: [1, 3, 2, 2] }, two, /^Anonymous fixed shape is invalid for models with multiple inputs$/);
    fails({ layout: 'NHWC:NCHW' }, two, /^Anonymous fixed layout is invalid for models with multiple inputs$/);
    fails({ shape: { z: [1] } }, two, /not in the network - input z/);
    fails({ layout: 'NC' }, { inputs: [image], outputs: [] }, /layout NC has 2 dimensions; x has 4/);
  });

  it('legacy NHWC keeps an NHWC model as it is', () => {
    const plan = planShapes(config({ layout: 'NHWC' }), { inputs: [{ name: 'x', dtype: 'UINT8', shape: [1, 224, 224, 3] }], outputs: [] });
    assert.deepEqual(plan.runtime, {});
    assert.deepEqual(plan.clientLayouts, { x: 'NHWC' });
  });

  it('auto: a reload only for valid requests whose dims differ; symbolic dims stay symbolic', () => {
    const native: TensorSpec = { name: 'x', dtype: 'FP32', shape: [-1, 3, 4, 5] };
    const plan = planShapes(config({ shape: 'auto' }), { inputs: [native], outputs: [] });
    const t = (shape: number[], n = shape.reduce((a, b) => a * b, 1), dtype: Tensor['dtype'] = 'FP32'): Map<string, Tensor> =>
      new Map([['x', { dtype, shape, data: new Float32Array(n) }]]);
    assert.equal(autoReshape(plan, [native], t([7, 3, 4, 5]), {}), undefined);
    assert.deepEqual(autoReshape(plan, [native], t([2, 3, 6, 6]), {}), { x: [-1, 3, 6, 6] });
    assert.equal(autoReshape(plan, [native], t([2, 3, 6, 6], 10), {}), undefined, 'data length must match');
    assert.equal(autoReshape(plan, [native], t([2, 3, 6, 6], undefined, 'INT32'), {}), undefined, 'dtype must match');
    assert.equal(autoReshape(plan, [native], t([2, 3, 0, 6]), {}), undefined, 'zero dims never reload');
    assert.equal(autoReshape(plan, [native], t([2, 3, 6]), {}), undefined, 'rank must match');
  });
});

describe('ONNX edits on a real session', () => {
  const dir = tempDir();
  after(() => dir.remove());
  const logger = pino({ level: 'silent' });

  /** y = x + 1 on x FP32 [1,3,2,2]. */
  function writeIncrement(): string {
    const folder = path.join(dir.path, 'inc');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'model.onnx'), buildOnnxModel({
      inputs: [{ name: 'x', dtype: 'FP32', shape: [1, 3, 2, 2] }],
      outputs: [{ name: 'y', dtype: 'FP32', shape: [1, 3, 2, 2] }],
      initializers: [{ name: 'one', dtype: 'FP32', shape: [1], values: [1] }],
      nodes: [{ op: 'Add', inputs: ['x', 'one'], outputs: ['y'] }],
    }));
    return folder;
  }
  const folder = writeIncrement();
  const load = (options: Partial<RuntimeOptions>) => onnxFormat.load({
    modelName: 'inc', version: 1, dir: folder, files: ['model.onnx'], logger,
    options: { nireq: 0, targetDevice: 'CPU', pluginConfig: { TSMS_EXECUTION: 'inline' }, ...options },
  });

  it('inspect reads the model\'s own inputs without a session', async () => {
    const specs = await onnxFormat.inspect!({ modelName: 'inc', version: 1, dir: folder, files: ['model.onnx'], logger });
    assert.deepEqual(specs.inputs, [{ name: 'x', dtype: 'FP32', shape: [1, 3, 2, 2] }]);
  });

  it('per-channel mean/scale run inside the model: y = (x - mean[c]) / scale[c] + 1', async () => {
    const model = await load({ normalization: { x: { mean: [10, 20, 30], scale: [2, 4, 5], channelAxis: 1 } } });
    try {
      const x = Float32Array.from([10, 12, 14, 16, 20, 24, 28, 32, 30, 35, 40, 45]);
      const out = await model.run(new Map([['x', { dtype: 'FP32', shape: [1, 3, 2, 2], data: x }]]), ['y']);
      assert.deepEqual([...(out.get('y')!.data as Float32Array)], [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    } finally {
      await model.close();
    }
  });

  it('layout and normalisation together: NHWC in, channel-wise maths in the model\'s NCHW', async () => {
    const model = await load({ layouts: { x: { client: 'NHWC', model: 'NCHW' } }, normalization: { x: { mean: [0, 100, 200], scale: [1], channelAxis: 1 } } });
    try {
      assert.deepEqual(model.inputs[0]!.shape, [1, 2, 2, 3]);
      // Pixel p has channels [p, 100 + p, 200 + p] → every channel normalises to p, then + 1.
      const x = Float32Array.from([0, 100, 200, 1, 101, 201, 2, 102, 202, 3, 103, 203]);
      const out = await model.run(new Map([['x', { dtype: 'FP32', shape: [1, 2, 2, 3], data: x }]]), ['y']);
      assert.deepEqual([...(out.get('y')!.data as Float32Array)], [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    } finally {
      await model.close();
    }
  });

  it('a shape for an input the model lacks, or of another rank, is RESHAPE_ERROR', async () => {
    for (const inputShapes of [{ z: [1] }, { x: [1, 3, 4] }] as Record<string, number[]>[]) {
      await assert.rejects(load({ inputShapes }), (e: unknown) => e instanceof ServingError && e.status === 'RESHAPE_ERROR');
    }
  });
});
