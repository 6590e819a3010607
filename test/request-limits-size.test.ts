/**
 * --max_request_size: the gRPC receive limit and the REST body limit. A request one byte over the
 * limit gets RESOURCE_EXHAUSTED / 413 with the exact text, and the next valid request on the same
 * server (and, for gRPC, the same channel) is answered normally.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { grpcCall, grpcClient, grpcRaw } from './helpers/secure-clients.js';
import { runCli, startServer, type RunningServer } from './helpers/server.js';
import { floatsOf } from './helpers/tfs-grpc.js';

const OK = 0;
const RESOURCE_EXHAUSTED = 8;
const LIMIT = 100_000;

const ten = Array.from({ length: 10 }, (_, i) => i);
const f32 = (n: number) => Buffer.from(new Float32Array(n).buffer);
const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const MODEL_INFER = '/inference.GRPCInferenceService/ModelInfer';

const tfsPredict = (content: Buffer) => ({
  model_spec: { name: 'dummy' },
  inputs: { b: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 10 }] }, tensor_content: content } },
});
const kserveInfer = (content: Buffer) => ({
  model_name: 'dummy', inputs: [{ name: 'b', datatype: 'FP32', shape: [1, 10] }], raw_input_contents: [content],
});

/** A raw HTTP request (fetch cannot send a body without Content-Length on demand). */
function post(port: number, urlPath: string, body: Buffer, chunked: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: urlPath, method: 'POST', agent: false,
      headers: chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': body.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (chunked) {
      // Several chunks, so the limit is hit while streaming, not from a header.
      for (let i = 0; i < body.length; i += 16384) req.write(body.subarray(i, i + 16384));
      req.end();
    } else {
      req.end(body);
    }
  });
}

describe('--max_request_size', () => {
  const dir = tempDir('tsms-limits-size-');
  let server: RunningServer;
  let client: grpc.Client;

  before(async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel() } });
    server = await startServer({ args: ['--model_name', 'dummy', '--model_path', path.join(dir.path, 'dummy'), '--max_request_size', String(LIMIT)] });
    client = grpcClient(server.grpcAddress, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await server?.stop();
    dir.remove();
  });

  const validRestPredict = async () => {
    const res = await post(server.restPort, '/v1/models/dummy:predict', Buffer.from(JSON.stringify({ instances: [ten] })), false);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { predictions: [ten.map((x) => x + 1)] });
  };

  test('REST: a body of exactly the limit is read; one byte more is 413 (declared length and chunked)', async () => {
    // Exactly LIMIT bytes of valid JSON: the instances plus trailing spaces.
    const json = JSON.stringify({ instances: [ten] });
    const exact = Buffer.from(json + ' '.repeat(LIMIT - json.length));
    assert.equal(exact.length, LIMIT);
    const atLimit = await post(server.restPort, '/v1/models/dummy:predict', exact, false);
    assert.equal(atLimit.status, 200, atLimit.body);

    const over = Buffer.concat([exact, Buffer.from(' ')]);
    for (const chunked of [false, true]) {
      for (const urlPath of ['/v1/models/dummy:predict', '/v2/models/dummy/infer']) {
        const res = await post(server.restPort, urlPath, over, chunked);
        assert.equal(res.status, 413, `${urlPath} chunked=${chunked}`);
        assert.deepEqual(JSON.parse(res.body), { error: `Request body too large - the limit is ${LIMIT} bytes` });
        await validRestPredict();
      }
    }
  });

  test('REST: a declared length far over the limit is refused before the body is sent', async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.restPort, path: '/v1/models/dummy:predict', method: 'POST', agent: false, headers: { 'Content-Length': 10 * 1024 ** 3 } }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('{"instances":');
    });
    assert.equal(res.status, 413);
    assert.deepEqual(JSON.parse(res.body), { error: `Request body too large - the limit is ${LIMIT} bytes` });
    await validRestPredict();
  });

  test('gRPC: a message over the limit is RESOURCE_EXHAUSTED on TFS and KServe; the same channel then works', async () => {
    const big = f32(LIMIT / 4 + 1);
    for (const [method, request] of [[PREDICT, tfsPredict(big)], [MODEL_INFER, kserveInfer(big)]] as const) {
      const refused = await grpcCall(client, method, request);
      assert.equal(refused.code, RESOURCE_EXHAUSTED, method);
      assert.match(refused.details, new RegExp(`^Received message larger than max \\(\\d+ vs ${LIMIT}\\)$`));
    }
    const ok = await grpcCall(client, PREDICT, tfsPredict(Buffer.from(new Float32Array(ten).buffer)));
    assert.equal(ok.code, OK, ok.details);
    assert.deepEqual(floatsOf(ok.response.outputs.a), ten.map((x) => x + 1));
    const kserve = await grpcCall(client, MODEL_INFER, kserveInfer(f32(10)));
    assert.equal(kserve.code, OK, kserve.details);
  });

  test('gRPC: the limit counts the whole message, whatever it holds (garbage bytes too)', async () => {
    const garbage = await grpcRaw(client, PREDICT, Buffer.alloc(LIMIT + 1, 0xff));
    assert.equal(garbage.code, RESOURCE_EXHAUSTED);
    const atLimit = await grpcRaw(client, PREDICT, Buffer.alloc(LIMIT, 0xff));
    assert.notEqual(atLimit.code, RESOURCE_EXHAUSTED, 'a message of exactly the limit is read and decoded');
    const ok = await grpcCall(client, PREDICT, tfsPredict(f32(10)));
    assert.equal(ok.code, OK, ok.details);
  });
});

describe('--max_request_size on the command line', () => {
  test('0, and more than 2147483647, are usage errors (exit 64); the help lists the flag and its default', async () => {
    for (const value of ['0', '2147483648', '0x80000000']) {
      const { code, stderr } = await runCli(['--model_name', 'm', '--model_path', '/tmp', '--max_request_size', value]);
      assert.equal(code, 64, value);
      assert.equal(stderr.trim(), 'max_request_size should be from 1 to 2147483647');
    }
    const { code, stderr } = await runCli(['--model_name', 'm', '--model_path', '/tmp', '--max_request_size', '-1']);
    assert.equal(code, 64);
    assert.equal(stderr.trim(), 'error parsing options: Argument ‘-1’ failed to parse');
    const help = await runCli(['--help']);
    assert.match(help.stdout, /--max_request_size MAX_REQUEST_SIZE[\s\S]*\(default: 1073741824\)/);
    for (const flag of ['grpc_tls_cert', 'grpc_tls_key', 'grpc_tls_ca', 'rest_tls_cert', 'rest_tls_key', 'rest_tls_ca', 'api_key_file']) {
      assert.match(help.stdout, new RegExp(`--${flag} ${flag.toUpperCase()}`));
    }
  });
});
