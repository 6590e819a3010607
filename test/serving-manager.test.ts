/**
 * The model manager in process, with the real ONNX runtime and generated repositories: version
 * policies, default version, the version state machine, polling for version folders and config
 * file edits, retiring after in-flight requests, failed loads, waiting for a loading version.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { ModelConfig, ServerConfig, VersionPolicy } from '../src/config/types.js';
import { ServingError } from '../src/core/errors.js';
import { ModelState, type Servable } from '../src/core/servable.js';
import type { LoadedModel, ModelFormat } from '../src/runtime/engine.js';
import { modelFormats } from '../src/runtime/formats.js';
import { ModelManager, ReloadError } from '../src/serving/model-manager.js';
import { dummyModel, tempDir, twoOutputsModel, writeRepository } from './helpers/models.js';

const tmp = tempDir('tsms-serving-');
after(() => tmp.remove());

let dirCounter = 0;
/** A fresh folder under the test's temp dir. */
function freshDir(name: string): string {
  const p = path.join(tmp.path, `${name}-${++dirCounter}`);
  mkdirSync(p, { recursive: true });
  return p;
}

/** A pino logger that keeps its JSON lines for assertions. */
function captureLogger(): { logger: Logger; lines: () => { level: number; msg: string; [k: string]: unknown }[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines: () => lines.map((l) => JSON.parse(l)) };
}

function modelConfig(name: string, basePath: string, versionPolicy: VersionPolicy = { kind: 'latest', numVersions: 1 }): ModelConfig {
  return { name, basePath, versionPolicy, nireq: 0, targetDevice: 'CPU', pluginConfig: {}, stateful: false };
}

function serverConfig(extra: Partial<ServerConfig>): ServerConfig {
  return {
    port: 0, restPort: 0, grpcBindAddress: '127.0.0.1', restBindAddress: '127.0.0.1', grpcWorkers: 1, restWorkers: 1,
    logLevel: 'DEBUG', filePollWaitSeconds: 0, ...extra,
  };
}

interface Harness {
  readonly manager: ModelManager;
  readonly log: ReturnType<typeof captureLogger>;
}

const managers: ModelManager[] = [];
after(async () => { await Promise.all(managers.map((m) => m.stop())); });

async function startManager(config: ServerConfig, opts: { formats?: readonly ModelFormat[]; waitForLoadingMs?: number } = {}): Promise<Harness> {
  const log = captureLogger();
  const manager = new ModelManager({ logger: log.logger, formats: opts.formats ?? modelFormats, waitForLoadingMs: opts.waitForLoadingMs, configRetryDelayMs: 10 });
  managers.push(manager);
  await manager.start(config);
  return { manager, log };
}

