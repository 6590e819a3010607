/** Messages between the main thread and a session worker (see session-worker.ts). */
import type { InferenceSession } from 'onnxruntime-node';
import type { WireTensor } from './tensor-convert.js';

export interface WarmupRequest {
  /** Timed runs at most (fewer when the answer is clear early). */
  readonly maxRuns: number;
  readonly thresholdMs: number;
}

/** Data passed with `new Worker(..., { workerData })`. */
export interface WorkerInit {
  readonly file: string;
  /** The model's bytes when they were edited in memory (shapes, layout); then `file` only names it. */
  readonly model?: Uint8Array;
  readonly options: InferenceSession.SessionOptions;
  readonly warmup?: WarmupRequest;
}

export interface WarmupResult {
  /** The fastest timed run, in milliseconds; absent when the warm-up failed. */
  readonly fastestMs?: number;
  readonly runs: number;
  readonly error?: string;
  /** Inputs with a dynamic dimension past the batch: no warm-up then, the cost depends on each request. */
  readonly dynamicInputs?: readonly string[];
}

export type ToWorker =
  | { readonly type: 'run'; readonly id: number; readonly feeds: readonly WireTensor[]; readonly outputNames: readonly string[] }
  | { readonly type: 'close' };

export type FromWorker =
  | {
      readonly type: 'ready';
      readonly inputs: readonly InferenceSession.ValueMetadata[];
      readonly outputs: readonly InferenceSession.ValueMetadata[];
      readonly warmup?: WarmupResult;
    }
  | { readonly type: 'init-error'; readonly message: string }
  /** `buffers` hands the input buffers back for reuse, once ORT is done with them. */
  | { readonly type: 'result'; readonly id: number; readonly outputs: readonly WireTensor[]; readonly buffers: readonly ArrayBuffer[] }
  | { readonly type: 'run-error'; readonly id: number; readonly message: string; readonly buffers: readonly ArrayBuffer[] };
