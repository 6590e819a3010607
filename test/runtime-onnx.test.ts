/**
 * The ONNX runtime behind ModelFormat, in-process with the real onnxruntime-node: execution
 * modes, every dtype, nireq admission, streams, load errors and shutdown.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { DType } from '../src/core/dtype.js';
import { ServingError } from '../src/core/errors.js';
import type { Tensor, TensorMap } from '../src/core/tensor.js';
import type { RuntimeOptions } from '../src/runtime/engine.js';
import { modelFormats } from '../src/runtime/formats.js';
import { type OnnxModel, onnxFormat } from '../src/runtime/onnx/onnx-format.js';
import { buildOnnxModel } from '../src/runtime/onnx/model-builder.js';
import { dummyModel, identityModel, tempDir, twoOutputsModel } from './helpers/models.js';

const root = tempDir('tsms-runtime-');
const open: OnnxModel[] = [];
after(async () => {
  await Promise.all(open.map((m) => m.close()));
  root.remove();
});

let dirCounter = 0;
/** Log lines the runtime wrote, parsed. */
const logLines: Record<string, unknown>[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  }),
);

async function load(bytes: Uint8Array, options: Partial<RuntimeOptions> = {}, modelName = 'm'): Promise<OnnxModel> {
  const dir = path.join(root.path, `v${++dirCounter}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.onnx'), bytes);
  const model = (await onnxFormat.load({
    modelName,
    version: 1,
    dir,
    files: ['model.onnx'],
    options: { nireq: 0, targetDevice: 'CPU', pluginConfig: {}, ...options },
    logger,
  })) as OnnxModel;
  open.push(model);
  return model;
}

const inline = { TSMS_EXECUTION: 'inline' };
const worker = { TSMS_EXECUTION: 'worker' };

function f32(shape: number[], values: number[]): Tensor {
  return { dtype: 'FP32', shape, data: new Float32Array(values) };
}

/** y = x · W repeated `layers` times, x and W 256×256 FP32: tens of milliseconds per run. */
function slowModel(layers = 40): Uint8Array {
  const n = 256;
  const nodes = Array.from({ length: layers }, (_, i) => ({
    op: 'MatMul',
    inputs: [i === 0 ? 'x' : `h${i - 1}`, 'w'],
    outputs: [i === layers - 1 ? 'y' : `h${i}`],
  }));
  return buildOnnxModel({
    inputs: [{ name: 'x', dtype: 'FP32', shape: [n, n] }],
    outputs: [{ name: 'y', dtype: 'FP32', shape: [n, n] }],
    // W averages each row, so every output element equals the mean of its input row.
    initializers: [{ name: 'w', dtype: 'FP32', shape: [n, n], values: new Array<number>(n * n).fill(1 / n) }],
    nodes,
  });
}

function slowInput(value: number): TensorMap {
  return new Map([['x', { dtype: 'FP32', shape: [256, 256], data: new Float32Array(256 * 256).fill(value) }]]);
}

function firstValue(out: TensorMap, name: string): number {
  return (out.get(name)!.data as Float32Array)[0]!;
}

function assertServingError(err: unknown, code: string, status: string, pattern?: RegExp): true {
  assert.ok(err instanceof ServingError, `expected a ServingError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.equal(err.status, status);
  if (pattern) assert.match(err.message, pattern);
  return true;
}

describe('onnx format basics', () => {
  it('is the registered format and picks the first .onnx file', () => {
    assert.ok(modelFormats.includes(onnxFormat));
    assert.deepEqual(onnxFormat.pick(['b.onnx', 'a.ONNX', 'x.bin']), ['a.ONNX']);
    assert.equal(onnxFormat.pick(['model.xml', 'model.bin']), undefined);
  });

  it('serves the dummy model inline after measuring it, and logs the decision', async () => {
    const model = await load(dummyModel(), {}, 'tiny-auto');
    assert.equal(model.executionMode, 'inline');
    assert.equal(model.streams, 1);
    assert.equal(model.nireq, 16, "inline auto nireq lets several runs queue inside onnxruntime");
    assert.deepEqual(model.inputs, [{ name: 'b', dtype: 'FP32', shape: [1, 10] }]);
    assert.deepEqual(model.outputs, [{ name: 'a', dtype: 'FP32', shape: [1, 10] }]);
    const out = await model.run(new Map([['b', f32([1, 10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])]]), ['a']);
    assert.deepEqual(out.get('a'), f32([1, 10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    const line = logLines.find((l) => l.model === 'tiny-auto' && l.execution !== undefined);
    assert.ok(line, 'the execution decision is logged');
    assert.equal(line.execution, 'inline');
    assert.equal(line.decidedBy, 'warm-up');
    assert.equal(typeof line.warmupMs, 'number');
  });

  it('runs a heavy model in workers after measuring it', async () => {
    const model = await load(slowModel(), {}, 'heavy-auto');
    assert.equal(model.executionMode, 'worker');
    assert.ok(model.streams >= 1);
    assert.equal(model.nireq, model.streams);
    assert.equal(model.workerThreadIds.length, model.streams);
    const out = await model.run(slowInput(3), ['y']);
    assert.equal(firstValue(out, 'y'), 3);
    const line = logLines.find((l) => l.model === 'heavy-auto' && l.execution !== undefined);
    assert.equal(line?.execution, 'worker');
  });

  it('uses workers when the warm-up on zero inputs fails', async () => {
    // Reshape to [2,-1] cannot take the single element a symbolic dim of 1 gives.
    const bytes = buildOnnxModel({
      inputs: [{ name: 'x', dtype: 'FP32', shape: ['n'] }],
      outputs: [{ name: 'y', dtype: 'FP32', shape: [2, 'm'] }],
      initializers: [{ name: 'shape', dtype: 'INT64', shape: [2], values: [2, -1] }],
      nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
    });
    const model = await load(bytes, {}, 'warmup-fails');
    assert.equal(model.executionMode, 'worker');
    const line = logLines.find((l) => l.model === 'warmup-fails' && l.execution !== undefined);
    assert.equal(typeof line?.warmupError, 'string');
    const out = await model.run(new Map([['x', f32([4], [1, 2, 3, 4])]]), ['y']);
    assert.deepEqual(out.get('y'), f32([2, 2], [1, 2, 3, 4]));
  });

  it('uses workers, without timing, when an input has a dynamic dimension past the batch', async () => {
    const model = await load(identityModel('FP32', ['batch', 'length']), {}, 'dynamic-dims');
    assert.equal(model.executionMode, 'worker');
    const line = logLines.find((l) => l.model === 'dynamic-dims' && l.execution !== undefined);
    assert.deepEqual(line?.inputs, ['in']);
    assert.equal(line?.warmupMs, undefined);
    const out = await model.run(new Map([['in', f32([1, 3], [1, 2, 3])]]), ['out']);
    assert.deepEqual(out.get('out'), f32([1, 3], [1, 2, 3]));
  });

  it('gives identical results inline and in workers, for any output subset', async () => {
    const inl = await load(twoOutputsModel(), { pluginConfig: inline });
    const wrk = await load(twoOutputsModel(), { pluginConfig: worker });
    assert.equal(inl.executionMode, 'inline');
    assert.equal(wrk.executionMode, 'worker');
    const x = f32([3, 4], [1, -2, 3.5, 0, 1e30, -1e-30, 7, 8, 9, 10, 11, 12]);
    for (const names of [['doubled', 'negated'], ['negated'], ['doubled']]) {
      const a = await inl.run(new Map([['x', x]]), names);
      const b = await wrk.run(new Map([['x', x]]), names);
      assert.deepEqual([...a.keys()], names);
      assert.deepEqual(b, a);
    }
    const both = await wrk.run(new Map([['x', x]]), ['doubled', 'negated']);
    assert.deepEqual(both.get('doubled'), f32([3, 4], [2, -4, 7, 0, 2e30, -2e-30, 14, 16, 18, 20, 22, 24]));
  });

  it('never detaches or changes the caller\'s input memory in worker mode', async () => {
    const model = await load(dummyModel(), { pluginConfig: worker });
    // A view into a larger buffer, as a gRPC tensor_content is.
    const message = new ArrayBuffer(4096);
    const view = new Float32Array(message, 64, 10);
    view.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const whole = new Float32Array(10).fill(5);
    const out1 = await model.run(new Map([['b', { dtype: 'FP32', shape: [1, 10], data: view }]]), ['a']);
    const out2 = await model.run(new Map([['b', { dtype: 'FP32', shape: [1, 10], data: whole }]]), ['a']);
    assert.equal(message.byteLength, 4096);
    assert.deepEqual([...view], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(whole.byteLength, 40);
    assert.deepEqual([...whole], new Array(10).fill(5));
    assert.deepEqual([...(out1.get('a')!.data as Float32Array)], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual([...(out2.get('a')!.data as Float32Array)], new Array(10).fill(6));
  });

  it('turns an input onnxruntime rejects into INTERNAL_INFERENCE_ERROR with its message', async () => {
    for (const pluginConfig of [inline, worker]) {
      const model = await load(dummyModel(), { pluginConfig });
      await assert.rejects(
        model.run(new Map([['b', f32([1, 5], [1, 2, 3, 4, 5])]]), ['a']),
        (err) => assertServingError(err, 'INTERNAL', 'INTERNAL_INFERENCE_ERROR', /^Internal inference error - .*dimension/i),
      );
      // The version keeps serving after the error.
      const out = await model.run(new Map([['b', f32([1, 10], new Array(10).fill(1))]]), ['a']);
      assert.equal(firstValue(out, 'a'), 2);
    }
  });
});

/** Values at the edges of each type, as typed arrays of 6 elements (shape [2,3]). */
const edgeValues: Record<Exclude<DType, 'STRING'>, Tensor['data']> = {
  BOOL: new Uint8Array([0, 1, 1, 0, 1, 0]),
  UINT8: new Uint8Array([0, 1, 127, 128, 254, 255]),
  UINT16: new Uint16Array([0, 1, 32767, 32768, 65534, 65535]),
  UINT32: new Uint32Array([0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1]),
  UINT64: new BigUint64Array([0n, 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 2n, 2n ** 64n - 1n]),
  INT8: new Int8Array([-128, -1, 0, 1, 126, 127]),
  INT16: new Int16Array([-32768, -1, 0, 1, 32766, 32767]),
  INT32: new Int32Array([-(2 ** 31), -1, 0, 1, 2 ** 31 - 2, 2 ** 31 - 1]),
  INT64: new BigInt64Array([-(2n ** 63n), -(2n ** 53n) - 1n, -1n, 0n, 2n ** 53n + 1n, 2n ** 63n - 1n]),
  // Raw half bits: 0, -0, 1.0, +inf, -inf, a NaN payload; they must come back bit for bit.
  FP16: new Uint16Array([0x0000, 0x8000, 0x3c00, 0x7c00, 0xfc00, 0x7e01]),
  FP32: new Float32Array([0, -0, 1.5, -3.4028234663852886e38, Infinity, Number.NaN]),
  FP64: new Float64Array([0, -0, Number.MIN_VALUE, -Number.MAX_VALUE, -Infinity, Number.NaN]),
};

const utf8 = new TextEncoder();
const stringValues = ['', 'plain', 'héllo wörld', '日本語テキスト', '🙂 emoji', 'tab\tand\nnewline'].map((s) => utf8.encode(s));

describe('every ONNX tensor type round-trips through Identity', () => {
  for (const mode of ['inline', 'worker'] as const) {
    for (const [dtype, data] of Object.entries(edgeValues) as [DType, Tensor['data']][]) {
      it(`${dtype} ${mode}`, async () => {
        const model = await load(identityModel(dtype), { pluginConfig: { TSMS_EXECUTION: mode, NUM_STREAMS: '1' } });
        assert.deepEqual(model.inputs, [{ name: 'in', dtype, shape: [-1, 3] }]);
        const out = await model.run(new Map([['in', { dtype, shape: [2, 3], data }]]), ['out']);
        const t = out.get('out')!;
        assert.equal(t.dtype, dtype);
        assert.deepEqual(t.shape, [2, 3]);
        assert.equal((t.data as object).constructor, (data as object).constructor);
        // Compare bytes, so NaN payloads and -0 are checked exactly.
        const bytes = (a: Tensor['data']): number[] => {
          const v = a as Uint8Array;
          return [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)];
        };
        assert.deepEqual(bytes(t.data), bytes(data));
      });
    }

    it(`STRING ${mode} (UTF-8, empty and control characters)`, async () => {
      const model = await load(identityModel('STRING'), { pluginConfig: { TSMS_EXECUTION: mode, NUM_STREAMS: '1' } });
      const out = await model.run(new Map([['in', { dtype: 'STRING', shape: [2, 3], data: stringValues }]]), ['out']);
      const t = out.get('out')!;
      assert.equal(t.dtype, 'STRING');
      assert.deepEqual(t.shape, [2, 3]);
      assert.deepEqual((t.data as Uint8Array[]).map((b) => [...b]), stringValues.map((b) => [...b]));
    });

    it(`STRING ${mode} refuses bytes that are not UTF-8 or hold a NUL`, async () => {
      const model = await load(identityModel('STRING', [1]), { pluginConfig: { TSMS_EXECUTION: mode, NUM_STREAMS: '1' } });
      await assert.rejects(
        model.run(new Map([['in', { dtype: 'STRING', shape: [1], data: [new Uint8Array([0xff, 0xfe, 0x41])] }]]), ['out']),
        (err) => assertServingError(err, 'INVALID_ARGUMENT', 'INVALID_PRECISION', /not valid UTF-8/),
      );
      // onnxruntime-node would cut the string at the NUL, so it is refused instead.
      await assert.rejects(
        model.run(new Map([['in', { dtype: 'STRING', shape: [1], data: [utf8.encode('a\u0000b')] }]]), ['out']),
        (err) => assertServingError(err, 'INVALID_ARGUMENT', 'INVALID_PRECISION', /NUL byte/),
      );
    });

    it(`scalars (shape []) ${mode}`, async () => {
      const model = await load(identityModel('INT64', []), { pluginConfig: { TSMS_EXECUTION: mode, NUM_STREAMS: '1' } });
      assert.deepEqual(model.inputs, [{ name: 'in', dtype: 'INT64', shape: [] }]);
      const out = await model.run(new Map([['in', { dtype: 'INT64', shape: [], data: new BigInt64Array([-42n]) }]]), ['out']);
      assert.deepEqual(out.get('out'), { dtype: 'INT64', shape: [], data: new BigInt64Array([-42n]) });
      const strings = await load(identityModel('STRING', []), { pluginConfig: { TSMS_EXECUTION: mode, NUM_STREAMS: '1' } });
      const s = await strings.run(new Map([['in', { dtype: 'STRING', shape: [], data: [utf8.encode('só')] }]]), ['out']);
      assert.deepEqual(s.get('out')!.shape, []);
      assert.equal(new TextDecoder().decode((s.get('out')!.data as Uint8Array[])[0]), 'só');
    });

    it(`empty tensors (a zero dimension) ${mode}`, async () => {
      const model = await load(identityModel('FP32'), { pluginConfig: { TSMS_EXECUTION: mode, NUM_STREAMS: '1' } });
      const out = await model.run(new Map([['in', { dtype: 'FP32', shape: [0, 3], data: new Float32Array(0) }]]), ['out']);
      assert.deepEqual(out.get('out')!.shape, [0, 3]);
      assert.equal((out.get('out')!.data as Float32Array).length, 0);
    });
  }
});

describe('nireq and streams', () => {
  it('nireq=1 admits one run at a time; the rest queue and finish in FIFO order', async () => {
    const model = await load(slowModel(), { nireq: 1, pluginConfig: worker });
    assert.equal(model.nireq, 1);
    let maxActive = 0;
    const sampler = setInterval(() => { maxActive = Math.max(maxActive, model.active); }, 1);
    const order: number[] = [];
    const runs = [1, 2, 3, 4, 5].map((i) => model.run(slowInput(i), ['y']).then((out) => {
      maxActive = Math.max(maxActive, model.active);
      order.push(i);
      return firstValue(out, 'y');
    }));
    assert.equal(model.active, 1);
    assert.equal(model.queued, 4);
    assert.equal(model.executing, 1);
    const values = await Promise.all(runs);
    clearInterval(sampler);
    assert.deepEqual(values, [1, 2, 3, 4, 5]);
    assert.deepEqual(order, [1, 2, 3, 4, 5]);
    assert.equal(maxActive, 1);
    assert.equal(model.active, 0);
    assert.equal(model.queued, 0);
  });

  it('an aborted queued run rejects with CANCELLED and the others complete', async () => {
    const model = await load(slowModel(), { nireq: 1, pluginConfig: worker });
    const controller = new AbortController();
    const first = model.run(slowInput(1), ['y']);
    const cancelled = model.run(slowInput(2), ['y'], controller.signal);
    const third = model.run(slowInput(3), ['y']);
    assert.equal(model.queued, 2);
    controller.abort();
    await assert.rejects(cancelled, (err) => assertServingError(err, 'CANCELLED', 'REQUEST_CANCELLED', /cancelled/i));
    assert.equal(model.queued, 1);
    assert.equal(firstValue(await first, 'y'), 1);
    assert.equal(firstValue(await third, 'y'), 3);
    // A signal aborted before the call never starts a run.
    await assert.rejects(model.run(slowInput(4), ['y'], AbortSignal.abort()), (err) => assertServingError(err, 'CANCELLED', 'REQUEST_CANCELLED'));
  });

  it('a running run is not interrupted by its signal', async () => {
    const model = await load(slowModel(), { nireq: 1, pluginConfig: worker });
    const controller = new AbortController();
    const running = model.run(slowInput(7), ['y'], controller.signal);
    assert.equal(model.executing, 1);
    controller.abort();
    assert.equal(firstValue(await running, 'y'), 7);
  });

  it('NUM_STREAMS=2 runs two inferences at once, each in its own worker', async () => {
    const model = await load(slowModel(), { pluginConfig: { ...worker, NUM_STREAMS: '2' } });
    assert.equal(model.streams, 2);
    assert.equal(model.nireq, 2);
    assert.equal(new Set(model.workerThreadIds).size, 2);
    const runs = [1, 2, 3].map((i) => model.run(slowInput(i), ['y']));
    assert.equal(model.active, 2);
    assert.equal(model.executing, 2);
    assert.equal(model.queued, 1);
    assert.deepEqual((await Promise.all(runs)).map((o) => firstValue(o, 'y')), [1, 2, 3]);
  });

  it('nireq above the streams admits more runs than sessions; they wait for a worker', async () => {
    const model = await load(slowModel(), { nireq: 3, pluginConfig: { ...worker, CPU_THROUGHPUT_STREAMS: '1' } });
    assert.equal(model.streams, 1);
    const runs = [1, 2, 3, 4].map((i) => model.run(slowInput(i), ['y']));
    assert.equal(model.active, 3);
    assert.equal(model.queued, 1);
    assert.equal(model.executing, 1);
    assert.deepEqual((await Promise.all(runs)).map((o) => firstValue(o, 'y')), [1, 2, 3, 4]);
  });
});

describe('load errors', () => {
  for (const device of ['GPU', 'MYRIAD', 'HETERO:GPU,CPU', 'MULTI:CPU,GPU', 'AUTO', 'HDDL']) {
    it(`target_device ${device} fails with CANNOT_LOAD_NETWORK_INTO_TARGET_DEVICE`, async () => {
      await assert.rejects(load(dummyModel(), { targetDevice: device }), (err) => {
        assertServingError(err, 'FAILED_PRECONDITION', 'CANNOT_LOAD_NETWORK_INTO_TARGET_DEVICE');
        const message = (err as Error).message;
        assert.ok(message.startsWith('Cannot load network into target device - '), message);
        assert.ok(message.includes(device), message);
        assert.match(message, /only CPU is available/);
        return true;
      });
    });
  }

  it('target_device is case-insensitive for CPU', async () => {
    const model = await load(dummyModel(), { targetDevice: 'cpu', pluginConfig: inline });
    assert.equal(model.executionMode, 'inline');
  });

  it('a corrupt model file fails the load with onnxruntime\'s reason', async () => {
    const garbage = new TextEncoder().encode('this is not an onnx model at all');
    for (const pluginConfig of [{}, inline, worker]) {
      await assert.rejects(load(garbage, { pluginConfig }), (err) => {
        assertServingError(err, 'INTERNAL', 'INTERNAL_ERROR', /cannot load ONNX model .*model\.onnx: .*(protobuf|parsing|failed)/i);
        return true;
      });
    }
  });

  it('a missing model file fails the load clearly', async () => {
    await assert.rejects(
      onnxFormat.load({
        modelName: 'gone', version: 1, dir: path.join(root.path, 'nowhere'), files: ['model.onnx'],
        options: { nireq: 0, targetDevice: 'CPU', pluginConfig: {} }, logger,
      }),
      (err) => assertServingError(err, 'INTERNAL', 'INTERNAL_ERROR', /cannot load ONNX model .*nowhere.*model\.onnx/),
    );
  });

  it('a bad streams value fails the load', async () => {
    await assert.rejects(
      load(dummyModel(), { pluginConfig: { NUM_STREAMS: 'lots' } }),
      (err) => assertServingError(err, 'FAILED_PRECONDITION', 'CANNOT_LOAD_NETWORK_INTO_TARGET_DEVICE', /NUM_STREAMS "lots"/),
    );
    await assert.rejects(
      load(dummyModel(), { pluginConfig: { TSMS_EXECUTION: 'gpu' } }),
      (err) => assertServingError(err, 'FAILED_PRECONDITION', 'CANNOT_LOAD_NETWORK_INTO_TARGET_DEVICE', /TSMS_EXECUTION/),
    );
  });
});

describe('worker failure', () => {
  it('a worker that dies while idle is replaced on the next run', async () => {
    // Spy on the Worker objects the pool posts to, so the test can end one thread from outside.
    const seen = new Set<Worker>();
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
      seen.add(this);
      return post.apply(this, args);
    };
    try {
      const model = await load(slowModel(2), { pluginConfig: { ...worker, NUM_STREAMS: '1' } });
      assert.equal(firstValue(await model.run(slowInput(1), ['y']), 'y'), 1);
      const [thread] = seen;
      const before = model.workerThreadIds;
      await thread!.terminate();
      assert.deepEqual(model.workerThreadIds, []);
      assert.equal(firstValue(await model.run(slowInput(4), ['y']), 'y'), 4);
      assert.equal(model.workerThreadIds.length, 1);
      assert.notDeepEqual(model.workerThreadIds, before);
      assert.ok(logLines.some((l) => l.msg === 'inference worker exited unexpectedly'));
    } finally {
      Worker.prototype.postMessage = post;
    }
  });
});

describe('close', () => {
  it('ends the worker threads and refuses later runs', async () => {
    const model = await load(slowModel(2), { pluginConfig: { ...worker, NUM_STREAMS: '2' } });
    assert.equal(model.workerThreadIds.length, 2);
    await model.close();
    assert.deepEqual(model.workerThreadIds, []);
    await assert.rejects(model.run(slowInput(1), ['y']), (err) => assertServingError(err, 'NOT_FOUND', 'MODEL_VERSION_NOT_LOADED_ANYMORE'));
    await model.close(); // a second close is harmless
  });

  it('lets a running run finish and rejects the queued ones', async () => {
    const model = await load(slowModel(), { nireq: 1, pluginConfig: worker });
    const running = model.run(slowInput(2), ['y']);
    const queued = model.run(slowInput(3), ['y']);
    const closed = model.close();
    await assert.rejects(queued, (err) => assertServingError(err, 'NOT_FOUND', 'MODEL_VERSION_NOT_LOADED_ANYMORE'));
    assert.equal(firstValue(await running, 'y'), 2);
    await closed;
    assert.deepEqual(model.workerThreadIds, []);
  });

  it('is safe inline and when nothing ever ran', async () => {
    const inl = await load(dummyModel(), { pluginConfig: inline });
    await inl.close();
    await assert.rejects(inl.run(new Map([['b', f32([1, 10], new Array(10).fill(0))]]), ['a']));
    const idle = await load(dummyModel(), { pluginConfig: worker });
    await idle.close();
    assert.deepEqual(idle.workerThreadIds, []);
  });
});