/** Retries `check` until it passes (the poller works in the background); fails after `timeoutMs`. */
async function eventually(check: () => void | Promise<void>, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Runs the dummy model (b → a = b + addValue) on zeros; returns a[0], which is the version's addValue. */
async function addValueOf(servable: Servable, options: { outputs?: string[]; signal?: AbortSignal } = {}): Promise<number> {
  const out = await servable.infer(new Map([['b', { dtype: 'FP32', shape: [1, 10], data: new Float32Array(10) }]]), options);
  return (out.get('a')!.data as Float32Array)[0]!;
}

function states(manager: ModelManager, name: string): [number, string][] {
  return manager.getStatus(name).map((s) => [s.version, ModelState[s.state]]);
}

function assertStatus(err: unknown, status: string, message?: string): true {
  assert.ok(err instanceof ServingError, `expected a ServingError, got ${String(err)}`);
  assert.equal(err.status, status);
  if (message !== undefined) assert.equal(err.message, message);
  return true;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

/**
 * The real ONNX format with hooks: a load or a run can be held until the test releases it, and
 * every load, run and close is recorded in order.
 */
function instrumentedFormat() {
  const events: string[] = [];
  const loadGates = new Map<number, Promise<void>>();
  const runGates = new Map<number, Promise<void>>();
  const base = modelFormats.find((f) => f.name === 'onnx')!;
  const format: ModelFormat = {
    name: base.name,
    pick: (names) => base.pick(names),
    async load(req) {
      events.push(`load ${req.version}`);
      await loadGates.get(req.version);
      const model = await base.load(req);
      const wrapped: LoadedModel = {
        inputs: model.inputs,
        outputs: model.outputs,
        async run(inputs, outputNames, signal) {
          events.push(`run ${req.version}`);
          await runGates.get(req.version);
          const out = await model.run(inputs, outputNames, signal);
          events.push(`run done ${req.version}`);
          return out;
        },
        async close() {
          events.push(`close ${req.version}`);
          await model.close();
        },
      };
      return wrapped;
    },
  };
  return {
    format,
    events,
    holdLoad(version: number) {
      const d = deferred();
      loadGates.set(version, d.promise);
      return () => { loadGates.delete(version); d.resolve(); };
    },
    /** Holds every run on `version` until the returned function is called. */
    holdRuns(version: number) {
      const d = deferred();
      runGates.set(version, d.promise);
      return () => { runGates.delete(version); d.resolve(); };
    },
  };
}

// ------------------------------------------------------------------------------------------------

test('single model, default policy latest 1: serves the highest version only', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1), 2: dummyModel(2), 3: dummyModel(3) } });
  const { manager, log } = await startManager(serverConfig({ model: modelConfig('m', path.join(root, 'm')) }));
  assert.deepEqual(states(manager, 'm'), [[3, 'AVAILABLE']]);
  assert.deepEqual(manager.getStatus('m')[0], { version: 3, state: ModelState.AVAILABLE, errorCode: 0, errorMessage: 'OK' });
  assert.equal(await addValueOf(await manager.getServable('m')), 3);
  assert.equal(await addValueOf(await manager.getServable('m', 0)), 3);
  await assert.rejects(manager.getServable('m', 1), (e) => assertStatus(e, 'MODEL_VERSION_MISSING', 'Model with requested version is not found'));
  assert.deepEqual(manager.names(), ['m']);
  const lines = log.lines().map((l) => l.msg);
  for (const state of ['START', 'LOADING', 'AVAILABLE']) {
    assert.ok(lines.includes(`STATUS CHANGE: Version 3 of model m status change. New status: ( "state": "${state}", "error_code": "OK" )`), state);
  }
  await manager.stop();
  assert.deepEqual(states(manager, 'm'), [[3, 'END']]);
});

test('policy all serves every version; the default is the highest', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1), 2: dummyModel(2), 3: dummyModel(3) } });
  const { manager } = await startManager(serverConfig({ model: modelConfig('m', path.join(root, 'm'), { kind: 'all' }) }));
  assert.deepEqual(states(manager, 'm'), [[1, 'AVAILABLE'], [2, 'AVAILABLE'], [3, 'AVAILABLE']]);
  for (const v of [1, 2, 3]) assert.equal(await addValueOf(await manager.getServable('m', v)), v);
  assert.equal(await addValueOf(await manager.getServable('m')), 3);
  assert.deepEqual(manager.getStatus('m', 2).map((s) => s.version), [2]);
  // readyServable: the same servables without a promise, undefined where getServable would fail.
  for (const v of [1, 2, 3]) assert.equal(manager.readyServable('m', v), await manager.getServable('m', v));
  assert.equal(manager.readyServable('m'), await manager.getServable('m'));
  assert.equal(manager.readyServable('m', 0)?.version, 3);
  for (const v of [4, -1, Number.NaN, 1.5]) assert.equal(manager.readyServable('m', v), undefined, String(v));
  assert.equal(manager.readyServable('nope'), undefined);
});

