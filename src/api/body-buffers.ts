/**
 * Memory for large request bodies (REST bodies, gRPC messages), reused across requests.
 *
 * A fresh body per request is new external memory to V8, which schedules its garbage collections:
 * with 600 KB gRPC requests on the cnn at 8 in flight, the server ran ~12 full mark-compacts per
 * second ("GC in old space requested", `node --trace-gc`), and the GC helper threads took ~30 % of
 * a core. Buffers come in power-of-two sizes (with room to align) and are only given back once
 * their request is over (its handler settled and its response sent).
 */
import { BufferPool } from '../core/buffer-pool.js';

const ALIGNMENT = 8;

/** Bodies as Buffers placed for alignment, in memory from a BufferPool (core/buffer-pool.ts). */
export class BodyBuffers {
  // Smaller bodies are cheap to allocate; 16 per size covers every request in flight at once.
  readonly #pool = new BufferPool({ minBytes: 64 * 1024, maxPerSize: 16 });

  /**
   * A body of `length` bytes, placed so that its byte at `alignAt` starts an 8-byte boundary (a
   * tensor there is then a zero-copy view), or undefined when the body is too small to pool.
   */
  take(length: number, alignAt: number | undefined): Buffer | undefined {
    if (!this.#pool.pools(length)) return undefined;
    return placeAligned(Buffer.from(this.#pool.take(length + ALIGNMENT - 1) as ArrayBuffer), alignAt, length);
  }

  /** Takes back a body from take() once nothing uses it any more (others are ignored). */
  give(body: Buffer): void {
    this.#pool.give(body.buffer);
  }
}

/** A fresh body of `length` bytes, aligned as take() would place it. */
export function allocateBody(length: number, alignAt: number | undefined): Buffer {
  if (!alignable(alignAt, length)) return Buffer.allocUnsafe(length);
  return placeAligned(Buffer.allocUnsafe(length + ALIGNMENT - 1), alignAt, length);
}

function alignable(alignAt: number | undefined, length: number): alignAt is number {
  return alignAt !== undefined && Number.isSafeInteger(alignAt) && alignAt >= 0 && alignAt < length;
}

/**
 * `length` bytes of `room` (which has ALIGNMENT - 1 bytes to spare) starting where the byte at
 * `alignAt` lands on an 8-byte boundary of the underlying memory; at its start when there is
 * nothing to align.
 */
function placeAligned(room: Buffer, alignAt: number | undefined, length: number): Buffer {
  const pad = alignable(alignAt, length) ? (ALIGNMENT - ((room.byteOffset + alignAt) % ALIGNMENT)) % ALIGNMENT : 0;
  return room.subarray(pad, pad + length);
}
