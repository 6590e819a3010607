/**
 * One measured window (node-perf §6): warm-up, wait-until-idle gate, then the timed load run while
 * the server's CPU (whole process tree), the machine's busy time and the load generator's CPU are
 * sampled from /proc. Also the in-process reference run, which measures itself.
 */
import { availableParallelism } from 'node:os';
import { waitUntilIdle } from './idle.js';
import type { LoadGenerator, LoadResult, LoadSpec } from './loadgen/types.js';
import { benchScript } from './paths.js';
import { busyCores, reapedChildrenCpuSeconds, selfCpuSeconds, systemTimes, treeCpuSeconds } from './proc.js';
import { runToEnd } from './spawn.js';
import type { InprocParams, InprocResult } from '../refs/inproc.js';

export interface Measurement {
  readonly tool: string;
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly reqPerSec: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  /** Server (or in-process reference) CPU per successful request, µs. */
  readonly cpuUsPerReq: number;
  readonly loadgenCores: number;
  /** Busy cores not explained by the server, the load generator or the harness. */
  readonly foreignCores: number;
  readonly idleWaitMs: number;
  readonly responseBytesPerRequest?: number;
}

export interface WindowPlan {
  readonly generator: LoadGenerator;
  readonly spec: LoadSpec;
  readonly serverPid: number;
  readonly warmupSeconds: number;
  readonly idleThreshold: number;
  readonly idleMaxWaitMs: number;
}

const cores = availableParallelism();

export async function measureWindow(plan: WindowPlan, during?: () => Promise<unknown>): Promise<{ m: Measurement; duringResult?: unknown }> {
  if (plan.warmupSeconds > 0) {
    await plan.generator.run({ ...plan.spec, seconds: plan.warmupSeconds, requests: undefined });
  }
  const idle = await waitUntilIdle(plan.idleThreshold, plan.idleMaxWaitMs);
  const sys0 = systemTimes();
  const server0 = treeCpuSeconds(plan.serverPid);
  const children0 = reapedChildrenCpuSeconds();
  const self0 = selfCpuSeconds();
  const t0 = performance.now();
  const [r, duringResult] = await Promise.all([plan.generator.run(plan.spec), during?.()]) as [LoadResult, unknown];
  const wall = (performance.now() - t0) / 1000;
  const serverCpu = treeCpuSeconds(plan.serverPid) - server0;
  const loadgenCpu = reapedChildrenCpuSeconds() - children0;
  const selfCpu = selfCpuSeconds() - self0;
  const busy = busyCores(sys0, systemTimes(), cores);
  return {
    m: {
      tool: r.tool,
      requests: r.requests,
      errors: r.errors,
      seconds: r.seconds,
      reqPerSec: r.reqPerSec,
      p50Us: r.p50Us,
      p90Us: r.p90Us,
      p99Us: r.p99Us,
      cpuUsPerReq: r.requests > 0 ? (serverCpu / r.requests) * 1e6 : NaN,
      loadgenCores: loadgenCpu / wall,
      foreignCores: Math.max(0, busy - (serverCpu + loadgenCpu + selfCpu) / wall),
      idleWaitMs: idle.waitedMs,
      responseBytesPerRequest: r.responseBytesPerRequest,
    },
    duringResult,
  };
}

/** Runs the in-process reference as its own process (it warms up and times itself). */
export async function measureInproc(params: InprocParams, idleThreshold: number, idleMaxWaitMs: number): Promise<Measurement> {
  const idle = await waitUntilIdle(idleThreshold, idleMaxWaitMs);
  const sys0 = systemTimes();
  const children0 = reapedChildrenCpuSeconds();
  const t0 = performance.now();
  const { code, stdout, stderr } = await runToEnd(process.execPath, [benchScript('refs/inproc.js'), JSON.stringify(params)], (params.seconds + params.warmupSeconds + 120) * 1000);
  if (code !== 0) throw new Error(`in-process reference failed (${code}): ${stderr}`);
  const wall = (performance.now() - t0) / 1000;
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as InprocResult;
  const childCpu = reapedChildrenCpuSeconds() - children0;
  const busy = busyCores(sys0, systemTimes(), cores);
  return {
    tool: 'in-process',
    requests: r.requests,
    errors: 0,
    seconds: r.seconds,
    reqPerSec: r.reqPerSec,
    p50Us: r.p50Us,
    p90Us: r.p90Us,
    p99Us: r.p99Us,
    cpuUsPerReq: r.requests > 0 ? (r.cpuSeconds / r.requests) * 1e6 : NaN,
    loadgenCores: 0,
    foreignCores: Math.max(0, busy - childCpu / wall),
    idleWaitMs: idle.waitedMs,
  };
}
