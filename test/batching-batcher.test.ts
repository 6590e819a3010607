/**
 * The dynamic batcher in-process, in front of real onnxruntime models (generated): joined runs
 * give every request exactly its unbatched result, fixed-batch models are padded, outputs that
 * are not batch-major stop joining without failing anyone, and cancelled or expired requests
 * leave the queue.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { DynamicBatcher } from '../src/batching/dynamic-batcher.js';
import type { DynamicBatchingConfig } from '../src/config/types.js';
import { ServingError } from '../src/core/errors.js';
import type { Tensor, TensorMap } from '../src/core/tensor.js';
import type { LoadedModel } from '../src/runtime/engine.js';
import { buildOnnxModel } from '../src/runtime/onnx/model-builder.js';
import { onnxFormat } from '../src/runtime/onnx/onnx-format.js';
import { tempDir } from './helpers/models.js';

const logger = pino({ level: 'silent' });

/** doubled = x * 2 and rowsum = ReduceSum(x, axis 1, keepdims): both batch-major. x FP32 [batch, width]. */
function rowModel(batch: number | string, width: number | string = 4): Uint8Array {
  return buildOnnxModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'FP32', shape: [batch, width] }],
    outputs: [
      { name: 'doubled', dtype: 'FP32', shape: [batch, width] },
      { name: 'rowsum', dtype: 'FP32', shape: [batch, 1] },
    ],
    initializers: [{ name: 'two', dtype: 'FP32', shape: [1], values: [2] }, { name: 'axes', dtype: 'INT64', shape: [1], values: [1] }],
    nodes: [
      { op: 'Mul', inputs: ['x', 'two'], outputs: ['doubled'] },
      { op: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['rowsum'], attributes: { keepdims: 1 } },
    ],
  });
}

/** total = ReduceSum(x, axis 0, keepdims): [1, 4] whatever the batch, i.e. not batch-major. */
function columnSumModel(): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'x', dtype: 'FP32', shape: ['batch', 4] }],
    outputs: [{ name: 'total', dtype: 'FP32', shape: [1, 4] }],
    initializers: [{ name: 'axes', dtype: 'INT64', shape: [1], values: [0] }],
    nodes: [{ op: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['total'], attributes: { keepdims: 1 } }],
  });
}

/** A real model whose runs are counted (and whose run sizes are recorded). */
class Counted {
  runs: number[] = [];
  constructor(readonly model: LoadedModel) {}
  get target() {
    return {
      inputs: this.model.inputs,
      outputs: this.model.outputs,
      nireq: this.model.nireq,
      streams: this.model.streams,
      run: (inputs: TensorMap, names: readonly string[], signal?: AbortSignal) => {
        this.runs.push(inputs.get('x')!.shape[0]!);
        return this.model.run(inputs, names, signal);
      },
    };
  }
}

const x = (rows: number, start: number, width = 4): TensorMap =>
  new Map([['x', { dtype: 'FP32', shape: [rows, width], data: Float32Array.from({ length: rows * width }, (_, i) => start + i) } as Tensor]]);
const values = (t: Tensor | undefined) => [...(t!.data as Float32Array)];
const config = (c: Partial<DynamicBatchingConfig>): DynamicBatchingConfig => ({ maxBatchSize: 16, maxQueueDelayUs: 0, preferredBatchSizes: [], ...c });

async function rejectsWithStatus(p: Promise<unknown>, statusName: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof ServingError && err.status === statusName);
}

