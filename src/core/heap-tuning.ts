/**
 * Who decides how far V8 lets the heap grow between full GCs: the node command line, the
 * TSMS_HEAP_GROWING_PERCENT environment variable, or (by default) gc-pacing.ts.
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

function isNodeHeapFlag(arg: string): boolean {
  const name = arg.replace(/^--/, '').split('=')[0]!.replaceAll('_', '-');
  return arg.startsWith('--') && NODE_FLAGS.includes(name);
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
