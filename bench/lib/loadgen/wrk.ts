/**
 * wrk driver for HTTP/1.1 keep-alive: one thread, one connection per request in flight, the POST
 * body loaded by a small Lua script. Latency percentiles from `--latency`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runToEnd } from '../spawn.js';
import type { LoadGenerator, LoadResult, LoadSpec } from './types.js';

const luaString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function wrkScript(spec: LoadSpec): string {
  return [
    `local f = assert(io.open(${luaString(spec.bodyFile)}, "rb"))`,
    'wrk.method = "POST"',
    'wrk.body = f:read("*a")',
    'f:close()',
    ...Object.entries(spec.headers).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`),
    '',
  ].join('\n');
}

const TIME_UNITS: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };
const SIZE_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function micros(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  return m ? Number(m[1]) * TIME_UNITS[m[2]!]! : NaN;
}

export function parseWrkOutput(stdout: string): { non2xx: number; requests: number; seconds: number; readBytes: number; errors: number; p50: number; p90: number; p99: number } {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m), ([\d.]+)(B|KB|MB|GB|TB) read/.exec(stdout);
  if (!total) throw new Error(`cannot parse wrk output:\n${stdout.slice(-2000)}`);
  const dist = (q: string) => {
    const m = new RegExp(`^\\s+${q}%\\s+(\\S+)`, 'm').exec(stdout);
    return m ? micros(m[1]!) : NaN;
  };
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const socketErrors = sock ? sock.slice(1).reduce((s, v) => s + Number(v), 0) : 0;
  return {
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    requests: Number(total[1]),
    seconds: micros(`${total[2]}${total[3]}`) / 1e6,
    readBytes: Number(total[4]) * SIZE_UNITS[total[5]!]!,
    errors: (non2xx ? Number(non2xx[1]) : 0) + socketErrors,
    p50: dist('50'),
    p90: dist('90'),
    p99: dist('99'),
  };
}

export function wrkGenerator(binary: string): LoadGenerator {
  return {
    name: 'wrk',
    async run(spec: LoadSpec): Promise<LoadResult> {
      if (spec.seconds === undefined) throw new Error('wrk runs for a duration, not a request count');
      const dir = mkdtempSync(path.join(tmpdir(), 'tsms-bench-wrk-'));
      const script = path.join(dir, 'post.lua');
      writeFileSync(script, wrkScript(spec));
      try {
        // wrk takes whole seconds only.
        const args = ['-t1', '-c', String(spec.connections ?? spec.concurrency), '-d', `${Math.max(1, Math.round(spec.seconds))}s`, '--latency', '-s', script];
        if (spec.timeoutSeconds) args.push('--timeout', `${spec.timeoutSeconds}s`);
        args.push(`${spec.origin}${spec.path}`);
        const { code, stdout, stderr } = await runToEnd(binary, args, (spec.seconds + 120) * 1000);
        if (code !== 0) throw new Error(`wrk exited ${code}: ${stderr || stdout}`);
        const r = parseWrkOutput(stdout);
        const ok = Math.max(0, r.requests - r.non2xx);
        return {
          tool: 'wrk',
          requests: ok,
          errors: r.errors,
          seconds: r.seconds,
          reqPerSec: ok / r.seconds,
          p50Us: r.p50,
          p90Us: r.p90,
          p99Us: r.p99,
          // Includes response headers, so only a rough check.
          responseBytesPerRequest: r.readBytes / Math.max(1, r.requests),
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