test('policy latest 2 and specific [1,3]: the other versions are not found', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1), 2: dummyModel(2), 3: dummyModel(3) } });
  const latest = await startManager(serverConfig({ model: modelConfig('m', path.join(root, 'm'), { kind: 'latest', numVersions: 2 }) }));
  assert.deepEqual(states(latest.manager, 'm'), [[2, 'AVAILABLE'], [3, 'AVAILABLE']]);
  await assert.rejects(latest.manager.getServable('m', 1), (e) => assertStatus(e, 'MODEL_VERSION_MISSING'));
  assert.throws(() => latest.manager.getStatus('m', 1), (e) => assertStatus(e, 'MODEL_VERSION_MISSING'));

  const specific = await startManager(serverConfig({ model: modelConfig('m', path.join(root, 'm'), { kind: 'specific', versions: [1, 3] }) }));
  assert.deepEqual(states(specific.manager, 'm'), [[1, 'AVAILABLE'], [3, 'AVAILABLE']]);
  await assert.rejects(specific.manager.getServable('m', 2), (e) => assertStatus(e, 'MODEL_VERSION_MISSING'));
  assert.equal(await addValueOf(await specific.manager.getServable('m', 1)), 1);
  await latest.manager.stop();
  await specific.manager.stop();
});

test('unknown names and versions: MODEL_NAME_MISSING / MODEL_VERSION_MISSING (also negative)', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1) } });
  const { manager } = await startManager(serverConfig({ model: modelConfig('m', path.join(root, 'm')) }));
  await assert.rejects(manager.getServable('nope'), (e) => assertStatus(e, 'MODEL_NAME_MISSING', 'Model with requested name is not found'));
  assert.throws(() => manager.getStatus('nope'), (e) => assertStatus(e, 'MODEL_NAME_MISSING'));
  for (const v of [2, -1, 1.5, Number.MAX_SAFE_INTEGER + 2]) {
    await assert.rejects(manager.getServable('m', v), (e) => assertStatus(e, 'MODEL_VERSION_MISSING'));
    assert.throws(() => manager.getStatus('m', v), (e) => assertStatus(e, 'MODEL_VERSION_MISSING'));
  }
  await manager.stop();
});

test('output selection: all by default, a subset on request, unknown names rejected', async () => {
  const root = writeRepository(freshDir('repo'), { two: { 1: twoOutputsModel() } });
  const { manager } = await startManager(serverConfig({ model: modelConfig('two', path.join(root, 'two')) }));
  const servable = await manager.getServable('two');
  const x = new Map([['x', { dtype: 'FP32' as const, shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) }]]);
  const all = await servable.infer(x);
  assert.deepEqual([...all.keys()].sort(), ['doubled', 'negated']);
  assert.deepEqual([...(all.get('doubled')!.data as Float32Array)], [2, 4, 6, 8]);
  const some = await servable.infer(x, { outputs: ['negated'] });
  assert.deepEqual([...some.keys()], ['negated']);
  assert.deepEqual([...(some.get('negated')!.data as Float32Array)], [-1, -2, -3, -4]);
  await assert.rejects(servable.infer(x, { outputs: ['negated', 'tripled'] }), (e) =>
    assertStatus(e, 'INVALID_OUTPUT_NAME', 'Invalid output name - Unknown output: tripled'));
  // Validation runs inside infer, for every protocol.
  await assert.rejects(servable.infer(new Map([['x', { dtype: 'FP32' as const, shape: [1, 5], data: new Float32Array(5) }]])), (e) =>
    assertStatus(e, 'INVALID_SHAPE', 'Invalid input shape - Expected: (-1,4); Actual: (1,5)'));
  await manager.stop();
});

test('an empty base path is a model without versions, not an error', async () => {
  const base = freshDir('empty');
  const { manager } = await startManager(serverConfig({ model: modelConfig('e', base) }));
  assert.deepEqual(manager.getStatus('e'), []);
  assert.deepEqual(manager.names(), ['e']);
  await assert.rejects(manager.getServable('e'), (e) => assertStatus(e, 'MODEL_VERSION_MISSING'));
  await manager.stop();
});

