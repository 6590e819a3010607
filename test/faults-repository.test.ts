/**
 * Faults in the model repository while the server polls it and serves a steady load over all five
 * client APIs (issue 10 item 3): model files truncated or corrupted, a version folder deleted while
 * its model is being read, the base folder and the config file vanishing (a local-disk storage
 * outage: renamed away and back, since root ignores chmod 000; cloud outages are tested with the
 * cloud storage), and config.json replaced by invalid contents. Through all of it not one request
 * may fail, every answer must come from a version that was serving, and the server must pick up
 * the next valid change.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { LoadGenerator, type PhaseResult } from '../bench/reload/load.js';

const POLL_SECONDS = 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Statuses = Record<string, string>;

async function statuses(server: RunningServer, model: string): Promise<Statuses> {
  const res = await fetch(`${server.restUrl}/v1/models/${model}`);
  const body = (await res.json()) as { model_version_status?: { version: string; state: string; status: { error_code: string } }[] };
  return Object.fromEntries((body.model_version_status ?? []).map((v) => [v.version, `${v.state}/${v.status.error_code}`]));
}

async function until(what: string, probe: () => Promise<Statuses>, ok: (s: Statuses) => boolean, timeoutMs = 20000): Promise<Statuses> {
  const deadline = Date.now() + timeoutMs;
  let last: Statuses = {};
  for (;;) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch { /* not ready yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(50);
  }
}

/** Two full poll cycles: long enough for the server to have seen a change. */
const twoPolls = () => sleep(2 * POLL_SECONDS * 1000 + 300);

function assertNoneFailed(r: PhaseResult, offsets: readonly number[]): void {
  assert.equal(r.failed, 0, `failed requests: ${r.errors.join('\n')}`);
  assert.ok(r.ok > 0, 'the load ran');
  for (const k of Object.keys(r.offsets)) assert.ok(offsets.includes(Number(k)), `answers from b + ${k}; only ${offsets.join(', ')} were serving`);
}

describe('faults: model files truncated and corrupted while the server polls', () => {
  const dir = tempDir('tsms-faults-files-');
  let server: RunningServer;
  let load: LoadGenerator;
  const base = path.join(dir.path, 'm');
  const file = (v: number) => path.join(base, String(v), 'model.onnx');

  before(async () => {
    writeRepository(dir.path, { m: { 1: dummyModel(1) } });
    server = await startServer({ args: ['--model_name', 'm', '--model_path', base, '--file_system_poll_wait_seconds', String(POLL_SECONDS)] });
    load = new LoadGenerator(server, { model: 'm', concurrency: 4, offsetIsVersion: true }).start();
  });
  after(async () => {
    await load?.stop();
    assert.equal(await server?.stop(), 0);
    dir.remove();
  });

  test('the serving version\'s file truncated on disk: it keeps serving from memory (loaded versions are not re-read)', async () => {
    const good = readFileSync(file(1));
    writeFileSync(file(1), good.subarray(0, good.length >> 1));
    await twoPolls();
    assert.deepEqual(await statuses(server, 'm'), { 1: 'AVAILABLE/OK' });
    assertNoneFailed(load.mark(), [1]);
  });

  test('a new version with a truncated file fails to load; version 1 keeps serving', async () => {
    const v2 = dummyModel(2);
    writeRepository(dir.path, { m: { 2: v2.subarray(0, v2.length - 7) } });
    await until('version 2 failed', () => statuses(server, 'm'), (s) => s['2'] === 'LOADING/UNKNOWN');
    assert.equal((await statuses(server, 'm'))['1'], 'AVAILABLE/OK');
    assertNoneFailed(load.mark(), [1]);
  });

  test('the broken file corrupted differently is retried (its signature changed) and fails again', async () => {
    const v2 = Buffer.from(dummyModel(2));
    for (let i = 10; i < v2.length; i += 13) v2[i] = v2[i]! ^ 0x5a;
    writeFileSync(file(2), v2);
    await twoPolls();
    assert.deepEqual(await statuses(server, 'm'), { 1: 'AVAILABLE/OK', 2: 'LOADING/UNKNOWN' });
    assert.match(server.output(), /Error occurred while loading model: m version: 2|version 2/);
    assertNoneFailed(load.mark(), [1]);
  });

  test('the repaired file loads: version 2 takes over, version 1 retires, no request lost on the switch', async () => {
    writeFileSync(file(2), dummyModel(2));
    await until('version 2 AVAILABLE, version 1 END', () => statuses(server, 'm'), (s) => s['2'] === 'AVAILABLE/OK' && s['1'] === 'END/OK');
    await sleep(300);
    const r = load.mark();
    assertNoneFailed(r, [1, 2]);
    assert.ok((r.offsets['2'] ?? 0) > 0, 'version 2 answered');
  });
});

