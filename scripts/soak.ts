/**
 * Soak test (issue 10 item 5): a million requests over the five client APIs (TFS gRPC and REST,
 * KServe gRPC, REST JSON and REST binary) against one server process, every answer checked, while
 * the server's resident memory (VmRSS) is sampled. After a warm-up (the first tenth of the
 * requests) memory must settle: it may not grow by more than the bound above its level at the end
 * of the warm-up. Not one request may fail.
 *
 *   npm run soak                                  # 1,000,000 requests, 16 clients, bound 64 MiB
 *   npm run soak -- --requests 50000 --concurrency 8 --bound-mb 64 --no-write
 *
 * The result is printed as Markdown and JSON and written to bench/reload/results/soak-latest.{json,md}
 * (the README quotes it). Exit code 1 when a request failed or memory grew past the bound.
 * CI runs a shortened soak as test/faults-soak.test.ts.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dummyModel, tempDir, writeRepository } from '../test/helpers/models.js';
import { startServer, type RunningServer } from '../test/helpers/server.js';
import { LoadGenerator, type PhaseResult } from '../bench/reload/load.js';

export interface SoakOptions {
  readonly requests: number;
  readonly concurrency: number;
  /** Allowed growth of the server's RSS after the warm-up, in MiB. */
  readonly boundMb: number;
  /** Share of the requests counted as warm-up. */
  readonly warmupFraction: number;
  readonly sampleMs: number;
  readonly log?: (line: string) => void;
}

export const defaultSoakOptions: SoakOptions = { requests: 1_000_000, concurrency: 16, boundMb: 64, warmupFraction: 0.1, sampleMs: 500 };

export interface MemorySample {
  /** Requests sent when the sample was taken. */
  readonly requests: number;
  readonly rssMb: number;
}

export interface SoakResult {
  readonly date: string;
  readonly options: Omit<SoakOptions, 'log'>;
  readonly requests: number;
  readonly failed: number;
  readonly errors: readonly string[];
  readonly perApi: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly rps: number;
  readonly rssStartMb: number;
  /** RSS when the warm-up ended. */
  readonly rssAfterWarmupMb: number;
  /** Highest RSS after the warm-up. */
  readonly rssPeakAfterWarmupMb: number;
  readonly rssEndMb: number;
  readonly growthAfterWarmupMb: number;
  /** Least-squares slope of RSS over the second half of the run, MiB per 100k requests. */
  readonly slopeMbPer100k: number;
  readonly withinBound: boolean;
  readonly samples: readonly MemorySample[];
}

