/**
 * Worker threads that each own one onnxruntime session (one "stream"), and the pool that hands a
 * run to an idle one. Keeps compute-bound inference off the event-loop thread (node-perf.md §2
 * rule 3): exactly one run in flight per session, callers beyond that wait in a FIFO queue.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { servingError } from '../../core/errors.js';
import { RequestQueue } from '../request-queue.js';
import type { WireTensor } from './tensor-convert.js';
import type { FromWorker, ToWorker, WarmupResult, WorkerInit } from './worker-messages.js';

const workerUrl = new URL('./session-worker.js', import.meta.url);
/** How long a worker gets to release its session before it is terminated. */
const CLOSE_GRACE_MS = 5000;

type Ready = Extract<FromWorker, { type: 'ready' }>;

export interface RunReply {
  readonly outputs: readonly WireTensor[];
  /** The input buffers, handed back by the worker for reuse. */
  readonly buffers: readonly ArrayBuffer[];
}

/** The session could not be created in a worker; `message` is onnxruntime's reason. */
export class WorkerInitError extends Error {}

interface PendingRun {
  readonly id: number;
  resolve(reply: RunReply): void;
  reject(err: unknown): void;
}

/** One worker thread with one session. */
export class SessionWorker {
  readonly #worker: Worker;
  /** Kept here because Worker.threadId reads -1 once the thread has ended. */
  readonly threadId: number;
  readonly #exited: Promise<void>;
  readonly #logger: Logger;
  #pending: PendingRun | undefined;
  #nextId = 1;
  #alive = true;
  #closing = false;