test('single-model mode: a missing or escaping base path or a broken model makes start() fail', async () => {
  const missing = path.join(tmp.path, 'does-not-exist');
  await assert.rejects(startManager(serverConfig({ model: modelConfig('m', missing) })),
    /The provided base path is invalid or doesn't exists - Directory does not exist/);
  await assert.rejects(startManager(serverConfig({ model: modelConfig('m', `${tmp.path}/a/../b`) })),
    /escape with \.\. is forbidden/);
  const root = freshDir('broken');
  mkdirSync(path.join(root, '1'));
  writeFileSync(path.join(root, '1', 'model.onnx'), 'not an onnx model');
  await assert.rejects(startManager(serverConfig({ model: modelConfig('m', root) })), /Error occurred while loading model: m version: 1/);
});

test('a corrupt version stays LOADING/UNKNOWN while another version serves', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1) } });
  mkdirSync(path.join(root, 'm', '2'));
  writeFileSync(path.join(root, 'm', '2', 'model.onnx'), 'garbage');
  mkdirSync(path.join(root, 'm', '3'));
  writeFileSync(path.join(root, 'm', '3', 'notes.txt'), 'no model here');
  const configPath = path.join(root, 'config.json');
  writeFileSync(configPath, JSON.stringify({ model_config_list: [{ config: { name: 'm', base_path: path.join(root, 'm'), model_version_policy: { all: {} } } }] }));
  const { manager, log } = await startManager(serverConfig({ configPath }));

  const [v1, v2, v3] = manager.getStatus('m');
  assert.deepEqual([v1!.state, v1!.errorMessage], [ModelState.AVAILABLE, 'OK']);
  assert.equal(v2!.state, ModelState.LOADING);
  assert.equal(v2!.errorCode, 2);
  assert.equal(v2!.errorMessage, 'UNKNOWN');
  assert.ok(v2!.detail && v2!.detail.length > 0);
  assert.equal(v3!.state, ModelState.LOADING);
  assert.match(v3!.detail!, /^File not found or cannot open/);
  assert.equal(await addValueOf(await manager.getServable('m')), 1, 'the default is the highest AVAILABLE version');
  // Nothing is loading, so even a waiting request is told at once.
  await assert.rejects(manager.getServable('m', 2, { waitForLoading: true }), (e) =>
    assertStatus(e, 'MODEL_VERSION_NOT_LOADED_YET', 'Model with requested version is not loaded yet'));
  const errorLine = log.lines().find((l) => l.msg.startsWith('STATUS CHANGE: Version 3 of model m') && l.msg.includes('"UNKNOWN"'));
  assert.ok(errorLine, 'the failed load is logged with its state');
  assert.match(errorLine!.msg, /File not found or cannot open/);

  // Repairing the folder is noticed by an explicit reload.
  writeFileSync(path.join(root, 'm', '3', 'model.onnx'), dummyModel(3));
  const result = await manager.reload().catch((e: unknown) => e);
  assert.ok(result instanceof ReloadError, 'version 2 still fails');
  assert.equal(result.message, 'Reloading models versions failed. Check server logs for more info.');
  assert.equal(manager.getStatus('m', 3)[0]!.state, ModelState.AVAILABLE);
  assert.equal(await addValueOf(await manager.getServable('m')), 3);
  await manager.stop();
});

