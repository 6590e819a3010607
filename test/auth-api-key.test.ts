/**
 * --api_key_file: every REST route and gRPC method needs `Authorization: Bearer <key>` except
 * liveness and the console's static files (GET). Checked on each protocol's endpoints with no key,
 * a wrong key, another scheme and the right key, against the real server process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { grpcCall, grpcClient } from './helpers/secure-clients.js';
import { runCli, startServer, type RunningServer } from './helpers/server.js';

const OK = 0;
const UNAUTHENTICATED = 16;
const KEY = 'k3y-Of-The.test_0123456789';
const MESSAGE = 'Unauthenticated: a valid API key is required (Authorization: Bearer <key>)';

const ten = Array.from({ length: 10 }, (_, i) => i);

/** [method, path, body, status with the right key] */
const REST_ENDPOINTS: readonly [string, string, string | undefined, number][] = [
  ['GET', '/v1/models/dummy', undefined, 200],
  ['GET', '/v1/models/dummy/metadata', undefined, 200],
  ['POST', '/v1/models/dummy:predict', JSON.stringify({ instances: [ten] }), 200],
  ['GET', '/v1/config', undefined, 200],
  ['POST', '/v1/config/reload', undefined, 200],
  ['GET', '/v2', undefined, 200],
  ['GET', '/v2/health/ready', undefined, 200],
  ['GET', '/v2/models/dummy', undefined, 200],
  ['GET', '/v2/models/dummy/ready', undefined, 200],
  ['POST', '/v2/models/dummy/infer', JSON.stringify({ inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: ten }] }), 200],
  ['POST', '/v2/repository/index', '{}', 200],
  ['GET', '/metrics', undefined, 200],
  // Unknown URLs are refused for lack of a key before routing, so they reveal nothing either.
  ['GET', '/no/such/url', undefined, 400],
];

const GRPC_METHODS: readonly [string, object][] = [
  ['/tensorflow.serving.PredictionService/Predict', {
    model_spec: { name: 'dummy' },
    inputs: { b: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 10 }] }, float_val: ten } },
  }],
  ['/tensorflow.serving.PredictionService/GetModelMetadata', { model_spec: { name: 'dummy' }, metadata_field: ['signature_def'] }],
  ['/tensorflow.serving.ModelService/GetModelStatus', { model_spec: { name: 'dummy' } }],
  ['/inference.GRPCInferenceService/ServerReady', {}],
  ['/inference.GRPCInferenceService/ModelReady', { name: 'dummy' }],
  ['/inference.GRPCInferenceService/ModelMetadata', { name: 'dummy' }],
  ['/inference.GRPCInferenceService/ModelInfer', {
    model_name: 'dummy',
    inputs: [{ name: 'b', datatype: 'FP32', shape: [1, 10], contents: { fp32_contents: ten } }],
  }],
];

