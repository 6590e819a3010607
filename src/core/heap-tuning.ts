/**
 * Who decides how far V8 lets the heap grow between full GCs: the node command line, the
 * TSMS_HEAP_GROWING_PERCENT environment variable, or (by default) gc-pacing.ts. Also whether V8
 * pretenures allocation sites (off unless the node command line says otherwise; see
 * choosePretenuring).
 *
 * Why it matters: per-request garbage holds native memory V8 cannot see (each node:http2 stream
 * has a C++ side freed only when its JS wrapper is collected). V8's default growing factor (chosen
 * per GC, up to 4x the live size) let the dummy model's RSS climb 168 -> 195 -> 213 MB at 10k,
 * 50k and 100k requests over TFS gRPC. Large requests want the opposite: their socket reads count
 * as external memory against the same headroom, and tight headroom means a full GC every few
 * requests. gc-pacing.ts follows the traffic between the two.
 *
 * An operator keeps the last word: heap growth or marking-trigger flags on the node command line
 * are left alone, and TSMS_HEAP_GROWING_PERCENT=N fixes the growing factor at 1 + N/100 without
 * pacing (25 was the fixed default before pacing; 0 restores V8's own heuristic).
 */
import v8 from 'node:v8';
import { pacingFlags } from './gc-pacing.js';

const ENV = 'TSMS_HEAP_GROWING_PERCENT';
const NODE_FLAGS = ['heap-growing-percent', 'incremental-marking-soft-trigger', 'incremental-marking-hard-trigger'];

export interface HeapGrowthChoice {
  /** The fixed growing percent, or undefined when paced or set on the node command line. */
  readonly percent: number | undefined;
  readonly decidedBy: 'node command line' | typeof ENV | 'default';
  /** True when gc-pacing.ts should follow the traffic. */
  readonly paced: boolean;
}

/** The name of a node command-line flag in dashes (`--a_b=1` gives `a-b`); undefined for other arguments. */
function flagName(arg: string): string | undefined {
  return arg.startsWith('--') ? arg.slice(2).split('=')[0]!.replaceAll('_', '-') : undefined;
}

function isNodeHeapFlag(arg: string): boolean {
  return NODE_FLAGS.includes(flagName(arg) ?? '');
}

/** The choice, from the node command line, the environment and the default. */
export function chooseHeapGrowth(execArgv: readonly string[], env: NodeJS.ProcessEnv): HeapGrowthChoice {
  if (execArgv.some(isNodeHeapFlag)) return { percent: undefined, decidedBy: 'node command line', paced: false };
  const raw = env[ENV];
  if (raw !== undefined && raw.trim() !== '') {
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0 || n > 1000) throw new RangeError(`${ENV} must be an integer from 0 to 1000, got "${raw}"`);
    return { percent: n, decidedBy: ENV, paced: false };
  }
  return { percent: undefined, decidedBy: 'default', paced: true };
}

/**
 * Applies the choice to this process (all its isolates, worker threads included). When paced,
 * this sets the tightest pacing step; startGcPacing() then follows the traffic.
 */
export function tuneHeapGrowth(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): HeapGrowthChoice {
  const choice = chooseHeapGrowth(execArgv, env);
  if (choice.paced) v8.setFlagsFromString(pacingFlags(0));
  else if (choice.percent !== undefined) v8.setFlagsFromString(`--heap-growing-percent=${choice.percent}`);
  return choice;
}

const PRETENURING_FLAG = 'allocation-site-pretenuring';

export interface PretenuringChoice {
  /** Whether V8 may allocate objects from an allocation site straight into the old generation. */
  readonly pretenuring: boolean;
  readonly decidedBy: 'node command line' | 'default';
}

/**
 * V8's allocation-site pretenuring is off unless the node command line says otherwise
 * (`--allocation-site-pretenuring` turns it back on).
 *
 * Why: V8 pretenures an allocation site once most objects from it survive scavenges, and does not
 * go back. Serving 12 MB tensors over gRPC keeps each request alive for many scavenges, so sites
 * on the shared request path got pretenured; afterwards every tiny request allocated those objects
 * in the old generation, where they kept the young objects they point to alive through the next
 * scavenge. Measured (dummy TFS Predict, server pinned to one core, `--trace-gc-nvp`): a fresh
 * server promoted ~600-680 bytes per request and spent 2.5-2.8 µs per request in scavenges; the
 * same server after 300 12 MB Predicts promoted ~1,770 bytes and spent 5.7-6.1 µs, for good (~5 µs
 * of CPU per request). With pretenuring off the second server read 711 bytes and 3.0 µs. A server's
 * request objects die young, so the feature has nothing to win here; the 12 MB rows' GC per request
 * was the same either way.
 */
export function choosePretenuring(execArgv: readonly string[]): PretenuringChoice {
  let choice: PretenuringChoice = { pretenuring: false, decidedBy: 'default' };
  // V8 applies its flags in order, so the last mention wins.
  for (const arg of execArgv) {
    const name = flagName(arg);
    if (name === PRETENURING_FLAG) choice = { pretenuring: true, decidedBy: 'node command line' };
    else if (name === `no-${PRETENURING_FLAG}` || name === `no${PRETENURING_FLAG}`) choice = { pretenuring: false, decidedBy: 'node command line' };
  }
  return choice;
}

/** Applies the choice to this process (worker threads included). */
export function tunePretenuring(execArgv: readonly string[] = process.execArgv): PretenuringChoice {
  const choice = choosePretenuring(execArgv);
  if (choice.decidedBy === 'default') v8.setFlagsFromString(`--no-${PRETENURING_FLAG}`);
  return choice;
}
