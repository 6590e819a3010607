/**
 * "Wait until the machine is idle" gate (node-perf §6): the box is shared with other work, so
 * each measured window starts only when the rest of the machine is quiet, or after a timeout.
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { busyCores, systemTimes } from './proc.js';

export interface IdleResult {
  /** Busy fraction of the whole machine (0..1) in the last 250 ms sample. */
  readonly busy: number;
  readonly waitedMs: number;
  readonly timedOut: boolean;
}

/** Gates in a row that timed out: the machine is persistently busy and waiting does not help. */
let timeoutsInARow = 0;
const PERSISTENT_BUSY = 3;
const SHORT_WAIT_MS = 1000;

/**
 * Polls /proc/stat every 250 ms until busy < threshold (fraction of all cores) or maxMs passes.
 * After a few timeouts in a row the wait shrinks to 1 s until the machine is seen idle again, so a
 * busy machine slows the run down less (those windows are flagged with their "other load" anyway).
 */
export async function waitUntilIdle(threshold: number, maxMs: number): Promise<IdleResult> {
  const cores = availableParallelism();
  const limit = timeoutsInARow >= PERSISTENT_BUSY ? Math.min(maxMs, SHORT_WAIT_MS) : maxMs;
  const start = Date.now();
  let busy = 1;
  for (;;) {
    const a = systemTimes();
    await sleep(250);
    busy = busyCores(a, systemTimes(), cores) / cores;
    const waitedMs = Date.now() - start;
    if (busy < threshold) {
      timeoutsInARow = 0;
      return { busy, waitedMs, timedOut: false };
    }
    if (waitedMs >= limit) {
      timeoutsInARow++;
      return { busy, waitedMs, timedOut: true };
    }
  }
}
