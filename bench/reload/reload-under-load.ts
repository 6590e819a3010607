/**
 * Zero-downtime reload benchmark (issue 10 item 4). A server serves model `m` with version policy
 * "all", version n computing b + n. Under a steady closed-loop load over all five client APIs,
 * steady windows alternate with reload cycles, in which version n+1 is added (it loads and becomes
 * the default) and version n is removed (it retires once its requests finish). Every
 * answer is checked (b + k with k the version that answered). It reports, for both phases,
 * requests, failures and latency percentiles, and whether p99 under reloads stays within 2× of
 * steady state.
 *
 *   npm run bench:reload                       # 20 × (1 s steady + 1 reload cycle), 8 clients
 *   npm run bench:reload -- --cycles 50 --concurrency 16 --steady-seconds 2
 *
 * The result is printed as Markdown and JSON and written to bench/reload/results/latest.{json,md}
 * (not with --no-write). Exit code 1 when a request failed or the p99 target was missed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dummyModel, tempDir, writeRepository } from '../../test/helpers/models.js';
import { startServer, type RunningServer } from '../../test/helpers/server.js';
import { LoadGenerator, percentile, type PhaseResult } from './load.js';

export interface ReloadOptions {
  /** Length of each steady window (one before every reload cycle). */
  readonly steadySeconds: number;
  readonly cycles: number;
  readonly concurrency: number;
  /** Pause after each add and each removal, on top of waiting for the change to be visible. */
  readonly settleMs: number;
  readonly log?: (line: string) => void;
}

export interface PhaseSummary {
  readonly requests: number;
  readonly failed: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly errors: readonly string[];
}

export interface ReloadResult {
  readonly date: string;
  readonly options: Omit<ReloadOptions, 'log'>;
  readonly steady: PhaseSummary;
  readonly reload: PhaseSummary;
  /** Versions that answered during the reload phase. */
  readonly versionsServed: number;
  /** reload p99 / steady p99 */
  readonly p99Ratio: number;
  readonly p99WithinTwice: boolean;
}

export const defaultReloadOptions: ReloadOptions = { steadySeconds: 1, cycles: 20, concurrency: 8, settleMs: 200 };

function merge(parts: readonly PhaseResult[]): PhaseResult {
  const offsets: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  const perApi: Record<string, number> = {};
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.offsets)) offsets[k] = (offsets[k] ?? 0) + v;
    for (const [k, v] of Object.entries(p.reasons)) reasons[k] = (reasons[k] ?? 0) + v;
    for (const [k, v] of Object.entries(p.perApi)) perApi[k] = (perApi[k] ?? 0) + v;
  }
  return {
    ok: parts.reduce((n, p) => n + p.ok, 0),
    failed: parts.reduce((n, p) => n + p.failed, 0),
    errors: parts.flatMap((p) => p.errors).slice(0, 20),
    reasons, perApi, offsets,
    latenciesMs: parts.flatMap((p) => p.latenciesMs),
    seconds: parts.reduce((n, p) => n + p.seconds, 0),
  };
}

