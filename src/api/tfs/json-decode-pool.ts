/**
 * A few worker threads that run the TFS REST fast JSON scanner (rest-fast-json.ts) on large
 * Predict bodies, so the event-loop thread only receives bodies and sends answers
 * (node-perf.md §2 rule 1: parse large JSON off the event loop).
 *
 * Memory: the body is copied into a pooled SharedArrayBuffer and posted (neither cloned nor
 * detached, so the request's own body stays intact for the general parser and for the HTTP
 * layer's body reuse). Copying the bench's 2.9 MB body into warm shared memory takes ~0.1 ms,
 * against 5.5-8 ms for the scan it moves off the loop.
 *
 * The values are written into a "room": a plain ArrayBuffer transferred to the worker with the
 * job and back with the tensor, then taken back by release() once the request's runs are over.
 * Memory a worker allocates fresh for every body and gives away costs it page faults: a worker
 * took 7.9-8.6 ms per bench body that way against 6.8-7.0 ms with rooms (busy 2-core box).
 *
 * Workers start on first use (one, then a second only while the first is busy), are unref'd
 * while idle so they never keep the process alive, and a worker that dies is replaced by the
 * next job (unless MAX_DEAD_STARTS in a row died before answering anything: a broken install
 * should not cost every request a thread start). A job its worker could not finish is rejected
 * with DecodeUnavailable, and the caller parses the body on the main thread as before.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { BufferPool } from '../../core/buffer-pool.js';
import { copyBytes } from '../../core/copy-bytes.js';
import { usableCpus } from '../../runtime/cpu.js';
import { isStringData, type TensorMap, type TensorSpec } from '../../core/tensor.js';
import { initialCapacity, type FastPredictBody } from './rest-fast-json.js';
import type { DecodeJob, DecodeReply } from './json-decode-messages.js';

/**
 * Bodies from this size on are decoded in a worker. Measured (bench-style float32 bodies, one
 * worker, medians on a busy 2-core box): a 245 KB body scans in 0.85-0.96 ms inline, while an
 * offload keeps the loop busy 0.07-0.19 ms and adds 0.1-0.3 ms of latency; at 62 KB the scan is
 * 0.2 ms and the hop's latency would match it, at 19 KB (84 µs) the hop costs more than it saves.
 */
export const OFFLOAD_MIN_BYTES = 256 * 1024;

/** The job's worker died, failed or was closed; the caller decodes the body itself. */
export class DecodeUnavailable extends Error {}

/** Workers in a row that died before answering anything: the pool then stops starting them. */
const MAX_DEAD_STARTS = 3;

export interface JsonDecodePoolOptions {
  /** Worker threads at most (default: min(2, usable CPUs)). */
  readonly size?: number;
  readonly logger?: Logger;
  /** The worker script (tests substitute one). */
  readonly workerUrl?: URL;
}

const defaultWorkerUrl = new URL('./json-decode-worker.js', import.meta.url);

export class JsonDecodePool {
  readonly #slots: (DecodeWorker | undefined)[];
  // Shared memory for body copies: fresh memory per request would be new external memory (GC
  // pressure) and page faults on the loop thread.
  readonly #bodies = new BufferPool({ shared: true, minBytes: 1, maxBytes: 64 * 1024 * 1024 });
  readonly #rooms = new Rooms();
  /** Arrays' buffers that came from a worker and are in use by a request. */
  readonly #loaned = new WeakSet<ArrayBufferLike>();
  readonly #workerUrl: URL;
  readonly #logger: Logger | undefined;
  #nextId = 1;
  #started = 0;
  #deadStarts = 0;
  #closed = false;

  constructor(options: JsonDecodePoolOptions = {}) {
    const size = Math.max(1, Math.floor(options.size ?? Math.min(2, usableCpus())));
    this.#slots = new Array<DecodeWorker | undefined>(size).fill(undefined);
    this.#workerUrl = options.workerUrl ?? defaultWorkerUrl;
    this.#logger = options.logger;
  }

  /** Worker threads started so far, replacements included (tests and diagnostics). */
  get started(): number {
    return this.#started;
  }