test('polling: a new version folder loads while the old serves, then the default moves and latest-1 retires the old', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1) } });
  const inst = instrumentedFormat();
  const { manager } = await startManager(serverConfig({ model: modelConfig('m', path.join(root, 'm')), filePollWaitSeconds: 0.05 }), { formats: [inst.format] });
  assert.equal(await addValueOf(await manager.getServable('m')), 1);

  const release = inst.holdLoad(2);
  writeRepository(root, { m: { 2: dummyModel(2) } });
  await eventually(() => assert.deepEqual(states(manager, 'm'), [[1, 'AVAILABLE'], [2, 'LOADING']]));
  // While 2 loads, 1 is still the default and serves.
  assert.equal(await addValueOf(await manager.getServable('m')), 1);
  await assert.rejects(manager.getServable('m', 2), (e) => assertStatus(e, 'MODEL_VERSION_NOT_LOADED_YET'));
  assert.equal(manager.readyServable('m', 2), undefined, 'a loading version is not ready');
  assert.equal(manager.readyServable('m')?.version, 1);
  release();
  await eventually(() => assert.deepEqual(states(manager, 'm'), [[1, 'END'], [2, 'AVAILABLE']]));
  assert.equal(await addValueOf(await manager.getServable('m')), 2);
  assert.equal(manager.readyServable('m', 1), undefined, 'a retired version is not ready');
  assert.equal(manager.readyServable('m')?.version, 2);
  await assert.rejects(manager.getServable('m', 1), (e) => assertStatus(e, 'MODEL_VERSION_NOT_LOADED_ANYMORE', 'Model with requested version is retired'));
  assert.deepEqual(inst.events.filter((e) => !e.startsWith('run')), ['load 1', 'load 2', 'close 1']);
  await manager.stop();
});

test('polling with policy all: removing a folder retires that version, re-adding it reloads it', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1), 2: dummyModel(2) } });
  const { manager } = await startManager(serverConfig({ model: modelConfig('m', path.join(root, 'm'), { kind: 'all' }), filePollWaitSeconds: 0.05 }));
  assert.equal(await addValueOf(await manager.getServable('m')), 2);
  const v2 = path.join(root, 'm', '2');
  const parked = path.join(root, 'parked-2');
  renameSync(v2, parked);
  await eventually(() => assert.deepEqual(states(manager, 'm'), [[1, 'AVAILABLE'], [2, 'END']]));
  assert.equal(await addValueOf(await manager.getServable('m')), 1, 'the default falls back to 1');
  renameSync(parked, v2);
  await eventually(() => assert.deepEqual(states(manager, 'm'), [[1, 'AVAILABLE'], [2, 'AVAILABLE']]));
  assert.equal(await addValueOf(await manager.getServable('m')), 2);
  await manager.stop();
});

test('a retiring version finishes its in-flight request before it is closed, and refuses new ones', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1), 2: dummyModel(2) } });
  const inst = instrumentedFormat();
  const { manager } = await startManager(serverConfig({ model: modelConfig('m', path.join(root, 'm'), { kind: 'all' }), filePollWaitSeconds: 0.05 }), { formats: [inst.format] });
  const v2 = await manager.getServable('m', 2);

  const releaseRuns = inst.holdRuns(2);
  const inFlight = addValueOf(v2);
  await eventually(() => assert.ok(inst.events.includes('run 2')));
  rmSync(path.join(root, 'm', '2'), { recursive: true });
  await eventually(() => assert.deepEqual(states(manager, 'm'), [[1, 'AVAILABLE'], [2, 'UNLOADING']]));

  // Retiring: new requests are refused, the held one is still running, nothing closed yet.
  await assert.rejects(manager.getServable('m', 2), (e) => assertStatus(e, 'MODEL_VERSION_NOT_LOADED_ANYMORE'));
  await assert.rejects(addValueOf(v2), (e) => assertStatus(e, 'MODEL_VERSION_NOT_LOADED_ANYMORE'));
  assert.ok(!inst.events.includes('close 2'));
  assert.equal(await addValueOf(await manager.getServable('m')), 1, 'the default already moved to 1');

  releaseRuns();
  assert.equal(await inFlight, 2, 'the in-flight request completes on version 2');
  await eventually(() => assert.deepEqual(states(manager, 'm'), [[1, 'AVAILABLE'], [2, 'END']]));
  const order = inst.events.filter((e) => e.endsWith(' 2') && (e.startsWith('run done') || e.startsWith('close')));
  assert.deepEqual(order.slice(-2), ['run done 2', 'close 2']);
  await manager.stop();
});

