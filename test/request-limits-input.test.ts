/**
 * Hostile request contents on every protocol: JSON nesting, shapes whose product overflows or
 * disagrees with the data sent, ranks and input counts far beyond the model's, lying BYTES length
 * prefixes, NaN/Infinity, oversized images. Each gets its exact code and text, and the next valid
 * request is answered (src/core/limits.ts lists where each limit lives).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import sharp from 'sharp';
import { dummyModel, identityModel, tempDir, writeRepository } from './helpers/models.js';
import { grpcCall, grpcClient } from './helpers/secure-clients.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { floatsOf } from './helpers/tfs-grpc.js';

const OK = 0;
const INVALID_ARGUMENT = 3;
const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const MODEL_INFER = '/inference.GRPCInferenceService/ModelInfer';
const HUGE = 1_099_511_627_776; // 2^40: two of them overflow 2^53

const ten = Array.from({ length: 10 }, (_, i) => i);
const f32 = (values: number[] | number) => Buffer.from(new Float32Array(values as number[]).buffer);

function nested(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe('input limits', () => {
  const dir = tempDir('tsms-limits-input-');
  let server: RunningServer;
  let client: grpc.Client;

  before(async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel() }, str: { 1: identityModel('STRING') }, img: { 1: identityModel('FP32', ['n', 'h', 'w', 3]) } });
    const config = path.join(dir.path, 'config.json');
    writeFileSync(config, JSON.stringify({
      model_config_list: [
        { config: { name: 'dummy', base_path: path.join(dir.path, 'dummy') } },
        { config: { name: 'str', base_path: path.join(dir.path, 'str') } },
        { config: { name: 'img', base_path: path.join(dir.path, 'img'), layout: 'NHWC' } },
      ],
    }));
    server = await startServer({ args: ['--config_path', config] });
    client = grpcClient(server.grpcAddress, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await server?.stop();
    dir.remove();
  });

  async function rest(urlPath: string, body: string): Promise<{ status: number; json: any }> {
    const res = await fetch(`${server.restUrl}${urlPath}`, { method: 'POST', body });
    return { status: res.status, json: await res.json() };
  }

  /** The request fails with `status` and `{"error": message}`, and a valid predict follows. */
  async function expectRest(urlPath: string, body: string, status: number, message: string | RegExp): Promise<void> {
    const res = await rest(urlPath, body);
    assert.equal(res.status, status, `${urlPath}: ${JSON.stringify(res.json)}`);
    if (typeof message === 'string') assert.deepEqual(res.json, { error: message });
    else assert.match(res.json.error, message);
    const next = await rest('/v1/models/dummy:predict', JSON.stringify({ instances: [ten] }));
    assert.equal(next.status, 200);
    assert.deepEqual(next.json, { predictions: [ten.map((x) => x + 1)] });
  }

  async function expectGrpc(method: string, request: object, code: number, details: string): Promise<void> {
    const res = await grpcCall(client, method, request);
    assert.equal(res.code, code, `${method}: ${res.details}`);
    assert.equal(res.details, details);
    const next = await grpcCall(client, PREDICT, tfsPredict([1, 10], { tensor_content: f32(ten) }));
    assert.equal(next.code, OK, next.details);
    assert.deepEqual(floatsOf(next.response.outputs.a), ten.map((x) => x + 1));
  }

  const tfsPredict = (dims: number[], data: object, name = 'dummy') => ({
    model_spec: { name },
    inputs: { b: { dtype: 'DT_FLOAT', tensor_shape: { dim: dims.map((size) => ({ size })) }, ...data } },
  });
  const kserveInfer = (shape: number[], raw: Buffer) => ({
    model_name: 'dummy', inputs: [{ name: 'b', datatype: 'FP32', shape }], raw_input_contents: [raw],
  });
  const kserveRest = (shape: unknown, data: unknown) => JSON.stringify({ inputs: [{ name: 'b', shape, datatype: 'FP32', data }] });

  test('JSON nesting deeper than 64 levels is refused (TFS row and column, KServe), even 40000 levels deep', async () => {
    await expectRest('/v1/models/dummy:predict', JSON.stringify({ instances: [nested(70, ten)] }), 400,
      'Could not parse instance content. Not valid ndarray detected - input b: arrays nested deeper than 64 levels');
    await expectRest('/v1/models/dummy:predict', JSON.stringify({ inputs: { b: nested(70, ten) } }), 400,
      'Could not parse input content. Not valid ndarray detected - input b: arrays nested deeper than 64 levels');
    await expectRest('/v2/models/dummy/infer', kserveRest([1, 10], nested(70, ten)), 400,
      'Could not parse input content. Not valid ndarray detected - input b: "data" is nested deeper than 64 levels');
    const veryDeep = `${'['.repeat(40000)}${']'.repeat(40000)}`;
    await expectRest('/v1/models/dummy:predict', `{"instances":${veryDeep}}`, 400,
      'Could not parse instance content. Not valid ndarray detected - input b: arrays nested deeper than 64 levels');
    await expectRest('/v2/models/dummy/infer', `{"inputs":[{"name":"b","shape":[1,10],"datatype":"FP32","data":${veryDeep}}]}`, 400,
      'Could not parse input content. Not valid ndarray detected - input b: "data" is nested deeper than 64 levels');
    // Deeply nested objects where a number belongs: parsed (or refused as JSON), never a crash.
    let objects = '1';
    for (let i = 0; i < 10000; i++) objects = `{"a":${objects}}`;
    await expectRest('/v1/models/dummy:predict', `{"instances":[[1,2,3,4,5,6,7,8,9,${objects}]]}`, 400,
      /^Could not parse instance content/);
  });

  test('a shape whose element count overflows is INVALID_SHAPE before anything is allocated (all protocols)', async () => {
    const overflow = `Invalid input shape - Tensor element count overflows: (${HUGE},${HUGE})`;
    await expectGrpc(PREDICT, tfsPredict([HUGE, HUGE], { tensor_content: f32(ten) }), INVALID_ARGUMENT, overflow);
    await expectGrpc(MODEL_INFER, kserveInfer([HUGE, HUGE], f32(ten)), INVALID_ARGUMENT, overflow);
    await expectRest('/v2/models/dummy/infer', kserveRest([HUGE, HUGE], ten), 400, overflow);
    await expectRest('/v2/models/dummy/infer', kserveRest([1e300, 1], ten), 400, 'Invalid input shape - Tensor element count overflows: (1e+300,1)');
  });

  test('a shape that disagrees with the bytes sent is refused with the expected and actual sizes', async () => {
    await expectGrpc(PREDICT, tfsPredict([1, 10], { tensor_content: f32(9) }), INVALID_ARGUMENT,
      'Invalid content size of tensor proto - Expected: 40 bytes; Actual: 36 bytes');
    await expectGrpc(PREDICT, tfsPredict([1, 10], { float_val: [1, 2, 3] }), INVALID_ARGUMENT,
      'Invalid number of values in tensor proto container - Expected: 10; Actual: 3');
    await expectGrpc(MODEL_INFER, kserveInfer([1, 10], f32(9)), INVALID_ARGUMENT,
      'Invalid content size of tensor proto - Expected: 40 bytes; Actual: 36 bytes');
    await expectGrpc(PREDICT, tfsPredict([1, 11], { tensor_content: f32(10) }), INVALID_ARGUMENT,
      'Invalid input shape - Expected: (1,10); Actual: (1,11)');
    await expectGrpc(PREDICT, tfsPredict([1, -10], { tensor_content: f32(10) }), INVALID_ARGUMENT,
      'Invalid input shape - Negative dimension size is not acceptable: (1,-10)');
  });

  test('more dimensions than the model has is INVALID_NO_OF_SHAPE_DIMENSIONS (40 dims, every protocol)', async () => {
    const ones = Array<number>(40).fill(1);
    const message = `Invalid number of shape dimensions - Expected: (1,10); Actual: (${ones.join(',')})`;
    await expectGrpc(PREDICT, tfsPredict(ones, { tensor_content: f32(1) }), INVALID_ARGUMENT, message);
    await expectGrpc(MODEL_INFER, kserveInfer(ones, f32(1)), INVALID_ARGUMENT, message);
    await expectRest('/v2/models/dummy/infer', kserveRest(ones, [1]), 400, message);
  });

  test('a shape of 100000 dimensions is refused by its rank alone, without echoing it (every protocol)', async () => {
    const ones = Array<number>(100_000).fill(1);
    const message = 'Invalid number of shape dimensions - at most 64 dimensions are accepted; Actual: 100000';
    await expectGrpc(PREDICT, tfsPredict(ones, { tensor_content: f32(1) }), INVALID_ARGUMENT, message);
    await expectGrpc(MODEL_INFER, kserveInfer(ones, f32(1)), INVALID_ARGUMENT, message);
    await expectRest('/v2/models/dummy/infer', kserveRest(ones, [1]), 400, message);
    // 64 is still answered with the model's own rank in OVMS's words.
    const sixtyFour = Array<number>(64).fill(1);
    await expectGrpc(PREDICT, tfsPredict(sixtyFour, { tensor_content: f32(1) }), INVALID_ARGUMENT,
      `Invalid number of shape dimensions - Expected: (1,10); Actual: (${sixtyFour.join(',')})`);
  });

  test('300 inputs for a one-input model is INVALID_NO_OF_INPUTS (every protocol)', async () => {
    const message = 'Invalid number of inputs - Expected: 1; Actual: 300';
    const names = Array.from({ length: 300 }, (_, i) => `b${i}`);
    await expectGrpc(PREDICT, {
      model_spec: { name: 'dummy' },
      inputs: Object.fromEntries(names.map((n) => [n, { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 10 }] }, tensor_content: f32(10) }])),
    }, INVALID_ARGUMENT, message);
    await expectGrpc(MODEL_INFER, {
      model_name: 'dummy',
      inputs: names.map((name) => ({ name, datatype: 'FP32', shape: [1, 10] })),
      raw_input_contents: names.map(() => f32(10)),
    }, INVALID_ARGUMENT, message);
    await expectRest('/v1/models/dummy:predict', JSON.stringify({ inputs: Object.fromEntries(names.map((n) => [n, [ten]])) }), 400, message);
    await expectRest('/v2/models/dummy/infer', JSON.stringify({ inputs: names.map((name) => ({ name, shape: [1, 10], datatype: 'FP32', data: ten })) }), 400, message);
  });

  test('a BYTES element whose length prefix runs past the data is refused; strings are bounded by the message', async () => {
    await expectGrpc(MODEL_INFER, {
      model_name: 'str', inputs: [{ name: 'in', datatype: 'BYTES', shape: [1, 3] }], raw_input_contents: [Buffer.from([255, 255, 255, 255, 1, 2])],
    }, INVALID_ARGUMENT, 'Invalid BYTES content: element 0 declares 4294967295 bytes but only 2 remain');
    // A 1 MB string element is just data: it comes back whole.
    const long = 'x'.repeat(1024 * 1024);
    const res = await grpcCall(client, PREDICT, {
      model_spec: { name: 'str' },
      inputs: { in: { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: 1 }, { size: 3 }] }, string_val: [Buffer.from('a'), Buffer.from('b'), Buffer.from(long)] } },
    });
    assert.equal(res.code, OK, res.details);
    assert.equal(Buffer.from(res.response.outputs.out.string_val[2]).toString(), long);
  });

  test('NaN and Infinity: bare NaN is not JSON (412); values that overflow to ±Infinity, and NaN over gRPC, are data', async () => {
    await expectRest('/v1/models/dummy:predict', '{"instances":[[NaN,1,2,3,4,5,6,7,8,9]]}', 412, 'The file is not valid json');
    // The writer emits bare Infinity as TFS does, which JSON.parse refuses; compare the text instead.
    const inf = await fetch(`${server.restUrl}/v1/models/dummy:predict`, { method: 'POST', body: '{"instances":[[1e400,-1e400,2,3,4,5,6,7,8,9]]}' });
    assert.equal(inf.status, 200);
    assert.equal(await inf.text(), '{"predictions":[[Infinity,-Infinity,3.0,4.0,5.0,6.0,7.0,8.0,9.0,10.0]]}');
    const grpcNaN = await grpcCall(client, PREDICT, tfsPredict([1, 10], { float_val: [NaN, Infinity, -Infinity, 0, 0, 0, 0, 0, 0, 0] }));
    assert.equal(grpcNaN.code, OK, grpcNaN.details);
    const out = floatsOf(grpcNaN.response.outputs.a);
    assert.ok(Number.isNaN(out[0]));
    assert.deepEqual(out.slice(1), [Infinity, -Infinity, 1, 1, 1, 1, 1, 1, 1]);
    await expectRest('/v2/models/dummy/infer', kserveRest([1.5, 10], ten), 400, 'inputs[0].shape must be an array of integers');
  });

  test('an image over the pixel cap (64 Mpx) is refused before decoding; a small one is served', async () => {
    const small = await sharp({ create: { width: 4, height: 2, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toBuffer();
    const ok = await rest('/v1/models/img:predict', JSON.stringify({ instances: [{ b64: small.toString('base64') }] }));
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json.predictions[0][0][0], [30, 20, 10]);
    // 8193 × 8192 = 67,117,056 pixels, one more row than 64 Mi; a flat PNG of it is ~200 KB.
    const huge = await sharp({ create: { width: 8193, height: 8192, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png({ compressionLevel: 9 }).toBuffer();
    await expectRest('/v1/models/img:predict', JSON.stringify({ instances: [{ b64: huge.toString('base64') }] }), 400, /^Image parsing failed - .*exceeds pixel limit/);
  });
});
