/**
 * Reusable memory for large buffers: request bodies and messages (api/body-buffers.ts), bodies
 * posted to the JSON-decode workers, and inputs sent to inference worker threads.
 *
 * Most of a large copy's cost is faulting in fresh memory (node-perf.md §2 rule 1: 12 MB took
 * 2.5–7.7 ms into new memory against ~0.7 ms for the memcpy), and every fresh ArrayBuffer is new
 * external memory to V8, which schedules its garbage collections. Measured for the inference
 * inputs (2-core box, Node 20, medians of 40): a 600 KB input costs 0.015 ms copied into a pooled
 * buffer against 0.33 ms into fresh memory; 12.6 MB costs 0.5 ms pooled against 1.4–2.0 ms fresh.
 *
 * A shared pool hands out SharedArrayBuffers: they are posted to a worker, not transferred, so
 * they never leave this thread and never come back as "new" memory (a transferred buffer counts
 * as freshly allocated external memory each time it arrives: 12.6 MB tensors over KServe REST
 * ran 281 scavenges in a 7 s window before, 97 with shared buffers). onnxruntime refuses shared
 * memory, so an inference worker copies such an input into its own (plain) pool, off the event
 * loop. Copies into and out of shared buffers go through copy-bytes.ts: V8's own copies are up to
 * 7× slower on shared memory. Sizes are powers of two, so one buffer fits many request sizes (at
 * most 2× the memory).
 */
export interface BufferPoolOptions {
  /** Pooled buffers are SharedArrayBuffers (those under `minBytes` stay plain ArrayBuffers). */
  readonly shared?: boolean;
  /** Smaller requests get fresh memory and are not kept (cheap, and often from Node's own pool). */
  readonly minBytes?: number;
  /** Free buffers kept per size: enough for every request in flight at once. */
  readonly maxPerSize?: number;
  /** Free bytes kept in all. */
  readonly maxBytes?: number;
}

export class BufferPool {
  readonly #free = new Map<number, ArrayBufferLike[]>();
  readonly #shared: boolean;
  readonly #minBytes: number;
  readonly #maxPerSize: number;
  readonly #maxBytes: number;
  #pooledBytes = 0;

  constructor(options: BufferPoolOptions = {}) {
    this.#shared = options.shared ?? false;
    this.#minBytes = options.minBytes ?? 64 * 1024;
    this.#maxPerSize = options.maxPerSize ?? 8;
    this.#maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  }

  /** Whether take(bytes) comes from (and give() returns to) the pool. */
  pools(bytes: number): boolean {
    return bytes >= this.#minBytes;
  }

  /**
   * A buffer of at least `bytes` bytes that nobody else references: a plain ArrayBuffer under the
   * pooling size, else a SharedArrayBuffer when the pool is shared.
   */
  take(bytes: number): ArrayBufferLike {
    if (!this.pools(bytes)) return new ArrayBuffer(bytes);
    const size = sizeClass(bytes);
    const buffer = this.#free.get(size)?.pop();
    if (buffer) {
      this.#pooledBytes -= size;
      return buffer;
    }
    return this.#shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
  }

  /** Returns a buffer once nothing uses it; a detached, foreign-sized or already returned one is dropped. */
  give(buffer: ArrayBufferLike): void {
    const size = buffer.byteLength;
    if (buffer instanceof SharedArrayBuffer !== this.#shared) return;
    if (!this.pools(size) || size !== sizeClass(size)) return;
    if (this.#pooledBytes + size > this.#maxBytes) return;
    let list = this.#free.get(size);
    if (!list) this.#free.set(size, (list = []));
    if (list.length >= this.#maxPerSize || list.includes(buffer)) return;
    list.push(buffer);
    this.#pooledBytes += size;
  }

  clear(): void {
    this.#free.clear();
    this.#pooledBytes = 0;
  }

  get pooledBytes(): number {
    return this.#pooledBytes;
  }
}

function sizeClass(bytes: number): number {
  return 2 ** Math.ceil(Math.log2(bytes));
}
