/**
 * How a front end records one request once it knows the servable (requests for unknown models or
 * versions have no series, as in OVMS). With metrics off the series is undefined and these are
 * plain calls.
 */
import type { InferObserver } from '../core/servable.js';
import type { EndpointMetrics, RequestSeries } from './serving-metrics.js';

/**
 * The arrival time to pass to trackInference: performance.now() when the endpoint records
 * metrics, else 0 (nothing reads it, and the clock read is saved on every request).
 */
export function arrivalTime(endpoint: EndpointMetrics | undefined): number {
  return endpoint ? performance.now() : 0;
}

/**
 * An inference request: in ovms_current_requests while `run` runs, then success (with its
 * request time since `startedMs`, a performance.now() value) or fail. `run` gets the observer to
 * pass as InferOptions.observe.
 */
export function trackInference<T>(series: RequestSeries | undefined, startedMs: number, run: (observe: InferObserver | undefined) => Promise<T>): Promise<T> {
  // Untracked requests get run's own promise: no async frame in front of every inference. So a
  // `run` that throws before returning its promise throws here too when metrics are off; every
  // caller is inside a promise chain or a handler adapter that answers a throw like a rejection.
  return series ? tracked(series, startedMs, run) : run(undefined);
}

async function tracked<T>(series: RequestSeries, startedMs: number, run: (observe: InferObserver | undefined) => Promise<T>): Promise<T> {
  series.begin();
  try {
    const result = await run(series.observe);
    series.succeeded(startedMs);
    return result;
  } catch (err) {
    series.failed();
    throw err;
  } finally {
    series.end();
  }
}

/** A metadata, status or readiness call: counted as a success or a fail. */
export async function trackCall<T>(series: RequestSeries | undefined, run: () => T | Promise<T>): Promise<T> {
  if (!series) return run();
  try {
    const result = await run();
    series.answered();
    return result;
  } catch (err) {
    series.failed();
    throw err;
  }
}
