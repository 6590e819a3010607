#!/usr/bin/env node
/**
 * `npm run bench`: starts tsms as its own process, drives it from separate load-generator
 * processes (h2load for gRPC, wrk for HTTP, node core as a fallback), measures the limits it is
 * compared with in the same run (in-process onnxruntime-node, bare grpc-js / node:http servers, a
 * naive JSON.parse server), prints one table and writes it to bench/results/ as JSON and Markdown.
 * Method: research/node-perf.md §6 (warm-up, idle gate, interleaving, ratios within a repetition).
 * Targets are judged from the table; the exit code is 0 unless the bench itself could not run.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as ort from 'onnxruntime-node';
import { APIS, closeVerifyClients, type ApiName, type Expected, type ReferenceReply, type Verdict } from './lib/apis.js';
import { frame } from './lib/codec/grpc-frame.js';
import { encodeStatusRequest, TFS_STATUS_PATH, tfsTypes } from './lib/codec/tfs.js';
import { pickGenerators, type Generators, type LoadSpec } from './lib/loadgen/index.js';
import { machineInfo } from './lib/machine.js';
import { measureInproc, measureWindow, type Measurement } from './lib/measure.js';
import { generateModels, sharedMobilenet, type BenchModel } from './lib/models.js';
import { parseOptions, USAGE, type BenchOptions } from './lib/options.js';
import { referenceSessionOptions } from './lib/ort-options.js';
import { benchScript, resultsDir, sharedModels } from './lib/paths.js';
import { treeRssBytes } from './lib/proc.js';
import { renderMarkdown, type Report } from './lib/report.js';
import { summarize, type EldResult, type MemoryResult, type Row } from './lib/results.js';
import { allScenarios, API_ORDER, floorWorkers, inprocConfigs, INPROC_CONCURRENCY, scenarioId, type InprocConfig, type LimitKind, type Scenario } from './lib/scenarios.js';
import { configFor, SERVER_VARIANTS, startBareGrpc, startBareHttp, startHttp2Floor, startHttpFloor, startTsms, type FloorSpec, type RunningReference, type RunningTsms, type ServerVariant } from './lib/servers.js';
import { killLiveChildren, runToEnd } from './lib/spawn.js';
import { median } from './lib/stats.js';
import { evaluateTargets } from './lib/targets.js';

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const MB = 1024 * 1024;

type VariantName = ServerVariant['name'];
type ServerSlot = { readonly ok: RunningTsms } | { readonly status: 'n/a' | 'error'; readonly note: string };

interface Ctx {
  readonly opts: BenchOptions;
  readonly gens: Generators;
  readonly work: string;
  readonly models: Map<string, BenchModel>;
  readonly expected: Map<string, Expected>;
  readonly inputFiles: Map<string, string>;
  readonly servers: Map<VariantName, ServerSlot>;
  readonly verdicts: Map<string, Verdict>;
  readonly requestFiles: Map<string, { file: string; headers: Readonly<Record<string, string>> }>;
  readonly replyFiles: Map<string, { file: string; reply: ReferenceReply }>;
}

/** One thing measured in a repetition: a row and how to measure it once. */
interface Item {
  readonly row: Row;
  run(rep: number): Promise<Measurement>;
}

const pairKey = (model: string, api: string) => `${model}|${api}`;
const verdictKey = (variant: string, model: string, api: string) => `${variant}|${model}|${api}`;
const groupKey = (s: { model: string; api: string; concurrency: number; connections?: number }) => `${s.model}|${s.api}|${s.concurrency}|${s.connections ?? ''}`;

function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

async function computeExpected(models: readonly BenchModel[]): Promise<Map<string, Expected>> {
  const out = new Map<string, Expected>();
  for (const m of models) {
    const session = await ort.InferenceSession.create(m.file, referenceSessionOptions(1));
    const result = await session.run({ [m.inputName]: new ort.Tensor('float32', m.input, [...m.inputShape]) });
    const t = result[m.outputName]!;
    out.set(m.name, { shape: t.dims.map(Number), data: new Float32Array(t.data as Float32Array) });
    await session.release();
  }
  return out;
}