test('waitForLoading: a loading version is waited for (woken when it loads); without it, not loaded yet', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1) } });
  const inst = instrumentedFormat();
  const { manager } = await startManager(serverConfig({ model: modelConfig('m', path.join(root, 'm'), { kind: 'all' }), filePollWaitSeconds: 0.05 }), { formats: [inst.format] });
  const release = inst.holdLoad(2);
  writeRepository(root, { m: { 2: dummyModel(2) } });
  await eventually(() => assert.equal(manager.getStatus('m', 2)[0]?.state, ModelState.LOADING));

  await assert.rejects(manager.getServable('m', 2), (e) => assertStatus(e, 'MODEL_VERSION_NOT_LOADED_YET'));
  const aborter = new AbortController();
  const cancelled = manager.getServable('m', 2, { waitForLoading: true, signal: aborter.signal });
  const waiting = manager.getServable('m', 2, { waitForLoading: true });
  aborter.abort();
  await assert.rejects(cancelled, (e) => assertStatus(e, 'REQUEST_CANCELLED'));
  release();
  const v2 = await waiting;
  assert.equal(v2.version, 2);
  assert.equal(await addValueOf(v2), 2);
  await manager.stop();
});

test('waitForLoading gives up with NOT_LOADED_YET when loading takes longer than the wait', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1) } });
  const inst = instrumentedFormat();
  const { manager } = await startManager(serverConfig({ model: modelConfig('m', path.join(root, 'm'), { kind: 'all' }), filePollWaitSeconds: 0.05 }),
    { formats: [inst.format], waitForLoadingMs: 100 });
  const release = inst.holdLoad(2);
  writeRepository(root, { m: { 2: dummyModel(2) } });
  await eventually(() => assert.equal(manager.getStatus('m', 2)[0]?.state, ModelState.LOADING));
  await assert.rejects(manager.getServable('m', 2, { waitForLoading: true }), (e) => assertStatus(e, 'MODEL_VERSION_NOT_LOADED_YET'));
  release();
  await eventually(() => assert.equal(manager.getStatus('m', 2)[0]?.state, ModelState.AVAILABLE));
  await manager.stop();
});

