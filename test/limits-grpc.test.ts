/**
 * Input limits and attacks on the gRPC port (issue 10 item 1, peers.md §5d), each against a real
 * server process: the exact code and text, then a valid request that must still be served.
 * Complements test/request-limits-*.test.ts: a message declared past the default 1 GiB limit,
 * compressed messages, versions that are not numbers, a huge shape with tiny data, strings
 * onnxruntime cannot hold, a PNG bomb, and malformed protobuf the hand-written walkers must refuse.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { startFuzzServer, type FuzzServer } from './helpers/fuzz-server.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { assertServes, pngBomb } from './helpers/hostile.js';
import { TfsClient, expectGrpcError, floatsOf, protoRoot, protoDir, type Json } from './helpers/tfs-grpc.js';
import { KserveClient, kserveRoot } from './helpers/kserve-grpc.js';
import * as protoLoader from '@grpc/proto-loader';

const { INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED } = grpc.status;
const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const PredictRequest = protoRoot.lookupType('tensorflow.serving.PredictRequest');
const InferRequest = kserveRoot.lookupType('inference.ModelInferRequest');
const InferResponse = kserveRoot.lookupType('inference.ModelInferResponse');

const TEN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const b = { dtype: 1, tensor_shape: { dim: [{ size: 1 }, { size: 10 }] }, float_val: TEN };
const ksInput = { name: 'b', datatype: 'FP32', shape: [1, 10], contents: { fp32_contents: TEN } };

/**
 * A raw gRPC call over node:http2: one frame header and `payload`; resolves with grpc-status and
 * grpc-message. With `gzip`, the frame is flagged compressed and sent with grpc-encoding: gzip.
 */
function rawGrpcFrame(address: string, path: string, declaredLength: number, payload: Uint8Array, gzip = false): Promise<{ status: string | undefined; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    session.on('error', reject);
    const req = session.request({
      ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers',
      ...(gzip && { 'grpc-encoding': 'gzip', 'grpc-accept-encoding': 'identity,gzip' }),
    });
    let headers: http2.IncomingHttpHeaders = {};
    const done = () => {
      session.destroy();
      resolve({ status: headers['grpc-status'] as string | undefined, message: decodeURIComponent(String(headers['grpc-message'] ?? '')) });
    };
    req.on('response', (h) => {
      headers = { ...headers, ...h };
      if (h['grpc-status'] !== undefined) done(); // trailers-only answer
    });
    req.on('trailers', (t) => {
      headers = { ...headers, ...t };
      done();
    });
    req.on('error', reject);
    const frame = Buffer.alloc(5);
    frame[0] = gzip ? 1 : 0;
    frame.writeUInt32BE(declaredLength, 1);
    req.write(frame);
    req.end(payload);
  });
}

/** A PredictRequest for `model` whose one input's TensorProto is written by `tensor` (hand-made encodings). */
function predictWithTensor(model: string, input: string, tensor: (w: protobuf.Writer) => void): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(model).ldelim();
  w.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string(input).uint32((2 << 3) | 2).fork();
  tensor(w);
  w.ldelim().ldelim();
  return w.finish();
}

/** 11 bytes of varint: one more continuation byte than any 64-bit value needs. */
const OVERLONG_VARINT = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);

