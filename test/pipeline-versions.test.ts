/**
 * Pipelines while the models under them change (SPEC §7.4 last lines, issue 7 item 3): a pipeline on
 * a model's default version keeps answering, without a single failed request, while a new version
 * loads and the old one retires under load; a pipeline pinned to the retired version then reports
 * itself not loaded and refuses requests with UNAVAILABLE.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { TfsClient, bytesOf, expectGrpcError, floatsOf, shapeProto, type Json } from './helpers/tfs-grpc.js';
import { modelNode, pipeline, src } from './helpers/pipelines.js';

const ten = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const input = (): Json => ({ b: { dtype: 1, tensor_shape: shapeProto([1, 10]), tensor_content: bytesOf(Float32Array.from(ten)) } });

/** Polls `check` until it returns true (the server's own poll interval decides how long that takes). */
async function eventually(check: () => Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('pipelines across model version changes', () => {
  let server: RunningServer;
  let client: TfsClient;
  let dir: { path: string; remove(): void };
  let modelDir: string;

  before(async () => {
    dir = tempDir();
    const models = path.join(dir.path, 'models');
    // Version 1 adds 1; version 2 (added during the test) adds 100.
    writeRepository(models, { counter: { 1: dummyModel(1) } });
    modelDir = path.join(models, 'counter');
    const config = {
      model_config_list: [{ config: { name: 'counter', base_path: modelDir } }],
      pipeline_config_list: [
        pipeline('follow', ['b'], [modelNode('m', 'counter', { b: src('request', 'b') }, [['a', 'y']])], { y: src('m', 'y') }),
        pipeline('pinned', ['b'], [modelNode('m', 'counter', { b: src('request', 'b') }, [['a', 'y']], { version: 1 })], { y: src('m', 'y') }),
      ],
    };
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify(config));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '1'] });
    client = new TfsClient(server.grpcAddress);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    dir?.remove();
  });

  test('a new default version takes over under load without failing a request; a pinned pipeline then reports UNAVAILABLE', async () => {
    const call = (name: string) => client.predict({ model_spec: { name }, inputs: input() });
    assert.deepEqual(floatsOf((await call('follow')).outputs.y), ten.map((v) => v + 1));
    assert.deepEqual(floatsOf((await call('pinned')).outputs.y), ten.map((v) => v + 1));

    const seen: number[] = [];
    const errors: string[] = [];
    let stop = false;
    let sawNew = false;
    const worker = async () => {
      while (!stop) {
        try {
          const y = floatsOf((await call('follow')).outputs.y);
          const added = y[0]! - ten[0]!;
          assert.deepEqual(y, ten.map((v) => v + added));
          seen.push(added);
          if (added === 100) sawNew = true;
        } catch (err) {
          errors.push(String((err as Error).message ?? err));
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);

    writeRepository(path.dirname(modelDir), { counter: { 2: dummyModel(100) } });
    await eventually(async () => sawNew, 'version 2 to answer');
    // Keep the load on while version 1 retires.
    await eventually(async () => {
      const s = await client.getModelStatus({ model_spec: { name: 'counter' } });
      return s.model_version_status.some((v: Json) => Number(v.version) === 1 && v.state === 50);
    }, 'version 1 to retire');
    const afterRetire = seen.length;
    await eventually(async () => seen.length >= afterRetire + 20, 'more answers after the retirement');
    stop = true;
    await Promise.all(workers);

    assert.deepEqual(errors, []);
    assert.ok(seen.every((k) => k === 1 || k === 100), `unexpected results ${[...new Set(seen)]}`);
    assert.ok(seen.slice(afterRetire).every((k) => k === 100));

    // Pinned to the retired version: not loaded any more.
    await eventually(async () => {
      const s = await client.getModelStatus({ model_spec: { name: 'pinned' } });
      return s.model_version_status[0].state === 20;
    }, 'the pinned pipeline to report LOADING');
    const status = await client.getModelStatus({ model_spec: { name: 'pinned' } });
    assert.deepEqual(status.model_version_status.map((s: Json) => [Number(s.version), s.state, s.status.error_code, s.status.error_message]),
      [[1, 20, 9, 'FAILED_PRECONDITION']]);
    await expectGrpcError(call('pinned'), 14, 'Pipeline is not loaded yet');
    assert.match(server.output(), /Pipeline definition has reference to missing model - node: m; model: counter; version: 1/);
  });
});
