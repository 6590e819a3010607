/**
 * Reusable buffers for input tensors sent to worker threads.
 *
 * Request tensors usually sit in memory we must not detach (a gRPC tensor_content is a view into
 * the whole request message; small Node Buffers share one pooled ArrayBuffer), so every input is
 * copied into a buffer the runtime owns, and that buffer is transferred to the worker and back.
 * Most of a copy's cost is faulting in fresh memory (node-perf.md §2 rule 1: 12 MB took 2.5–7.7 ms
 * into new memory against ~0.7 ms for the memcpy), so large buffers are recycled here.
 *
 * Measured for this runtime (2-core box, Node 20, medians of 40): a 600 KB input costs 0.015 ms
 * copied into a pooled buffer against 0.33 ms into fresh memory; 12.6 MB costs 0.5 ms pooled
 * against 1.4–2.0 ms fresh (p90 8 ms). The whole worker round trip of the tiny dummy model is
 * ~110 µs against ~14 µs inline, which is why tiny models run inline.
 *
 * The main thread's pool (`shared`) holds SharedArrayBuffers: they are posted to the worker, not
 * transferred, so they never leave this thread and never come back as "new" memory. A transferred
 * buffer counts as freshly allocated external memory each time it arrives, which schedules GCs on
 * the event-loop heap (12.6 MB tensors over KServe REST: 281 scavenges in a 7 s window before,
 * 97 with this and the reused request bodies of api/http/body.ts). onnxruntime refuses shared
 * memory, so the worker copies the input into its own pooled (plain) buffer, off the event loop.
 */
const MIN_POOLED_BYTES = 64 * 1024;
const MAX_BUFFERS_PER_SIZE = 8;
const MAX_POOLED_BYTES = 256 * 1024 * 1024;

export class BufferPool {
  readonly #free = new Map<number, ArrayBufferLike[]>();
  readonly #shared: boolean;
  #pooledBytes = 0;

  /** `shared`: pooled buffers are SharedArrayBuffers (small ones stay plain ArrayBuffers). */
  constructor(options: { shared?: boolean } = {}) {
    this.#shared = options.shared ?? false;
  }

  /**
   * A buffer of at least `bytes` bytes that nobody else references: a plain ArrayBuffer under the
   * pooling size, else a SharedArrayBuffer when the pool is shared.
   */
  take(bytes: number): ArrayBufferLike {
    if (bytes < MIN_POOLED_BYTES) return new ArrayBuffer(bytes);
    const size = sizeClass(bytes);
    const buffer = this.#free.get(size)?.pop();
    if (buffer) {
      this.#pooledBytes -= size;
      return buffer;
    }
    return this.#shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
  }

  /** Returns a buffer once its run has finished; a detached or foreign-sized buffer is dropped. */
  give(buffer: ArrayBufferLike): void {
    const size = buffer.byteLength;
    if (buffer instanceof SharedArrayBuffer !== this.#shared) return;
    if (size < MIN_POOLED_BYTES || size !== sizeClass(size)) return;
    if (this.#pooledBytes + size > MAX_POOLED_BYTES) return;
    let list = this.#free.get(size);
    if (!list) this.#free.set(size, (list = []));
    if (list.length >= MAX_BUFFERS_PER_SIZE) return;
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

/** Powers of two, so buffers fit many request sizes (at most 2x the memory of the tensor). */
function sizeClass(bytes: number): number {
  return 2 ** Math.ceil(Math.log2(bytes));
}