async function startVariant(ctx: Ctx, variant: ServerVariant, models: readonly BenchModel[]): Promise<ServerSlot> {
  if (variant.name !== 'default' && !variant.patch) return { status: 'n/a', note: 'not implemented yet' };
  const base = configFor(models);
  let server: RunningTsms;
  try {
    server = await startTsms(variant.patch ? variant.patch(base) : base, ctx.work, variant.name);
  } catch (err) {
    return { status: 'error', note: `server did not start: ${(err as Error).message.split('\n')[0]}` };
  }
  if (variant.probePath) {
    const res = await fetch(`http://127.0.0.1:${server.restPort}${variant.probePath}`).catch(() => undefined);
    if (!res || res.status !== 200) {
      await server.stop();
      return { status: 'n/a', note: `not implemented yet (GET ${variant.probePath}: ${res ? `HTTP ${res.status}` : 'no answer'})` };
    }
  }
  return { ok: server };
}

function tsmsLabel(variant: VariantName): string {
  return variant === 'default' ? 'tsms' : `tsms, ${SERVER_VARIANTS[variant].label}`;
}

function newRow(partial: Omit<Row, 'reps' | 'ratios' | 'status'> & { status?: Row['status'] }, reps: number): Row {
  return { status: 'ok', ...partial, reps: Array.from({ length: reps }, () => undefined), ratios: {} };
}

function loadSpec(ctx: Ctx, s: { model: string; api: ApiName; concurrency: number; connections?: number; timeoutSeconds?: number }, port: number): LoadSpec {
  const api = APIS[s.api];
  const req = ctx.requestFiles.get(pairKey(s.model, s.api))!;
  return {
    transport: api.transport,
    origin: `http://127.0.0.1:${port}`,
    path: api.path(s.model),
    bodyFile: req.file,
    headers: req.headers,
    concurrency: s.concurrency,
    connections: s.connections,
    seconds: ctx.opts.seconds,
    timeoutSeconds: s.timeoutSeconds,
  };
}

function windowPlan(ctx: Ctx, spec: LoadSpec, serverPid: number) {
  return {
    generator: spec.transport === 'grpc' ? ctx.gens.grpc : ctx.gens.http,
    spec,
    serverPid,
    warmupSeconds: ctx.opts.warmupSeconds,
    idleThreshold: ctx.opts.idleThreshold,
    idleMaxWaitMs: ctx.opts.idleMaxWaitMs,
  };
}

async function withReference<T>(start: () => Promise<RunningReference>, use: (ref: RunningReference) => Promise<T>): Promise<T> {
  const ref = await start();
  try {
    return await use(ref);
  } finally {
    await ref.stop();
  }
}

