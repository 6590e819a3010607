/**
 * A pipeline node that throws or returns garbage (issue 10 item 3): every way a custom node's
 * `execute` can fail inside the request — throwing values that are not Errors (a string, null, an
 * object without a prototype, one whose toString throws), rejecting later while other requests run,
 * returning nothing usable, tensors whose shape or data lie, outputs behind throwing getters — must
 * fail that request only, with "Custom node …" texts and gRPC UNKNOWN / HTTP 500 as OVMS answers
 * custom node failures, never INTERNAL "Internal server error"; the pipeline, its neighbours and
 * the models keep serving. (test/pipeline-server.test.ts covers a node throwing an Error and a wrong dtype.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { TfsClient, bytesOf, expectGrpcError, floatsOf, shapeProto, type Json } from './helpers/tfs-grpc.js';
import { customNode, modelNode, pipeline, src } from './helpers/pipelines.js';
import { assertServes, rawHttp } from './helpers/hostile.js';

const TEN = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/** One library, many ways to fail: the node's `mode` param picks one; "pass" hands x on. */
const MISBEHAVING = `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export function getInputsInfo() { return [{ name: 'x', dtype: 'FP32', shape: [1, 10] }]; }
export function getOutputsInfo() { return [{ name: 'y', dtype: 'FP32', shape: [1, 10] }]; }
export async function execute(inputs, params) {
  const ok = { y: inputs.x };
  switch (params.mode) {
    case 'pass': return ok;
    case 'slow-pass': await sleep(30); return ok;
    case 'throw-string': throw 'plain string';
    case 'throw-null': throw null;
    case 'throw-undefined': throw undefined;
    case 'throw-nullproto': throw Object.create(null);
    case 'throw-bad-tostring': throw { toString() { throw new Error('toString refuses'); } };
    case 'reject-later': await sleep(20); throw new Error('late failure');
    case 'return-null': return null;
    case 'return-number': return 42;
    case 'return-array': return [inputs.x];
    case 'short-data': return { y: { dtype: 'FP32', shape: [1, 10], data: new Float32Array(3) } };
    case 'nan-shape': return { y: { dtype: 'FP32', shape: [1, NaN], data: new Float32Array(10) } };
    case 'huge-shape': return { y: { dtype: 'FP32', shape: [1, 2 ** 53], data: new Float32Array(10) } };
    case 'no-data': return { y: { dtype: 'FP32', shape: [1, 10] } };
    case 'getter-throws': return { get y() { throw new Error('getter refuses'); } };
    case 'proxy-throws': return new Proxy({}, { get() { throw new Error('proxy refuses'); }, ownKeys() { throw new Error('proxy refuses keys'); } });
    default: throw new Error('unknown mode ' + params.mode);
  }
}
`;

/** Mode → the answer: gRPC code and a pattern for the text. */
const FAILURES: Record<string, [number, RegExp]> = {
  'throw-string': [grpc.status.UNKNOWN, /^Custom node failed during execution - node: n: plain string$/],
  'throw-null': [grpc.status.UNKNOWN, /^Custom node failed during execution - node: n/],
  'throw-undefined': [grpc.status.UNKNOWN, /^Custom node failed during execution - node: n/],
  'throw-nullproto': [grpc.status.UNKNOWN, /^Custom node failed during execution - node: n/],
  'throw-bad-tostring': [grpc.status.UNKNOWN, /^Custom node failed during execution - node: n/],
  'reject-later': [grpc.status.UNKNOWN, /^Custom node failed during execution - node: n: late failure$/],
  'return-null': [grpc.status.UNKNOWN, /^Custom node library has returned corrupted outputs handle - node: n/],
  'return-number': [grpc.status.UNKNOWN, /^Custom node library has returned corrupted outputs handle - node: n/],
  'return-array': [grpc.status.UNKNOWN, /^Custom node library has returned corrupted outputs handle - node: n/],
  'short-data': [grpc.status.UNKNOWN, /^Custom node output has invalid content size - node: n; output: y/],
  'nan-shape': [grpc.status.UNKNOWN, /^Custom node has produced tensor with not matching shape - node: n; output: y/],
  'huge-shape': [grpc.status.UNKNOWN, /^Custom node has produced tensor with not matching shape - node: n; output: y/],
  'no-data': [grpc.status.UNKNOWN, /^Custom node library has returned corrupted outputs handle - node: n; output: y/],
  'getter-throws': [grpc.status.UNKNOWN, /^Custom node/],
  'proxy-throws': [grpc.status.UNKNOWN, /^Custom node/],
};