test('config mode: a model with a missing base path is reported, the others serve', async () => {
  const root = writeRepository(freshDir('repo'), { good: { 1: dummyModel(5) } });
  const configPath = path.join(root, 'config.json');
  writeFileSync(configPath, JSON.stringify({ model_config_list: [
    { config: { name: 'good', base_path: path.join(root, 'good') } },
    { config: { name: 'lost', base_path: path.join(root, 'lost') } },
  ] }));
  const { manager, log } = await startManager(serverConfig({ configPath }));
  assert.equal(await addValueOf(await manager.getServable('good')), 5);
  assert.deepEqual(manager.getStatus('lost'), []);
  assert.match(manager.modelErrors().get('lost')!, /^The provided base path is invalid or doesn't exists/);
  assert.ok(log.lines().some((l) => l.level === 50 && /lost.*The provided base path is invalid/.test(l.msg)));
  await manager.stop();
});

test('config mode: an unreadable or invalid config file makes start() fail', async () => {
  await assert.rejects(startManager(serverConfig({ configPath: path.join(tmp.path, 'no-config.json') })), /Config file not found or cannot open/);
  const bad = path.join(freshDir('cfg'), 'config.json');
  writeFileSync(bad, '{ not json');
  await assert.rejects(startManager(serverConfig({ configPath: bad })), /not a valid JSON|not in valid configuration format/);
});

test('config file edits: models are added, removed (versions END, name kept), changed and re-added', async () => {
  const root = writeRepository(freshDir('repo'), { a: { 1: dummyModel(1) }, b: { 1: dummyModel(10), 2: dummyModel(20) }, b2: { 1: dummyModel(100) } });
  const configPath = path.join(root, 'config.json');
  const writeConfig = (models: Record<string, unknown>[]) =>
    writeFileSync(configPath, JSON.stringify({ model_config_list: models.map((config) => ({ config })) }, null, 1));
  const a = { name: 'a', base_path: path.join(root, 'a') };
  writeConfig([a]);
  const inst = instrumentedFormat();
  const { manager } = await startManager(serverConfig({ configPath, filePollWaitSeconds: 0.05 }), { formats: [inst.format] });
  assert.deepEqual(manager.names(), ['a']);

  // Added.
  writeConfig([a, { name: 'b', base_path: path.join(root, 'b') }]);
  await eventually(() => assert.deepEqual(states(manager, 'b'), [[2, 'AVAILABLE']]));
  assert.equal(await addValueOf(await manager.getServable('b')), 20);

  // Policy-only change: version 1 starts, version 2 is not reloaded.
  writeConfig([a, { name: 'b', base_path: path.join(root, 'b'), model_version_policy: { all: {} } }]);
  await eventually(() => assert.deepEqual(states(manager, 'b'), [[1, 'AVAILABLE'], [2, 'AVAILABLE']]));
  assert.equal(inst.events.filter((e) => e === 'load 2').length, 1, 'version 2 was not reloaded');

  // Setting change (nireq): every version reloads; requests keep working throughout.
  writeConfig([a, { name: 'b', base_path: path.join(root, 'b'), model_version_policy: { all: {} }, nireq: 2 }]);
  await eventually(() => assert.equal(inst.events.filter((e) => e === 'load 2').length, 2));
  await eventually(() => assert.deepEqual(states(manager, 'b'), [[1, 'AVAILABLE'], [2, 'AVAILABLE']]));
  assert.equal(await addValueOf(await manager.getServable('b', 1)), 10);

  // Base path change: versions reload from the new folder.
  writeConfig([a, { name: 'b', base_path: path.join(root, 'b2'), model_version_policy: { all: {} }, nireq: 2 }]);
  await eventually(() => assert.deepEqual(states(manager, 'b'), [[1, 'AVAILABLE'], [2, 'END']]));
  assert.equal(await addValueOf(await manager.getServable('b')), 100);

  // Removed: all versions END, the name stays listed.
  writeConfig([{ name: 'b', base_path: path.join(root, 'b2') }]);
  await eventually(() => assert.deepEqual(states(manager, 'a'), [[1, 'END']]));
  assert.deepEqual(manager.names(), ['a', 'b']);
  await assert.rejects(manager.getServable('a'), (e) => assertStatus(e, 'MODEL_VERSION_MISSING'));
  await assert.rejects(manager.getServable('a', 1), (e) => assertStatus(e, 'MODEL_VERSION_NOT_LOADED_ANYMORE'));

  // Re-added: the END version loads again.
  writeConfig([a, { name: 'b', base_path: path.join(root, 'b2') }]);
  await eventually(() => assert.deepEqual(states(manager, 'a'), [[1, 'AVAILABLE']]));
  assert.equal(await addValueOf(await manager.getServable('a')), 1);
  await manager.stop();
});

test('an invalid new config file is logged and the old configuration keeps serving', async () => {
  const root = writeRepository(freshDir('repo'), { a: { 1: dummyModel(1) }, b: { 1: dummyModel(2) } });
  const configPath = path.join(root, 'config.json');
  writeFileSync(configPath, JSON.stringify({ model_config_list: [{ config: { name: 'a', base_path: path.join(root, 'a') } }] }));
  const { manager, log } = await startManager(serverConfig({ configPath, filePollWaitSeconds: 0.05 }));

  writeFileSync(configPath, JSON.stringify({ model_config_list: [{ config: { name: 'b', base_path: path.join(root, 'b'), unknown_key: 1 } }] }));
  await eventually(() => assert.ok(log.lines().some((l) => l.level === 50 && l.msg.startsWith(`Reloading config file ${configPath} failed`))));
  assert.deepEqual(manager.names(), ['a']);
  assert.equal(await addValueOf(await manager.getServable('a')), 1);

  // An explicit reload reports it the OVMS way (schema error → 412).
  const err = await manager.reload().catch((e: unknown) => e);
  assert.ok(err instanceof ReloadError);
  assert.equal(err.kind, 'CONFIG_RELOAD_FAILED');
  assert.equal(err.message, 'Reloading config file failed. Check server logs for more info.');
  assert.equal(err.httpStatus, 412);
  assert.deepEqual(states(manager, 'a'), [[1, 'AVAILABLE']]);

  // Fixed: applied on the next poll.
  writeFileSync(configPath, JSON.stringify({ model_config_list: [{ config: { name: 'b', base_path: path.join(root, 'b') } }] }));
  await eventually(() => assert.deepEqual(states(manager, 'b'), [[1, 'AVAILABLE']]));
  await eventually(() => assert.deepEqual(states(manager, 'a'), [[1, 'END']]));
  await manager.stop();
});

test('reload(): 201-style "changed" only when the config or versions changed; missing file is an error', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1) } });
  const configPath = path.join(root, 'config.json');
  writeFileSync(configPath, JSON.stringify({ model_config_list: [{ config: { name: 'm', base_path: path.join(root, 'm') } }] }));
  const { manager } = await startManager(serverConfig({ configPath }));
  assert.deepEqual(await manager.reload(), { changed: false, configReloaded: false, versionsChanged: false });

  writeRepository(root, { m: { 2: dummyModel(2) } });
  assert.deepEqual(await manager.reload(), { changed: true, configReloaded: false, versionsChanged: true });
  assert.deepEqual(states(manager, 'm'), [[1, 'END'], [2, 'AVAILABLE']]);

  writeFileSync(configPath, JSON.stringify({ model_config_list: [{ config: { name: 'm', base_path: path.join(root, 'm'), model_version_policy: { all: {} } } }] }));
  assert.deepEqual(await manager.reload(), { changed: true, configReloaded: true, versionsChanged: false });
  assert.deepEqual(states(manager, 'm'), [[1, 'AVAILABLE'], [2, 'AVAILABLE']]);

  unlinkSync(configPath);
  const err = await manager.reload().catch((e: unknown) => e);
  assert.ok(err instanceof ReloadError);
  assert.equal(err.message, 'Config file not found or cannot open.');
  assert.deepEqual(states(manager, 'm'), [[1, 'AVAILABLE'], [2, 'AVAILABLE']], 'the models keep serving');
  await manager.stop();
});