/** VmRSS of a process in MiB (Linux /proc). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no VmRSS for pid ${pid}`);
  return kb / 1024;
}

function slope(points: readonly MemorySample[]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.requests, 0) / n;
  const my = points.reduce((s, p) => s + p.rssMb, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.requests - mx) * (p.rssMb - my);
    den += (p.requests - mx) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 100_000;
}

const round = (v: number) => Math.round(v * 10) / 10;

export async function runSoak(options: SoakOptions = defaultSoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const dir = tempDir('tsms-soak-');
  let server: RunningServer | undefined;
  let load: LoadGenerator | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    writeRepository(dir.path, { m: { 1: dummyModel(1) } });
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({ model_config_list: [{ config: { name: 'm', base_path: path.join(dir.path, 'm') } }] }));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '1'] });
    const pid = server.proc.pid!;
    const samples: MemorySample[] = [{ requests: 0, rssMb: rssMb(pid) }];
    const started = performance.now();
    load = new LoadGenerator(server, { model: 'm', concurrency: options.concurrency, maxRequests: options.requests }).start();
    const generator = load;
    let lastLogged = 0;
    timer = setInterval(() => {
      samples.push({ requests: generator.total, rssMb: rssMb(pid) });
      if (generator.total - lastLogged >= options.requests / 20) {
        lastLogged = generator.total;
        log(`  ${generator.total} requests, RSS ${round(samples.at(-1)!.rssMb)} MiB`);
      }
    }, options.sampleMs);
    const result: PhaseResult = await load.finished();
    clearInterval(timer);
    timer = undefined;
    samples.push({ requests: load.total, rssMb: rssMb(pid) });
    await load.stop();
    load = undefined;

    const warmupEnd = options.requests * options.warmupFraction;
    const afterWarmup = samples.filter((s) => s.requests >= warmupEnd);
    const atWarmupEnd = afterWarmup[0] ?? samples.at(-1)!;
    const peak = Math.max(...afterWarmup.map((s) => s.rssMb));
    const growth = peak - atWarmupEnd.rssMb;
    const secondHalf = samples.filter((s) => s.requests >= options.requests / 2);
    const seconds = (performance.now() - started) / 1000;
    const { log: _omit, ...rest } = options;
    void _omit;
    return {
      date: new Date().toISOString(),
      options: rest,
      requests: result.ok + result.failed,
      failed: result.failed,
      errors: result.errors,
      perApi: result.perApi,
      seconds: round(seconds),
      rps: Math.round((result.ok + result.failed) / seconds),
      rssStartMb: round(samples[0]!.rssMb),
      rssAfterWarmupMb: round(atWarmupEnd.rssMb),
      rssPeakAfterWarmupMb: round(peak),
      rssEndMb: round(samples.at(-1)!.rssMb),
      growthAfterWarmupMb: round(growth),
      slopeMbPer100k: Math.round(slope(secondHalf) * 100) / 100,
      withinBound: growth <= options.boundMb,
      samples: samples.map((s) => ({ requests: s.requests, rssMb: round(s.rssMb) })),
    };
  } finally {
    if (timer) clearInterval(timer);
    await load?.stop();
    await server?.stop();
    dir.remove();
  }
}

export function soakMarkdown(r: SoakResult): string {
  return [
    `Soak, ${r.date}: ${r.requests.toLocaleString('en-US')} requests over ${Object.keys(r.perApi).length} APIs, ${r.options.concurrency} clients, ${r.seconds} s (${r.rps} req/s)`,
    '',
    '| failed | RSS start | RSS after warm-up | peak after warm-up | RSS end | growth after warm-up | bound | slope, 2nd half |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${r.failed} | ${r.rssStartMb} MiB | ${r.rssAfterWarmupMb} MiB | ${r.rssPeakAfterWarmupMb} MiB | ${r.rssEndMb} MiB | ${r.growthAfterWarmupMb} MiB | ${r.options.boundMb} MiB (${r.withinBound ? 'met' : 'exceeded'}) | ${r.slopeMbPer100k} MiB / 100k req |`,
  ].join('\n');
}

function parseArgs(argv: readonly string[]): { options: SoakOptions; write: boolean } {
  const options = { ...defaultSoakOptions };
  let write = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--requests') options.requests = Math.round(next());
    else if (a === '--concurrency') options.concurrency = Math.round(next());
    else if (a === '--bound-mb') options.boundMb = next();
    else if (a === '--warmup-fraction') options.warmupFraction = next();
    else if (a === '--sample-ms') options.sampleMs = next();
    else if (a === '--no-write') write = false;
    else if (a === '--help') {
      console.log('usage: npm run soak -- [--requests N] [--concurrency C] [--bound-mb MB] [--warmup-fraction F] [--sample-ms MS] [--no-write]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return { options: { ...options, log: (l) => console.error(l) }, write };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { options, write } = parseArgs(process.argv.slice(2));
  console.error(`soak: ${options.requests} requests, ${options.concurrency} clients`);
  const result = await runSoak(options);
  const md = soakMarkdown(result);
  console.log(md);
  if (result.errors.length > 0) console.log(`first failures:\n${result.errors.join('\n')}`);
  if (write) {
    const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/reload/results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'soak-latest.json'), `${JSON.stringify(result, null, 1)}\n`);
    writeFileSync(path.join(out, 'soak-latest.md'), `${md}\n`);
  }
  process.exit(result.failed === 0 && result.withinBound ? 0 : 1);
}
