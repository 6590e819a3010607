import { servingError } from '../../core/errors.js';
import type { InferObserver } from '../../core/servable.js';
import type { TensorMap, TensorSpec } from '../../core/tensor.js';
import type { LoadedModel } from '../engine.js';
import { RequestQueue } from '../request-queue.js';
import { type Backend, WorkerBackend } from './backends.js';
import type { ExecutionMode } from './session-options.js';

/** A loaded ONNX model version: nireq admission in front of an inline or worker backend. */
export class OnnxModel implements LoadedModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly executionMode: ExecutionMode;
  readonly streams: number;
  readonly nireq: number;
  readonly intraOpThreads: number;
  readonly #queue: RequestQueue;
  readonly #backend: Backend;
  #closing: Promise<void> | undefined;

  constructor(fields: {
    inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[]; executionMode: ExecutionMode;
    streams: number; nireq: number; intraOpThreads: number; backend: Backend;
  }) {
    this.inputs = fields.inputs;
    this.outputs = fields.outputs;
    this.executionMode = fields.executionMode;
    this.streams = fields.streams;
    this.nireq = fields.nireq;
    this.intraOpThreads = fields.intraOpThreads;
    this.#backend = fields.backend;
    this.#queue = new RequestQueue(fields.nireq);
  }

  /** Runs waiting for one of the `nireq` slots. */
  get queued(): number {
    return this.#queue.queued;
  }

  /** Runs holding a slot (OVMS's infer requests in use). */
  get active(): number {
    return this.#queue.active;
  }

  /** Runs inside a session right now (≤ active; less when nireq exceeds the streams). */
  get executing(): number {
    return this.#backend.executing;
  }

  /** Ids of the worker threads currently alive (empty inline). */
  get workerThreadIds(): number[] {
    return this.#backend instanceof WorkerBackend ? this.#backend.threadIds : [];
  }

  run(inputs: TensorMap, outputNames: readonly string[], signal?: AbortSignal, observe?: InferObserver): Promise<TensorMap> {
    if (this.#closing) return Promise.reject(servingError('MODEL_VERSION_NOT_LOADED_ANYMORE'));
    if (!observe) return this.#queue.run(() => this.#backend.run(inputs, outputNames, signal), signal);
    // Metrics: time queued for a nireq slot, then time in the session (successful runs only).
    const queuedAt = performance.now();
    let waited = false;
    const result = this.#queue.run(() => {
      // The queue starts a task synchronously when a slot is free: that run started when queued,
      // and one clock read fewer per request is measurable on tiny models.
      const startedAt = waited ? performance.now() : queuedAt;
      return this.#backend.run(inputs, outputNames, signal).then((out) => {
        observe((startedAt - queuedAt) * 1000, (performance.now() - startedAt) * 1000);
        return out;
      });
    }, signal);
    waited = true;
    return result;
  }

  /** Rejects queued runs, waits for running ones, then frees sessions and ends worker threads. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#queue.rejectQueued(servingError('MODEL_VERSION_NOT_LOADED_ANYMORE'));
      await this.#queue.idle();
      await this.#backend.close();
    })();
    return this.#closing;
  }
}

