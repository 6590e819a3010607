/**
 * Turns OVMS settings (target_device, nireq, plugin_config) into an execution plan for
 * onnxruntime: how many sessions, how many threads each, how many concurrent runs, and where
 * they run. Every number here follows ../../../shared/research/node-perf.md (§2 rules 3 and 4).
 */
import type { InferenceSession } from 'onnxruntime-node';
import { servingError } from '../../core/errors.js';
import type { RuntimeOptions } from '../engine.js';

/** Where runs execute: on the event-loop thread, or in worker threads (one session each). */
export type ExecutionMode = 'inline' | 'worker';

/**
 * plugin_config key that forces the execution mode: "inline", "worker", or "auto" (the default:
 * decided per version from warm-up runs at load time).
 */
export const EXECUTION_KEY = 'TSMS_EXECUTION';

/** A warm-up run faster than this runs inline: a worker hop alone costs 50–100 µs per request. */
export const INLINE_THRESHOLD_MS = 1;

export interface ExecutionPlan {
  readonly execution: ExecutionMode | 'auto';
  /** Worker sessions (streams) used when the version runs in workers. */
  readonly workerStreams: number;
  /** intraOpNumThreads of each worker session. */
  readonly workerIntraOpThreads: number;
  /** intraOpNumThreads of the one session used when the version runs inline. */
  readonly inlineIntraOpThreads: number;
  /** Explicit nireq, or undefined for auto (= the number of streams actually used). */
  readonly nireq: number | undefined;
  /** plugin_config keys that were not understood and are ignored. */
  readonly ignoredKeys: readonly string[];
}

const STREAM_KEYS = ['NUM_STREAMS', 'CPU_THROUGHPUT_STREAMS'] as const;
const THREAD_KEYS = ['INFERENCE_NUM_THREADS', 'CPU_THREADS_NUM'] as const;
const AUTO_STREAMS = new Set(['AUTO', 'CPU_THROUGHPUT_AUTO', 'CPU_THROUGHPUT_NUMA', 'NUMA', '-1']);
/** OpenVINO CPU keys we accept but that have no onnxruntime counterpart (thread pinning, etc.). */
const ACCEPTED_NO_EFFECT = new Set([
  'CPU_BIND_THREAD', 'ENABLE_CPU_PINNING', 'AFFINITY', 'SCHEDULING_CORE_TYPE', 'ENABLE_HYPER_THREADING',
  'INFERENCE_PRECISION_HINT', 'PERFORMANCE_HINT_NUM_REQUESTS', 'CPU_DENORMALS_OPTIMIZATION',
  'LOG_LEVEL', 'PERF_COUNT', 'DYN_BATCH_ENABLED', 'EXCLUSIVE_ASYNC_REQUESTS',
]);
/** Far above any useful value; stops a typo from starting thousands of threads. */
const MAX_STREAMS = 256;
const MAX_THREADS = 1024;

/** Only the CPU exists here; OVMS devices we do not have fail the load clearly. */
export function checkTargetDevice(device: string): void {
  if (device.trim().toUpperCase() === 'CPU') return;
  throw servingError(
    'CANNOT_LOAD_NETWORK_INTO_TARGET_DEVICE',
    `target_device "${device}" is not available; only CPU is available in this server (onnxruntime CPU execution provider)`,
  );
}

/**
 * Defaults, and why (2-core measurements in node-perf.md):
 * - Streams default to AUTO (OVMS sets CPU_THROUGHPUT_AUTO when plugin_config has no streams key),
 *   and AUTO means one worker session per usable CPU with intraOp = 1: for a CNN, 2 workers × 1
 *   thread gave 124–142 img/s against 89–121 for 1 session × 2 threads. A single client sees higher
 *   latency that way (14 vs 8.7 ms per image); NUM_STREAMS=1 or PERFORMANCE_HINT=LATENCY give it
 *   one session with all threads.
 * - Inline there is only ever one session (two sessions on one thread serialize and were slower),
 *   so it gets all the threads: CPUs / explicit streams, else every CPU.
 * - intraOpNumThreads is always explicit: left at 0, ORT pins its pool threads and runs flipped
 *   between 8 and 16 ms.
 */
