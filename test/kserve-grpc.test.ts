/**
 * KServe v2 gRPC (inference.GRPCInferenceService) end to end: the real server process on
 * generated ONNX models, a proto-loader client built from the repo's proto file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { startServer, type RunningServer } from './helpers/server.js';
import { addTwoInputsModel, dummyModel, identityModel, tempDir, twoOutputsModel, writeRepository } from './helpers/models.js';
import { bytesOf, floats, KserveClient, kserveRoot, prefixed, type Json } from './helpers/kserve-grpc.js';
import { expectGrpcError } from './helpers/tfs-grpc.js';

const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;
const UNIMPLEMENTED = 12;

const ten = Float32Array.from({ length: 10 }, (_, i) => i);

describe('KServe v2 gRPC API', () => {
  let server: RunningServer;
  let client: KserveClient;
  const dir = tempDir();

  before(async () => {
    writeRepository(dir.path, {
      dummy: { 1: dummyModel(1), 2: dummyModel(2) },
      add: { 1: addTwoInputsModel() },
      two: { 1: twoOutputsModel() },
      i64: { 1: identityModel('INT64') },
      bool: { 1: identityModel('BOOL') },
      str: { 1: identityModel('STRING') },
      half: { 1: identityModel('FP16') },
      i8: { 1: identityModel('INT8') },
      u16: { 1: identityModel('UINT16') },
      f64: { 1: identityModel('FP64') },
    });
    const names = ['add', 'two', 'i64', 'bool', 'str', 'half', 'i8', 'u16', 'f64'];
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({
      model_config_list: [
        { config: { name: 'dummy', base_path: path.join(dir.path, 'dummy'), model_version_policy: { all: {} } } },
        ...names.map((name) => ({ config: { name, base_path: path.join(dir.path, name) } })),
      ],
    }));
    server = await startServer({ args: ['--config_path', configPath] });
    client = new KserveClient(server.grpcAddress);
  });
  after(async () => {
    client?.close();
    await server?.stop();
    dir.remove();
  });

  const infer = (request: Json) => client.call('ModelInfer', request);

  test('ServerLive, ServerReady and ServerMetadata', async () => {
    assert.deepEqual(await client.call('ServerLive'), { live: true });
    assert.deepEqual(await client.call('ServerReady'), { ready: true });
    const meta = await client.call('ServerMetadata');
    assert.equal(meta.name, 'tsms');
    assert.match(meta.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(meta.extensions, ['binary_tensor_data', 'model_repository']);
  });

  test('ModelReady: default and given versions, unknown names and versions, bad version strings', async () => {
    assert.deepEqual(await client.call('ModelReady', { name: 'dummy' }), { ready: true });
    assert.deepEqual(await client.call('ModelReady', { name: 'dummy', version: '2' }), { ready: true });
    await expectGrpcError(client.call('ModelReady', { name: 'nope' }), NOT_FOUND, 'Model with requested name is not found');
    await expectGrpcError(client.call('ModelReady', { name: 'dummy', version: '9' }), NOT_FOUND, 'Model with requested version is not found');
    await expectGrpcError(client.call('ModelReady', { name: 'dummy', version: 'abc' }), INVALID_ARGUMENT, 'invalid model version format in request');
  });

  test('ModelMetadata: name, available versions, platform and tensors', async () => {
    const meta = await client.call('ModelMetadata', { name: 'dummy' });
    assert.deepEqual(meta, {
      name: 'dummy',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'b', datatype: 'FP32', shape: [1, 10] }],
      outputs: [{ name: 'a', datatype: 'FP32', shape: [1, 10] }],
    });
    const str = await client.call('ModelMetadata', { name: 'str', version: '1' });
    assert.deepEqual(str.inputs, [{ name: 'in', datatype: 'BYTES', shape: [-1, 3] }]);
    await expectGrpcError(client.call('ModelMetadata', { name: 'dummy', version: '1.5' }), INVALID_ARGUMENT, 'invalid model version format in request');
    await expectGrpcError(client.call('ModelMetadata', { name: 'x' }), NOT_FOUND, 'Model with requested name is not found');
  });

  test('ModelInfer with raw_input_contents: raw output, id echoed, version chosen', async () => {
    const res = await infer({
      model_name: 'dummy', model_version: '1', id: 'req-7',
      inputs: [{ name: 'b', datatype: 'FP32', shape: [1, 10] }],
      raw_input_contents: [bytesOf(ten)],
    });
    assert.equal(res.model_name, 'dummy');
    assert.equal(res.model_version, '1');
    assert.equal(res.id, 'req-7');
    assert.deepEqual(res.outputs, [{ name: 'a', datatype: 'FP32', shape: [1, 10], parameters: {}, contents: null }]);
    assert.equal(res.raw_output_contents.length, 1);
    assert.deepEqual(floats(res.raw_output_contents[0]), [...ten].map((v) => v + 1));

    const latest = await infer({ model_name: 'dummy', inputs: [{ name: 'b', datatype: 'FP32', shape: [1, 10] }], raw_input_contents: [bytesOf(ten)] });
    assert.equal(latest.model_version, '2');
    assert.deepEqual(floats(latest.raw_output_contents[0]), [...ten].map((v) => v + 2));
    assert.equal(latest.id, '');
  });

  test('ModelInfer with typed contents: fp32, int64, bool, bytes, int8, uint16, fp64', async () => {
    const fp32 = await infer({ model_name: 'dummy', inputs: [{ name: 'b', datatype: 'FP32', shape: [1, 10], contents: { fp32_contents: [...ten] } }] });
    assert.deepEqual(floats(fp32.raw_output_contents[0]), [...ten].map((v) => v + 2));

    const big = [-(2 ** 53) + 1, 0, 2 ** 53 - 1];
    const i64 = await infer({ model_name: 'i64', inputs: [{ name: 'in', datatype: 'INT64', shape: [1, 3], contents: { int64_contents: big } }] });
    const raw = Buffer.from(i64.raw_output_contents[0]);
    assert.deepEqual([0, 1, 2].map((i) => Number(raw.readBigInt64LE(i * 8))), big);
    assert.equal(i64.outputs[0].datatype, 'INT64');

    const bool = await infer({ model_name: 'bool', inputs: [{ name: 'in', datatype: 'BOOL', shape: [1, 3], contents: { bool_contents: [true, false, true] } }] });
    assert.deepEqual([...bool.raw_output_contents[0]], [1, 0, 1]);

    const str = await infer({ model_name: 'str', inputs: [{ name: 'in', datatype: 'BYTES', shape: [1, 3], contents: { bytes_contents: [Buffer.from('a'), Buffer.from(''), Buffer.from('xyz')] } }] });
    assert.equal(str.outputs[0].datatype, 'BYTES');
    assert.deepEqual(str.raw_output_contents[0], prefixed(['a', '', 'xyz']));

    const i8 = await infer({ model_name: 'i8', inputs: [{ name: 'in', datatype: 'INT8', shape: [1, 3], contents: { int_contents: [-128, -1, 127] } }] });
    assert.deepEqual([...new Int8Array(new Uint8Array(i8.raw_output_contents[0]).buffer)], [-128, -1, 127]);

    const u16 = await infer({ model_name: 'u16', inputs: [{ name: 'in', datatype: 'UINT16', shape: [1, 3], contents: { uint_contents: [0, 1, 65535] } }] });
    assert.deepEqual([...new Uint16Array(new Uint8Array(u16.raw_output_contents[0]).buffer)], [0, 1, 65535]);

    const f64 = await infer({ model_name: 'f64', inputs: [{ name: 'in', datatype: 'FP64', shape: [1, 3], contents: { fp64_contents: [0.1, -2.5, 1e300] } }] });
    assert.deepEqual([...new Float64Array(new Uint8Array(f64.raw_output_contents[0]).buffer)], [0.1, -2.5, 1e300]);
  });

  test('FP16 and BYTES through raw_input_contents', async () => {
    const half = Uint16Array.from([0x3c00, 0xc000, 0x7bff]); // 1, -2, 65504
    const res = await infer({ model_name: 'half', inputs: [{ name: 'in', datatype: 'FP16', shape: [1, 3] }], raw_input_contents: [bytesOf(half)] });
    assert.equal(res.outputs[0].datatype, 'FP16');
    assert.deepEqual(res.raw_output_contents[0], bytesOf(half));

    const strings = prefixed(['hello', '', 'wörld']);
    const s = await infer({ model_name: 'str', inputs: [{ name: 'in', datatype: 'BYTES', shape: [1, 3] }], raw_input_contents: [strings] });
    assert.deepEqual(s.raw_output_contents[0], strings);

    await expectGrpcError(
      infer({ model_name: 'half', inputs: [{ name: 'in', datatype: 'FP16', shape: [1, 3], contents: { fp32_contents: [1, 2, 3] } }] }),
      INVALID_ARGUMENT, 'FP16 data must be sent in raw_input_contents (InferTensorContents has no field for it)');
  });

  test('outputs selects and orders outputs; unknown output names are refused', async () => {
    const x = Float32Array.from([1, 2, 3, 4]);
    const res = await infer({
      model_name: 'two', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [bytesOf(x)],
      outputs: [{ name: 'negated' }],
    });
    assert.deepEqual(res.outputs.map((o: Json) => o.name), ['negated']);
    assert.deepEqual(floats(res.raw_output_contents[0]), [-1, -2, -3, -4]);

    const both = await infer({
      model_name: 'two', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [bytesOf(x)],
      outputs: [{ name: 'negated' }, { name: 'doubled' }],
    });
    assert.deepEqual(both.outputs.map((o: Json) => o.name), ['negated', 'doubled']);
    assert.deepEqual(floats(both.raw_output_contents[1]), [2, 4, 6, 8]);

    await expectGrpcError(
      infer({ model_name: 'two', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [bytesOf(x)], outputs: [{ name: 'zzz' }] }),
      INVALID_ARGUMENT, 'Invalid output name - Unknown output: zzz');
  });

  test('request parameters are passed through to the response', async () => {
    const res = await infer({
      model_name: 'dummy', inputs: [{ name: 'b', datatype: 'FP32', shape: [1, 10] }], raw_input_contents: [bytesOf(ten)],
      parameters: { trace: { string_param: 'abc' }, priority: { int64_param: 3 }, flag: { bool_param: true } },
    });
    assert.deepEqual(res.parameters, {
      trace: { string_param: 'abc', parameter_choice: 'string_param' },
      priority: { int64_param: 3, parameter_choice: 'int64_param' },
      flag: { bool_param: true, parameter_choice: 'bool_param' },
    });
  });

  test('errors: OVMS texts and codes', async () => {
    const header = { name: 'b', datatype: 'FP32', shape: [1, 10] };
    await expectGrpcError(
      infer({ model_name: 'dummy', inputs: [{ ...header, contents: { fp32_contents: [...ten] } }], raw_input_contents: [bytesOf(ten)] }),
      INVALID_ARGUMENT,
      'Passing buffers both in ModelInferRequest::InferInputTensor::contents and in ModelInferRequest::raw_input_contents is not allowed');
    await expectGrpcError(
      infer({ model_name: 'dummy', inputs: [header], raw_input_contents: [bytesOf(ten.subarray(0, 9))] }),
      INVALID_ARGUMENT, 'Invalid content size of tensor proto - Expected: 40 bytes; Actual: 36 bytes');
    await expectGrpcError(
      infer({ model_name: 'dummy', inputs: [{ ...header, contents: { fp32_contents: [1, 2] } }] }),
      INVALID_ARGUMENT, 'Invalid number of values in tensor proto container - Expected: 10; Actual: 2');
    await expectGrpcError(
      infer({ model_name: 'dummy', inputs: [{ ...header, shape: [1, 11] }], raw_input_contents: [Buffer.alloc(44)] }),
      INVALID_ARGUMENT, 'Invalid input shape - Expected: (1,10); Actual: (1,11)');
    // A shape error wins over the data-size error of the same input (OVMS's validation order).
    await expectGrpcError(
      infer({ model_name: 'dummy', inputs: [{ ...header, shape: [2, 10] }], raw_input_contents: [Buffer.alloc(4)] }),
      INVALID_ARGUMENT, 'Invalid input batch size - Expected: 1; Actual: 2');
    await expectGrpcError(
      infer({ model_name: 'dummy', inputs: [{ ...header, datatype: 'INT32' }], raw_input_contents: [bytesOf(ten)] }),
      INVALID_ARGUMENT, 'Invalid input precision - Expected: FP32; Actual: I32');
    await expectGrpcError(
      infer({ model_name: 'dummy', inputs: [{ ...header, datatype: 'BF16' }], raw_input_contents: [bytesOf(ten)] }),
      INVALID_ARGUMENT, 'Invalid input precision - Expected: FP32; Actual: BF16');
    await expectGrpcError(
      infer({ model_name: 'add', inputs: [{ name: 'input1', datatype: 'FP32', shape: [1, 10] }], raw_input_contents: [bytesOf(ten)] }),
      INVALID_ARGUMENT, 'Invalid number of inputs - Expected: 2; Actual: 1');
    await expectGrpcError(
      infer({ model_name: 'dummy', inputs: [{ ...header, name: 'zz' }], raw_input_contents: [bytesOf(ten)] }),
      INVALID_ARGUMENT, 'Missing input with specific name - Required input: b');
    await expectGrpcError(
      infer({ model_name: 'dummy', inputs: [header, header], raw_input_contents: [bytesOf(ten)] }),
      INVALID_ARGUMENT, /raw_input_contents has 1 buffers for 2 inputs/);
    await expectGrpcError(
      infer({ model_name: 'dummy', inputs: [{ ...header, shape: [1, -10] }], raw_input_contents: [bytesOf(ten)] }),
      INVALID_ARGUMENT, 'Invalid input shape - Negative dimension size is not acceptable: (1,-10)');
    await expectGrpcError(
      infer({ model_name: 'dummy', inputs: [{ ...header, shape: [2 ** 40, 2 ** 40] }], raw_input_contents: [bytesOf(ten)] }),
      INVALID_ARGUMENT, 'Invalid input shape - Tensor element count overflows: (1099511627776,1099511627776)');
    await expectGrpcError(infer({ model_name: 'nope', inputs: [] }), NOT_FOUND, 'Model with requested name is not found');
    await expectGrpcError(infer({ model_name: 'dummy', model_version: '7', inputs: [] }), NOT_FOUND, 'Model with requested version is not found');
    await expectGrpcError(infer({ model_name: 'dummy', model_version: 'v1', inputs: [] }), INVALID_ARGUMENT, 'invalid model version format in request');
    await expectGrpcError(infer({ model_name: 'dummy', model_version: '-1', inputs: [] }), NOT_FOUND, 'Model with requested version is not found');
    await expectGrpcError(client.rawCall('ModelInfer', Uint8Array.from([0x0a, 0x05, 0x61])), INVALID_ARGUMENT, /^Malformed ModelInferRequest: /);
    await expectGrpcError(client.rawCall('ModelMetadata', Uint8Array.from([0xff])), INVALID_ARGUMENT, /^Malformed ModelMetadataRequest/);
  });

  test('the request is decoded by the hand-written codec exactly as protobufjs encodes it (packed and unpacked shapes)', async () => {
    // Unpacked repeated int64 shape: encode the input by hand with one varint per dim.
    const Req = kserveRoot.lookupType('inference.ModelInferRequest');
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).string('dummy');
    w.uint32((5 << 3) | 2).fork()
      .uint32((1 << 3) | 2).string('b')
      .uint32((2 << 3) | 2).string('FP32')
      .uint32(3 << 3).int64(1)
      .uint32(3 << 3).int64(10)
      .ldelim();
    w.uint32((7 << 3) | 2).bytes(bytesOf(ten));
    const bytes = w.finish();
    assert.deepEqual((Req.toObject(Req.decode(bytes), { longs: Number }) as Json).inputs[0].shape, [1, 10]);
    const res = kserveRoot.lookupType('inference.ModelInferResponse').decode(await client.rawCall('ModelInfer', bytes)) as Json;
    assert.deepEqual(floats(Buffer.from(res.raw_output_contents[0])), [...ten].map((v) => v + 2));
  });

  test('RPCs the server does not implement answer UNIMPLEMENTED', async () => {
    await expectGrpcError(client.rawCall('ModelStatistics', new Uint8Array(0)), UNIMPLEMENTED, /.*/);
  });
});
