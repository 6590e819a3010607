/**
 * In-process limit: onnxruntime-node on the same model file, batch and session options as the
 * server, in a closed loop with C runs in flight and no transport at all. Run as its own process:
 *   node dist/bench/refs/inproc.js '<json InprocParams>'
 * Modes: 'main' = one session on the main thread (intraOp N); 'workers' = W worker_threads, each
 * with its own session (intraOp N), the C in-flight runs split between them (node-perf §2.3: the
 * best way to use 2 cores for a compute-bound model). Prints one JSON line with the result.
 */
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { openBenchSession } from './ort-runner.js';

export interface InprocParams {
  readonly modelFile: string;
  readonly inputName: string;
  readonly shape: readonly number[];
  /** Raw little-endian float32 file holding one request's input. */
  readonly inputFile: string;
  readonly mode: 'main' | 'workers';
  readonly workers: number;
  readonly intraOp: number;
  readonly concurrency: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

export interface LoopResult {
  readonly requests: number;
  readonly seconds: number;
  readonly latenciesUs: number[];
  /** Process-wide CPU (all threads) during this loop's timed window. */
  readonly cpuSeconds: number;
}

export interface InprocResult {
  readonly requests: number;
  readonly seconds: number;
  readonly reqPerSec: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly cpuSeconds: number;
}

/** Runs `concurrency` closed loops on one session: warm-up, then a timed window. */
async function closedLoop(p: InprocParams, intraOp: number, concurrency: number): Promise<LoopResult> {
  const session = await openBenchSession(p, intraOp);
  const latenciesUs: number[] = [];
  let requests = 0;
  let measuring = false;
  let stopAt = performance.now() + p.warmupSeconds * 1000;
  const loop = async () => {
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      await session.run();
      if (measuring) {
        latenciesUs.push((performance.now() - t0) * 1000);
        requests++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  measuring = true;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  stopAt = start + p.seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await session.release();
  return { requests, seconds, latenciesUs, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function pct(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function main(): Promise<void> {
  const p = JSON.parse(process.argv[2]!) as InprocParams;
  let loops: LoopResult[];
  if (p.mode === 'main') {
    loops = [await closedLoop(p, p.intraOp, p.concurrency)];
  } else {
    const shares = Array.from({ length: p.workers }, (_, i) => Math.floor(p.concurrency / p.workers) + (i < p.concurrency % p.workers ? 1 : 0)).filter((c) => c > 0);
    loops = await Promise.all(shares.map((c) => new Promise<LoopResult>((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { workerData: { params: p, concurrency: c } });
      w.once('message', resolve);
      w.once('error', reject);
    })));
  }
  const all = Float64Array.from(loops.flatMap((l) => l.latenciesUs)).sort();
  const requests = loops.reduce((s, l) => s + l.requests, 0);
  const seconds = Math.max(...loops.map((l) => l.seconds));
  const result: InprocResult = {
    requests,
    seconds,
    reqPerSec: requests / seconds,
    p50Us: pct(all, 0.5),
    p90Us: pct(all, 0.9),
    p99Us: pct(all, 0.99),
    // Worker windows overlap and each sees the whole process, so average them.
    cpuSeconds: loops.reduce((s, l) => s + l.cpuSeconds, 0) / loops.length,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (isMainThread) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
} else {
  const { params, concurrency } = workerData as { params: InprocParams; concurrency: number };
  closedLoop(params, params.intraOp, concurrency).then((r) => parentPort!.postMessage(r));
}
