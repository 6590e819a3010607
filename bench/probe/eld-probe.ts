/**
 * Responsiveness probe (event-loop delay proxy): every 10 ms, one cheap request to the server
 * (REST GET /v1/models/<m> or gRPC GetModelStatus), one at a time, from its own process. While a
 * compute-bound model is under load, the probe's latency is bounded below by how long the server's
 * event loop is blocked, so its p99 stands in for the server's event-loop delay p99 (plus one
 * loopback round trip, ~0.1-0.3 ms).
 *   node dist/bench/probe/eld-probe.js '{"kind":"rest"|"grpc","origin":"http://127.0.0.1:P","path":"...","bodyFile"?:"...","seconds":S,"intervalMs":10}'
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

interface Params {
  readonly kind: 'rest' | 'grpc';
  readonly origin: string;
  readonly path: string;
  readonly bodyFile?: string;
  readonly seconds: number;
  readonly intervalMs: number;
}

const p = JSON.parse(process.argv[2]!) as Params;

function restProbe(): { send(): Promise<boolean>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(p.path, p.origin);
  return {
    send: () => new Promise((resolve) => {
      http.get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      }).on('error', () => resolve(false));
    }),
    close: () => agent.destroy(),
  };
}

function grpcProbe(): { send(): Promise<boolean>; close(): void } {
  const session = http2.connect(p.origin);
  const body = readFileSync(p.bodyFile!);
  return {
    send: () => new Promise((resolve) => {
      const s = session.request({ ':method': 'POST', ':path': p.path, 'content-type': 'application/grpc', te: 'trailers' });
      let status: string | undefined;
      s.on('response', (h) => { status = h['grpc-status'] as string | undefined; });
      s.on('trailers', (t) => { status = t['grpc-status'] as string | undefined; });
      s.on('data', () => {});
      s.on('end', () => resolve(status === '0'));
      s.on('error', () => resolve(false));
      s.end(body);
    }),
    close: () => session.close(),
  };
}

async function main(): Promise<void> {
  const probe = p.kind === 'rest' ? restProbe() : grpcProbe();
  const latenciesMs: number[] = [];
  let errors = 0;
  const end = performance.now() + p.seconds * 1000;
  let next = performance.now();
  while (performance.now() < end) {
    const t0 = performance.now();
    const ok = await probe.send();
    latenciesMs.push(performance.now() - t0);
    if (!ok) errors++;
    next += p.intervalMs;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    else next = performance.now();
  }
  probe.close();
  const sorted = Float64Array.from(latenciesMs).sort();
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]! : NaN);
  process.stdout.write(`${JSON.stringify({ probes: sorted.length, errors, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: sorted[sorted.length - 1] ?? NaN })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