describe('gRPC limits: exact codes, and the server goes on serving', () => {
  let fs: FuzzServer;
  let tfs: TfsClient;
  let kserve: KserveClient;

  before(async () => {
    fs = await startFuzzServer();
    tfs = new TfsClient(fs.server.grpcAddress);
    kserve = new KserveClient(fs.server.grpcAddress);
  });
  after(async () => {
    tfs?.close();
    kserve?.close();
    assert.equal(await fs?.stop(), 0);
  });

  async function assertStillServes(): Promise<void> {
    const res = await tfs.predict({ model_spec: { name: 'dummy' }, inputs: { b } });
    assert.deepEqual(floatsOf(res.outputs.a), TEN.map((v) => v + 1));
    await assertServes(fs.server);
  }

  test('a message declared larger than 1 GiB is refused with RESOURCE_EXHAUSTED before it is received', async () => {
    for (const path of [PREDICT, '/inference.GRPCInferenceService/ModelInfer']) {
      const r = await rawGrpcFrame(fs.server.grpcAddress, path, 1024 ** 3 + 1, new Uint8Array(64));
      assert.equal(r.status, String(RESOURCE_EXHAUSTED));
      assert.equal(r.message, 'Received message larger than max (1073741825 vs 1073741824)');
    }
    await assertStillServes();
  });

  test('a gzip-compressed request is inflated and answered (the 1 GiB cap applies to the inflated size)', async () => {
    const def = protoLoader.loadSync('tensorflow_serving/apis/prediction_service.proto', { includeDirs: [protoDir], keepCase: true, longs: Number, defaults: false });
    const Service = (grpc.loadPackageDefinition(def) as Json).tensorflow.serving.PredictionService;
    const client = new Service(fs.server.grpcAddress, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
    try {
      const res: Json = await new Promise((resolve, reject) => client.Predict({ model_spec: { name: 'dummy' }, inputs: { b } }, (err: Error | null, r: Json) => (err ? reject(err) : resolve(r))));
      assert.deepEqual(floatsOf(res.outputs.a), TEN.map((v) => v + 1));
    } finally {
      client.close();
    }
    await assertStillServes();
  });

  // (test/request-limits-names.test.ts covers traversal names in every RPC and KServe ModelReady versions.)
  test('versions that are not plain numbers: TFS ones not found, KServe ones invalid, in Predict, ModelInfer and ModelMetadata', async () => {
    for (const value of [-1, 2, '9223372036854775807', '-9223372036854775808']) {
      await expectGrpcError(tfs.predict({ model_spec: { name: 'dummy', version: { value } }, inputs: { b } }), NOT_FOUND, 'Model with requested version is not found');
      await expectGrpcError(tfs.getModelStatus({ model_spec: { name: 'dummy', version: { value } } }), NOT_FOUND, 'Model with requested version is not found');
    }
    for (const version of ['../1', '1/../1', '1.0', ' 1', '0x1', '1e0', '1\0']) {
      await expectGrpcError(kserve.call('ModelInfer', { model_name: 'dummy', model_version: version, inputs: [ksInput] }), INVALID_ARGUMENT, 'invalid model version format in request');
      await expectGrpcError(kserve.call('ModelMetadata', { name: 'dummy', version }), INVALID_ARGUMENT, 'invalid model version format in request');
    }
    for (const version of ['-1', '99999999999999999999']) {
      await expectGrpcError(kserve.call('ModelInfer', { model_name: 'dummy', model_version: version, inputs: [ksInput] }), NOT_FOUND, 'Model with requested version is not found');
    }
    await assertStillServes();
  });

  // (test/request-limits-input.test.ts covers overflowing, negative and mismatched shapes.)
  test('a huge but representable shape with 4 bytes of data is refused by size, never allocated', async () => {
    await expectGrpcError(tfs.predict({ model_spec: { name: 'id_fp32' }, inputs: { in: { dtype: 1, tensor_shape: { dim: [{ size: 2 ** 40 }, { size: 3 }] }, tensor_content: Buffer.alloc(4) } } }),
      INVALID_ARGUMENT, 'Invalid content size of tensor proto - Expected: 13194139533312 bytes; Actual: 4 bytes');
    await expectGrpcError(tfs.predict({ model_spec: { name: 'id_fp32' }, inputs: { in: { dtype: 1, tensor_shape: { dim: [{ size: 2 ** 40 }, { size: 3 }] }, float_val: [1] } } }),
      INVALID_ARGUMENT, 'Invalid number of values in tensor proto container - Expected: 3298534883328; Actual: 1');
    await expectGrpcError(kserve.call('ModelInfer', { model_name: 'id_fp32', inputs: [{ name: 'in', datatype: 'FP32', shape: [2 ** 40, 3] }], raw_input_contents: [Buffer.alloc(4)] }),
      INVALID_ARGUMENT, 'Invalid content size of tensor proto - Expected: 13194139533312 bytes; Actual: 4 bytes');
    await assertStillServes();
  });

  test('strings onnxruntime cannot hold are refused with the element named', async () => {
    const strings = (vals: Buffer[]) => ({ dtype: 7, tensor_shape: { dim: [{ size: 1 }, { size: 3 }] }, string_val: vals });
    await expectGrpcError(tfs.predict({ model_spec: { name: 'id_string' }, inputs: { in: strings([Buffer.from('a\0b'), Buffer.from('c'), Buffer.from('d')]) } }), INVALID_ARGUMENT,
      'Invalid input precision - input in: string element 0 contains a NUL byte, which onnxruntime string tensors cannot hold');
    await expectGrpcError(tfs.predict({ model_spec: { name: 'id_string' }, inputs: { in: strings([Buffer.from('c'), Buffer.from([0xc3, 0x28]), Buffer.from('d')]) } }), INVALID_ARGUMENT,
      'Invalid input precision - input in: string element 1 is not valid UTF-8 (ONNX string tensors hold UTF-8 text)');
    await assertStillServes();
  });

  test('a PNG decompression bomb is refused from its header (TFS string_val, KServe BYTES)', async () => {
    const bomb = pngBomb();
    await expectGrpcError(tfs.predict({ model_spec: { name: 'img' }, inputs: { in: { dtype: 7, tensor_shape: { dim: [{ size: 1 }] }, string_val: [bomb] } } }), INVALID_ARGUMENT,
      'Image parsing failed - Input image exceeds pixel limit');
    await expectGrpcError(kserve.call('ModelInfer', { model_name: 'img', inputs: [{ name: 'in', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [bomb] } }] }), INVALID_ARGUMENT,
      'Image parsing failed - Input image exceeds pixel limit');
    await assertStillServes();
  });

  // Finds a bug in src/api/tfs/predict-codec.ts (decodeTypedValues) and src/api/kserve/infer-codec.ts
  // (decodeValues): an 11-byte varint inside a packed 64-bit or bool field throws a WireError that
  // nobody turns into INVALID_ARGUMENT, so the client gets INTERNAL "Internal server error" and the
  // log an unexpected error. (Found by test/fuzz-codecs.test.ts.)
  test('an over-long varint in packed int64/uint64/bool values is INVALID_ARGUMENT, not INTERNAL', async () => {
    const tfsCases: [string, number, number][] = [['id_int64', 9, 10], ['id_uint64', 23, 17], ['id_bool', 10, 11]];
    for (const [model, dtype, field] of tfsCases) {
      const bytes = predictWithTensor(model, 'in', (w) => {
        w.uint32((1 << 3) | 0).int32(dtype);
        w.uint32((2 << 3) | 2).fork().uint32((2 << 3) | 2).fork().uint32(8).int64(1).ldelim().uint32((2 << 3) | 2).fork().uint32(8).int64(1).ldelim().ldelim();
        w.uint32((field << 3) | 2).bytes(OVERLONG_VARINT);
      });
      await expectGrpcError(tfs.rawCall(PREDICT, bytes), INVALID_ARGUMENT, /^Malformed PredictRequest: /);
    }
    for (const [model, datatype, field] of [['id_int64', 'INT64', 3], ['id_uint64', 'UINT64', 5], ['id_bool', 'BOOL', 1]] as const) {
      const w = protobuf.Writer.create();
      w.uint32((1 << 3) | 2).string(model);
      w.uint32((5 << 3) | 2).fork().uint32((1 << 3) | 2).string('in').uint32((2 << 3) | 2).string(datatype)
        .uint32((3 << 3) | 2).fork().int64(1).int64(1).ldelim()
        .uint32((5 << 3) | 2).fork().uint32((field << 3) | 2).bytes(OVERLONG_VARINT).ldelim()
        .ldelim();
      await expectGrpcError(kserve.rawCall('ModelInfer', w.finish()), INVALID_ARGUMENT, /^Malformed ModelInferRequest: /);
    }
    await assertStillServes();
  });

  // Finds a bug in src/api/kserve/infer-codec.ts: request `parameters` entries are kept as raw bytes
  // without being parsed and copied verbatim into the ModelInferResponse, so a malformed entry is
  // accepted and the client receives a response it cannot decode.
  test('a malformed KServe request parameter is INVALID_ARGUMENT, not echoed into an undecodable response', async () => {
    const valid = InferRequest.encode(InferRequest.fromObject({ model_name: 'dummy', inputs: [ksInput] })).finish();
    const withBadParameter = Buffer.concat([Buffer.from([(4 << 3) | 2, 3, 0, 0, 0]), valid]); // entry bytes 00 00 00: field number 0
    let reply: Buffer | undefined;
    try {
      reply = await kserve.rawCall('ModelInfer', withBadParameter);
    } catch (err) {
      const e = err as { code: number; details: string };
      assert.equal(e.code, INVALID_ARGUMENT, e.details);
      assert.match(e.details, /^Malformed ModelInferRequest: /);
    }
    if (reply) {
      let decodable = true;
      try {
        InferResponse.decode(reply);
      } catch {
        decodable = false;
      }
      assert.fail(`the malformed parameter was accepted; the response is ${decodable ? 'decodable' : 'not decodable'} by protobufjs`);
    }
    await assertStillServes();
  });

  // Finds a divergence in src/api/tfs/proto-wire.ts (WireReader.tag): a tag varint with bits beyond
  // 32 is truncated and the unknown field skipped; protobuf's own parsers (and protobufjs) refuse
  // such a message, as OVMS would.
  test('a field tag wider than 32 bits makes the message malformed (INVALID_ARGUMENT)', async () => {
    const valid = PredictRequest.encode(PredictRequest.fromObject({ model_spec: { name: 'dummy' }, inputs: { b } })).finish();
    const overlongTag = Buffer.from([0xfd, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4]); // wire type 5, then 4 bytes of fixed32
    await expectGrpcError(tfs.rawCall(PREDICT, Buffer.concat([valid, overlongTag])), INVALID_ARGUMENT, /^Malformed PredictRequest: /);
    await assertStillServes();
  });
});

