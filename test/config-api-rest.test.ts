/**
 * Live configuration (GET /v1/config, POST /v1/config/reload, SPEC §4.5), readiness that tells
 * the truth, and the repository extension working with config.json — over real sockets.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { KserveClient } from './helpers/kserve-grpc.js';
import { expectGrpcError } from './helpers/tfs-grpc.js';

const ten = Array.from({ length: 10 }, (_, i) => i);

function statusText(entries: [string, [string, string, string][]][]): string {
  if (entries.length === 0) return '{}';
  const parts = entries.map(([name, versions]) => {
    const list = versions.map(([version, state, code]) =>
      `  {\n   "version": "${version}",\n   "state": "${state}",\n   "status": {\n    "error_code": "${code}",\n    "error_message": "${code}"\n   }\n  }`);
    const body = list.length ? `[\n${list.join(',\n')}\n ]` : '[]';
    return `"${name}" : \n{\n "model_version_status": ${body}\n}`;
  });
  return `{\n${parts.join(',\n')}\n}`;
}

async function get(server: RunningServer, p: string) {
  const res = await fetch(`${server.restUrl}${p}`);
  return { status: res.status, text: await res.text() };
}
async function post(server: RunningServer, p: string, body?: string) {
  const res = await fetch(`${server.restUrl}${p}`, { method: 'POST', body });
  return { status: res.status, text: await res.text() };
}
async function inferDummy(server: RunningServer, model = 'dummy'): Promise<{ status: number; text: string }> {
  return post(server, `/v2/models/${model}/infer`, JSON.stringify({ inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: ten }] }));
}

describe('GET /v1/config and POST /v1/config/reload', () => {
  const dir = tempDir();
  let server: RunningServer;
  const configPath = path.join(dir.path, 'config.json');
  const writeConfig = (models: object[]) => writeFileSync(configPath, JSON.stringify({ model_config_list: models.map((config) => ({ config })) }));
  after(async () => { await server?.stop(); dir.remove(); });

  test('status map, 200 when nothing changed, 201 after a new version or a config edit, OVMS error bodies', async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel(1) }, other: { 1: dummyModel(5) } });
    mkdirSync(path.join(dir.path, 'empty'));
    writeConfig([
      { name: 'dummy', base_path: path.join(dir.path, 'dummy') },
      { name: 'empty', base_path: path.join(dir.path, 'empty') },
    ]);
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '0'] });

    const expected1 = statusText([['dummy', [['1', 'AVAILABLE', 'OK']]], ['empty', []]]);
    assert.deepEqual(await get(server, '/v1/config'), { status: 200, text: expected1 });
    assert.deepEqual(await post(server, '/v1/config/reload'), { status: 200, text: expected1 });

    // A new version: the default policy (latest 1) retires version 1.
    writeRepository(dir.path, { dummy: { 2: dummyModel(2) } });
    assert.deepEqual(await post(server, '/v1/config/reload'), {
      status: 201, text: statusText([['dummy', [['1', 'END', 'OK'], ['2', 'AVAILABLE', 'OK']]], ['empty', []]]),
    });
    assert.deepEqual(await post(server, '/v1/config/reload'), { status: 200, text: statusText([['dummy', [['1', 'END', 'OK'], ['2', 'AVAILABLE', 'OK']]], ['empty', []]]) });

    // A config edit: one model removed, one added.
    writeConfig([{ name: 'other', base_path: path.join(dir.path, 'other') }]);
    assert.deepEqual(await post(server, '/v1/config/reload'), {
      status: 201,
      text: statusText([['dummy', [['1', 'END', 'OK'], ['2', 'END', 'OK']]], ['empty', []], ['other', [['1', 'AVAILABLE', 'OK']]]]),
    });

    // Invalid JSON: 412 and the previous config keeps serving.
    writeFileSync(configPath, '{"model_config_list": [');
    assert.deepEqual(await post(server, '/v1/config/reload'), {
      status: 412, text: '{\n\t"error": "Reloading config file failed. Check server logs for more info."\n}',
    });
    assert.equal((await inferDummy(server, 'other')).status, 200);

    // Missing file.
    rmSync(configPath);
    assert.deepEqual(await post(server, '/v1/config/reload'), { status: 500, text: '{\n\t"error": "Config file not found or cannot open."\n}' });

    // Wrong methods.
    assert.equal((await post(server, '/v1/config')).status, 406);
    assert.equal((await get(server, '/v1/config/reload')).status, 406);
  });
});

describe('single-model mode: reload answers 200', () => {
  const dir = tempDir();
  let server: RunningServer;
  after(async () => { await server?.stop(); dir.remove(); });

  test('POST /v1/config/reload is 200 even when a version changed', async () => {
    writeRepository(dir.path, { m: { 1: dummyModel(1) } });
    server = await startServer({ args: ['--model_name', 'm', '--model_path', path.join(dir.path, 'm'), '--file_system_poll_wait_seconds', '0'] });
    writeRepository(dir.path, { m: { 2: dummyModel(2) } });
    const res = await post(server, '/v1/config/reload');
    assert.equal(res.status, 200);
    assert.equal(res.text, statusText([['m', [['1', 'END', 'OK'], ['2', 'AVAILABLE', 'OK']]]]));
  });
});

describe('readiness stays false while a configured model is broken', () => {
  const dir = tempDir();
  let server: RunningServer;
  let client: KserveClient;
  after(async () => { client?.close(); await server?.stop(); dir.remove(); });

  test('broken model → not ready (REST 400, gRPC false) while live; fixed and reloaded → ready', async () => {
    writeRepository(dir.path, { good: { 1: dummyModel(1) } });
    mkdirSync(path.join(dir.path, 'broken', '1'), { recursive: true });
    writeFileSync(path.join(dir.path, 'broken', '1', 'model.onnx'), 'this is not an onnx model');
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({
      model_config_list: [
        { config: { name: 'good', base_path: path.join(dir.path, 'good') } },
        { config: { name: 'broken', base_path: path.join(dir.path, 'broken') } },
      ],
    }));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '0'] });
    client = new KserveClient(server.grpcAddress);

    assert.equal((await get(server, '/v2/health/live')).status, 200);
    assert.deepEqual(await client.call('ServerLive'), { live: true });
    assert.equal((await get(server, '/v2/health/ready')).status, 400);
    assert.deepEqual(await client.call('ServerReady'), { ready: false });
    // The good model serves; the broken one answers "not ready" and "not loaded yet".
    assert.equal((await inferDummy(server, 'good')).status, 200);
    assert.equal((await get(server, '/v2/models/good/ready')).status, 200);
    assert.equal((await get(server, '/v2/models/broken/ready')).status, 400);
    assert.deepEqual(await client.call('ModelReady', { name: 'broken' }), { ready: false });
    assert.equal((await get(server, '/v1/config')).text, statusText([['broken', [['1', 'LOADING', 'UNKNOWN']]], ['good', [['1', 'AVAILABLE', 'OK']]]]));
    // Still not ready a while later: nothing changes by itself.
    assert.equal((await get(server, '/v2/health/ready')).status, 400);

    writeRepository(dir.path, { broken: { 1: dummyModel(3) } });
    assert.equal((await post(server, '/v1/config/reload')).status, 201);
    assert.equal((await get(server, '/v2/health/ready')).status, 200);
    assert.deepEqual(await client.call('ServerReady'), { ready: true });
    assert.equal(JSON.parse((await inferDummy(server, 'broken')).text).outputs[0].data[0], 3);
  });
});

describe('a reload while requests are running', () => {
  const dir = tempDir();
  let server: RunningServer;
  after(async () => { await server?.stop(); dir.remove(); });

  test('no request fails while the config changes a served model and adds another', async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel(1) }, extra: { 1: dummyModel(7) } });
    const configPath = path.join(dir.path, 'config.json');
    const write = (nireq: number, withExtra: boolean) => writeFileSync(configPath, JSON.stringify({
      model_config_list: [
        { config: { name: 'dummy', base_path: path.join(dir.path, 'dummy'), nireq } },
        ...(withExtra ? [{ config: { name: 'extra', base_path: path.join(dir.path, 'extra') } }] : []),
      ],
    }));
    write(1, false);
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '0'] });

    let stop = false;
    const statuses: number[] = [];
    const worker = async () => {
      while (!stop) statuses.push((await inferDummy(server)).status);
    };
    const workers = Array.from({ length: 4 }, worker);
    const reloads: number[] = [];
    for (let i = 0; i < 4; i++) {
      // A changed nireq reloads every version of "dummy" with the new settings.
      write(i % 2 === 0 ? 4 : 2, i % 2 === 0);
      reloads.push((await post(server, '/v1/config/reload')).status);
    }
    stop = true;
    await Promise.all(workers);
    assert.deepEqual(reloads, [201, 201, 201, 201]);
    assert.ok(statuses.length > 0);
    assert.deepEqual([...new Set(statuses)], [200], `every request succeeded (${statuses.length} sent)`);
  });
});

describe('repository extension with config.json', () => {
  const dir = tempDir();
  let server: RunningServer;
  let client: KserveClient;
  const configPath = path.join(dir.path, 'config.json');
  after(async () => { client?.close(); await server?.stop(); dir.remove(); });

  test('index, unload (stays unloaded across polls and unchanged reloads), load, errors; REST and gRPC', async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel(1) }, other: { 1: dummyModel(4) } });
    writeFileSync(configPath, JSON.stringify({
      model_config_list: [
        { config: { name: 'dummy', base_path: path.join(dir.path, 'dummy') } },
        { config: { name: 'other', base_path: path.join(dir.path, 'other') } },
      ],
    }));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '1'] });
    client = new KserveClient(server.grpcAddress);

    const index = await post(server, '/v2/repository/index');
    assert.equal(index.status, 200);
    assert.deepEqual(JSON.parse(index.text), [
      { name: 'dummy', version: '1', state: 'READY', reason: '' },
      { name: 'other', version: '1', state: 'READY', reason: '' },
    ]);

    const unload = await post(server, '/v2/repository/models/dummy/unload');
    assert.deepEqual(unload, { status: 200, text: '' });
    assert.equal((await get(server, '/v2/models/dummy/ready')).status, 400);
    assert.deepEqual(JSON.parse((await inferDummy(server)).text), { error: 'Model with requested version is not found' });
    // An unloaded model does not make the server unready: it was asked for.
    assert.equal((await get(server, '/v2/health/ready')).status, 200);
    assert.deepEqual(JSON.parse((await post(server, '/v2/repository/index', '{"ready": true}')).text), [
      { name: 'other', version: '1', state: 'READY', reason: '' },
    ]);
    assert.deepEqual(JSON.parse((await post(server, '/v2/repository/index')).text)[0], { name: 'dummy', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' });
    // Polling (1 s) and a reload of the unchanged file leave it unloaded.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await post(server, '/v1/config/reload')).status, 200);
    assert.equal((await get(server, '/v2/models/dummy/ready')).status, 400);

    assert.deepEqual(await post(server, '/v2/repository/models/dummy/load'), { status: 200, text: '' });
    assert.equal((await get(server, '/v2/models/dummy/ready')).status, 200);
    assert.equal((await inferDummy(server)).status, 200);

    // gRPC: unload, then an edited config.json brings the model back (the file is the newer word).
    assert.deepEqual(await client.call('RepositoryModelUnload', { model_name: 'other' }), {});
    assert.deepEqual(await client.call('ModelReady', { name: 'other' }), { ready: false });
    const grpcIndex = await client.call('RepositoryIndex', { ready: true });
    assert.deepEqual(grpcIndex.models.map((m: { name: string }) => m.name), ['dummy']);
    writeFileSync(configPath, JSON.stringify({
      model_config_list: [
        { config: { name: 'dummy', base_path: path.join(dir.path, 'dummy') } },
        { config: { name: 'other', base_path: path.join(dir.path, 'other'), nireq: 2 } },
      ],
    }));
    assert.equal((await post(server, '/v1/config/reload')).status, 201);
    assert.deepEqual(await client.call('ModelReady', { name: 'other' }), { ready: true });
    assert.deepEqual(await client.call('RepositoryModelLoad', { model_name: 'other' }), {});

    // Errors.
    const unknownLoad = await post(server, '/v2/repository/models/nope/load');
    assert.equal(unknownLoad.status, 404);
    assert.deepEqual(JSON.parse(unknownLoad.text), { error: 'Model with requested name is not found' });
    assert.equal((await post(server, '/v2/repository/models/nope/unload')).status, 404);
    assert.equal((await get(server, '/v2/repository/index')).status, 406);
    assert.equal((await post(server, '/v2/repository/index', '{"ready": 1}')).status, 400);
    assert.equal((await post(server, '/v2/repository/index', '{')).status, 412);
    await expectGrpcError(client.call('RepositoryModelLoad', { model_name: 'nope' }), 5, 'Model with requested name is not found');

    // A load that fails: the model's files break, load says why (412) and readiness drops.
    writeFileSync(path.join(dir.path, 'dummy', '1', 'model.onnx'), 'broken');
    await client.call('RepositoryModelUnload', { model_name: 'dummy' });
    const failed = await post(server, '/v2/repository/models/dummy/load');
    assert.equal(failed.status, 412);
    assert.match(JSON.parse(failed.text).error, /^Model dummy could not be loaded: /);
    assert.equal((await get(server, '/v2/health/ready')).status, 400);
  });
});