/** Builds every row (in display order) and the items that measure them. */
function plan(ctx: Ctx, scenarios: readonly Scenario[], allLimits: boolean): { rows: Row[]; inprocItems: Item[]; groups: Item[][] } {
  const reps = ctx.opts.repetitions;
  const rows: Row[] = [];
  const inprocItems: Item[] = [];
  const groups: Item[][] = [];
  const models = [...new Set(scenarios.map((s) => s.model))];

  for (const model of models) {
    const mine = scenarios.filter((s) => s.model === model);
    const tsmsStatus = (s: Scenario): { status: Row['status']; note?: string } => {
      const slot = ctx.servers.get(s.variant)!;
      if (!('ok' in slot)) return { status: slot.status, note: slot.note };
      if (s.onlyIfVariant) {
        const other = ctx.servers.get(s.onlyIfVariant);
        if (!other || !('ok' in other)) return { status: 'n/a', note: `baseline of ${SERVER_VARIANTS[s.onlyIfVariant].label}, which is not implemented yet` };
      }
      const v = ctx.verdicts.get(verdictKey(s.variant, s.model, s.api));
      if (!v) return { status: 'error', note: 'not verified' };
      if (v.kind === 'ok') return { status: 'ok' };
      return { status: v.kind, note: v.reason };
    };
    const wantsLimit = (kind: Scenario['limits'][number], s: Scenario) => s.limits.includes(kind) && (allLimits || tsmsStatus(s).status === 'ok');

    // In-process limits for this model, at the concurrencies its rows use.
    const inprocCs = INPROC_CONCURRENCY.filter((c) => mine.some((s) => s.concurrency === c && wantsLimit('inproc', s)));
    for (const c of inprocCs) {
      for (const cfg of inprocConfigs(model)) {
        const row = newRow({
          key: `inproc|${model}|${c}|${cfg.label}`, kind: 'inproc', model, api: 'in-process', apiLabel: 'in-process', concurrency: c,
          variant: 'default', server: `limit: ${cfg.label}`,
        }, reps);
        rows.push(row);
        inprocItems.push({ row, run: () => runInproc(ctx, model, c, cfg) });
      }
    }

    for (const api of API_ORDER) {
      const byGroup = new Map<string, Scenario[]>();
      for (const s of mine.filter((x) => x.api === api).sort((a, b) => a.concurrency - b.concurrency)) {
        const list = byGroup.get(groupKey(s)) ?? [];
        list.push(s);
        byGroup.set(groupKey(s), list);
      }
      for (const list of byGroup.values()) {
        const items: Item[] = [];
        const first = list[0]!;
        const reply = ctx.replyFiles.get(pairKey(model, api))!;
        // h2load cannot see grpc-status, but an error reply has no message: compare the bytes.
        const expectedResponseBytes = APIS[api].transport === 'grpc' ? reply.reply.body.byteLength + 5 : undefined;
        const common = { model, api, apiLabel: APIS[api].label, concurrency: first.concurrency, connections: first.connections, expectedResponseBytes };
        for (const s of list) {
          const st = tsmsStatus(s);
          const row = newRow({ key: scenarioId(s), kind: 'tsms', ...common, variant: s.variant, server: tsmsLabel(s.variant), status: st.status, note: st.note }, reps);
          rows.push(row);
          if (st.status === 'ok') {
            const server = (ctx.servers.get(s.variant) as { ok: RunningTsms }).ok;
            const port = APIS[api].transport === 'grpc' ? server.grpcPort : server.restPort;
            items.push({ row, run: async () => (await measureWindow(windowPlan(ctx, loadSpec(ctx, s, port), server.child.pid))).m });
          }
        }
        // A limit row: its reference server is started for its window only, then stopped.
        const addLimit = (kind: LimitKind & Row['kind'], keyPrefix: string, server: string, start: () => Promise<RunningReference>) => {
          if (!list.some((s) => wantsLimit(kind, s))) return;
          const row = newRow({ key: `${keyPrefix}|${groupKey(first)}`, kind, ...common, variant: 'default', server: `limit: ${server}` }, reps);
          rows.push(row);
          items.push({ row, run: () => withReference(start, async (ref) => (await measureWindow(windowPlan(ctx, loadSpec(ctx, first, ref.port), ref.child.pid))).m) });
        };
        const grpcT = APIS[api].transport === 'grpc';
        addLimit('bare', 'bare', grpcT ? 'bare grpc-js' : 'bare node:http',
          () => (grpcT ? startBareGrpc(reply.file) : startBareHttp(reply.file, reply.reply.contentType, { ...reply.reply.headers }, 'none')));
        const floor = floorSpec(ctx, model);
        const floorThreads = floor.workers > 0 ? ` (${floor.workers} worker threads)` : '';
        addLimit('floor', 'floor', `${grpcT ? 'node:http2' : 'node:http'} + onnxruntime${floorThreads}`,
          () => (grpcT ? startHttp2Floor(reply.file, floor) : startHttpFloor(reply.file, reply.reply.contentType, { ...reply.reply.headers }, floor)));
        addLimit('naive-json', 'naive', 'naive JSON.parse server', () => startBareHttp(reply.file, reply.reply.contentType, { ...reply.reply.headers }, 'naive-json'));
        if (items.length) groups.push(items);
      }
    }
  }
  return { rows, inprocItems, groups };
}

/** The floor (refs/ort-runner.ts) of a model: its file, the bench input, and where it runs. */
function floorSpec(ctx: Ctx, model: string): FloorSpec {
  return { model: ctx.models.get(model)!, inputFile: ctx.inputFiles.get(model)!, workers: floorWorkers(model) };
}

function runInproc(ctx: Ctx, model: string, concurrency: number, cfg: InprocConfig): Promise<Measurement> {
  const m = ctx.models.get(model)!;
  return measureInproc({
    modelFile: m.file,
    inputName: m.inputName,
    shape: m.inputShape,
    inputFile: ctx.inputFiles.get(model)!,
    mode: cfg.mode,
    workers: cfg.workers,
    intraOp: cfg.intraOp,
    concurrency,
    warmupSeconds: ctx.opts.warmupSeconds,
    seconds: ctx.opts.seconds,
  }, ctx.opts.idleThreshold, ctx.opts.idleMaxWaitMs);
}

