/**
 * Model names and versions that try path traversal (`../`, absolute paths, percent-encoded and
 * double-encoded forms, NUL) on every API: TFS REST and gRPC, KServe REST and gRPC, the repository
 * extension, and config.json. Names are only registry keys, so the answer is 400 or 404 /
 * NOT_FOUND / INVALID_ARGUMENT, and a model folder reachable by the traversal is never served.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { grpcCall, grpcClient } from './helpers/secure-clients.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { floatsOf } from './helpers/tfs-grpc.js';

const OK = 0;
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const INVALID_URL = { status: 400, error: 'Invalid request URL' };
const NO_MODEL = { status: 404, error: 'Model with requested name is not found' };

const ten = Array.from({ length: 10 }, (_, i) => i);
const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer);

/** A request with the path sent byte for byte (fetch and URL would normalise `..`). */
function raw(port: number, method: string, urlPath: string, body?: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('path traversal in model names and versions', () => {
  const dir = tempDir('tsms-limits-names-');
  let server: RunningServer;
  let client: grpc.Client;

  before(async () => {
    // `outside` sits beside the repository: every traversal below points at it. It adds 100, the
    // served `dummy` adds 1, so any answer tells which one ran.
    writeRepository(path.join(dir.path, 'repo'), { dummy: { 1: dummyModel(1) } });
    writeRepository(dir.path, { outside: { 1: dummyModel(100) } });
    const config = path.join(dir.path, 'repo', 'config.json');
    writeFileSync(config, JSON.stringify({
      model_config_list: [
        { config: { name: 'dummy', base_path: path.join(dir.path, 'repo', 'dummy') } },
        // A name that looks like a path is only a name: it serves its own base_path.
        { config: { name: '../outside', base_path: path.join(dir.path, 'repo', 'dummy') } },
        // A base_path escaping with `..` is refused; the rest of the config still loads.
        { config: { name: 'escape', base_path: `${path.join(dir.path, 'repo')}/../outside` } },
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

  const predictBody = JSON.stringify({ instances: [ten] });
  const inferBody = JSON.stringify({ inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: ten }] });

  async function expectValidRest(): Promise<void> {
    const res = await raw(server.restPort, 'POST', '/v1/models/dummy:predict', predictBody);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { predictions: [ten.map((x) => x + 1)] });
  }

  test('REST (TFS, KServe, repository): traversal names get 400 Invalid request URL or 404 not found', async () => {
    const cases: [string, string, string | undefined, { status: number; error: string }][] = [
      ['GET', '/v1/models/..%2Foutside', undefined, INVALID_URL],
      ['GET', '/v1/models/..%2F..%2Fetc%2Fpasswd', undefined, INVALID_URL],
      ['GET', '/v1/models/%2Fetc%2Fpasswd', undefined, INVALID_URL],
      ['GET', '/v1/models/%2e%2e', undefined, NO_MODEL],
      ['GET', '/v1/models/..', undefined, NO_MODEL],
      ['GET', '/v1/models/../outside', undefined, INVALID_URL],
      ['GET', '/v1/models/dummy%00', undefined, INVALID_URL],
      ['GET', '/v1/models/%252e%252e%252foutside', undefined, NO_MODEL],
      ['GET', '/v1/models/%2e%2e%2foutside/metadata', undefined, INVALID_URL],
      ['GET', '/v1/models/dummy/versions/..%2F1', undefined, INVALID_URL],
      ['GET', '/v1/models/dummy/versions/1%00', undefined, INVALID_URL],
      ['POST', '/v1/models/%2e%2e%2Foutside:predict', predictBody, INVALID_URL],
      ['POST', '/v1/models/%2e%2e:predict', predictBody, NO_MODEL],
      ['GET', '/v2/models/%2e%2e/ready', undefined, NO_MODEL],
      ['GET', '/v2/models/..%2Foutside', undefined, INVALID_URL],
      ['GET', '/v2/models/dummy/versions/..%2F1', undefined, INVALID_URL],
      ['GET', '/v2/models/dummy/versions/%2e%2e', undefined, { status: 400, error: 'invalid model version format in request' }],
      ['POST', '/v2/models/%2e%2e/infer', inferBody, NO_MODEL],
      ['POST', '/v2/models/%2Ftmp%2Foutside/infer', inferBody, INVALID_URL],
      ['POST', '/v2/repository/models/..%2Foutside/load', '{}', INVALID_URL],
      ['POST', '/v2/repository/models/%2e%2e/load', '{}', NO_MODEL],
      ['POST', '/v2/repository/models/%2e%2e/unload', '{}', NO_MODEL],
      ['POST', '/v2/repository/models/escape/load', '{}', NO_MODEL],
    ];
    for (const [method, urlPath, body, expected] of cases) {
      const res = await raw(server.restPort, method, urlPath, body);
      assert.deepEqual({ status: res.status, error: res.json.error }, expected, `${method} ${urlPath}`);
      await expectValidRest();
    }
  });

  test('gRPC (TFS and KServe): traversal names are NOT_FOUND, traversal versions INVALID_ARGUMENT', async () => {
    const predict = (name: string) => ({
      model_spec: { name },
      inputs: { b: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 10 }] }, tensor_content: f32(ten) } },
    });
    const names = ['../../outside', '/etc/passwd', `${dir.path}/outside`, 'dummy\0', '..', '%2e%2e%2foutside', 'escape'];
    for (const name of names) {
      const calls: [string, object][] = [
        ['/tensorflow.serving.PredictionService/Predict', predict(name)],
        ['/tensorflow.serving.PredictionService/GetModelMetadata', { model_spec: { name }, metadata_field: ['signature_def'] }],
        ['/tensorflow.serving.ModelService/GetModelStatus', { model_spec: { name } }],
        ['/inference.GRPCInferenceService/ModelReady', { name }],
        ['/inference.GRPCInferenceService/ModelMetadata', { name }],
        ['/inference.GRPCInferenceService/ModelInfer', { model_name: name, inputs: [{ name: 'b', datatype: 'FP32', shape: [1, 10] }], raw_input_contents: [f32(ten)] }],
      ];
      for (const [method, request] of calls) {
        const res = await grpcCall(client, method, request);
        assert.deepEqual([res.code, res.details], [NOT_FOUND, 'Model with requested name is not found'], `${method} ${JSON.stringify(name)}`);
      }
    }
    for (const version of ['../1', '1/..', '/1', '1\0']) {
      const res = await grpcCall(client, '/inference.GRPCInferenceService/ModelReady', { name: 'dummy', version });
      assert.deepEqual([res.code, res.details], [INVALID_ARGUMENT, 'invalid model version format in request'], JSON.stringify(version));
    }
    const ok = await grpcCall(client, '/tensorflow.serving.PredictionService/Predict', predict('dummy'));
    assert.equal(ok.code, OK, ok.details);
    assert.deepEqual(floatsOf(ok.response.outputs.a), ten.map((x) => x + 1));
  });

  test('config.json: a path-like name serves its own base_path, never the folder it names', async () => {
    const res = await grpcCall(client, '/tensorflow.serving.PredictionService/Predict', {
      model_spec: { name: '../outside' },
      inputs: { b: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 10 }] }, tensor_content: f32(ten) } },
    });
    assert.equal(res.code, OK, res.details);
    assert.deepEqual(floatsOf(res.response.outputs.a), ten.map((x) => x + 1), 'dummy (+1) ran, not outside (+100)');
  });

  test('config.json: a base_path escaping with .. is refused and logged; the server serves the rest', async () => {
    assert.match(server.output(), /Parsing model: escape config failed: Path .* escape with \.\. is forbidden\./);
    const res = await raw(server.restPort, 'GET', '/v1/models/escape', undefined);
    assert.deepEqual({ status: res.status, error: res.json.error }, NO_MODEL);
    await expectValidRest();
  });
});
