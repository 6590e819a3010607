/** Picks the load generator for a transport: h2load for gRPC, wrk for HTTP, node core otherwise. */
import { execFileSync } from 'node:child_process';
import { benchScript } from '../paths.js';
import { runToEnd } from '../spawn.js';
import { h2loadGenerator } from './h2load.js';
import type { LoadGenerator, LoadResult, LoadSpec } from './types.js';
import { wrkGenerator } from './wrk.js';

export * from './types.js';

function which(binary: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export const nodeGenerator: LoadGenerator = {
  name: 'node',
  async run(spec: LoadSpec): Promise<LoadResult> {
    const limit = ((spec.seconds ?? 0) + 120) * 1000 + (spec.requests ?? 0) * 50;
    const { code, stdout, stderr } = await runToEnd(process.execPath, [benchScript('loadgen/node-loadgen.js'), JSON.stringify(spec)], limit);
    if (code !== 0) throw new Error(`node load generator exited ${code}: ${stderr}`);
    return JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult;
  },
};

export interface Generators {
  /** gRPC, duration or count. */
  readonly grpc: LoadGenerator;
  /** HTTP/1.1 for a duration. */
  readonly http: LoadGenerator;
  /** HTTP/1.1 for a fixed number of requests. */
  readonly httpCount: LoadGenerator;
  readonly versions: Record<string, string>;
}

export function pickGenerators(forceNode: boolean): Generators {
  const h2load = forceNode ? undefined : which('h2load');
  const wrk = forceNode ? undefined : which('wrk');
  const versions: Record<string, string> = {};
  if (h2load) versions.h2load = firstLine(h2load, ['--version']);
  if (wrk) versions.wrk = firstLine(wrk, ['-v']);
  return {
    grpc: h2load ? h2loadGenerator(h2load) : nodeGenerator,
    http: wrk ? wrkGenerator(wrk) : nodeGenerator,
    httpCount: h2load ? h2loadGenerator(h2load, true) : nodeGenerator,
    versions,
  };
}

function firstLine(binary: string, args: string[]): string {
  try {
    // wrk -v exits 1 after printing its version.
    return execFileSync(binary, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim();
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? '';
    return out.split('\n')[0]!.trim() || 'unknown';
  }
}
