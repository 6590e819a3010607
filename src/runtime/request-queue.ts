import { servingError } from '../core/errors.js';

interface Waiter {
  start(): void;
  fail(err: unknown): void;
}

/**
 * Admission for a fixed number of concurrent tasks (OVMS's nireq: a pool of infer requests).
 * Tasks beyond `capacity` wait in FIFO order instead of failing. A waiting task whose signal
 * aborts leaves the queue and rejects with REQUEST_CANCELLED; a started task is never interrupted.
 */
export class RequestQueue {
  readonly capacity: number;
  #active = 0;
  // A Set keeps insertion order and removes an aborted waiter in O(1).
  readonly #waiters = new Set<Waiter>();
  #idleResolvers: (() => void)[] = [];

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Tasks holding a slot (started, not yet settled). */
  get active(): number {
    return this.#active;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.#waiters.size;
  }

  /** Runs `task` once a slot is free. The task starts synchronously when a slot is free now. */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(servingError('REQUEST_CANCELLED'));
    if (this.#active < this.capacity && this.#waiters.size === 0) {
      this.#active++;
      return this.#execute(task);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.#waiters.delete(waiter)) reject(servingError('REQUEST_CANCELLED'));
      };
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#execute(task));
        },
        fail: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Rejects every waiting task with `err` (used when the model version closes). */
  rejectQueued(err: unknown): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w.fail(err);
  }

  /** Resolves once no task holds a slot and none waits. */
  idle(): Promise<void> {
    if (this.#active === 0 && this.#waiters.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleResolvers.push(resolve));
  }

  #execute<T>(task: () => Promise<T>): Promise<T> {
    let promise: Promise<T>;
    try {
      promise = task();
    } catch (err) {
      promise = Promise.reject(err);
    }
    // then() with two handlers rather than finally(): finally chains two more promises per run.
    return promise.then(
      (value) => {
        this.#release();
        return value;
      },
      (err: unknown) => {
        this.#release();
        throw err;
      },
    );
  }

  #release(): void {
    const next = this.#waiters.values().next();
    if (!next.done) {
      // The slot passes straight to the oldest waiter, so newcomers cannot overtake it.
      this.#waiters.delete(next.value);
      next.value.start();
      return;
    }
    this.#active--;
    if (this.#active === 0 && this.#idleResolvers.length > 0) {
      const resolvers = this.#idleResolvers;
      this.#idleResolvers = [];
      for (const r of resolvers) r();
    }
  }
}
