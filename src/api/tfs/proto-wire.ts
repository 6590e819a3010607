/**
 * Protocol buffer wire-format primitives for the hand-written TFS Predict and KServe ModelInfer
 * codecs (predict-codec.ts, kserve/infer-codec.ts).
 * Every read is bounds-checked: a request is hostile until proven otherwise, and a bad byte must
 * end in a WireError (→ INVALID_ARGUMENT), never in an out-of-range read or a crash.
 */
import { type DType, type NumericArray, dtypeInfo } from '../../core/dtype.js';
import { isStringData, tensorBytes, viewBytes, type Tensor } from '../../core/tensor.js';

export const enum WireType {
  VARINT = 0,
  FIXED64 = 1,
  LEN = 2,
  START_GROUP = 3,
  END_GROUP = 4,
  FIXED32 = 5,
}

/** The request bytes are not a valid protobuf encoding. */
export class WireError extends Error {
  override readonly name = 'WireError';
}

const TWO_32 = 4294967296;

/** Reads one message (or a sub-message: `end` bounds it) of a buffer. */
export class WireReader {
  pos: number;

  constructor(readonly buf: Uint8Array, pos = 0, readonly end = buf.length) {
    this.pos = pos;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Field tag: `field << 3 | wireType`. */
  tag(): number {
    const at = this.pos;
    const t = this.uint32();
    // uint32() keeps the low 32 bits; protobuf parsers refuse a wider tag instead of truncating it.
    const len = this.pos - at;
    if (len > 5 || (len === 5 && this.buf[at + 4]! > 0x0f)) throw new WireError(`field tag at byte ${at} is wider than 32 bits`);
    if (t >>> 3 === 0) throw new WireError(`invalid field number 0 at byte ${at}`);
    return t;
  }

  /** A varint's low 32 bits as an unsigned number (int32/enum/bool/uint32 fields; longer varints are truncated as protobuf does). */
  uint32(): number {
    const { buf, end } = this;
    let pos = this.pos;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= end) throw this.truncated('varint');
      const b = buf[pos++]!;
      if (shift < 28) value |= (b & 0x7f) << shift;
      else value |= (b & 0x0f) << 28;
      if (b < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    // Bytes 6..10 only carry the high half of a 64-bit value.
    for (let i = 5; i < 10; i++) {
      if (pos >= end) throw this.truncated('varint');
      if (buf[pos++]! < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    throw new WireError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** A varint read as a signed 64-bit integer, returned as a number (exact up to 2^53). */
  int64(): number {
    this.varint64();
    return (this.hi | 0) * TWO_32 + this.lo;
  }

  /** Low and high 32-bit halves of the last `varint64()` (unsigned). */
  lo = 0;
  hi = 0;

  /** Reads a varint into `lo`/`hi`. */
  varint64(): void {
    const { buf, end } = this;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw this.truncated('varint');
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) return this.setVarint(pos, lo, 0);
    }
    if (pos >= end) throw this.truncated('varint');
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b < 0x80) return this.setVarint(pos, lo, hi);
    for (let shift = 3; shift < 32; shift += 7) {
      if (pos >= end) throw this.truncated('varint');
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) return this.setVarint(pos, lo, hi);
    }
    throw new WireError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  private setVarint(pos: number, lo: number, hi: number): void {
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** A length prefix followed by that many bytes; returns [start, end) and moves past them. */
  lengthDelimited(): number {
    const at = this.pos;
    const len = this.uint32();
    // uint32() truncates: a length varint with more than 32 significant bits is rejected below by the bound.
    const start = this.pos;
    if (len > this.end - start) throw new WireError(`length ${len} at byte ${at} runs past the end of the message`);
    this.pos = start + len;
    return start;
  }

  /** The bytes of a length-delimited field, as a view into the request (no copy). */
  bytes(): Uint8Array {
    const start = this.lengthDelimited();
    return this.buf.subarray(start, this.pos);
  }

  string(): string {
    const start = this.lengthDelimited();
    return decodeUtf8(this.buf, start, this.pos);
  }

  /** Skips a field the caller does not read (unknown fields must be tolerated). */
  skip(wireType: number, field: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.uint32();
        return;
      case WireType.FIXED64:
        this.advance(8);
        return;
      case WireType.LEN:
        this.lengthDelimited();
        return;
      case WireType.FIXED32:
        this.advance(4);
        return;
      case WireType.START_GROUP:
        this.skipGroup(field);
        return;
      default:
        throw new WireError(`invalid wire type ${wireType} for field ${field} at byte ${this.pos}`);
    }
  }

  /** Checks a field arrived with the wire type its declaration implies. */
  expect(wireType: number, expected: number, field: number, what: string): void {
    if (wireType !== expected) throw new WireError(`${what} (field ${field}) has wire type ${wireType}, expected ${expected}`);
  }

  advance(n: number): void {
    if (n > this.end - this.pos) throw this.truncated('fixed-size field');
    this.pos += n;
  }

  private skipGroup(field: number): void {
    for (;;) {
      if (this.done) throw this.truncated('group');
      const t = this.tag();
      const wt = t & 7;
      if (wt === WireType.END_GROUP) {
        if (t >>> 3 !== field) throw new WireError(`group ${field} closed by end-group tag of field ${t >>> 3}`);
        return;
      }
      this.skip(wt, t >>> 3);
    }
  }

  private truncated(what: string): WireError {
    return new WireError(`${what} at byte ${this.pos} runs past the end of the message`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strings up to this length are read, measured and written by a JS loop when they are ASCII. */
const SHORT_STRING = 64;

/** proto3 strings must be UTF-8; names are short and usually ASCII, so that case avoids TextDecoder. */
export function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= SHORT_STRING) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return decodeUtf8Slow(buf, start, end);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decodeUtf8Slow(buf, start, end);
}

function decodeUtf8Slow(buf: Uint8Array, start: number, end: number): string {
  try {
    return utf8.decode(buf.subarray(start, end));
  } catch {
    throw new WireError(`string field at byte ${start} is not valid UTF-8`);
  }
}

/**
 * UTF-8 length of a string field. Names in responses are short and ASCII, and this loop is about
 * twice as fast as Buffer.byteLength plus Buffer#write (two native calls) for them.
 */
export function utf8Size(s: string): number {
  if (s.length > SHORT_STRING) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

/** Writes `s` (`size` = utf8Size(s) bytes) at `pos`; returns the position after it. */
export function writeUtf8(out: Buffer, pos: number, s: string, size: number): number {
  if (size !== s.length || size > SHORT_STRING) return pos + out.write(s, pos, size, 'utf8');
  for (let i = 0; i < size; i++) out[pos + i] = s.charCodeAt(i);
  return pos + size;
}

/** Number of varints in a packed field's bytes (each ends with a byte below 0x80). */
export function countVarints(buf: Uint8Array, start: number, end: number): number {
  if (end > start && buf[end - 1]! >= 0x80) throw new WireError(`packed varints at byte ${start} end in the middle of a value`);
  let n = 0;
  for (let i = start; i < end; i++) if (buf[i]! < 0x80) n++;
  return n;
}

// ---- writing ----

/** Bytes a varint of an unsigned 32-bit value takes. */
export function varint32Size(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes a varint of an int64 value (given as a safe-integer number; negatives take 10) takes. */
export function varint64Size(v: number): number {
  if (v < 0) return 10;
  if (v < TWO_32) return varint32Size(v);
  let n = 5;
  let high = Math.floor(v / 2 ** 35);
  while (high > 0) {
    n++;
    high = Math.floor(high / 128);
  }
  return n;
}

export function writeVarint32(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Writes an int64 given as a safe-integer number (negatives in two's complement, 10 bytes). */
export function writeVarint64(buf: Uint8Array, pos: number, v: number): number {
  if (v >= 0 && v < TWO_32) return writeVarint32(buf, pos, v);
  let lo: number;
  let hi: number;
  if (v >= 0) {
    lo = v % TWO_32;
    hi = Math.floor(v / TWO_32);
  } else {
    const high = Math.floor(v / TWO_32); // negative, rounds towards -inf
    lo = v - high * TWO_32;
    hi = high + TWO_32;
  }
  while (hi > 0) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  return writeVarint32(buf, pos, lo);
}

export function tagOf(field: number, wireType: WireType): number {
  return (field << 3) | wireType;
}

/*
 * Repeated scalar fields of a message, gathered by the codecs as "runs": a flat array of
 * [field, start, end, wireType] quadruples, one per occurrence (packed or not). TensorProto's
 * `*_val` fields and KServe's `InferTensorContents` decode through these two functions.
 */

/**
 * Little-endian fixed-width values (float/double) of `field`: a single run is viewed in place
 * (no copy, alignment permitting); several runs are concatenated into one array of `count`.
 */
export function decodeFixedRuns(buf: Uint8Array, runs: readonly number[], field: number, dtype: DType, count: number): NumericArray {
  let pieces = 0;
  let single: Uint8Array | undefined;
  for (let i = 0; i < runs.length; i += 4) {
    if (runs[i] !== field) continue;
    pieces++;
    single = buf.subarray(runs[i + 1]!, runs[i + 2]!);
  }
  if (pieces === 1) return viewBytes(dtype, single!);
  const out = new (dtypeInfo(dtype).array!)(count);
  const bytes = tensorBytes(out);
  let at = 0;
  for (let i = 0; i < runs.length; i += 4) {
    if (runs[i] !== field) continue;
    const piece = buf.subarray(runs[i + 1]!, runs[i + 2]!);
    bytes.set(piece, at);
    at += piece.length;
  }
  return out;
}

/**
 * Varint values of `field` into `out` from index `k` (returns the next index): 64-bit arrays get
 * both 32-bit halves (no BigInt per value), `bool` arrays 0/1, others the low 32 bits (the typed
 * array then keeps the low bits it holds, as a C cast would). Throws WireError on a bad varint.
 */
export function decodeVarintRuns(buf: Uint8Array, runs: readonly number[], field: number, out: NumericArray, bool: boolean, k = 0): number {
  const wide = out instanceof BigInt64Array || out instanceof BigUint64Array;
  const halves = wide ? new Uint32Array(out.buffer, out.byteOffset, out.length * 2) : undefined;
  const small = out as Exclude<NumericArray, BigInt64Array | BigUint64Array>;
  for (let i = 0; i < runs.length; i += 4) {
    if (runs[i] !== field) continue;
    const r = new WireReader(buf, runs[i + 1]!, runs[i + 2]!);
    while (!r.done) {
      r.varint64();
      if (halves) {
        halves[2 * k] = r.lo;
        halves[2 * k + 1] = r.hi;
      } else if (bool) {
        small[k] = r.lo !== 0 || r.hi !== 0 ? 1 : 0;
      } else {
        small[k] = r.lo | 0;
      }
      k++;
    }
  }
  return k;
}

/**
 * Where the bytes of the first field reached by `route` start — field numbers of length-delimited
 * fields, outermost first (TFS tensor_content: inputs → value → tensor_content) — reading only
 * `head`, the first bytes of a message whose rest may not have arrived. Lets a receiver place a
 * large message so its bulk payload lands aligned. Undefined when the route is not reached inside
 * `head` or the bytes there are not a valid encoding; never throws.
 */
export function locateField(head: Uint8Array, route: readonly number[]): number | undefined {
  let pos = 0;
  let end = Number.POSITIVE_INFINITY;
  let depth = 0;
  const limit = head.length;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= limit) return -1;
      const b = head[pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    return -1;
  };
  while (pos < limit && pos < end) {
    const tag = varint();
    if (tag < 0) return undefined;
    const field = Math.floor(tag / 8);
    switch (tag % 8) {
      case WireType.VARINT:
        if (varint() < 0) return undefined;
        break;
      case WireType.FIXED64:
        pos += 8;
        break;
      case WireType.FIXED32:
        pos += 4;
        break;
      case WireType.LEN: {
        const len = varint();
        if (len < 0 || pos + len > end) return undefined;
        if (field !== route[depth]) {
          pos += len;
          break;
        }
        if (depth === route.length - 1) return pos;
        depth++;
        end = pos + len;
        break;
      }
      default:
        return undefined;
    }
  }
  return undefined;
}

/**
 * An encoded message as one buffer, or as consecutive parts when large tensor bytes are sent from
 * where they lie instead of being copied into the message (the gRPC direct path writes the parts
 * one after the other; see Splices).
 */
export type MessageParts = Buffer | readonly Buffer[];

export function joinParts(parts: MessageParts): Buffer {
  return Buffer.isBuffer(parts) ? parts : Buffer.concat(parts as Buffer[]);
}

/** Payloads at least this large are spliced in as views (a copy costs more than a DATA write). */
const SPLICE_MIN_BYTES = 64 * 1024;

/**
 * Large byte payloads left out of a message buffer and spliced back in as views when the message
 * is assembled: an encoder sizes its buffer without them (`take` tells it which), writes the
 * field's tag and length as usual, then records the payload at the current position.
 * Shared memory is always copied: it may be reused as soon as the handler returns.
 */
export class Splices {
  readonly #at: number[] = [];
  readonly #bytes: Uint8Array[] = [];

  /** Whether `bytes` will be spliced (so the encoder must not reserve room for them). */
  static takes(bytes: Uint8Array): boolean {
    return bytes.byteLength >= SPLICE_MIN_BYTES && !(bytes.buffer instanceof SharedArrayBuffer);
  }

  /** A tensor's bytes when they will be spliced, else undefined (strings are always encoded). */
  static bytesToSplice(data: Tensor['data']): Uint8Array | undefined {
    if (isStringData(data) || data.byteLength < SPLICE_MIN_BYTES) return undefined;
    const bytes = tensorBytes(data);
    return Splices.takes(bytes) ? bytes : undefined;
  }

  add(at: number, bytes: Uint8Array): void {
    this.#at.push(at);
    this.#bytes.push(bytes);
  }

  assemble(out: Buffer): MessageParts {
    if (this.#at.length === 0) return out;
    const parts: Buffer[] = [];
    let from = 0;
    for (let i = 0; i < this.#at.length; i++) {
      const at = this.#at[i]!;
      if (at > from) parts.push(out.subarray(from, at));
      const b = this.#bytes[i]!;
      parts.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      from = at;
    }
    if (from < out.length) parts.push(out.subarray(from));
    return parts;
  }
}