describe('faults: a version folder deleted while its model is being read', () => {
  const dir = tempDir('tsms-faults-fifo-');
  let server: RunningServer;
  let load: LoadGenerator;
  const base = path.join(dir.path, 'm');

  before(async () => {
    writeRepository(dir.path, { m: { 1: dummyModel(1) } });
    server = await startServer({ args: ['--model_name', 'm', '--model_path', base, '--file_system_poll_wait_seconds', String(POLL_SECONDS)] });
    load = new LoadGenerator(server, { model: 'm', concurrency: 4, offsetIsVersion: true }).start();
  });
  after(async () => {
    await load?.stop();
    assert.equal(await server?.stop(), 0);
    dir.remove();
  });

  test('version 2\'s model.onnx is a FIFO: the server blocks reading it, the folder is deleted, then the bytes arrive', async () => {
    const v2dir = path.join(base, '2');
    mkdirSync(v2dir);
    const fifo = path.join(v2dir, 'model.onnx');
    execFileSync('mkfifo', [fifo]);
    // Opening the write end without blocking succeeds only once a reader has the FIFO open: the
    // server is then inside the load of version 2, reading.
    let fd: number | undefined;
    const deadline = Date.now() + 20000;
    while (fd === undefined) {
      try {
        fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() > deadline) throw err;
        await sleep(20);
      }
    }
    assert.equal((await statuses(server, 'm'))['2'], 'LOADING/OK', 'version 2 is loading');
    rmSync(v2dir, { recursive: true, force: true });
    const bytes = dummyModel(2);
    let at = 0;
    while (at < bytes.length) {
      try {
        at += writeSync(fd, bytes, at);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        await sleep(5);
      }
    }
    closeSync(fd);
    // Whatever the load made of it, the folder is gone: version 2 ends and version 1 serves.
    const final = await until('version 2 END with version 1 AVAILABLE', () => statuses(server, 'm'), (s) => s['2'] === 'END/OK' && s['1'] === 'AVAILABLE/OK');
    assert.deepEqual(final, { 1: 'AVAILABLE/OK', 2: 'END/OK' });
    await sleep(300);
    assertNoneFailed(load.mark(), [1, 2]);
  });

  test('afterwards the poller still works: a new version 3 loads and serves', async () => {
    writeRepository(dir.path, { m: { 3: dummyModel(3) } });
    await until('version 3 AVAILABLE', () => statuses(server, 'm'), (s) => s['3'] === 'AVAILABLE/OK' && s['1'] === 'END/OK');
    await sleep(300);
    const r = load.mark();
    assertNoneFailed(r, [1, 2, 3]);
    assert.ok((r.offsets['3'] ?? 0) > 0);
  });
});

