import type * as ort from 'onnxruntime-node';
import { ServingError, servingError } from '../../core/errors.js';
import type { TensorMap } from '../../core/tensor.js';
import { BufferPool } from '../../core/buffer-pool.js';
import { type WireTensor, fromOrtTensor, toOrtTensor, toWire, wireListToMap } from './tensor-convert.js';
import type { WorkerPool } from './worker-pool.js';

/** How one model version executes its runs: on the event-loop thread or in worker threads. */
export interface Backend {
  run(inputs: TensorMap, outputNames: readonly string[], signal?: AbortSignal): Promise<TensorMap>;
  readonly executing: number;
  close(): Promise<void>;
}

/** One session on the main thread: for models so small that a thread hop would cost more than the run. */
export class InlineBackend implements Backend {
  readonly #session: ort.InferenceSession;
  executing = 0;

  constructor(session: ort.InferenceSession) {
    this.#session = session;
  }

  // Not async, and one then() for the run: this is the whole per-request cost of tiny models.
  run(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap> {
    let pending: Promise<ort.InferenceSession.ReturnType>;
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of inputs) feeds[name] = toOrtTensor(name, t);
      // ORT reads the input memory when the run starts, not when run() is called; callers keep
      // their buffers untouched until this promise settles.
      pending = this.#session.run(feeds, outputNames as string[]);
    } catch (err) {
      return Promise.reject(asInferenceError(err));
    }
    this.executing++;
    return pending.then(
      (result) => {
        this.executing--;
        const out: TensorMap = new Map();
        try {
          for (const name of outputNames) out.set(name, fromOrtTensor(result[name]!));
        } catch (err) {
          throw asInferenceError(err);
        }
        return out;
      },
      (err: unknown) => {
        this.executing--;
        throw asInferenceError(err);
      },
    );
  }

  close(): Promise<void> {
    return this.#session.release();
  }
}

/** One session per worker thread; inputs are copied into runtime-owned buffers and transferred. */
export class WorkerBackend implements Backend {
  readonly #pool: WorkerPool;
  readonly #buffers = new BufferPool({ shared: true });

  constructor(pool: WorkerPool) {
    this.#pool = pool;
  }

  get executing(): number {
    return this.#pool.executing;
  }

  get threadIds(): number[] {
    return this.#pool.threadIds;
  }

  run(inputs: TensorMap, outputNames: readonly string[], signal?: AbortSignal): Promise<TensorMap> {
    return this.#pool.use(async (worker) => {
      // Copies are made only once a worker is free, so queued runs hold no extra memory.
      const transfer: ArrayBuffer[] = [];
      const shared: SharedArrayBuffer[] = [];
      let feeds: WireTensor[];
      try {
        feeds = [...inputs].map(([name, t]) => toWire(name, t, this.#buffers, transfer, shared));
      } catch (err) {
        throw asInferenceError(err);
      }
      try {
        const reply = await worker.run(feeds, outputNames, transfer);
        for (const buffer of reply.buffers) this.#buffers.give(buffer);
        return wireListToMap(reply.outputs);
      } finally {
        // The worker copies shared inputs before its run starts, so once it answered (or died) they are free.
        for (const buffer of shared) this.#buffers.give(buffer);
      }
    }, signal);
  }

  async close(): Promise<void> {
    await this.#pool.close();
    this.#buffers.clear();
  }
}

export function asInferenceError(err: unknown): ServingError {
  if (err instanceof ServingError) return err;
  return servingError('INTERNAL_INFERENCE_ERROR', err instanceof Error ? err.message : String(err));
}
