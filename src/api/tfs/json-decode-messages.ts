/** Messages between the JSON-decode pool (json-decode-pool.ts) and its workers (json-decode-worker.ts). */
import type { TensorSpec } from '../../core/tensor.js';

/** Main thread → worker: scan `length` bytes of `body` for the one input `spec`. */
export interface DecodeJob {
  readonly id: number;
  /** Shared, so posting it neither copies nor detaches; the worker only reads it. */
  readonly body: SharedArrayBuffer;
  readonly length: number;
  readonly spec: TensorSpec;
  /** Reused memory for the values (transferred), when the pool had some of the right size. */
  readonly room?: ArrayBuffer;
}

export type DecodeReply =
  /** Fast path taken; `data` arrives by transfer (a view of the job's room when it fitted). */
  | { readonly id: number; readonly kind: 'tensor'; readonly format: 'row' | 'column'; readonly shape: number[]; readonly data: Float32Array | Float64Array; readonly room?: ArrayBuffer }
  /** Not a body the fast path takes: the general parser decides on the main thread. */
  | { readonly id: number; readonly kind: 'not-fast'; readonly room?: ArrayBuffer }
  /** The scan itself failed (a bug or out of memory); the main thread parses the body inline. */
  | { readonly id: number; readonly kind: 'failed'; readonly message: string; readonly room?: ArrayBuffer };
