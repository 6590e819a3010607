/**
 * The server as a process over its whole life: versions appearing and disappearing while it
 * serves, config.json edits, broken models beside good ones, log files, and a graceful SIGTERM.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { startServer, runCli, type RunningServer } from './helpers/server.js';
import { dummyModel, slowModel, tempDir, writeRepository } from './helpers/models.js';

type Status = { model_version_status: { version: string; state: string; status: { error_code: string; error_message: string } }[] };

async function status(server: RunningServer, model: string): Promise<Record<string, string>> {
  const res = await fetch(`${server.restUrl}/v1/models/${model}`);
  const body = (await res.json()) as Status;
  return Object.fromEntries(body.model_version_status.map((v) => [v.version, `${v.state}/${v.status.error_code}`]));
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch { /* not ready yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function predictDummy(server: RunningServer, model: string, version?: number): Promise<number[]> {
  const url = `${server.restUrl}/v1/models/${model}${version ? `/versions/${version}` : ''}:predict`;
  const res = await fetch(url, { method: 'POST', body: JSON.stringify({ instances: [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]] }) });
  const body = (await res.json()) as { predictions?: number[][]; error?: string };
  if (!body.predictions) throw new Error(body.error);
  return body.predictions[0]!;
}

describe('versions picked up while serving (single model, default policy latest 1)', () => {
  const dir = tempDir();
  let server: RunningServer;
  after(async () => { await server?.stop(); dir.remove(); });

  test('a new version folder loads, becomes the default and the old one ends; removing it brings the old back', async () => {
    writeRepository(dir.path, { m: { 1: dummyModel(1) } });
    server = await startServer({ args: ['--model_name', 'm', '--model_path', path.join(dir.path, 'm'), '--file_system_poll_wait_seconds', '1'] });
    assert.deepEqual(await status(server, 'm'), { 1: 'AVAILABLE/OK' });
    assert.equal((await predictDummy(server, 'm'))[0], 1);

    writeRepository(dir.path, { m: { 2: dummyModel(2) } });
    await until('version 2 AVAILABLE and 1 END', () => status(server, 'm'), (s) => s['2'] === 'AVAILABLE/OK' && s['1'] === 'END/OK');
    assert.equal((await predictDummy(server, 'm'))[0], 2);
    const retired = await fetch(`${server.restUrl}/v1/models/m/versions/1:predict`, { method: 'POST', body: JSON.stringify({ instances: [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]] }) });
    assert.equal(retired.status, 404);
    assert.deepEqual(await retired.json(), { error: 'Model with requested version is retired' });

    rmSync(path.join(dir.path, 'm', '2'), { recursive: true });
    await until('version 1 back, 2 END', () => status(server, 'm'), (s) => s['1'] === 'AVAILABLE/OK' && s['2'] === 'END/OK');
    assert.equal((await predictDummy(server, 'm'))[0], 1);
  });
});

describe('config.json edits while serving', () => {
  const dir = tempDir();
  let server: RunningServer;
  after(async () => { await server?.stop(); dir.remove(); });

  test('models are added, removed and their policies changed by editing the file', async () => {
    writeRepository(dir.path, { a: { 1: dummyModel(1), 2: dummyModel(2) }, b: { 1: dummyModel(10) } });
    const configPath = path.join(dir.path, 'config.json');
    const write = (list: object[]) => writeFileSync(configPath, JSON.stringify({ model_config_list: list.map((config) => ({ config })) }));
    write([{ name: 'a', base_path: path.join(dir.path, 'a'), model_version_policy: { all: {} } }]);
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '1'] });
    assert.deepEqual(await status(server, 'a'), { 1: 'AVAILABLE/OK', 2: 'AVAILABLE/OK' });
    assert.equal((await predictDummy(server, 'a', 1))[0], 1);
    assert.equal((await predictDummy(server, 'a'))[0], 2);

    write([
      { name: 'a', base_path: path.join(dir.path, 'a'), model_version_policy: { specific: { versions: [1] } } },
      { name: 'b', base_path: path.join(dir.path, 'b') },
    ]);
    await until('b loaded and a narrowed to version 1', () => Promise.all([status(server, 'a'), status(server, 'b')]),
      ([a, b]) => b['1'] === 'AVAILABLE/OK' && a['1'] === 'AVAILABLE/OK' && a['2'] === 'END/OK');
    assert.equal((await predictDummy(server, 'b'))[0], 10);
    assert.equal((await predictDummy(server, 'a'))[0], 1);

    write([{ name: 'b', base_path: path.join(dir.path, 'b') }]);
    await until('a retired', () => status(server, 'a'), (a) => a['1'] === 'END/OK');
    const gone = await fetch(`${server.restUrl}/v1/models/a:predict`, { method: 'POST', body: JSON.stringify({ instances: [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]] }) });
    assert.equal(gone.status, 404);

    writeFileSync(configPath, '{"model_config_list": [ this is not json');
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await predictDummy(server, 'b'))[0], 10, 'an invalid new config keeps the old one serving');
  });
});

describe('a broken model beside good ones', () => {
  const dir = tempDir();
  let server: RunningServer;
  after(async () => { await server?.stop(); dir.remove(); });

  test('config mode starts, reports the failed version and serves the rest', async () => {
    writeRepository(dir.path, { good: { 1: dummyModel(1) } });
    mkdirSync(path.join(dir.path, 'bad', '1'), { recursive: true });
    writeFileSync(path.join(dir.path, 'bad', '1', 'model.onnx'), 'this is not an onnx model');
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({ model_config_list: [
      { config: { name: 'good', base_path: path.join(dir.path, 'good') } },
      { config: { name: 'bad', base_path: path.join(dir.path, 'bad') } },
    ] }));
    const logPath = path.join(dir.path, 'logs', 'tsms.log');
    server = await startServer({ args: ['--config_path', configPath, '--log_path', logPath] });
    assert.deepEqual(await status(server, 'bad'), { 1: 'LOADING/UNKNOWN' });
    assert.equal((await predictDummy(server, 'good'))[0], 1);
    // No version AVAILABLE: the default version does not exist (OVMS MODEL_VERSION_MISSING)...
    const res = await fetch(`${server.restUrl}/v1/models/bad:predict`, { method: 'POST', body: JSON.stringify({ instances: [[0]] }) });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'Model with requested version is not found' });
    // ...while the failed version itself is "not loaded yet" (it stays LOADING with UNKNOWN).
    const v1 = await fetch(`${server.restUrl}/v1/models/bad/versions/1:predict`, { method: 'POST', body: JSON.stringify({ instances: [[0]] }) });
    assert.equal(v1.status, 404);
    assert.deepEqual(await v1.json(), { error: 'Model with requested version is not loaded yet' });
    await until('log file written', async () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''), (t) => t.includes('Started REST server at'), 5000);
    const logText = readFileSync(logPath, 'utf8');
    assert.match(logText, /Server started on port/);
    assert.match(logText, /good.*AVAILABLE|AVAILABLE.*good/);
  });

  test('single-model mode exits 1 when its model cannot load', async () => {
    const r = await runCli(['--model_name', 'bad', '--model_path', path.join(dir.path, 'bad'), '--port', '0']);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /bad/);
  });
});

describe('graceful shutdown', () => {
  const dir = tempDir();
  let server: RunningServer;
  after(async () => { await server?.stop(); dir.remove(); });

  test('SIGTERM lets in-flight requests finish, then exits 0', async () => {
    writeRepository(dir.path, { slow: { 1: slowModel() } });
    server = await startServer({ args: ['--model_name', 'slow', '--model_path', path.join(dir.path, 'slow'), '--nireq', '1'] });
    const body = JSON.stringify({ inputs: { x: Array.from({ length: 384 }, () => new Array(384).fill(1)) } });
    const inflight = Array.from({ length: 3 }, () => fetch(`${server.restUrl}/v1/models/slow:predict`, { method: 'POST', body }));
    await new Promise((r) => setTimeout(r, 150));
    const exit = server.stop('SIGTERM');
    const results = await Promise.all(inflight);
    for (const res of results) {
      assert.equal(res.status, 200);
      const out = (await res.json()) as { outputs: number[][] };
      assert.equal(out.outputs[0]![0], 384);
    }
    assert.equal(await exit, 0);
    await assert.rejects(fetch(`${server.restUrl}/v1/models/slow`), 'no new connections after shutdown');
  });
});
