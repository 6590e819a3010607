/**
 * Memory a producer inside the server gives up to the runtime: a joined batch, decoded images.
 * A runtime that moves inputs to another thread may transfer such a buffer (detaching it here)
 * instead of copying it. Only whole, unshared ArrayBuffers qualify; request bytes never do.
 */
const handedOver = new WeakSet<ArrayBufferLike>();

/** The caller promises not to read `buffer` again once the run it feeds has started. */
export function handOver(buffer: ArrayBufferLike): void {
  if (buffer instanceof ArrayBuffer) handedOver.add(buffer);
}

export function isHandedOver(buffer: ArrayBufferLike): buffer is ArrayBuffer {
  return handedOver.has(buffer);
}