test('reload() in single-model mode rescans versions but never reports "changed" (OVMS answers 200)', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1) } });
  const { manager } = await startManager(serverConfig({ model: modelConfig('m', path.join(root, 'm')) }));
  writeRepository(root, { m: { 2: dummyModel(2) } });
  assert.deepEqual(await manager.reload(), { changed: false, configReloaded: false, versionsChanged: true });
  assert.equal(await addValueOf(await manager.getServable('m')), 2);
  await manager.stop();
});

test('stop() waits for in-flight requests, then unloads everything', async () => {
  const root = writeRepository(freshDir('repo'), { m: { 1: dummyModel(1) } });
  const inst = instrumentedFormat();
  const { manager } = await startManager(serverConfig({ model: modelConfig('m', path.join(root, 'm')), filePollWaitSeconds: 0.05 }), { formats: [inst.format] });
  const releaseRuns = inst.holdRuns(1);
  const inFlight = addValueOf(await manager.getServable('m'));
  await eventually(() => assert.ok(inst.events.includes('run 1')));
  const stopped = manager.stop();
  await eventually(() => assert.deepEqual(states(manager, 'm'), [[1, 'UNLOADING']]));
  assert.ok(!inst.events.includes('close 1'));
  releaseRuns();
  assert.equal(await inFlight, 1);
  await stopped;
  assert.deepEqual(states(manager, 'm'), [[1, 'END']]);
  assert.deepEqual(inst.events.slice(-2), ['run done 1', 'close 1']);
});
