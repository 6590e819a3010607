/**
 * The end-to-end checks every cloud store must pass, run against a real storage server
 * (storage-servers.ts) and the real tsms process: serving from `scheme://`, versions uploaded and
 * deleted while serving, a storage outage, a config.json kept in the bucket, and the errors for a
 * wrong secret, a missing bucket and a path with nothing in it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dummyModel, tempDir } from './models.js';
import { mainScript, sharedModels, startServer, type RunningServer } from './server.js';
import { type TestStore, uploadDir } from './storage-servers.js';

export interface ScenarioOptions {
  /** Why the suite cannot run here (its server is not installed), or false. */
  readonly skip: string | false;
  readonly start: () => Promise<TestStore>;
  /** What the exit message says for a bucket that does not exist. */
  readonly missingBucketText: RegExp;
  /** What the exit message says for credentials the server refuses (when it checks them). */
  readonly wrongSecretText?: RegExp;
}

const INPUT = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]];
const plus = (n: number) => [INPUT[0]!.map((x) => x + n)];

export function storageScenarios(title: string, opts: ScenarioOptions): void {
  const skip = opts.skip || (existsSync(sharedModels) ? false : 'needs ../shared/models (missing)');
  describe(title, { skip }, () => {
    let store: TestStore;
    const cache = tempDir('tsms-cloud-cache-');
    const servers: RunningServer[] = [];

    before(async () => {
      store = await opts.start();
      await uploadDir(store, path.join(sharedModels, 'dummy_onnx/1'), 'dummy/1');
    });

    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await store?.close();
      cache.remove();
    });

    const serve = async (args: string[], env: Record<string, string> = {}) => {
      const server = await startServer({
        args: ['--file_system_poll_wait_seconds', '1', '--cache_dir', cache.path, ...args],
        env: { ...store.env, TSMS_STORAGE_RETRY_MAX_SECONDS: '2', ...env },
      });
      servers.push(server);
      return server;
    };

    it('serves a model from the bucket, loads uploaded versions and unloads deleted ones', async () => {
      const server = await serve(['--model_name', 'dummy', '--model_path', store.url('dummy')]);
      assert.deepEqual(await predict(server, 'dummy'), plus(1));
      assert.deepEqual(await states(server, 'dummy'), { 1: 'AVAILABLE' });
      assert.deepEqual(cachedVersions(cache.path, store.scheme), ['1']);

      await store.put('dummy/2/model.onnx', dummyModel(2));
      await waitFor(server, 'dummy', { 1: 'END', 2: 'AVAILABLE' });
      assert.deepEqual(await predict(server, 'dummy'), plus(2));
      // The copy of the unloaded version 1 is gone from the cache.
      assert.deepEqual(cachedVersions(cache.path, store.scheme), ['2']);

      await store.remove('dummy/2/');
      await waitFor(server, 'dummy', { 1: 'AVAILABLE', 2: 'END' });
      assert.deepEqual(await predict(server, 'dummy'), plus(1));
      assert.deepEqual(cachedVersions(cache.path, store.scheme), ['1']);
      await server.stop();
      assert.deepEqual(cachedVersions(cache.path, store.scheme), []);
    });

    it('keeps serving through a storage outage and picks up new versions once it is back', async () => {
      const server = await serve(['--model_name', 'dummy', '--model_path', store.url('dummy')]);
      assert.deepEqual(await predict(server, 'dummy'), plus(1));

      await store.suspend();
      try {
        await server.waitForOutput(/unreachable[^\n]*failed attempt 1, next attempt in/, 60_000);
        // The poller keeps failing (with backoff) while every prediction is still answered.
        await server.waitForOutput(/failed attempt 2, next attempt in/, 60_000);
        for (let i = 0; i < 5; i++) assert.deepEqual(await predict(server, 'dummy'), plus(1));
        assert.deepEqual(await states(server, 'dummy'), { 1: 'AVAILABLE' });
      } finally {
        await store.resume();
      }
      await server.waitForOutput(/reachable again after \d+ failed attempt/, 60_000);
      await store.put('dummy/3/model.onnx', dummyModel(3));
      await waitFor(server, 'dummy', { 1: 'END', 3: 'AVAILABLE' });
      assert.deepEqual(await predict(server, 'dummy'), plus(3));
      await store.remove('dummy/3/');
      await waitFor(server, 'dummy', { 1: 'AVAILABLE', 3: 'END' });
    });

    it('reads config.json from the bucket, with base paths relative to it', async () => {
      const config = {
        model_config_list: [
          { config: { name: 'relative', base_path: 'dummy' } },
          { config: { name: 'absolute', base_path: store.url('dummy') } },
        ],
      };
      await store.put('dummy-config.json', Buffer.from(JSON.stringify(config)));
      const server = await serve(['--config_path', store.url('dummy-config.json')]);
      assert.deepEqual(await predict(server, 'relative'), plus(1));
      assert.deepEqual(await predict(server, 'absolute'), plus(1));
      // An edit of the config file in the bucket is picked up by polling, as on disk.
      const edited = { model_config_list: [...config.model_config_list, { config: { name: 'added', base_path: 'dummy' } }] };
      await store.put('dummy-config.json', Buffer.from(JSON.stringify(edited)));
      await waitFor(server, 'added', { 1: 'AVAILABLE' });
      assert.deepEqual(await predict(server, 'added'), plus(1));
    });

    it('exits with the cause when the bucket does not exist', async () => {
      const r = await runTsms(['--model_name', 'dummy', '--model_path', `${store.scheme}://no-such-bucket-tsms/dummy`], store.env);
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, opts.missingBucketText);
    });

    it('exits with the cause when nothing is stored under the model path', async () => {
      const r = await runTsms(['--model_name', 'dummy', '--model_path', store.url('no/such/model')], store.env);
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /The provided base path is invalid or doesn't exists/);
      assert.ok(r.output.includes(`Directory does not exist: ${store.url('no/such/model')}`), r.output);
    });

    it('exits with the cause when the secret is wrong', { skip: opts.wrongSecretText ? false : 'this server checks no credentials' }, async () => {
      const r = await runTsms(['--model_name', 'dummy', '--model_path', store.url('dummy')], store.wrongSecretEnv!);
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /Access denied to /);
      assert.match(r.output, opts.wrongSecretText!);
    });
  });
}

