/** gRPC length-prefixed message framing (1 byte compressed flag + 4 byte big-endian length). */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.byteLength);
  out[0] = 0;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, 5);
  return out;
}

/** The first message of a gRPC body, or undefined if the body is shorter than its frame. */
export function unframe(body: Uint8Array): Uint8Array | undefined {
  if (body.byteLength < 5) return undefined;
  const len = Buffer.from(body.buffer, body.byteOffset, body.byteLength).readUInt32BE(1);
  if (body.byteLength < 5 + len) return undefined;
  return body.subarray(5, 5 + len);
}
