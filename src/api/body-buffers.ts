/**
 * Memory for large request bodies (REST bodies, gRPC messages), reused across requests.
 *
 * A fresh body per request is new external memory to V8, which schedules its garbage collections:
 * with 600 KB gRPC requests on the cnn at 8 in flight, the server ran ~12 full mark-compacts per
 * second ("GC in old space requested", `node --trace-gc`), and the GC helper threads took ~30 % of
 * a core. Buffers come in power-of-two sizes (with room to align) and are only given back once
 * their request is over (its handler settled and its response sent).
 */
const ALIGNMENT = 8;

/** Smaller bodies are cheap to allocate (and come from Node's own pool when tiny). */
const MIN_REUSED_BYTES = 64 * 1024;
/** Enough for every request in flight at the bench's and typical clients' concurrency. */
const MAX_PER_SIZE = 16;
const MAX_REUSED_BYTES = 256 * 1024 * 1024;

export class BodyBuffers {
  readonly #free = new Map<number, ArrayBuffer[]>();
  #pooledBytes = 0;

  /**
   * A body of `length` bytes, placed so that its byte at `alignAt` starts an 8-byte boundary (a
   * tensor there is then a zero-copy view), or undefined when the body is too small to pool.
   */
  take(length: number, alignAt: number | undefined): Buffer | undefined {
    if (length < MIN_REUSED_BYTES) return undefined;
    const size = 2 ** Math.ceil(Math.log2(length + ALIGNMENT - 1));
    let room = this.#free.get(size)?.pop();
    if (room) this.#pooledBytes -= size;
    else room = new ArrayBuffer(size);
    return Buffer.from(room, padFor(alignAt, length), length);
  }

  /** Takes back a body from take() once nothing uses it any more (others are ignored). */
  give(body: Buffer): void {
    const room = body.buffer;
    const size = room.byteLength;
    if (!(room instanceof ArrayBuffer) || size < MIN_REUSED_BYTES || size !== 2 ** Math.round(Math.log2(size))) return;
    if (this.#pooledBytes + size > MAX_REUSED_BYTES) return;
    let list = this.#free.get(size);
    if (!list) this.#free.set(size, (list = []));
    if (list.length >= MAX_PER_SIZE || list.includes(room)) return;
    list.push(room);
    this.#pooledBytes += size;
  }
}

/** A fresh body of `length` bytes, aligned as take() would place it. */
export function allocateBody(length: number, alignAt: number | undefined): Buffer {
  if (!alignable(alignAt, length)) return Buffer.allocUnsafe(length);
  const room = Buffer.allocUnsafe(length + ALIGNMENT - 1);
  const pad = (ALIGNMENT - ((room.byteOffset + alignAt) % ALIGNMENT)) % ALIGNMENT;
  return room.subarray(pad, pad + length);
}

function alignable(alignAt: number | undefined, length: number): alignAt is number {
  return alignAt !== undefined && Number.isSafeInteger(alignAt) && alignAt >= 0 && alignAt < length;
}

function padFor(alignAt: number | undefined, length: number): number {
  return alignable(alignAt, length) ? (ALIGNMENT - (alignAt % ALIGNMENT)) % ALIGNMENT : 0;
}