// -------------------------------------------------------------------------------------------------

async function predict(server: RunningServer, model: string): Promise<unknown> {
  const res = await fetch(`${server.restUrl}/v1/models/${model}:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances: INPUT }),
  });
  const body = (await res.json()) as { predictions?: unknown; error?: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.predictions;
}

/** Version → state, from GET /v1/models/{model}. */
async function states(server: RunningServer, model: string): Promise<Record<number, string>> {
  const res = await fetch(`${server.restUrl}/v1/models/${model}`);
  const body = (await res.json()) as { model_version_status?: { version: string; state: string }[] };
  if (res.status === 404) return {};
  assert.equal(res.status, 200, JSON.stringify(body));
  return Object.fromEntries((body.model_version_status ?? []).map((v) => [Number(v.version), v.state]));
}

/** Polls the model status until it equals `expected` (the poller runs every second). */
async function waitFor(server: RunningServer, model: string, expected: Record<number, string>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<number, string> = {};
  while (Date.now() < deadline) {
    last = await states(server, model);
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`model ${model} never reached ${JSON.stringify(expected)}; last ${JSON.stringify(last)}\n${server.output()}`);
}

/** Version numbers with a completed download in the cache (partial downloads excluded). */
function cachedVersions(cacheRoot: string, scheme: string): string[] {
  const root = path.join(cacheRoot, scheme);
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const model of readdirSync(root)) {
    for (const name of readdirSync(path.join(root, model))) {
      const m = /^(\d+)\.\d+-[0-9a-f]+$/.exec(name);
      if (m) out.push(m[1]!);
    }
  }
  return out.sort();
}

/** Runs tsms expecting it to exit (start-up failure); returns the exit code and all output. */
export function runTsms(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [mainScript, '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`tsms did not exit: ${args.join(' ')}\n${output}`));
    }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
