/**
 * How far V8 lets the old generation grow past its live size before the next full GC.
 *
 * Why: per-request garbage that reaches old space holds native memory V8 cannot see. Each
 * node:http2 stream has a C++ side (nghttp2 state, header storage) that is freed only when its
 * JS wrapper is collected, and some of those wrappers are promoted before they die. V8's default
 * growing factor (chosen per GC, up to 4x the live size) lets old space go from ~17 MB live to
 * 50-65 MB between full GCs on a busy gRPC server, and the native memory behind that garbage
 * comes on top: measured on the dummy model over TFS gRPC (h2load, 8 in flight), RSS went
 * 168 -> 195 MB between 10k and 50k requests and kept climbing to 213 MB at 100k. With a fixed
 * factor of 1.25 the full GCs come ~10x more often, each on a small heap (5-25 ms, mostly
 * incremental), and RSS stays flat within a few MB from 10k to 100k requests.
 *
 * An operator keeps the last word: `node --heap-growing-percent=N` on the command line is left
 * alone, and TSMS_HEAP_GROWING_PERCENT=N overrides the default (0 restores V8's own heuristic).
 */
import v8 from 'node:v8';

export const DEFAULT_HEAP_GROWING_PERCENT = 25;
const FLAG = '--heap-growing-percent';
const ENV = 'TSMS_HEAP_GROWING_PERCENT';

export interface HeapGrowthChoice {
  /** The percentage in force, or undefined when the node command line set it. */
  readonly percent: number | undefined;
  readonly decidedBy: 'node command line' | typeof ENV | 'default';
}

/** The percentage to apply, from the node command line, the environment and the default. */
export function chooseHeapGrowth(execArgv: readonly string[], env: NodeJS.ProcessEnv): HeapGrowthChoice {
  if (execArgv.some((a) => a === FLAG || a.startsWith(`${FLAG}=`) || a === '--heap_growing_percent' || a.startsWith('--heap_growing_percent='))) {
    return { percent: undefined, decidedBy: 'node command line' };
  }
  const raw = env[ENV];
  if (raw !== undefined && raw.trim() !== '') {
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0 || n > 1000) throw new RangeError(`${ENV} must be an integer from 0 to 1000, got "${raw}"`);
    return { percent: n, decidedBy: ENV };
  }
  return { percent: DEFAULT_HEAP_GROWING_PERCENT, decidedBy: 'default' };
}

/** Applies the choice to this process (all its isolates, worker threads included). */
export function tuneHeapGrowth(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): HeapGrowthChoice {
  const choice = chooseHeapGrowth(execArgv, env);
  if (choice.percent !== undefined) v8.setFlagsFromString(`${FLAG}=${choice.percent}`);
  return choice;
}
