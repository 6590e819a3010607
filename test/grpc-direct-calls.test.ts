/**
 * The direct unary path (src/api/grpc/direct-calls.ts): calls answered from node:http2 streams in
 * front of grpc-js. Raw HTTP/2 clients control framing exactly (messages split at odd offsets,
 * empty, doubled, missing); the same request sent with `grpc-encoding: gzip` (and an uncompressed
 * frame, which gRPC allows) is declined by the direct path and answered by grpc-js, so the two
 * paths can be compared byte for byte.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, identityModel, slowModel, tempDir, writeServedRepository } from './helpers/models.js';
import { TfsClient, expectGrpcError, floatsOf, protoRoot } from './helpers/tfs-grpc.js';
import { kserveRoot } from './helpers/kserve-grpc.js';

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const MODEL_INFER = '/inference.GRPCInferenceService/ModelInfer';
const PredictRequest = protoRoot.lookupType('tensorflow.serving.PredictRequest');
const PredictResponse = protoRoot.lookupType('tensorflow.serving.PredictResponse');
const InferRequest = kserveRoot.lookupType('inference.ModelInferRequest');
const InferResponse = kserveRoot.lookupType('inference.ModelInferResponse');

/** Elements of the large identity input: 400 KB of float32, more than one HTTP/2 frame and the pooling size. */
const N = 100_000;

interface RawAnswer {
  status: string | undefined;
  message: string;
  body: Buffer;
  /** Response headers and trailers together. */
  headers: http2.IncomingHttpHeaders;
}

/**
 * One raw gRPC call: `frames` are written as separate DATA writes (the caller chooses where a
 * message is cut). `viaGrpcJs` adds `grpc-encoding: gzip`, which the direct path leaves to grpc-js.
 */
function rawCall(address: string, urlPath: string, frames: readonly Buffer[], extraHeaders: http2.OutgoingHttpHeaders = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': urlPath, 'content-type': 'application/grpc', te: 'trailers', ...extraHeaders });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    const done = () => {
      session.close();
      resolve({ status: headers['grpc-status'] as string | undefined, message: decodeURIComponent(String(headers['grpc-message'] ?? '')), body: Buffer.concat(chunks), headers });
    };
    req.on('response', (h) => {
      headers = { ...headers, ...h };
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('trailers', (t) => {
      headers = { ...headers, ...t };
    });
    req.on('close', done);
    req.on('error', () => undefined); // a reset after the answer is fine; 'close' resolves
    for (const f of frames) req.write(f);
    req.end();
  });
}