async function measureItem(item: Item, rep: number): Promise<void> {
  if (item.row.status !== 'ok') return;
  const label = `${item.row.server} · ${item.row.model} ${item.row.apiLabel} C=${item.row.concurrency}`;
  try {
    const m = await item.run(rep);
    item.row.reps[rep] = m;
    const want = item.row.expectedResponseBytes;
    const got = m.responseBytesPerRequest;
    // Fewer bytes than the reply means some calls ended in an error status. (More is fine: in
    // duration mode h2load also counts the bytes of responses still arriving when time is up.)
    if (want !== undefined && got !== undefined && got < 0.99 * want) {
      item.row.note = `responses averaged ${got.toFixed(0)} B, expected ${want} B: some calls failed (h2load does not read grpc-status)`;
    }
    log(`  ${label}: ${m.reqPerSec.toFixed(1)} req/s, p50 ${(m.p50Us / 1000).toFixed(3)} ms (${m.tool}${m.errors ? `, ${m.errors} errors` : ''})`);
  } catch (err) {
    item.row.status = 'error';
    item.row.note = (err as Error).message.split('\n')[0];
    log(`  ${label}: error ${item.row.note}`);
  }
}

/** Ratios per repetition against each limit, then their medians; server-added latency at C=1. */
function computeRatios(rows: Row[]): void {
  const perRep = (a: Row, b: (rep: number) => number | undefined, against: string) => {
    const values: number[] = [];
    a.reps.forEach((m, i) => {
      const ref = b(i);
      if (m && ref && ref > 0) values.push(m.reqPerSec / ref);
    });
    return values.length ? { value: median(values), perRep: values, against } : undefined;
  };
  for (const r of rows) {
    const sameGroup = (x: Row) => x.model === r.model && x.api === r.api && x.concurrency === r.concurrency && x.connections === r.connections && x.status === 'ok';
    const inproc = rows.filter((x) => x.kind === 'inproc' && x.model === r.model && x.concurrency === r.concurrency && x.status === 'ok');
    const readAgainstInproc = () => {
      if (inproc.length) r.ratios.inproc = perRep(r, (i) => Math.max(0, ...inproc.map((x) => x.reps[i]?.reqPerSec ?? 0)) || undefined, `best of ${inproc.map((x) => x.server.replace('limit: ', '')).join(' / ')}`);
    };
    // The floor row is read against the same limits as tsms: how close any server could come.
    if (r.kind === 'floor' && r.status === 'ok') {
      const bare = rows.find((x) => x.kind === 'bare' && sameGroup(x));
      if (bare) r.ratios.bare = perRep(r, (i) => bare.reps[i]?.reqPerSec, bare.server.replace('limit: ', ''));
      readAgainstInproc();
    }
    if (r.kind !== 'tsms' || r.status !== 'ok') continue;
    if (r.variant === 'default') readAgainstInproc();
    const bare = rows.find((x) => x.kind === 'bare' && sameGroup(x));
    if (bare) {
      r.ratios.bare = perRep(r, (i) => bare.reps[i]?.reqPerSec, bare.server.replace('limit: ', ''));
      // Only meaningful where the model costs ~nothing: elsewhere it is mostly inference time.
      if (r.concurrency === 1 && r.model === 'dummy') {
        const added = r.reps.map((m, i) => (m && bare.reps[i] ? m.p50Us - bare.reps[i]!.p50Us : NaN)).filter(Number.isFinite);
        if (added.length) r.addedLatencyUs = median(added);
      }
    }
    const naive = rows.find((x) => x.kind === 'naive-json' && sameGroup(x));
    if (naive) r.ratios['naive-json'] = perRep(r, (i) => naive.reps[i]?.reqPerSec, 'naive JSON.parse server');
    if (r.variant !== 'default') {
      const off = rows.find((x) => x.kind === 'tsms' && x.variant === 'default' && sameGroup(x));
      if (off) r.ratios['variant-off'] = perRep(r, (i) => off.reps[i]?.reqPerSec, 'same scenario on the default server');
    }
  }
  for (const r of rows) {
    r.summary = summarize(r.reps);
    if (r.status === 'ok' && !r.summary) {
      r.status = 'skipped';
      r.note ??= 'no measurement';
    }
  }
}