function grpcInput(values: number[]): Json {
  return { dtype: 1, tensor_shape: shapeProto([1, 10]), tensor_content: bytesOf(Float32Array.from(values)) };
}

describe('faults: pipeline nodes that throw or return garbage fail their request only', () => {
  const dir = tempDir('tsms-faults-pipeline-');
  let server: RunningServer;
  let client: TfsClient;

  before(async () => {
    writeRepository(path.join(dir.path, 'models'), { dummy: { 1: dummyModel(1) } });
    const library = path.join(dir.path, 'misbehaving.mjs');
    writeFileSync(library, MISBEHAVING);
    const modes = ['pass', 'slow-pass', ...Object.keys(FAILURES)];
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({
      model_config_list: [{ config: { name: 'dummy', base_path: path.join(dir.path, 'models', 'dummy') } }],
      custom_node_library_config_list: [{ name: 'misbehaving', base_path: library }],
      pipeline_config_list: modes.map((mode) => pipeline(`p_${mode}`, ['x'], [
        customNode('n', 'misbehaving', { x: src('request', 'x') }, [['y', 'y']], { params: { mode } }),
        modelNode('inc', 'dummy', { b: src('n', 'y') }, [['a', 'out']]),
      ], { out: src('inc', 'out') })),
    }));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '0'] });
    client = new TfsClient(server.grpcAddress);
  });
  after(async () => {
    client?.close();
    assert.equal(await server?.stop(), 0, 'the server exits cleanly');
    dir.remove();
  });

  async function assertPipelinesServe(): Promise<void> {
    const res = await client.predict({ model_spec: { name: 'p_pass' }, inputs: { x: grpcInput(TEN) } });
    assert.deepEqual(floatsOf(res.outputs.out), TEN.map((v) => v + 1));
    await assertServes(server);
  }

  for (const [mode, [code, text]] of Object.entries(FAILURES)) {
    test(`${mode}: gRPC ${grpc.status[code]} and HTTP 500 with the node named; the next requests are served`, async () => {
      await expectGrpcError(client.predict({ model_spec: { name: `p_${mode}` }, inputs: { x: grpcInput(TEN) } }), code, text);
      const r = await rawHttp(server.restPort, 'POST', `/v1/models/p_${mode}:predict`, JSON.stringify({ inputs: { x: [TEN] } }));
      assert.equal(r.status, 500, r.text);
      assert.match(r.json().error, text);
      await assertPipelinesServe();
    });
  }

  test('a node failing later does not disturb the requests running beside it', async () => {
    const results = await Promise.allSettled(Array.from({ length: 24 }, (_, i) =>
      client.predict({ model_spec: { name: i % 2 ? 'p_reject-later' : 'p_slow-pass' }, inputs: { x: grpcInput(TEN.map((v) => v + i)) } })));
    results.forEach((r, i) => {
      if (i % 2) {
        assert.equal(r.status, 'rejected');
        assert.equal((r as PromiseRejectedResult).reason.code, grpc.status.UNKNOWN);
      } else {
        assert.equal(r.status, 'fulfilled', String((r as PromiseRejectedResult).reason));
        assert.deepEqual(floatsOf((r as PromiseFulfilledResult<Json>).value.outputs.out), TEN.map((v) => v + i + 1));
      }
    });
    await assertPipelinesServe();
    assert.doesNotMatch(server.output(), /failed with an unexpected error/, 'no failure escaped as an unexpected error');
  });
});