function framed(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Cuts `bytes` into pieces of the given sizes (cycled), so a message spans many DATA frames. */
function cut(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

function unframe(body: Buffer): Buffer {
  assert.ok(body.length >= 5, 'a response message');
  const length = body.readUInt32BE(1);
  assert.equal(body.length, 5 + length, 'exactly one response message');
  return body.subarray(5);
}

function values(seed: number, n = N): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = seed + i * 0.25;
  return v;
}

function predictMessage(model: string, data: Float32Array): Uint8Array {
  return PredictRequest.encode(PredictRequest.fromObject({
    model_spec: { name: model },
    inputs: { in: { dtype: 1, tensor_shape: { dim: [{ size: 1 }, { size: data.length }] }, tensor_content: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } },
  })).finish();
}

function outputFloats(message: Buffer, output: string): Float32Array {
  const res = PredictResponse.decode(message) as unknown as { outputs: Record<string, { tensor_content: Uint8Array }> };
  const bytes = Buffer.from(res.outputs[output]!.tensor_content);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe('direct unary gRPC calls', () => {
  let server: RunningServer;
  let tfs: TfsClient;
  const dir = tempDir();

  before(async () => {
    // Model names of different lengths move tensor_content to different offsets in the message.
    const config = writeServedRepository(dir.path, {
      id: { 1: identityModel('FP32', ['batch', 'n']) },
      identity_longer_name: { 1: identityModel('FP32', ['batch', 'n']) },
      dummy: { 1: dummyModel() },
      slow: { 1: slowModel() },
    });
    server = await startServer({ args: ['--config_path', config] });
    tfs = new TfsClient(server.grpcAddress);
  });
  after(async () => {
    tfs?.close();
    assert.equal(await server?.stop(), 0);
    dir.remove();
  });

  for (const model of ['id', 'identity_longer_name']) {
    test(`a ${N * 4}-byte tensor cut into odd-sized frames comes back exact (${model})`, async () => {
      const data = values(model.length);
      const answer = await rawCall(server.grpcAddress, PREDICT, cut(framed(predictMessage(model, data)), [3, 4093, 1, 16_384, 777]));
      assert.equal(answer.status, '0');
      // As OVMS's C++ gRPC server: no grpc-message trailer, date or grpc-encoding on success
      // (grpc-js sends all three).
      assert.equal(answer.headers['grpc-message'], undefined);
      assert.equal(answer.headers.date, undefined);
      assert.equal(answer.headers['grpc-encoding'], undefined);
      assert.equal(answer.headers['content-type'], 'application/grpc+proto');
      assert.equal(answer.headers['grpc-accept-encoding'], 'identity,deflate,gzip');
      assert.deepEqual(outputFloats(unframe(answer.body), 'out'), data);
    });
  }

  test('direct and grpc-js answers are the same bytes, for a success and for an error', async () => {
    const good = framed(predictMessage('id', values(7, 1000)));
    const bad = framed(predictMessage('no_such_model', values(7, 10)));
    for (const frame of [good, bad]) {
      const direct = await rawCall(server.grpcAddress, PREDICT, [frame]);
      const viaGrpcJs = await rawCall(server.grpcAddress, PREDICT, [frame], { 'grpc-encoding': 'gzip' });
      assert.equal(direct.status, viaGrpcJs.status);
      // Success: grpc-js adds grpc-message "OK", the direct path (like OVMS) sends none.
      if (frame === bad) assert.equal(direct.message, viaGrpcJs.message);
      else assert.deepEqual([direct.message, viaGrpcJs.message], ['', 'OK']);
      assert.deepEqual(direct.body, viaGrpcJs.body);
    }
    const missing = await rawCall(server.grpcAddress, PREDICT, [bad]);
    assert.equal(missing.status, String(grpc.status.NOT_FOUND));
    assert.match(missing.message, /Model with requested name is not found/);
  });

  test('KServe ModelInfer with a large raw_input_contents, cut into frames, comes back exact', async () => {
    const data = values(3);
    const message = InferRequest.encode(InferRequest.fromObject({
      model_name: 'identity_longer_name',
      inputs: [{ name: 'in', datatype: 'FP32', shape: [1, N] }],
      raw_input_contents: [Buffer.from(data.buffer)],
    })).finish();
    const answer = await rawCall(server.grpcAddress, MODEL_INFER, cut(framed(message), [10, 65_536, 5]));
    assert.equal(answer.status, '0');
    const res = InferResponse.decode(unframe(answer.body)) as unknown as { outputs: { name: string; shape: number[] }[]; raw_output_contents: Uint8Array[] };
    assert.equal(res.outputs[0]!.name, 'out');
    const out = Buffer.from(res.raw_output_contents[0]!);
    assert.deepEqual(new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.length)), data);
  });

  test('concurrent large requests each get their own values back (buffers are not reused too early)', async () => {
    const sent = Array.from({ length: 12 }, (_, k) => values(1000 * k));
    const answers = await Promise.all(sent.map((data, k) => rawCall(server.grpcAddress, PREDICT, cut(framed(predictMessage(k % 2 ? 'id' : 'identity_longer_name', data)), [50_000]))));
    answers.forEach((a, k) => {
      assert.equal(a.status, '0');
      assert.deepEqual(outputFloats(unframe(a.body), 'out'), sent[k]);
    });
  });

  test('a message over 16 MB (gathered before it gets its memory) comes back exact', async () => {
    const data = values(9, 4_500_000); // 18 MB of float32
    const answer = await rawCall(server.grpcAddress, PREDICT, cut(framed(predictMessage('id', data)), [1_000_003]));
    assert.equal(answer.status, '0');
    assert.deepEqual(outputFloats(unframe(answer.body), 'out'), data);
  });

  test('declared 512 MB messages that never arrive reserve no memory', async () => {
    // Virtual size: memory reserved for a message counts there even before its pages are touched.
    const rssMb = () => Number(/VmSize:\s+(\d+)/.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))![1]) / 1024;
    const before = rssMb();
    const session = http2.connect(`http://${server.grpcAddress}`);
    const streams = Array.from({ length: 4 }, () => {
      const req = session.request({ ':method': 'POST', ':path': PREDICT, 'content-type': 'application/grpc', te: 'trailers' });
      req.on('error', () => undefined);
      const head = Buffer.alloc(5 + 64 * 1024);
      head.writeUInt32BE(512 * 1024 * 1024, 1);
      req.write(head);
      return req;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during = rssMb();
    for (const req of streams) req.close(http2.constants.NGHTTP2_CANCEL);
    session.destroy();
    assert.ok(during - before < 1024, `virtual size grew from ${before.toFixed(0)} to ${during.toFixed(0)} MB for 4 stalled 512 MB declarations`);
    const data = values(2, 1000);
    const answer = await rawCall(server.grpcAddress, PREDICT, [framed(predictMessage('id', data))]);
    assert.deepEqual(outputFloats(unframe(answer.body), 'out'), data);
  });

  test('an empty message is decoded like any other (no model_spec → INVALID_ARGUMENT)', async () => {
    const answer = await rawCall(server.grpcAddress, PREDICT, [framed(new Uint8Array(0))]);
    assert.equal(answer.status, String(grpc.status.INVALID_ARGUMENT));
    assert.match(answer.message, /model_spec/i);
  });

  test('two messages in a unary call, or none, are refused with UNIMPLEMENTED', async () => {
    const one = framed(predictMessage('dummy', values(0, 10)));
    const two = await rawCall(server.grpcAddress, PREDICT, [Buffer.concat([one, one])]);
    assert.equal(two.status, String(grpc.status.UNIMPLEMENTED));
    assert.equal(two.message, 'Received a second request message for unary method Predict');
    const none = await rawCall(server.grpcAddress, PREDICT, []);
    assert.equal(none.status, String(grpc.status.UNIMPLEMENTED));
    assert.equal(none.message, 'Received no request message for unary method Predict');
    const truncated = await rawCall(server.grpcAddress, PREDICT, [one.subarray(0, one.length - 3)]);
    assert.equal(truncated.status, String(grpc.status.UNIMPLEMENTED));
  });

  test('a compressed frame without grpc-encoding is a protocol error (INTERNAL)', async () => {
    const frame = framed(predictMessage('dummy', values(0, 10)));
    frame[0] = 1;
    const answer = await rawCall(server.grpcAddress, PREDICT, [frame]);
    assert.equal(answer.status, String(grpc.status.INTERNAL));
    assert.equal(answer.message, 'Received a compressed message without a grpc-encoding');
  });

  test('an invalid grpc-timeout is left to grpc-js, which refuses it', async () => {
    const answer = await rawCall(server.grpcAddress, PREDICT, [framed(predictMessage('dummy', values(0, 10)))], { 'grpc-timeout': 'soon' });
    assert.equal(answer.status, String(grpc.status.INTERNAL));
    assert.equal(answer.message, 'Invalid grpc-timeout value "soon"');
  });

  test('a deadline that passes while the model is busy ends the call with DEADLINE_EXCEEDED; the server goes on', async () => {
    const x = { dtype: 1, tensor_shape: { dim: [{ size: 384 }, { size: 384 }] }, float_val: [] as number[] };
    x.float_val = Array.from({ length: 384 * 384 }, () => 0.001);
    const calls = Array.from({ length: 4 }, () => new Promise<grpc.ServiceError | null>((resolve) => {
      tfs.prediction.Predict({ model_spec: { name: 'slow' }, inputs: { x } }, { deadline: Date.now() + 5 }, (err: grpc.ServiceError | null) => resolve(err));
    }));
    const errors = await Promise.all(calls);
    assert.ok(errors.some((e) => e?.code === grpc.status.DEADLINE_EXCEEDED), `codes: ${errors.map((e) => e?.code)}`);
    const res = await tfs.predict({ model_spec: { name: 'dummy' }, inputs: { b: { dtype: 1, tensor_shape: { dim: [{ size: 1 }, { size: 10 }] }, float_val: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] } } });
    assert.deepEqual(floatsOf(res.outputs.a), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  test('a client that resets its stream mid-message does not disturb the server', async () => {
    const frame = framed(predictMessage('id', values(1)));
    await new Promise<void>((resolve, reject) => {
      const session = http2.connect(`http://${server.grpcAddress}`);
      session.on('error', reject);
      const req = session.request({ ':method': 'POST', ':path': PREDICT, 'content-type': 'application/grpc', te: 'trailers' });
      req.on('error', () => undefined);
      req.write(frame.subarray(0, 100_000), () => {
        req.close(http2.constants.NGHTTP2_CANCEL);
        session.close(() => resolve());
      });
    });
    await expectGrpcError(tfs.predict({ model_spec: { name: 'nope' }, inputs: {} }), grpc.status.NOT_FOUND, /not found/);
    const data = values(5);
    const answer = await rawCall(server.grpcAddress, PREDICT, [framed(predictMessage('id', data))]);
    assert.deepEqual(outputFloats(unframe(answer.body), 'out'), data);
  });
});