function summary(r: PhaseResult): PhaseSummary {
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    requests: r.ok + r.failed,
    failed: r.failed,
    seconds: round(r.seconds),
    rps: Math.round((r.ok + r.failed) / r.seconds),
    p50Ms: round(percentile(r.latenciesMs, 50)),
    p90Ms: round(percentile(r.latenciesMs, 90)),
    p99Ms: round(percentile(r.latenciesMs, 99)),
    maxMs: round(percentile(r.latenciesMs, 100)),
    errors: r.errors,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function versionStates(server: RunningServer): Promise<Record<string, string>> {
  const res = await fetch(`${server.restUrl}/v1/models/m`);
  const body = (await res.json()) as { model_version_status: { version: string; state: string }[] };
  return Object.fromEntries(body.model_version_status.map((v) => [v.version, v.state]));
}

/** Polls the status until `ok` holds (the server applies repository changes on its poll or a reload). */
async function waitFor(server: RunningServer, what: string, ok: (s: Record<string, string>) => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const s = await versionStates(server);
    if (ok(s)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await sleep(25);
  }
}

export async function runReloadUnderLoad(options: ReloadOptions = defaultReloadOptions): Promise<ReloadResult> {
  const log = options.log ?? (() => {});
  const dir = tempDir('tsms-reload-bench-');
  let server: RunningServer | undefined;
  let load: LoadGenerator | undefined;
  try {
    const base = path.join(dir.path, 'm');
    writeRepository(dir.path, { m: { 1: dummyModel(1) } });
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({ model_config_list: [{ config: { name: 'm', base_path: base, model_version_policy: { all: {} } } }] }));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '1'] });
    load = new LoadGenerator(server, { model: 'm', concurrency: options.concurrency, offsetIsVersion: true, recordLatency: true }).start();

    await sleep(1000); // warm-up: connections, JIT
    load.mark();
    // Steady windows and reload cycles alternate, so that whatever else the machine is doing
    // weighs on both phases alike.
    const steadyParts: PhaseResult[] = [];
    const reloadParts: PhaseResult[] = [];
    const url = server.restUrl;
    log(`${options.cycles} × (${options.steadySeconds} s steady, then one add/remove cycle) at ${options.concurrency} clients`);
    for (let n = 1; n <= options.cycles; n++) {
      await sleep(options.steadySeconds * 1000);
      steadyParts.push(load.mark());
      // Add version n+1: it loads beside n and becomes the default.
      writeRepository(dir.path, { m: { [n + 1]: dummyModel(n + 1) } });
      await fetch(`${url}/v1/config/reload`, { method: 'POST' });
      await waitFor(server, `version ${n + 1} AVAILABLE`, (st) => st[String(n + 1)] === 'AVAILABLE');
      await sleep(options.settleMs);
      // Remove version n: it retires once its in-flight requests are done.
      rmSync(path.join(base, String(n)), { recursive: true, force: true });
      await fetch(`${url}/v1/config/reload`, { method: 'POST' });
      await waitFor(server, `version ${n} END`, (st) => st[String(n)] === 'END');
      await sleep(options.settleMs);
      reloadParts.push(load.mark());
      log(`  cycle ${n}: version ${n + 1} serving, version ${n} retired`);
    }
    await load.stop();
    load = undefined;
    const steady = merge(steadyParts);
    const reloading = merge(reloadParts);

    const s = summary(steady);
    const r = summary(reloading);
    const ratio = Math.round((r.p99Ms / s.p99Ms) * 100) / 100;
    const { log: _omit, ...rest } = options;
    void _omit;
    return {
      date: new Date().toISOString(),
      options: rest,
      steady: s,
      reload: r,
      versionsServed: Object.keys(reloading.offsets).length,
      p99Ratio: ratio,
      p99WithinTwice: r.p99Ms <= 2 * s.p99Ms,
    };
  } finally {
    await load?.stop();
    await server?.stop();
    dir.remove();
  }
}

export function reloadMarkdown(r: ReloadResult): string {
  const row = (name: string, p: PhaseSummary) =>
    `| ${name} | ${p.requests} | ${p.failed} | ${p.rps} | ${p.p50Ms} | ${p.p90Ms} | ${p.p99Ms} | ${p.maxMs} |`;
  return [
    `Reload under load, ${r.date} — ${r.options.concurrency} clients over 5 APIs, ${r.options.cycles} add/remove cycles`,
    '',
    '| phase | requests | failed | req/s | p50 ms | p90 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    row('steady', r.steady),
    row('reloading', r.reload),
    '',
    `Versions that answered during reloads: ${r.versionsServed}. p99 reloading / steady = ${r.p99Ratio} (target ≤ 2: ${r.p99WithinTwice ? 'met' : 'missed'}).`,
  ].join('\n');
}

function parseArgs(argv: readonly string[]): { options: ReloadOptions; write: boolean } {
  const options = { ...defaultReloadOptions };
  let write = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a number`);
      return v;
    };
    if (a === '--steady-seconds') options.steadySeconds = next();
    else if (a === '--cycles') options.cycles = Math.max(1, Math.round(next()));
    else if (a === '--concurrency') options.concurrency = Math.max(1, Math.round(next()));
    else if (a === '--settle-ms') options.settleMs = next();
    else if (a === '--no-write') write = false;
    else if (a === '--help') {
      console.log('usage: npm run bench:reload -- [--steady-seconds S] [--cycles N] [--concurrency C] [--settle-ms MS] [--no-write]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return { options: { ...options, log: (l) => console.error(l) }, write };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { options, write } = parseArgs(process.argv.slice(2));
  const result = await runReloadUnderLoad(options);
  const md = reloadMarkdown(result);
  console.log(md);
  console.log(JSON.stringify(result, null, 1));
  if (write) {
    const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bench/reload/results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'latest.json'), `${JSON.stringify(result, null, 1)}\n`);
    writeFileSync(path.join(out, 'latest.md'), `${md}\n`);
  }
  process.exit(result.reload.failed === 0 && result.steady.failed === 0 && result.p99WithinTwice ? 0 : 1);
}