export function planExecution(options: RuntimeOptions, cpus: number): ExecutionPlan {
  const config = normalizeKeys(options.pluginConfig);
  const streamsSetting = firstOf(config, STREAM_KEYS);
  const threadsSetting = firstOf(config, THREAD_KEYS);
  const hint = config.get('PERFORMANCE_HINT')?.trim().toUpperCase();
  if (hint !== undefined && hint !== 'LATENCY' && hint !== 'THROUGHPUT' && hint !== 'CUMULATIVE_THROUGHPUT' && hint !== 'UNDEFINED' && hint !== '') {
    throw badConfig(`PERFORMANCE_HINT "${config.get('PERFORMANCE_HINT')}" must be LATENCY or THROUGHPUT`);
  }

  const explicitStreams = streamsSetting && parseStreams(streamsSetting.key, streamsSetting.value, cpus);
  const threads = threadsSetting ? parseThreads(threadsSetting.key, threadsSetting.value, cpus) : cpus;
  const workerStreams = explicitStreams ?? (hint === 'LATENCY' ? 1 : cpus);
  const execution = parseExecution(config.get(EXECUTION_KEY));
  const nireq = options.nireq > 0 ? options.nireq : undefined;
  if (!Number.isSafeInteger(options.nireq) || options.nireq < 0) throw badConfig(`nireq ${options.nireq} must be a non-negative integer`);

  const known = new Set<string>([...STREAM_KEYS, ...THREAD_KEYS, 'PERFORMANCE_HINT', EXECUTION_KEY, ...ACCEPTED_NO_EFFECT]);
  return {
    execution,
    workerStreams,
    workerIntraOpThreads: Math.max(1, Math.floor(threads / workerStreams)),
    inlineIntraOpThreads: Math.max(1, Math.floor(threads / (explicitStreams ?? 1))),
    nireq,
    ignoredKeys: [...config.keys()].filter((k) => !known.has(k)),
  };
}

/** Session options for one session; the same everywhere so runs behave alike in every thread. */
export function sessionOptions(intraOpThreads: number): InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: intraOpThreads,
    // Sequential execution never uses the inter-op pool; one thread keeps ORT from creating more.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    // Spinning pool threads steal the core the event loop needs for I/O (node-perf.md §2 rule 4).
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/** Keys are matched case-insensitively and without OpenVINO's legacy "KEY_" prefix. */
function normalizeKeys(config: Readonly<Record<string, string>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(config)) {
    const k = key.trim().toUpperCase().replace(/^KEY_/, '');
    out.set(k, String(value));
  }
  return out;
}

function firstOf(config: Map<string, string>, keys: readonly string[]): { key: string; value: string } | undefined {
  for (const key of keys) {
    const value = config.get(key);
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

function parseStreams(key: string, raw: string, cpus: number): number {
  const value = raw.trim().toUpperCase();
  if (AUTO_STREAMS.has(value)) return cpus;
  const n = parseCount(value);
  if (n === undefined || n < 1 || n > MAX_STREAMS) {
    throw badConfig(`${key} "${raw}" must be a number of streams from 1 to ${MAX_STREAMS}, or AUTO / CPU_THROUGHPUT_AUTO`);
  }
  return n;
}

function parseThreads(key: string, raw: string, cpus: number): number {
  const n = parseCount(raw.trim());
  if (n === undefined || n > MAX_THREADS) throw badConfig(`${key} "${raw}" must be a number of threads from 0 (auto) to ${MAX_THREADS}`);
  return n === 0 ? cpus : n;
}

function parseExecution(raw: string | undefined): ExecutionMode | 'auto' {
  const value = (raw ?? 'auto').trim().toLowerCase();
  if (value === 'inline' || value === 'worker' || value === 'auto') return value;
  throw badConfig(`${EXECUTION_KEY} "${raw}" must be "inline", "worker" or "auto"`);
}

function parseCount(text: string): number | undefined {
  if (!/^\d{1,7}$/.test(text)) return undefined;
  return Number(text);
}

function badConfig(details: string) {
  return servingError('CANNOT_LOAD_NETWORK_INTO_TARGET_DEVICE', `invalid plugin_config: ${details}`);
}
