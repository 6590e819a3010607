/**
 * h2load (nghttp2) driver. Used for gRPC: a pre-framed request body with `content-type:
 * application/grpc` and `te: trailers`; h2load does not look at grpc-status, so every scenario is
 * verified with a real client before it is measured (see verify.ts). Also drives HTTP/1.1 (`--h1`)
 * when a fixed request count is needed, which wrk cannot do. Latency percentiles come from
 * `--log-file` (one line per request: start µs, status, duration µs).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runToEnd } from '../spawn.js';
import { percentiles } from '../stats.js';
import type { LoadGenerator, LoadResult, LoadSpec } from './types.js';

export function h2loadArgs(spec: LoadSpec, logFile: string, h1: boolean): string[] {
  const connections = spec.connections ?? (h1 ? spec.concurrency : 1);
  const streams = Math.max(1, Math.ceil(spec.concurrency / connections));
  const args = ['-c', String(connections), '-m', String(h1 ? 1 : streams), '-d', spec.bodyFile, `--log-file=${logFile}`];
  if (spec.seconds !== undefined) args.push('-D', `${Math.max(100, Math.round(spec.seconds * 1000))}ms`);
  else args.push('-n', String(Math.max(spec.requests ?? 1, connections)));
  // No timeoutSeconds here: h2load's -T closes the connection after that long, whatever it is doing.
  if (h1) args.push('--h1');
  for (const [k, v] of Object.entries(spec.headers)) args.push('-H', `${k}: ${v}`);
  args.push(`${spec.origin}${spec.path}`);
  return args;
}

export function parseH2loadOutput(stdout: string): { seconds: number; requests: number; succeeded: number; failed: number; dataBytes: number } {
  const finished = /finished in ([\d.]+)(ms|s),/.exec(stdout);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
  const traffic = /traffic: .*?, [\d.]+\w*B \((\d+)\) data/.exec(stdout);
  if (!finished || !req) throw new Error(`cannot parse h2load output:\n${stdout.slice(-2000)}`);
  const seconds = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
  return {
    seconds,
    requests: Number(req[3]),
    succeeded: Number(req[4]),
    failed: Number(req[5]) + Number(req[6]) + Number(req[7]),
    dataBytes: traffic ? Number(traffic[1]) : NaN,
  };
}

export function h2loadGenerator(binary: string, h1 = false): LoadGenerator {
  const name = h1 ? 'h2load-h1' : 'h2load';
  return {
    name,
    async run(spec: LoadSpec): Promise<LoadResult> {
      const dir = mkdtempSync(path.join(tmpdir(), 'tsms-bench-h2load-'));
      const logFile = path.join(dir, 'requests.log');
      try {
        const limit = ((spec.seconds ?? 0) + 120) * 1000 + (spec.requests ?? 0) * 50;
        const { code, stdout, stderr } = await runToEnd(binary, h2loadArgs(spec, logFile, h1), limit);
        if (code !== 0) throw new Error(`h2load exited ${code}: ${stderr || stdout}`);
        const parsed = parseH2loadOutput(stdout);
        const durations: number[] = [];
        let non2xx = 0;
        for (const line of readFileSync(logFile, 'utf8').split('\n')) {
          if (!line) continue;
          const [, status, us] = line.split('\t');
          if (status !== '200') non2xx++;
          durations.push(Number(us));
        }
        const p = percentiles(durations);
        const ok = Math.max(0, parsed.succeeded - non2xx);
        return {
          tool: name,
          requests: ok,
          errors: parsed.failed + non2xx,
          seconds: parsed.seconds,
          reqPerSec: ok / parsed.seconds,
          p50Us: p.p50,
          p90Us: p.p90,
          p99Us: p.p99,
          responseBytesPerRequest: h1 ? undefined : parsed.dataBytes / Math.max(1, parsed.succeeded),
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