/** Responsiveness probe while cnn runs under TFS gRPC load at 8 in flight. */
async function measureEld(ctx: Ctx): Promise<EldResult | undefined> {
  const scenario = 'cnn · TFS gRPC · C=8';
  const slot = ctx.servers.get('default');
  if (!slot || !('ok' in slot) || !ctx.models.has('cnn')) return undefined;
  const server = slot.ok;
  const v = ctx.verdicts.get(verdictKey('default', 'cnn', 'tfs-grpc'));
  if (!v) return { scenario, status: 'n/a', note: 'not verified' };
  if (v.kind !== 'ok') return { scenario, status: v.kind, note: v.reason };
  const statusModel = ctx.models.has('dummy') ? 'dummy' : 'cnn';

  // Prefer REST GET /v1/models/<m> (what a health check uses); fall back to gRPC GetModelStatus.
  let probe: Record<string, unknown> | undefined;
  let probeLabel = '';
  const rest = await fetch(`http://127.0.0.1:${server.restPort}/v1/models/${statusModel}`).catch(() => undefined);
  if (rest?.status === 200) {
    probe = { kind: 'rest', origin: `http://127.0.0.1:${server.restPort}`, path: `/v1/models/${statusModel}` };
    probeLabel = `REST GET /v1/models/${statusModel}`;
  } else {
    const bodyFile = path.join(ctx.work, 'status-request.bin');
    writeFileSync(bodyFile, frame(encodeStatusRequest(statusModel)));
    const check = await runToEnd(process.execPath, [benchScript('probe/eld-probe.js'), JSON.stringify({ kind: 'grpc', origin: `http://127.0.0.1:${server.grpcPort}`, path: TFS_STATUS_PATH, bodyFile, seconds: 0.05, intervalMs: 10 })], 30_000);
    const ok = check.code === 0 && (JSON.parse(check.stdout.trim() || '{}') as { errors?: number; probes?: number }).errors === 0;
    if (!ok) return { scenario, status: 'n/a', note: 'no status endpoint to probe yet (REST GET /v1/models/<m> and gRPC GetModelStatus both failed)' };
    probe = { kind: 'grpc', origin: `http://127.0.0.1:${server.grpcPort}`, path: TFS_STATUS_PATH, bodyFile };
    probeLabel = `gRPC GetModelStatus(${statusModel})`;
  }
  log(`event-loop probe (${probeLabel}) during ${scenario}`);
  const spec = loadSpec(ctx, { model: 'cnn', api: 'tfs-grpc', concurrency: 8 }, server.grpcPort);
  const probeSeconds = Math.max(0.5, ctx.opts.seconds - 0.2);
  try {
    const { m, duringResult } = await measureWindow(windowPlan(ctx, spec, server.child.pid), async () => {
      const r = await runToEnd(process.execPath, [benchScript('probe/eld-probe.js'), JSON.stringify({ ...probe, seconds: probeSeconds, intervalMs: 10 })], (probeSeconds + 60) * 1000);
      if (r.code !== 0) throw new Error(`probe failed: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as { probes: number; errors: number; p50Ms: number; p99Ms: number; maxMs: number };
    });
    const p = duringResult as { probes: number; errors: number; p50Ms: number; p99Ms: number; maxMs: number };
    return { scenario, status: 'ok', probe: probeLabel, reqPerSec: m.reqPerSec, probes: p.probes, probeErrors: p.errors, p50Ms: p.p50Ms, p99Ms: p.p99Ms, maxMs: p.maxMs };
  } catch (err) {
    return { scenario, status: 'error', note: (err as Error).message.split('\n')[0] };
  }
}

/**
 * Runs one load phase while sampling the server tree's RSS every 100 ms; returns the phase's
 * result, the highest RSS seen in its peak window and that window's length. The window is the
 * phase's second half (the first half still climbs from the previous phase's level), or, given
 * `windowMs`, the phase's last `windowMs`: the second phase is read over a window as long as the
 * first one's, so both peaks get the same chance to catch the top of the GC sawtooth. A longer
 * second window catches higher tops by itself: with 12 MB tensors it read 44 MB of "growth" while
 * 300-request chunks over 4,200 requests all peaked at 485-513 MB.
 */
async function withRssPeak<T>(pid: number, phase: () => Promise<T>, windowMs?: number): Promise<[T, number, number]> {
  const samples: { at: number; mb: number }[] = [];
  const started = performance.now();
  const timer = setInterval(() => samples.push({ at: performance.now(), mb: treeRssBytes(pid) / MB }), 100);
  let result: T;
  try {
    result = await phase();
  } finally {
    clearInterval(timer);
  }
  const ended = performance.now();
  samples.push({ at: ended, mb: treeRssBytes(pid) / MB });
  const from = windowMs === undefined ? started + (ended - started) / 2 : Math.max(started, ended - windowMs);
  return [result, Math.max(...samples.filter((s) => s.at >= from).map((s) => s.mb)), ended - from];
}

interface MemoryPhases {
  readonly rssFirstMB: number;
  readonly peakFirstMB: number;
  readonly rssSecondMB: number;
  readonly peakSecondMB: number;
  readonly errors: number;
  readonly tool: string;
}

/** N1 requests, then N2 − N1 more, at 8 in flight; RSS at the end of each phase and its peak during it. */
async function memoryPhases(pid: number, gen: Generators['grpc'], base: LoadSpec, first: number, second: number): Promise<MemoryPhases> {
  const [r1, peakFirstMB, windowMs] = await withRssPeak(pid, () => gen.run({ ...base, requests: first }));
  const rssFirstMB = treeRssBytes(pid) / MB;
  const [r2, peakSecondMB] = await withRssPeak(pid, () => gen.run({ ...base, requests: second - first }), windowMs);
  return { rssFirstMB, peakFirstMB, rssSecondMB: treeRssBytes(pid) / MB, peakSecondMB, errors: r1.errors + r2.errors, tool: r1.tool };
}

/**
 * RSS after loading each model alone, after N1 and after N2 requests (peaks sampled during each).
 * Over gRPC the node:http2 + onnxruntime floor runs the same phases: how much any Node server's
 * resident set moves over those requests (V8's heap and malloc settle over the first tens of
 * thousands of requests, and with 12 MB tensors the GC sawtooth spans ~45 MB).
 */
async function measureMemory(ctx: Ctx): Promise<MemoryResult[]> {
  const out: MemoryResult[] = [];
  for (const [model, [first, second]] of Object.entries(ctx.opts.memoryRequests)) {
    const m = ctx.models.get(model);
    if (!m) continue;
    const api = (['tfs-grpc', 'kserve-grpc', 'kserve-rest-bin', 'tfs-rest-json'] as const).find((a) => ctx.verdicts.get(verdictKey('default', model, a))?.kind === 'ok');
    if (!api) {
      out.push({ model, status: 'n/a', note: 'no API answers this model yet' });
      continue;
    }
    log(`memory: ${model} over ${APIS[api].label}, ${first} then ${second} requests`);
    const grpc = APIS[api].transport === 'grpc';
    const gen = grpc ? ctx.gens.grpc : ctx.gens.httpCount;
    const spec = (port: number) => ({ ...loadSpec(ctx, { model, api, concurrency: 8, timeoutSeconds: 60 }, port), seconds: undefined });
    let result: MemoryResult;
    let server: RunningTsms | undefined;
    try {
      server = await startTsms(configFor([m]), ctx.work, `memory-${model}`);
      await sleep(500);
      const rssLoaded = treeRssBytes(server.child.pid) / MB;
      const p = await memoryPhases(server.child.pid, gen, spec(grpc ? server.grpcPort : server.restPort), first, second);
      result = {
        model, status: 'ok', api: `${APIS[api].label} (${p.tool}, 8 in flight)`, rssLoadedMB: rssLoaded,
        firstRequests: first, rssAfterFirstMB: p.rssFirstMB, peakFirstMB: p.peakFirstMB, secondRequests: second, rssAfterSecondMB: p.rssSecondMB, peakSecondMB: p.peakSecondMB,
        growthMB: p.peakSecondMB - p.peakFirstMB, errors: p.errors,
        note: [
          p.errors ? `${p.errors} failed requests` : '',
          first < 10_000 ? `fewer requests than 10k/50k to keep the run time${ctx.opts.profile === 'full' ? '' : ' (--full runs more)'}` : '',
        ].filter(Boolean).join('; ') || undefined,
      };
    } catch (err) {
      out.push({ model, status: 'error', note: (err as Error).message.split('\n')[0] });
      continue;
    } finally {
      await server?.stop();
    }
    if (grpc) {
      try {
        const reply = ctx.replyFiles.get(pairKey(model, api))!;
        const floor = await withReference(() => startHttp2Floor(reply.file, floorSpec(ctx, model)), (ref) => memoryPhases(ref.child.pid, gen, spec(ref.port), first, second));
        result = { ...result, floorGrowthMB: floor.peakSecondMB - floor.peakFirstMB };
      } catch (err) {
        log(`  memory floor for ${model}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    out.push(result);
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv);
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const opts = parsed;
  const started = new Date();
  const t0 = performance.now();
  const allLimits = process.env.TSMS_BENCH_ALL_LIMITS === '1';
  const gens = pickGenerators(opts.nodeLoadgen);
  const machine = machineInfo(gens.versions);
  if (!gens.versions.h2load || !gens.versions.wrk) log('h2load/wrk missing: using the node core load generator for those rows (run scripts/install-bench-tools.sh)');

  const work = mkdtempSync(path.join(tmpdir(), 'tsms-bench-'));
  const servers = new Map<VariantName, ServerSlot>();
  try {
    // Models, their inputs and the outputs onnxruntime gives for them.
    const repo = path.join(work, 'models');
    const generated = generateModels(repo);
    const extra: BenchModel[] = [];
    if (opts.sharedModels) {
      if (existsSync(path.join(sharedModels, 'mobilenetv2-12-int8/1/model.onnx'))) extra.push(sharedMobilenet(repo, sharedModels));
      else log(`--shared-models: ${sharedModels}/mobilenetv2-12-int8 is missing, skipping it`);
    }
    const scenarios = allScenarios(extra.map((m) => m.name))
      .filter((s) => s.profiles.includes(opts.profile) || (extra.some((m) => m.name === s.model) && s.profiles.includes('default')))
      .filter((s) => !opts.filter || scenarioId(s).includes(opts.filter));
    const used = new Set(scenarios.map((s) => s.model));
    if (!opts.filter) for (const m of Object.keys(opts.memoryRequests)) used.add(m);
    const models = [...generated, ...extra].filter((m) => used.has(m.name));
    log(`${opts.profile} run: ${scenarios.length} scenarios on ${models.map((m) => m.name).join(', ')}; ${opts.repetitions} repetition(s) of ${opts.seconds} s windows`);
    const expected = await computeExpected(models);
    const inputFiles = new Map<string, string>();
    for (const m of models) {
      const f = path.join(work, `${m.name}.input.f32`);
      writeFileSync(f, new Uint8Array(m.input.buffer, m.input.byteOffset, m.input.byteLength));
      inputFiles.set(m.name, f);
    }
    const ctx: Ctx = {
      opts, gens, work, models: new Map(models.map((m) => [m.name, m])), expected, inputFiles, servers,
      verdicts: new Map(), requestFiles: new Map(), replyFiles: new Map(),
    };

    // Servers: the default one always; variants when a selected scenario needs them.
    const variants = new Set<VariantName>(['default', ...scenarios.map((s) => s.variant), ...scenarios.flatMap((s) => (s.onlyIfVariant ? [s.onlyIfVariant] : []))]);
    for (const name of variants) {
      log(`starting tsms (${SERVER_VARIANTS[name].label})`);
      servers.set(name, await startVariant(ctx, SERVER_VARIANTS[name], models));
      const slot = servers.get(name)!;
      if (!('ok' in slot)) log(`  ${name}: ${slot.status} ${slot.note}`);
    }
    const def = servers.get('default')!;
    if (!('ok' in def)) {
      process.stderr.write(`tsms did not start: ${def.note}\n`);
      return 1;
    }
    const rssAfterLoad = treeRssBytes(def.ok.child.pid) / MB;

    // Request bodies, a real-client check of every scenario, and the reference replies.
    for (const s of scenarios) {
      const m = ctx.models.get(s.model)!;
      const pk = pairKey(s.model, s.api);
      if (!ctx.requestFiles.has(pk)) {
        const req = APIS[s.api].encodeRequest(m);
        const file = path.join(work, `${s.model}.${s.api}.request`);
        writeFileSync(file, req.body);
        ctx.requestFiles.set(pk, { file, headers: req.headers });
      }
      const vk = verdictKey(s.variant, s.model, s.api);
      const slot = servers.get(s.variant)!;
      if ('ok' in slot && !ctx.verdicts.has(vk)) {
        const v = await APIS[s.api].verify({ grpcPort: slot.ok.grpcPort, restPort: slot.ok.restPort }, m, expected.get(s.model)!);
        ctx.verdicts.set(vk, v);
        log(`verify ${s.variant} ${s.model} ${s.api}: ${v.kind}${v.kind === 'ok' ? '' : ` (${v.reason})`}`);
      }
    }
    for (const s of scenarios) {
      const pk = pairKey(s.model, s.api);
      if (ctx.replyFiles.has(pk)) continue;
      const v = ctx.verdicts.get(verdictKey('default', s.model, s.api));
      // The bare servers answer the very bytes tsms answered; encoded here if tsms cannot yet.
      const reply = v?.kind === 'ok' ? v.reply : APIS[s.api].encodeReply(ctx.models.get(s.model)!, expected.get(s.model)!);
      const file = path.join(work, `${s.model}.${s.api}.reply`);
      writeFileSync(file, reply.body);
      ctx.replyFiles.set(pk, { file, reply });
    }
    closeVerifyClients();

    const { rows, inprocItems, groups } = plan(ctx, scenarios, allLimits);
    for (let rep = 0; rep < opts.repetitions; rep++) {
      log(`repetition ${rep + 1}/${opts.repetitions}: in-process limits`);
      for (const item of rotate(inprocItems, rep)) await measureItem(item, rep);
      log(`repetition ${rep + 1}/${opts.repetitions}: servers`);
      for (const group of groups) {
        for (const item of rotate(group, rep)) await measureItem(item, rep);
      }
    }
    computeRatios(rows);
    const eld = opts.filter && !'cnn tfs-grpc c8'.includes(opts.filter) ? undefined : await measureEld(ctx);
    const rssAfterBench = treeRssBytes(def.ok.child.pid) / MB;
    for (const slot of servers.values()) if ('ok' in slot) await slot.ok.stop();
    servers.clear();
    const memory = opts.filter ? [] : await measureMemory(ctx);

    const report: Report = {
      startedAt: started.toISOString(),
      durationSeconds: (performance.now() - t0) / 1000,
      command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
      options: opts,
      machine,
      protoSource: tfsTypes().source,
      rows,
      eld,
      memory,
      targets: evaluateTargets(rows, eld, memory),
      serverRss: { afterLoadMB: rssAfterLoad, afterBenchMB: rssAfterBench },
    };
    const md = renderMarkdown(report);
    process.stdout.write(`\n${md}\n`);
    // Smoke and filtered runs only print: they must never replace the latest full table.
    if (opts.write && opts.profile !== 'quick' && !opts.filter) writeResults(report, md);
    return 0;
  } finally {
    for (const slot of servers.values()) if ('ok' in slot) await slot.ok.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** latest.{json,md} plus a timestamped copy in history/. */
function writeResults(report: Report, md: string): void {
  mkdirSync(resultsDir, { recursive: true });
  const json = `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
  writeFileSync(path.join(resultsDir, 'latest.json'), json);
  writeFileSync(path.join(resultsDir, 'latest.md'), md);
  const history = path.join(resultsDir, 'history');
  mkdirSync(history, { recursive: true });
  const stamp = `${report.startedAt.replace(/[:.]/g, '-').slice(0, 19)}-${report.options.profile}`;
  writeFileSync(path.join(history, `${stamp}.json`), json);
  writeFileSync(path.join(history, `${stamp}.md`), md);
  log(`results written to bench/results/latest.{json,md} and history/${stamp}.{json,md}`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killLiveChildren();
    process.stderr.write(`bench interrupted (${signal}); stopped its servers and load generators\n`);
    process.exit(130);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