describe('faults: storage outage (base folder and config file gone) and invalid config files', () => {
  const dir = tempDir('tsms-faults-outage-');
  let server: RunningServer;
  let load: LoadGenerator;
  const repo = path.join(dir.path, 'repo');
  const configPath = path.join(dir.path, 'config.json');
  const config = (models: { name: string; base: string }[]) =>
    JSON.stringify({ model_config_list: models.map((m) => ({ config: { name: m.name, base_path: m.base } })) });

  before(async () => {
    writeRepository(repo, { m: { 1: dummyModel(1) }, other: { 1: dummyModel(7) } });
    writeFileSync(configPath, config([{ name: 'm', base: path.join(repo, 'm') }]));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', String(POLL_SECONDS)] });
    load = new LoadGenerator(server, { model: 'm', concurrency: 4, offsetIsVersion: true }).start();
  });
  after(async () => {
    await load?.stop();
    assert.equal(await server?.stop(), 0);
    dir.remove();
  });

  test('the whole repository folder disappears (renamed away): what is loaded keeps serving', async () => {
    renameSync(repo, `${repo}.away`);
    await twoPolls();
    assert.deepEqual(await statuses(server, 'm'), { 1: 'AVAILABLE/OK' });
    assert.match(server.output(), /Directory does not exist|Couldn't list directories/);
    assertNoneFailed(load.mark(), [1]);
  });

  test('it comes back: polling resumes and a version added meanwhile loads', async () => {
    writeRepository(`${repo}.away`, { m: { 2: dummyModel(2) } });
    renameSync(`${repo}.away`, repo);
    await until('version 2 AVAILABLE', () => statuses(server, 'm'), (s) => s['2'] === 'AVAILABLE/OK' && s['1'] === 'END/OK');
    await sleep(300);
    assertNoneFailed(load.mark(), [1, 2]);
  });

  test('the config file disappears, then comes back: the old config serves meanwhile', async () => {
    const text = readFileSync(configPath);
    renameSync(configPath, `${configPath}.away`);
    await twoPolls();
    assert.equal((await statuses(server, 'm'))['2'], 'AVAILABLE/OK');
    renameSync(`${configPath}.away`, configPath);
    assert.deepEqual(readFileSync(configPath), text);
    await sleep(POLL_SECONDS * 1000 + 300);
    assertNoneFailed(load.mark(), [2]);
  });

  test('config.json replaced by invalid JSON, an empty file, a truncated copy, a schema violation, a directory: the old config keeps serving', async () => {
    const valid = readFileSync(configPath, 'utf8');
    const bad = ['{"model_config_list": [ this is not json', '', valid.slice(0, valid.length >> 1), '{"model_config_list": [], "unknown_key": 1}', '\uFEFF\u0000\u0001'];
    for (const text of bad) {
      writeFileSync(configPath, text);
      await sleep(400); // the poller meets some of them, the explicit reload all
      const reload = await fetch(`${server.restUrl}/v1/config/reload`, { method: 'POST' });
      assert.ok(reload.status === 412 || reload.status === 500, `reload of ${JSON.stringify(text.slice(0, 40))} answered ${reload.status}`);
      assert.match((await reload.json() as { error: string }).error, /^(Config file not found or cannot open\.|Reloading config file failed\. Check server logs for more info\.)$/);
    }
    rmSync(configPath);
    mkdirSync(configPath);
    await twoPolls();
    rmSync(configPath, { recursive: true });
    assert.deepEqual(await statuses(server, 'm'), { 1: 'END/OK', 2: 'AVAILABLE/OK' });
    assertNoneFailed(load.mark(), [2]);
  });

  test('the next valid config is applied: a model is added while m keeps serving', async () => {
    writeFileSync(configPath, config([{ name: 'm', base: path.join(repo, 'm') }, { name: 'other', base: path.join(repo, 'other') }]));
    await until('other AVAILABLE', () => statuses(server, 'other'), (s) => s['1'] === 'AVAILABLE/OK');
    const res = await fetch(`${server.restUrl}/v1/models/other:predict`, { method: 'POST', body: JSON.stringify({ instances: [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]] }) });
    assert.deepEqual(await res.json(), { predictions: [[7, 7, 7, 7, 7, 7, 7, 7, 7, 7]] });
    assertNoneFailed(load.mark(), [2]);
  });
});
