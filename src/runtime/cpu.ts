import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * CPUs this process may really use: `os.availableParallelism()` (the affinity mask), capped by a
 * container's CPU quota. Node does not read the quota itself, and a 2-CPU quota on a 64-core host
 * would otherwise get 64 ORT threads that the kernel throttles every period.
 */
export function usableCpus(): number {
  cached ??= computeUsableCpus();
  return cached;
}

let cached: number | undefined;

function computeUsableCpus(): number {
  const parallelism = os.availableParallelism();
  const quota = cgroupCpuQuota();
  return quota === undefined ? parallelism : Math.min(parallelism, quotaToCpus(quota));
}

/**
 * A fractional quota is rounded down (at least 1), as Go's automaxprocs does: running one thread
 * more than the quota pays makes the kernel stall all of them at the end of each period.
 */
export function quotaToCpus(quota: number): number {
  return Math.max(1, Math.floor(quota + 1e-9));
}

/** cgroup v2 `cpu.max` content ("max 100000" or "200000 100000") → CPUs, or undefined when unlimited. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return undefined;
  return ratio(Number(quota), Number(period ?? 100000));
}

function ratio(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return quota / period;
}

/** The quota of our own cgroup (v2, then v1), or undefined when there is none or it cannot be read. */
function cgroupCpuQuota(): number | undefined {
  const v2Path = ownCgroupPath('0::');
  for (const dir of uniq([v2Path, '/'])) {
    const text = readOptional(`/sys/fs/cgroup${dir === '/' ? '' : dir}/cpu.max`);
    if (text !== undefined) return parseCpuMax(text);
  }
  const v1Path = ownCgroupPath(':cpu:') ?? ownCgroupPath(':cpu,cpuacct:');
  for (const dir of uniq([v1Path, '/'])) {
    const base = `/sys/fs/cgroup/cpu${dir === '/' ? '' : dir}`;
    const quota = readOptional(`${base}/cpu.cfs_quota_us`);
    const period = readOptional(`${base}/cpu.cfs_period_us`);
    if (quota !== undefined && period !== undefined) return ratio(Number(quota), Number(period));
  }
  return undefined;
}

/** Our path in a cgroup hierarchy from /proc/self/cgroup, e.g. "0::/system.slice/x" → "/system.slice/x". */
function ownCgroupPath(marker: string): string | undefined {
  const text = readOptional('/proc/self/cgroup');
  if (text === undefined) return undefined;
  for (const line of text.split('\n')) {
    const at = line.indexOf(marker);
    if (at >= 0 && (marker.startsWith('0::') ? at === 0 : true)) return line.slice(at + marker.length) || '/';
  }
  return undefined;
}

function uniq(paths: readonly (string | undefined)[]): string[] {
  return [...new Set(paths.filter((p): p is string => p !== undefined))];
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
