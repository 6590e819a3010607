/**
 * Fallback load generator when h2load/wrk are not installed, built on node core (node:http2 for
 * gRPC with the same pre-framed body, node:http keep-alive for REST) in worker_threads. A Node
 * client costs far more CPU per request than h2load/wrk (node-perf §2.5: it caps at 2-3.8k req/s
 * and measures itself), so rows it produced are labelled node-h2 / node-http.
 *   node dist/bench/loadgen/node-loadgen.js '<json LoadSpec + workers>'   → one JSON line
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { LoadSpec } from '../lib/loadgen/types.js';

interface WorkerTask {
  readonly spec: LoadSpec;
  readonly connections: number;
  readonly concurrency: number;
  readonly requests?: number;
}

interface WorkerResult {
  readonly ok: number;
  readonly errors: number;
  readonly bytes: number;
  readonly latenciesUs: number[];
  readonly seconds: number;
}

/** Sends one request; resolves with [ok, response bytes]. */
type Sender = () => Promise<[boolean, number]>;

function grpcSenders(task: WorkerTask, body: Buffer): { senders: Sender[]; close(): void } {
  const sessions = Array.from({ length: task.connections }, () => http2.connect(task.spec.origin));
  const senders = sessions.map((session): Sender => () => new Promise((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': task.spec.path, ...task.spec.headers });
    let bytes = 0;
    let status = 0;
    let grpcStatus: string | undefined;
    stream.on('response', (h) => { status = Number(h[':status']); grpcStatus = h['grpc-status'] as string | undefined; });
    stream.on('trailers', (t) => { grpcStatus = t['grpc-status'] as string | undefined; });
    stream.on('data', (c: Buffer) => { bytes += c.byteLength; });
    stream.on('end', () => resolve([status === 200 && grpcStatus === '0', bytes]));
    stream.on('error', () => resolve([false, bytes]));
    stream.end(body);
  }));
  return { senders, close: () => sessions.forEach((s) => s.close()) };
}

function httpSenders(task: WorkerTask, body: Buffer): { senders: Sender[]; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: task.connections });
  const url = new URL(task.spec.path, task.spec.origin);
  const send: Sender = () => new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...task.spec.headers, 'content-length': body.byteLength } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.byteLength; });
      res.on('end', () => resolve([res.statusCode === 200, bytes]));
      res.on('error', () => resolve([false, bytes]));
    });
    req.on('error', () => resolve([false, 0]));
    req.end(body);
  });
  return { senders: [send], close: () => agent.destroy() };
}

async function runWorker(task: WorkerTask): Promise<WorkerResult> {
  const body = readFileSync(task.spec.bodyFile);
  const { senders, close } = task.spec.transport === 'grpc' ? grpcSenders(task, body) : httpSenders(task, body);
  const latenciesUs: number[] = [];
  let ok = 0;
  let errors = 0;
  let bytes = 0;
  let issued = 0;
  const start = performance.now();
  const deadline = task.spec.seconds !== undefined ? start + task.spec.seconds * 1000 : Infinity;
  const more = () => (task.requests !== undefined ? issued < task.requests : performance.now() < deadline);
  await Promise.all(Array.from({ length: task.concurrency }, async (_, i) => {
    const send = senders[i % senders.length]!;
    while (more()) {
      issued++;
      const t0 = performance.now();
      const [good, n] = await send();
      latenciesUs.push((performance.now() - t0) * 1000);
      bytes += n;
      if (good) ok++;
      else errors++;
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  close();
  return { ok, errors, bytes, latenciesUs, seconds };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]!) as LoadSpec & { workers?: number };
  const connections = spec.connections ?? (spec.transport === 'grpc' ? 1 : spec.concurrency);
  const workers = Math.max(1, Math.min(spec.workers ?? 2, connections, spec.concurrency));
  const share = (total: number, i: number) => Math.floor(total / workers) + (i < total % workers ? 1 : 0);
  const results = await Promise.all(Array.from({ length: workers }, (_, i) => new Promise<WorkerResult>((resolve, reject) => {
    const task: WorkerTask = {
      spec,
      connections: Math.max(1, share(connections, i)),
      concurrency: Math.max(1, share(spec.concurrency, i)),
      requests: spec.requests !== undefined ? share(spec.requests, i) : undefined,
    };
    const w = new Worker(new URL(import.meta.url), { workerData: task });
    w.once('message', resolve);
    w.once('error', reject);
  })));
  const ok = results.reduce((s, r) => s + r.ok, 0);
  const seconds = Math.max(...results.map((r) => r.seconds));
  const lat = Float64Array.from(results.flatMap((r) => r.latenciesUs)).sort();
  const at = (q: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.max(0, Math.ceil(q * lat.length) - 1))]! : NaN);
  process.stdout.write(`${JSON.stringify({
    tool: spec.transport === 'grpc' ? 'node-h2' : 'node-http',
    requests: ok,
    errors: results.reduce((s, r) => s + r.errors, 0),
    seconds,
    reqPerSec: ok / seconds,
    p50Us: at(0.5),
    p90Us: at(0.9),
    p99Us: at(0.99),
    responseBytesPerRequest: results.reduce((s, r) => s + r.bytes, 0) / Math.max(1, ok),
  })}\n`);
}

if (isMainThread) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
} else {
  runWorker(workerData as WorkerTask).then((r) => parentPort!.postMessage(r));
}