  /**
   * The fast scan of `body` for the one input `spec`, done in a worker: the decoded body, or
   * undefined when the fast path does not take it (the general parser must decide). Rejects with
   * DecodeUnavailable when no worker could do it.
   */
  decode(body: Uint8Array, spec: TensorSpec): Promise<FastPredictBody | undefined> {
    if (this.#closed) return Promise.reject(new DecodeUnavailable('the JSON decode pool is closed'));
    if (this.#deadStarts >= MAX_DEAD_STARTS) return Promise.reject(new DecodeUnavailable('JSON decode workers keep dying at start'));
    let worker: DecodeWorker;
    try {
      worker = this.#pick();
    } catch (err) {
      return Promise.reject(new DecodeUnavailable(`cannot start a JSON decode worker: ${(err as Error).message}`));
    }
    const shared = this.#bodies.take(Math.max(1, body.byteLength)) as SharedArrayBuffer;
    copyBytes(new Uint8Array(shared, 0, body.byteLength), body);
    const room = this.#rooms.take(initialCapacity(spec, body.byteLength) * (spec.dtype === 'FP32' ? 4 : 8));
    const job: DecodeJob = {
      id: this.#nextId++, body: shared, length: body.byteLength, spec: { name: spec.name, dtype: spec.dtype, shape: [...spec.shape] }, ...(room && { room }),
    };
    const done = worker.run(job, (reply) => {
      this.#deadStarts = 0;
      if (reply.room && !this.#closed) this.#rooms.give(reply.room);
      if (reply.kind === 'tensor') this.#loaned.add(reply.data.buffer);
    });
    // The worker is done reading the shared copy once it answered or ended.
    const free = (): void => {
      if (!this.#closed) this.#bodies.give(shared);
    };
    done.then(free, free);
    return done;
  }

  /**
   * Takes back the memory of decoded tensors once every run that read them is over (the caller's
   * promise: after a successful inference; a failed request keeps it, as a pipeline may still run
   * a node on it). Tensors that did not come from this pool are ignored.
   */
  release(inputs: TensorMap): void {
    for (const tensor of inputs.values()) {
      if (isStringData(tensor.data)) continue;
      const buffer = tensor.data.buffer;
      if (!this.#loaned.has(buffer)) continue;
      this.#loaned.delete(buffer);
      if (buffer instanceof ArrayBuffer && buffer.byteLength > 0 && !this.#closed) this.#rooms.give(buffer);
    }
  }

  /** Ends the workers; jobs still running fall back to the main thread. */
  async close(): Promise<void> {
    this.#closed = true;
    const workers = this.#slots.filter((w): w is DecodeWorker => w !== undefined);
    this.#slots.fill(undefined);
    await Promise.all(workers.map((w) => w.terminate()));
    this.#bodies.clear();
    this.#rooms.clear();
  }

  /** An idle live worker; else a new one in a free slot; else the least busy. */
  #pick(): DecodeWorker {
    let best: DecodeWorker | undefined;
    let free = -1;
    for (let i = 0; i < this.#slots.length; i++) {
      const w = this.#slots[i];
      if (!w?.alive) {
        if (free < 0) free = i;
        continue;
      }
      if (w.load === 0) return w;
      if (!best || w.load < best.load) best = w;
    }
    if (free < 0) return best!;
    const worker = new DecodeWorker(this.#workerUrl, this.#logger, (unexpected, answered) => {
      if (this.#slots[free] === worker) this.#slots[free] = undefined;
      if (unexpected && !answered && ++this.#deadStarts === MAX_DEAD_STARTS) {
        this.#logger?.error(`${MAX_DEAD_STARTS} JSON decode workers in a row died before answering; large bodies are parsed on the main thread from now on`);
      }
    });
    this.#started++;
    this.#slots[free] = worker;
    return worker;
  }
}

interface Pending {
  readonly spec: TensorSpec;
  readonly onReply: (reply: DecodeReply) => void;
  resolve(result: FastPredictBody | undefined): void;
  reject(err: DecodeUnavailable): void;
}

/** One worker thread and the jobs posted to it (it runs them in order). */
class DecodeWorker {
  readonly #thread: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #logger: Logger | undefined;
  readonly #exited: Promise<void>;
  #alive = true;
  #answered = false;
  #terminating = false;

  /** `onExit(unexpected, answered)`: the thread ended, not by terminate(); it had answered a job. */
  constructor(url: URL, logger: Logger | undefined, onExit: (unexpected: boolean, answered: boolean) => void) {
    this.#logger = logger;
    const thread = new Worker(url);
    this.#thread = thread;
    thread.unref();
    this.#exited = new Promise((resolve) => thread.once('exit', () => resolve()));
    thread.on('message', (reply: DecodeReply) => this.#onReply(reply));
    // Without a listener an 'error' event would throw on the main thread; 'exit' follows it.
    thread.on('error', (err) => logger?.error({ err }, 'JSON decode worker failed'));
    thread.on('messageerror', (err) => {
      // Some job will never get its answer: end the thread, which fails its jobs over to the main thread.
      logger?.error({ err }, 'JSON decode worker sent an unreadable message');
      void thread.terminate();
    });
    thread.once('exit', (code) => {
      this.#alive = false;
      onExit(!this.#terminating, this.#answered);
      if (!this.#terminating) logger?.error({ code }, 'JSON decode worker exited unexpectedly; the next large body starts a new one');
      this.#failAll(`the JSON decode worker exited with code ${code}`);
    });
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Jobs posted and not yet answered. */
  get load(): number {
    return this.#pending.size;
  }

  /** `onReply` sees every answer first (the memory it brings back). */
  run(job: DecodeJob, onReply: (reply: DecodeReply) => void): Promise<FastPredictBody | undefined> {
    return new Promise((resolve, reject) => {
      if (!this.#alive) {
        reject(new DecodeUnavailable('the JSON decode worker has ended'));
        return;
      }
      try {
        this.#thread.postMessage(job, job.room ? [job.room] : []);
      } catch (err) {
        reject(new DecodeUnavailable(`cannot post to the JSON decode worker: ${(err as Error).message}`));
        return;
      }
      this.#pending.set(job.id, { spec: job.spec, onReply, resolve, reject });
      // Busy, it keeps the process alive until it has answered.
      if (this.#pending.size === 1) this.#thread.ref();
    });
  }

  async terminate(): Promise<void> {
    this.#terminating = true;
    await this.#thread.terminate();
    await this.#exited;
  }

  #onReply(reply: DecodeReply): void {
    this.#answered = true;
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#thread.unref();
    pending.onReply(reply);
    if (reply.kind === 'tensor') {
      const { name, dtype } = pending.spec;
      pending.resolve({ format: reply.format, name, tensor: { dtype, shape: reply.shape, data: reply.data } });
    } else if (reply.kind === 'not-fast') {
      pending.resolve(undefined);
    } else {
      this.#logger?.warn({ detail: reply.message }, 'JSON decode worker could not scan a body; parsing it on the main thread');
      pending.reject(new DecodeUnavailable(reply.message));
    }
  }

  #failAll(message: string): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new DecodeUnavailable(message));
  }
}

const MAX_ROOMS = 8;
const MAX_ROOM_BYTES = 64 * 1024 * 1024;

/**
 * Plain memory for decoded values, reused across requests: the smallest free one that fits is
 * lent to a job. A few, since a model's bodies usually need the same size.
 */
class Rooms {
  readonly #free: ArrayBuffer[] = [];
  #bytes = 0;

  take(bytes: number): ArrayBuffer | undefined {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const size = this.#free[i]!.byteLength;
      if (size >= bytes && (best < 0 || size < this.#free[best]!.byteLength)) best = i;
    }
    if (best < 0) return undefined;
    const [room] = this.#free.splice(best, 1);
    this.#bytes -= room!.byteLength;
    return room;
  }

  give(room: ArrayBuffer): void {
    if (room.byteLength === 0 || this.#free.length >= MAX_ROOMS || this.#bytes + room.byteLength > MAX_ROOM_BYTES) return;
    this.#free.push(room);
    this.#bytes += room.byteLength;
  }

  clear(): void {
    this.#free.length = 0;
    this.#bytes = 0;
  }
}
