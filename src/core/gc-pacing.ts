/**
 * GC pacing: full GCs come as often as the per-request garbage needs, and no more often.
 *
 * Two kinds of traffic want opposite things (measured on 2 cores, h2load 8 in flight, TFS gRPC):
 *   - Many small requests leave native memory behind each node:http2 stream or HTTP request that
 *     only a full GC frees; V8 cannot see it. With V8's default heap growth the dummy model's RSS
 *     grew 36 MB between 10k and 50k requests; with a full GC every ~7k requests it stays within
 *     a few MB.
 *   - Large requests: every socket read is an ArrayBuffer that V8 counts as external memory, and
 *     V8 counts external bytes against the old generation's headroom. With headroom tight enough
 *     for the small-request case, a 600 KB image request paid a full GC every ~17 requests (9/s,
 *     15-20 ms of marking each on threads that compete with inference) and a 12 MB tensor one
 *     per request. With 5-10x fewer full GCs the cnn model went 150 -> 167-171 req/s and the
 *     12 MB tensor 39 -> 51-55 req/s.
 *
 * How: the old generation's limit is set generously (growing factor 4) and V8's soft trigger,
 * the share of the headroom (limit minus size after the last full GC, external bytes included)
 * that may be used before incremental marking starts, moves along a ladder with the traffic.
 * V8 checks the trigger at every allocation-limit check, so a change applies at once. At each
 * full GC of the main isolate, fewer than `fewRequests` requests since the previous one, within
 * `soonMs`, means the GCs are driven by bytes, not by request garbage: one step looser. At any GC,
 * more than `manyRequests` requests without a full GC means request garbage is piling up: one
 * step tighter. The tightest step gives about the full-GC rate of a fixed 1.25 growing factor.
 *
 * The flags are process-wide, so worker isolates (inference, JSON decoding) follow the same
 * trigger; they carry no request garbage and only gain from fewer full GCs.
 */
import v8 from 'node:v8';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/** Old generation limit = 4x its size after a full GC (plus the new space), before the trigger. */
export const PACED_HEAP_GROWING_PERCENT = 300;
/** Soft-trigger steps: percent of the headroom used before a full GC starts (tightest first). */
export const SOFT_TRIGGER_LADDER: readonly number[] = [12, 25, 50, 90];

export interface PacingOptions {
  /** A full GC after fewer requests than this (and soon) means GCs are driven by bytes. */
  readonly fewRequests: number;
  /** ... and "soon" is within this many milliseconds of the previous full GC. */
  readonly soonMs: number;
  /** This many requests without a full GC means request garbage is piling up. */
  readonly manyRequests: number;
}

export const defaultPacing: PacingOptions = { fewRequests: 2000, soonMs: 1000, manyRequests: 8000 };

let requestsServed = 0;

/** Called once per request by the transports (gRPC streams, REST requests). */
export function countRequest(): void {
  requestsServed++;
}

/** The V8 flags for a pacing step. */
export function pacingFlags(step: number): string {
  return `--heap-growing-percent=${PACED_HEAP_GROWING_PERCENT} --incremental-marking-hard-trigger=100 --incremental-marking-soft-trigger=${SOFT_TRIGGER_LADDER[step]}`;
}

/** After a full GC: the step, from the requests and milliseconds since the previous one. */
export function stepAfterFullGc(step: number, requestsSince: number, msSince: number, opts: PacingOptions = defaultPacing): number {
  if (requestsSince > opts.manyRequests) return Math.max(0, step - 1);
  const fewAndSoon = requestsSince > 0 && requestsSince < opts.fewRequests && msSince < opts.soonMs;
  return fewAndSoon ? Math.min(SOFT_TRIGGER_LADDER.length - 1, step + 1) : step;
}

/**
 * The pacing state between GCs, apart from V8 and the clock so it can be tested: what step to be
 * on after a full GC or any other GC, given the requests counted so far.
 */
export class PacingState {
  step = 0;
  #requestsAtFullGc: number;
  #msAtFullGc: number;
  // Requests counted towards the next tightening; reset by full GCs and by each tightening.
  #requestsAtCheckpoint: number;

  constructor(requests: number, nowMs: number, private readonly opts: PacingOptions = defaultPacing) {
    this.#requestsAtFullGc = this.#requestsAtCheckpoint = requests;
    this.#msAtFullGc = nowMs;
  }

  /** A full GC started at `atMs` with `requests` counted so far: returns the new step. */
  afterFullGc(requests: number, atMs: number): number {
    this.step = stepAfterFullGc(this.step, requests - this.#requestsAtFullGc, atMs - this.#msAtFullGc, this.opts);
    this.#requestsAtFullGc = this.#requestsAtCheckpoint = requests;
    this.#msAtFullGc = atMs;
    return this.step;
  }

  /** Any other GC: one step tighter once `manyRequests` came without a full GC. */
  afterOtherGc(requests: number): number {
    if (this.step > 0 && requests - this.#requestsAtCheckpoint > this.opts.manyRequests) {
      this.#requestsAtCheckpoint = requests;
      this.step--;
    }
    return this.step;
  }
}

export interface GcPacer {
  stop(): void;
}

/**
 * Applies the tightest step now and starts following the traffic. `onChange` hears every step
 * change with the new soft trigger.
 */
export function startGcPacing(opts: PacingOptions = defaultPacing, onChange?: (softTrigger: number) => void): GcPacer {
  const state = new PacingState(requestsServed, performance.now(), opts);
  let applied = state.step;
  v8.setFlagsFromString(pacingFlags(applied));
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const step = isFullGc(entry) ? state.afterFullGc(requestsServed, entry.startTime) : state.afterOtherGc(requestsServed);
      if (step === applied) continue;
      applied = step;
      v8.setFlagsFromString(pacingFlags(step));
      onChange?.(SOFT_TRIGGER_LADDER[step]!);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { stop: () => observer.disconnect() };
}

function isFullGc(entry: PerformanceEntry): boolean {
  const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
  return kind === constants.NODE_PERFORMANCE_GC_MAJOR;
}