describe('API key authentication', () => {
  const dir = tempDir('tsms-auth-');
  let server: RunningServer;
  let client: grpc.Client;

  before(async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel() } });
    const config = path.join(dir.path, 'config.json');
    writeFileSync(config, JSON.stringify({ model_config_list: [{ config: { name: 'dummy', base_path: path.join(dir.path, 'dummy') } }] }));
    const keyFile = path.join(dir.path, 'api.key');
    writeFileSync(keyFile, `${KEY}\n`);
    server = await startServer({ args: ['--config_path', config, '--api_key_file', keyFile, '--metrics_enable'] });
    client = grpcClient(server.grpcAddress, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await server?.stop();
    dir.remove();
  });

  const rest = (method: string, urlPath: string, body?: string, headers: Record<string, string> = {}) =>
    fetch(`${server.restUrl}${urlPath}`, { method, ...(body !== undefined && { body }), headers });

  test('the start log says a key is required and never shows it', () => {
    assert.match(server.output(), /gRPC transport: plaintext; API key required \(except liveness\)/);
    assert.match(server.output(), /REST transport: plaintext; API key required \(except liveness\)/);
    assert.ok(!server.output().includes(KEY));
  });

  test('REST: no key, a wrong key or another scheme get 401 on every endpoint; the right key gets through', async () => {
    const refused: Record<string, string>[] = [
      {},
      { Authorization: `Bearer ${KEY}x` },
      { Authorization: `Bearer ${KEY.slice(0, -1)}` },
      { Authorization: `Basic ${Buffer.from(`user:${KEY}`).toString('base64')}` },
      { Authorization: KEY },
      { 'X-Api-Key': KEY },
    ];
    for (const [method, urlPath, body, okStatus] of REST_ENDPOINTS) {
      for (const headers of refused) {
        const res = await rest(method, urlPath, body, headers);
        assert.equal(res.status, 401, `${method} ${urlPath} with ${JSON.stringify(headers)}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
        assert.deepEqual(await res.json(), { error: MESSAGE });
      }
      const res = await rest(method, urlPath, body, { Authorization: `Bearer ${KEY}` });
      assert.equal(res.status, okStatus, `${method} ${urlPath} with the key: ${await res.clone().text()}`);
      await res.arrayBuffer();
    }
  });

  test('REST: the scheme name is case-insensitive, and the answer to a keyed predict is right', async () => {
    const res = await rest('POST', '/v1/models/dummy:predict', JSON.stringify({ instances: [ten] }), { Authorization: `bearer ${KEY}` });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { predictions: [ten.map((x) => x + 1)] });
  });

  test('REST: the console page, script and style load without the key, and the page can ask for it; its data needs the key', async () => {
    const statics: readonly [string, RegExp][] = [
      ['/', /^text\/html/], ['/console', /^text\/html/], ['/console/', /^text\/html/],
      ['/console/console.js', /^text\/javascript/], ['/console/console.css', /^text\/css/],
    ];
    for (const [urlPath, type] of statics) {
      const res = await rest('GET', urlPath);
      assert.equal(res.status, 200, urlPath);
      assert.match(res.headers.get('content-type') ?? '', type, urlPath);
      const body = await res.text();
      if (urlPath === '/') assert.match(body, /<input id="api-key" type="password"/);
      if (urlPath.endsWith('.js')) assert.match(body, /Authorization/);
      // The same bytes whoever asks: nothing about the models is in them.
      assert.ok(!body.includes('"dummy"'), `${urlPath} names a model`);
    }
    // HEAD (curl -I, link checkers) answers as GET does, without the body.
    const head = await rest('HEAD', '/console/console.js');
    assert.equal(head.status, 200);
    assert.match(head.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(await head.text(), '');
    // Only reads are open: anything else on those paths still needs the key.
    const post = await rest('POST', '/', '{}');
    assert.equal(post.status, 401);
    await post.arrayBuffer();
    const headState = await rest('HEAD', '/console/api/state');
    assert.equal(headState.status, 401);
    await headState.arrayBuffer();
    const state = await rest('GET', '/console/api/state');
    assert.equal(state.status, 401);
    assert.deepEqual(await state.json(), { error: MESSAGE });
    const keyed = await rest('GET', '/console/api/state', undefined, { Authorization: `Bearer ${KEY}` });
    assert.equal(keyed.status, 200);
    const body = (await keyed.json()) as { models: { name: string; versions: { state: string }[] }[] };
    assert.deepEqual(body.models.map((m) => [m.name, m.versions.map((v) => v.state)]), [['dummy', ['AVAILABLE']]]);
  });

  test('REST: liveness needs no key', async () => {
    const res = await rest('GET', '/v2/health/live');
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });

  test('REST: a large unauthenticated body is refused without reading it, and the server goes on', async () => {
    const big = JSON.stringify({ instances: Array.from({ length: 20000 }, () => ten) });
    const res = await rest('POST', '/v1/models/dummy:predict', big);
    assert.equal(res.status, 401);
    await res.arrayBuffer();
    const next = await rest('GET', '/v1/models/dummy', undefined, { Authorization: `Bearer ${KEY}` });
    assert.equal(next.status, 200);
    await next.arrayBuffer();
  });

  test('gRPC: no key, a wrong key or another scheme get UNAUTHENTICATED on every method; the right key gets through', async () => {
    const refused: Record<string, string>[] = [{}, { authorization: `Bearer ${KEY}x` }, { authorization: `Basic ${KEY}` }, { authorization: KEY }];
    for (const [method, request] of GRPC_METHODS) {
      for (const headers of refused) {
        const outcome = await grpcCall(client, method, request, headers);
        assert.equal(outcome.code, UNAUTHENTICATED, `${method} with ${JSON.stringify(headers)}`);
        assert.equal(outcome.details, MESSAGE);
      }
      const outcome = await grpcCall(client, method, request, { authorization: `Bearer ${KEY}` });
      assert.equal(outcome.code, OK, `${method}: ${outcome.details}`);
    }
  });

  test('gRPC: the keyed Predict answers correctly, and ServerLive needs no key', async () => {
    const predict = await grpcCall(client, GRPC_METHODS[0]![0], GRPC_METHODS[0]![1], { authorization: `Bearer ${KEY}` });
    assert.equal(predict.code, OK);
    assert.equal(predict.response.outputs.a.tensor_content.length, 40);
    const live = await grpcCall(client, '/inference.GRPCInferenceService/ServerLive', {});
    assert.equal(live.code, OK);
    assert.deepEqual(live.response, { live: true });
  });
});

describe('--api_key_file on the command line', () => {
  const dir = tempDir('tsms-auth-cli-');
  after(() => dir.remove());

  test('with --disable_console the console paths are closed like any other URL', async () => {
    writeRepository(dir.path, { m: { 1: dummyModel() } });
    const keyFile = path.join(dir.path, 'api.key');
    writeFileSync(keyFile, `${KEY}\n`);
    const server = await startServer({ args: ['--model_name', 'm', '--model_path', path.join(dir.path, 'm'), '--api_key_file', keyFile, '--disable_console'] });
    try {
      for (const urlPath of ['/', '/console/', '/console/console.js']) {
        const res = await fetch(`${server.restUrl}${urlPath}`);
        assert.equal(res.status, 401, urlPath);
        assert.deepEqual(await res.json(), { error: MESSAGE });
        const keyed = await fetch(`${server.restUrl}${urlPath}`, { headers: { Authorization: `Bearer ${KEY}` } });
        assert.equal(keyed.status, 400, urlPath);
        await keyed.arrayBuffer();
      }
    } finally {
      await server.stop();
    }
  });

  test('a missing file is a usage error (exit 64)', async () => {
    const { code, stderr } = await runCli(['--model_name', 'm', '--model_path', dir.path, '--api_key_file', '/nonexistent/key']);
    assert.equal(code, 64);
    assert.equal(stderr.trim(), 'File path provided as an --api_key_file parameter does not exists in the filesystem: /nonexistent/key');
  });

  test('an empty key file fails the start (exit 1) before any port opens', async () => {
    writeRepository(dir.path, { m: { 1: dummyModel() } });
    const keyFile = path.join(dir.path, 'empty.key');
    writeFileSync(keyFile, ' \n');
    const { code, stdout, stderr } = await runCli(['--model_name', 'm', '--model_path', path.join(dir.path, 'm'), '--port', '0', '--api_key_file', keyFile]);
    assert.equal(code, 1);
    assert.match(stdout + stderr, /--api_key_file .* is empty/);
    assert.doesNotMatch(stdout + stderr, /Server started on port/);
  });
});