  private constructor(worker: Worker, logger: Logger) {
    this.#worker = worker;
    this.threadId = worker.threadId;
    this.#logger = logger;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (msg: FromWorker) => this.#onMessage(msg));
    worker.on('error', (err) => logger.error({ err, threadId: this.threadId }, 'inference worker failed'));
    worker.on('exit', (code) => this.#onExit(code));
  }

  /** Starts a worker and waits until its session is created (and warmed up, when asked). */
  static start(init: WorkerInit, logger: Logger): Promise<{ worker: SessionWorker; warmup?: WarmupResult; ready: Ready }> {
    return new Promise((resolve, reject) => {
      const thread = new Worker(workerUrl, { workerData: init });
      const onEarlyExit = (code: number): void => reject(new WorkerInitError(`worker thread exited with code ${code} before the session was ready`));
      const onEarlyError = (err: Error): void => reject(new WorkerInitError(err.message));
      thread.once('exit', onEarlyExit);
      thread.once('error', onEarlyError);
      thread.once('message', (msg: FromWorker) => {
        thread.off('exit', onEarlyExit);
        thread.off('error', onEarlyError);
        if (msg.type === 'ready') {
          const worker = new SessionWorker(thread, logger);
          thread.unref(); // an idle worker must not keep the process alive; a run refs it
          resolve({ worker, warmup: msg.warmup, ready: msg });
          return;
        }
        const reason = msg.type === 'init-error' ? msg.message : `unexpected first message ${msg.type}`;
        void thread.terminate();
        reject(new WorkerInitError(reason));
      });
    });
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Posts one run; the caller guarantees no other run is in flight on this worker. */
  run(feeds: readonly WireTensor[], outputNames: readonly string[], transfer: ArrayBuffer[]): Promise<RunReply> {
    if (!this.#alive) return Promise.reject(servingError('INTERNAL_INFERENCE_ERROR', 'inference worker is not running'));
    if (this.#pending) return Promise.reject(new Error('SessionWorker.run called while a run is in flight'));
    const id = this.#nextId++;
    return new Promise<RunReply>((resolve, reject) => {
      this.#pending = { id, resolve, reject };
      this.#worker.ref();
      const message: ToWorker = { type: 'run', id, feeds, outputNames };
      try {
        this.#worker.postMessage(message, transfer);
      } catch (err) {
        this.#settle();
        reject(servingError('INTERNAL_INFERENCE_ERROR', `cannot send the inputs to the inference worker: ${(err as Error).message}`));
      }
    });
  }

  /**
   * Releases the session and ends the thread; terminates it if it does not end in time. Only ever
   * called with no run in flight: terminating a thread inside a native run aborts the whole
   * process (onnxruntime-node 1.30 throws from its teardown), so runs are always let finish.
   */
  async close(): Promise<void> {
    if (!this.#alive) return;
    this.#closing = true;
    this.#worker.ref();
    this.#worker.postMessage({ type: 'close' } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CLOSE_GRACE_MS);
    });
    const outcome = await Promise.race([this.#exited, graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout') await this.#worker.terminate();
    await this.#exited;
  }

  #settle(): PendingRun | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!this.#closing) this.#worker.unref();
    return pending;
  }

  #onMessage(msg: FromWorker): void {
    if (msg.type !== 'result' && msg.type !== 'run-error') return;
    if (this.#pending?.id !== msg.id) return;
    const pending = this.#settle()!;
    if (msg.type === 'result') pending.resolve({ outputs: msg.outputs, buffers: msg.buffers });
    else pending.reject(servingError('INTERNAL_INFERENCE_ERROR', msg.message));
  }

  #onExit(code: number): void {
    this.#alive = false;
    const pending = this.#settle();
    if (!this.#closing) this.#logger.error({ threadId: this.threadId, code }, 'inference worker exited unexpectedly');
    pending?.reject(servingError('INTERNAL_INFERENCE_ERROR', `inference worker exited with code ${code}`));
  }
}

/** A fixed number of session workers; a worker that dies is replaced on its next use. */
export class WorkerPool {
  readonly #slots: { worker: SessionWorker }[];
  readonly #idle: { worker: SessionWorker }[];
  readonly #queue: RequestQueue;
  readonly #init: WorkerInit;
  readonly #logger: Logger;
  #closed = false;

  private constructor(workers: SessionWorker[], init: WorkerInit, logger: Logger) {
    this.#slots = workers.map((worker) => ({ worker }));
    this.#idle = [...this.#slots];
    this.#queue = new RequestQueue(workers.length);
    this.#init = { file: init.file, model: init.model, options: init.options };
    this.#logger = logger;
  }

  /** Grows `first` (already started) into a pool of `size` workers. */
  static async start(first: SessionWorker, init: WorkerInit, size: number, logger: Logger): Promise<WorkerPool> {
    const rest = await Promise.allSettled(
      Array.from({ length: size - 1 }, () => SessionWorker.start({ file: init.file, model: init.model, options: init.options }, logger)),
    );
    const workers = [first, ...rest.flatMap((r) => (r.status === 'fulfilled' ? [r.value.worker] : []))];
    const failure = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await Promise.all(workers.map((w) => w.close()));
      throw failure.reason;
    }
    return new WorkerPool(workers, init, logger);
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Runs executing in a worker, or waiting for a replacement worker to start. */
  get executing(): number {
    return this.#queue.active;
  }

  /** Thread ids of the live workers (for tests and diagnostics). */
  get threadIds(): number[] {
    return this.#slots.filter((s) => s.worker.alive).map((s) => s.worker.threadId);
  }

  /** Runs `task` on an idle worker, waiting in FIFO order for one; a waiting call can be aborted. */
  use<T>(task: (worker: SessionWorker) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#closed) return Promise.reject(servingError('MODEL_VERSION_NOT_LOADED_ANYMORE'));
    return this.#queue.run(async () => {
      // The queue admits at most `size` tasks, so an idle slot always exists here.
      const slot = this.#idle.pop()!;
      try {
        if (!slot.worker.alive) slot.worker = await this.#replace();
        return await task(slot.worker);
      } finally {
        this.#idle.push(slot);
      }
    }, signal);
  }

  async #replace(): Promise<SessionWorker> {
    if (this.#closed) throw servingError('MODEL_VERSION_NOT_LOADED_ANYMORE');
    this.#logger.warn('starting a replacement inference worker');
    try {
      return (await SessionWorker.start(this.#init, this.#logger)).worker;
    } catch (err) {
      throw servingError('INTERNAL_INFERENCE_ERROR', `inference worker could not be restarted: ${(err as Error).message}`);
    }
  }

  /** Rejects waiting runs, lets running ones finish, then ends every worker. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.rejectQueued(servingError('MODEL_VERSION_NOT_LOADED_ANYMORE'));
    await this.#queue.idle();
    await Promise.all(this.#slots.map((s) => s.worker.close()));
  }
}