describe('gRPC decompression bomb, at a small --max_request_size', () => {
  const LIMIT = 1024 * 1024;
  const dir = tempDir('tsms-limits-gzip-');
  let server: RunningServer;

  before(async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel(1) } });
    server = await startServer({ args: ['--model_name', 'dummy', '--model_path', `${dir.path}/dummy`, '--max_request_size', String(LIMIT)] });
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
    dir.remove();
  });

  test('a 10 KB gzip message inflating to 64 MB is RESOURCE_EXHAUSTED; a small compressed one is served', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    assert.ok(bomb.length < LIMIT / 10, `the bomb is ${bomb.length} bytes on the wire`);
    for (const path of [PREDICT, '/inference.GRPCInferenceService/ModelInfer']) {
      const r = await rawGrpcFrame(server.grpcAddress, path, bomb.length, bomb, true);
      assert.equal(r.status, String(RESOURCE_EXHAUSTED));
      assert.equal(r.message, `Received message that decompresses to a size larger than ${LIMIT}`);
    }
    const valid = PredictRequest.encode(PredictRequest.fromObject({ model_spec: { name: 'dummy' }, inputs: { b } })).finish();
    const small = zlib.gzipSync(valid);
    const ok = await rawGrpcFrame(server.grpcAddress, PREDICT, small.length, small, true);
    assert.equal(ok.status, '0', ok.message);
    await assertServes(server);
  });
});