describe('dynamic batcher', () => {
  const dir = tempDir();
  const models: LoadedModel[] = [];
  async function load(name: string, bytes: Uint8Array, execution = 'inline'): Promise<LoadedModel> {
    const folder = path.join(dir.path, name);
    (await import('node:fs')).mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'model.onnx'), bytes);
    const model = await onnxFormat.load({
      modelName: name, version: 1, dir: folder, files: ['model.onnx'], logger,
      options: { nireq: 0, targetDevice: 'CPU', pluginConfig: { TSMS_EXECUTION: execution } },
    });
    models.push(model);
    return model;
  }
  let dynamic: LoadedModel;
  let dynamicWorkers: LoadedModel;

  before(async () => {
    dynamic = await load('dynamic', rowModel('batch', 'width'));
    dynamicWorkers = await load('dynamic_workers', rowModel('batch', 'width'), 'worker');
  });
  after(async () => {
    await Promise.all(models.map((m) => m.close()));
    dir.remove();
  });

  for (const [label, get] of [['inline', () => dynamic], ['worker threads', () => dynamicWorkers]] as const) {
    it(`16 concurrent batch-1 requests are joined and each gets its unbatched result (${label})`, async () => {
      const counted = new Counted(get());
      const batcher = new DynamicBatcher(counted.target, config({ maxBatchSize: 8, maxQueueDelayUs: 5000 }), logger);
      assert.equal(batcher.joining, true);
      const requests = Array.from({ length: 16 }, (_, i) => x(1, i * 10));
      const expected = await Promise.all(requests.map((r) => get().run(r, ['doubled', 'rowsum'])));
      const joined = await Promise.all(requests.map((r) => batcher.run(r, ['doubled', 'rowsum'])));
      joined.forEach((out, i) => {
        assert.deepEqual(out.get('doubled')!.shape, [1, 4]);
        assert.deepEqual(values(out.get('doubled')), values(expected[i]!.get('doubled')));
        assert.deepEqual(values(out.get('rowsum')), values(expected[i]!.get('rowsum')));
      });
      assert.ok(counted.runs.length < 16, `expected fewer runs than requests, got ${counted.runs.length}`);
      assert.ok(counted.runs.every((n) => n <= 8), `a run exceeded max_batch_size: ${counted.runs.join(',')}`);
      assert.equal(counted.runs.reduce((a, b) => a + b, 0), 16);
    });
  }

  it('requests with other non-batch dims or other outputs are not joined together', async () => {
    const counted = new Counted(dynamic);
    const batcher = new DynamicBatcher(counted.target, config({ maxQueueDelayUs: 5000 }), logger);
    const [a, b, c] = await Promise.all([
      batcher.run(x(1, 0, 4), ['doubled']),
      batcher.run(x(2, 100, 3), ['doubled']),
      batcher.run(x(1, 50, 4), ['rowsum']),
    ]);
    assert.deepEqual(values(a.get('doubled')), [0, 2, 4, 6]);
    assert.deepEqual(b.get('doubled')!.shape, [2, 3]);
    assert.deepEqual(values(b.get('doubled')), [200, 202, 204, 206, 208, 210]);
    assert.deepEqual(values(c.get('rowsum')), [50 + 51 + 52 + 53]);
    assert.equal(counted.runs.length, 3);
  });

  it('a multi-row request keeps its rows together', async () => {
    const batcher = new DynamicBatcher(dynamic, config({ maxQueueDelayUs: 5000 }), logger);
    const [a, b] = await Promise.all([batcher.run(x(3, 0), ['rowsum']), batcher.run(x(2, 1000), ['rowsum'])]);
    assert.deepEqual(values(a.get('rowsum')), [6, 22, 38]);
    assert.deepEqual(values(b.get('rowsum')), [4006, 4022]);
  });

  it('a fixed batch of 4: clients may send 1..4 rows, runs are padded to 4; 5 rows are refused', async () => {
    const counted = new Counted(await load('fixed4', rowModel(4)));
    const batcher = new DynamicBatcher(counted.target, config({ maxQueueDelayUs: 5000 }), logger);
    assert.deepEqual(batcher.inputs[0]!.shape, [-1, 4]);
    const outs = await Promise.all([batcher.run(x(1, 0), ['rowsum']), batcher.run(x(2, 10), ['rowsum']), batcher.run(x(1, 100), ['rowsum'])]);
    assert.deepEqual(outs.map((o) => values(o.get('rowsum'))), [[6], [46, 62], [406]]);
    assert.deepEqual(counted.runs, [4]);
    await rejectsWithStatus(batcher.run(x(5, 0), ['rowsum']), 'INVALID_BATCH_SIZE');
  });

  it('outputs that are not batch-major: joining stops and every request still gets its own answer', async () => {
    const counted = new Counted(await load('colsum', columnSumModel()));
    const batcher = new DynamicBatcher(counted.target, config({ maxQueueDelayUs: 5000 }), logger);
    const outs = await Promise.all([batcher.run(x(1, 0), ['total']), batcher.run(x(1, 10), ['total'])]);
    assert.deepEqual(values(outs[0]!.get('total')), [0, 1, 2, 3]);
    assert.deepEqual(values(outs[1]!.get('total')), [10, 11, 12, 13]);
    assert.equal(batcher.joining, false);
  });

  it('a batch-1 fixed model runs requests singly', async () => {
    const batcher = new DynamicBatcher(await load('fixed1', rowModel(1)), config({}), logger);
    assert.equal(batcher.joining, false);
    const out = await batcher.run(x(1, 1), ['rowsum']);
    assert.deepEqual(values(out.get('rowsum')), [10]);
  });

  it('a cancelled request leaves the queue with REQUEST_CANCELLED; the others run', async () => {
    const counted = new Counted(dynamic);
    const batcher = new DynamicBatcher(counted.target, config({ maxQueueDelayUs: 300_000 }), logger);
    const controller = new AbortController();
    const cancelled = batcher.run(x(1, 0), ['rowsum'], { signal: controller.signal });
    const kept = batcher.run(x(1, 10), ['rowsum']);
    await new Promise((r) => setImmediate(r));
    assert.equal(batcher.queued, 2);
    controller.abort();
    await rejectsWithStatus(cancelled, 'REQUEST_CANCELLED');
    assert.equal(batcher.queued, 1);
    assert.deepEqual(values((await kept).get('rowsum')), [46]);
    assert.deepEqual(counted.runs, [1]);
  });

  it('a request whose deadline passes while queued is dropped with DEADLINE_EXCEEDED', async () => {
    const counted = new Counted(dynamic);
    const batcher = new DynamicBatcher(counted.target, config({ maxQueueDelayUs: 300_000 }), logger);
    const expired = batcher.run(x(1, 0), ['rowsum'], { deadline: Date.now() + 20 });
    await assert.rejects(expired, (err: unknown) => err instanceof ServingError && err.code === 'DEADLINE_EXCEEDED' && err.message === 'Deadline exceeded');
    assert.equal(batcher.queued, 0);
    assert.deepEqual(counted.runs, []);
    await rejectsWithStatus(batcher.run(x(1, 0), ['rowsum'], { deadline: Date.now() - 1 }), 'DEADLINE_EXCEEDED');
  });
});
