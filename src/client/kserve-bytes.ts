/** KServe BYTES elements on the wire: each a 4-byte little-endian length, then the bytes. */

export function encodeBytesElements(elements: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const e of elements) size += 4 + e.byteLength;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const e of elements) {
    out.writeUInt32LE(e.byteLength, pos);
    out.set(e, pos + 4);
    pos += 4 + e.byteLength;
  }
  return out;
}

export function decodeBytesElements(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos + 4 <= bytes.byteLength) {
    const n = view.getUint32(pos, true);
    if (pos + 4 + n > bytes.byteLength) throw new RangeError('BYTES element runs past the end of its buffer');
    out.push(bytes.subarray(pos + 4, pos + 4 + n));
    pos += 4 + n;
  }
  return out;
}
