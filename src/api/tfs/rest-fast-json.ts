/**
 * The fast path of TFS REST Predict bodies: `{"instances": [[...]]}` or `{"inputs": [[...]]}`
 * (optionally with a "signature_name" string) for a servable with one floating-point input —
 * what image and embedding clients send. The bytes are scanned once and the numbers are written
 * straight into the tensor's typed array, without building the JS value tree JSON.parse makes.
 *
 * Measured on the bench's 150,528-float body (2.9 MB, float32 values printed with 17 digits):
 * JSON.parse + the recursive fill took 15-18 ms of event-loop time; this scan 5.5-6 ms (7.4-8.8
 * before digits were read 8 at a time). Large bodies are scanned in worker threads
 * (json-decode-pool.ts).
 *
 * It only ever answers for bodies it fully understands and that are valid, rectangular JSON; for
 * anything else (other keys, escapes, non-numbers, ragged or empty arrays, odd nesting, invalid
 * JSON) it returns undefined and the general parser (rest-request.ts) decides, with its errors.
 * The values are those JSON.parse gives: exact decimal-to-double conversion (the fast case is
 * exact, the others go through Number()), then the same store into the typed array.
 */
import type { Tensor, TensorSpec } from '../../core/tensor.js';
import { MAX_JSON_DEPTH } from '../../core/limits.js';

export interface FastPredictBody {
  readonly format: 'row' | 'column';
  readonly name: string;
  readonly tensor: Tensor;
}

/** 10^0 … 10^22: every one is exact as a double, which makes m × 10^e correctly rounded (m < 2^53). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** A relative distance well above the error of the digit accumulation (< 8 double ulps). */
const NEAR = 2 ** -46;

/** Longer mantissas (digits and the point) could accumulate more error than NEAR allows for. */
const MAX_APPROX_CHARS = 40;

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const BACKSLASH = 0x5c;

/** Not the fast case; the general parser takes over. */
class NotFast extends Error {}
const NOT_FAST = new NotFast();

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The one input the fast path could fill, or undefined when it never applies to this servable. */
export function fastPathInput(specs: readonly TensorSpec[]): TensorSpec | undefined {
  if (specs.length !== 1) return undefined;
  const spec = specs[0]!;
  return spec.dtype === 'FP32' || spec.dtype === 'FP64' ? spec : undefined;
}

/**
 * `room`: memory to write the values into (the JSON-decode workers reuse it across bodies instead
 * of faulting in fresh pages for each); used when it holds the elements the input's shape
 * promises, and the tensor is then a view of its start.
 */
export function parsePredictBodyFast(body: Uint8Array, specs: readonly TensorSpec[], room?: ArrayBuffer): FastPredictBody | undefined {
  const spec = fastPathInput(specs);
  if (!spec) return undefined;
  try {
    return new Scanner(body, spec, room).document();
  } catch (err) {
    if (err instanceof NotFast) return undefined;
    throw err;
  }
}

/**
 * Room for the elements the input's shape promises (a symbolic dim counted as 1), so a body of the
 * model's own shape fills its array without growing it and the result spans its whole buffer (no
 * trailing slice copy: 0.6 MB for the bench's cnn input). Never more than the body could hold:
 * each element takes at least a digit and a separator.
 */
export function initialCapacity(spec: TensorSpec, bodyBytes: number): number {
  let n = 1;
  for (const d of spec.shape) if (d > 0) n *= d;
  return Math.max(16, Math.min(n, Math.ceil(bodyBytes / 2)));
}

/**
 * The 8 bytes at `i` as a number when all are ASCII digits, else -1: two little-endian 32-bit
 * words checked and converted at once (SWAR), which took the bench body's scan from 7.4-7.8 ms to
 * 5.5-5.9 ms against one byte per step.
 */
function eightDigits(dv: DataView, i: number): number {
  const lo = dv.getUint32(i, true);
  const hi = dv.getUint32(i + 4, true);
  // Every byte is 0x30-0x39 exactly when its high nibble is 3 both as it is and with 6 added.
  const notDigits = ((lo & 0xf0f0f0f0) ^ 0x30303030) | (((lo + 0x06060606) & 0xf0f0f0f0) ^ 0x30303030)
    | ((hi & 0xf0f0f0f0) ^ 0x30303030) | (((hi + 0x06060606) & 0xf0f0f0f0) ^ 0x30303030);
  if (notDigits !== 0) return -1;
  return fourDigits(lo) * 10000 + fourDigits(hi);
}

/** Four ASCII digits in a little-endian word (first digit in the low byte) → their value. */
function fourDigits(word: number): number {
  const d = (word - 0x30303030) | 0; // one digit per byte
  const pairs = (d * 10 + (d >>> 8)) & 0x00ff00ff; // bytes 0 and 2: the two 2-digit values
  return (pairs & 0xff) * 100 + (pairs >>> 16);
}

class Scanner {
  readonly #b: Uint8Array;
  readonly #view: DataView;
  readonly #spec: TensorSpec;
  #i = 0;
  #data: Float32Array | Float64Array;
  #count = 0;
  readonly #float32: boolean;
  /** The caller's memory, while the values still fit it. */
  readonly #room: ArrayBuffer | undefined;

  constructor(body: Uint8Array, spec: TensorSpec, room: ArrayBuffer | undefined) {
    this.#b = body;
    this.#view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    this.#spec = spec;
    this.#float32 = spec.dtype === 'FP32';
    const capacity = initialCapacity(spec, body.byteLength);
    const ArrayType = this.#float32 ? Float32Array : Float64Array;
    const size = ArrayType.BYTES_PER_ELEMENT;
    this.#room = room !== undefined && room.byteLength >= capacity * size ? room : undefined;
    this.#data = this.#room ? new ArrayType(this.#room, 0, Math.floor(this.#room.byteLength / size)) : this.#newArray(capacity);
  }

  document(): FastPredictBody {
    this.#expect(OPEN_OBJECT);
    let format: 'row' | 'column' | undefined;
    let shape: number[] | undefined;
    let signatureSeen = false;
    for (;;) {
      const key = this.#key();
      if (key === 'signature_name' && !signatureSeen) {
        signatureSeen = true;
        this.#plainString();
      } else if ((key === 'instances' || key === 'inputs') && format === undefined) {
        format = key === 'instances' ? 'row' : 'column';
        shape = this.#tensor();
      } else {
        throw NOT_FAST;
      }
      const c = this.#next();
      if (c === CLOSE_OBJECT) break;
      if (c !== COMMA) throw NOT_FAST;
    }
    if (this.#next() !== -1 || format === undefined || shape === undefined) throw NOT_FAST;
    let data = this.#data;
    if (data.length !== this.#count) data = data.buffer === this.#room ? data.subarray(0, this.#count) : data.slice(0, this.#count);
    return { format, name: this.#spec.name, tensor: { dtype: this.#spec.dtype, shape, data } };
  }

  #newArray(n: number): Float32Array | Float64Array {
    return this.#spec.dtype === 'FP32' ? new Float32Array(n) : new Float64Array(n);
  }

  /** The next non-space byte (consumed), or -1 at the end. */
  #next(): number {
    const b = this.#b;
    let i = this.#i;
    while (i < b.length && isSpace(b[i]!)) i++;
    if (i >= b.length) {
      this.#i = i;
      return -1;
    }
    this.#i = i + 1;
    return b[i]!;
  }

  #expect(c: number): void {
    if (this.#next() !== c) throw NOT_FAST;
  }

  /** `"key":` with a key of plain ASCII (no escapes). */
  #key(): string {
    this.#expect(QUOTE);
    const start = this.#i;
    this.#plainStringRest();
    const key = String.fromCharCode(...this.#b.subarray(start, this.#i - 1));
    this.#expect(COLON);
    return key;
  }

  #plainString(): void {
    this.#expect(QUOTE);
    this.#plainStringRest();
  }

  /** Skips to the closing quote; escapes, control and non-ASCII bytes are left to the general parser. */
  #plainStringRest(): void {
    const b = this.#b;
    let i = this.#i;
    for (; i < b.length; i++) {
      const c = b[i]!;
      if (c === QUOTE) {
        this.#i = i + 1;
        return;
      }
      if (c === BACKSLASH || c < 0x20 || c >= 0x80) throw NOT_FAST;
    }
    throw NOT_FAST;
  }

  /**
   * A nested array of numbers; returns its shape. The length of the first array closed at each
   * depth fixes that dimension and every other array must match it; every number must sit at the
   * same depth.
   */
  #tensor(): number[] {
    if (this.#next() !== OPEN_ARRAY) throw NOT_FAST;
    const b = this.#b;
    const shape: number[] = [];
    const counts: number[] = [0];
    let rank = -1; // the depth of the numbers, once the first one is seen
    let depth = 0; // index of the innermost open array
    let i = this.#i;
    for (;;) {
      while (i < b.length && isSpace(b[i]!)) i++;
      if (i >= b.length) throw NOT_FAST;
      let c = b[i]!;
      if (c === OPEN_ARRAY) {
        if (rank >= 0 && depth + 1 >= rank) throw NOT_FAST;
        if (depth + 1 >= MAX_JSON_DEPTH) throw NOT_FAST;
        i++;
        depth++;
        counts[depth] = 0;
        continue; // its first element follows
      }
      {
        if (rank < 0) {
          rank = depth + 1;
          if (shape.length !== 0) throw NOT_FAST;
        } else if (depth + 1 !== rank) {
          throw NOT_FAST;
        }
        i = this.#number(i);
        counts[depth]!++;
      }
      // After an element: a comma (another element follows) or closing brackets.
      for (;;) {
        while (i < b.length && isSpace(b[i]!)) i++;
        if (i >= b.length) throw NOT_FAST;
        c = b[i]!;
        if (c === COMMA) {
          i++;
          break;
        }
        if (c !== CLOSE_ARRAY) throw NOT_FAST;
        i++;
        const n = counts[depth]!;
        if (n === 0) throw NOT_FAST;
        if (shape[depth] === undefined) shape[depth] = n;
        else if (shape[depth] !== n) throw NOT_FAST;
        if (depth === 0) {
          this.#i = i;
          if (shape.length !== rank) throw NOT_FAST;
          return shape;
        }
        depth--;
        counts[depth]!++;
      }
      // An element must follow a comma: `[1,]` is invalid.
      while (i < b.length && isSpace(b[i]!)) i++;
      if (i >= b.length || b[i] === CLOSE_ARRAY) throw NOT_FAST;
    }
  }

  /**
   * Parses the JSON number at `i` into the data; returns the index after it. Reading past the end
   * of `b` gives undefined, which no comparison below matches, so it ends the number like any
   * other byte; the caller then finds no closing bracket and gives up.
   */
  #number(start: number): number {
    const b = this.#b;
    let i = start;
    let c = b[i]!;
    const negative = c === 0x2d;
    if (negative) c = b[++i]!;
    // Digits are read 8 at a time where 8 follow (eightDigits), the rest one by one into a small
    // integer, and folded into the double: exact for as long as the mantissa fits 53 bits, as with
    // digit-by-digit doubles. A run the 8-digit step leaves is shorter than 8 digits.
    const dv = this.#view;
    const end = b.length - 8;
    let mantissa = 0;
    let chunk = 0;
    let chunkDigits = 0;
    const digitsStart = i;
    if (c === 0x30) {
      c = b[++i]!;
      if (c >= 0x30 && c <= 0x39) throw NOT_FAST; // leading zero
    } else if (c >= 0x31 && c <= 0x39) {
      for (let eight: number; i <= end && (eight = eightDigits(dv, i)) >= 0; i += 8) mantissa = mantissa * 1e8 + eight;
      c = b[i]!;
      while (c >= 0x30 && c <= 0x39) {
        chunk = chunk * 10 + (c - 0x30);
        chunkDigits++;
        c = b[++i]!;
      }
    } else {
      throw NOT_FAST;
    }
    let exponent = 0;
    if (c === 0x2e) {
      c = b[++i]!;
      if (!(c >= 0x30 && c <= 0x39)) throw NOT_FAST;
      const pointAt = i;
      if (chunkDigits !== 0) {
        mantissa = mantissa * POW10[chunkDigits]! + chunk;
        chunk = 0;
        chunkDigits = 0;
      }
      for (let eight: number; i <= end && (eight = eightDigits(dv, i)) >= 0; i += 8) mantissa = mantissa * 1e8 + eight;
      c = b[i]!;
      while (c >= 0x30 && c <= 0x39) {
        chunk = chunk * 10 + (c - 0x30);
        chunkDigits++;
        c = b[++i]!;
      }
      exponent = pointAt - i;
    }
    mantissa = mantissa * POW10[chunkDigits]! + chunk;
    if (c === 0x65 || c === 0x45) {
      c = b[++i]!;
      let negativeExp = false;
      if (c === 0x2b || c === 0x2d) {
        negativeExp = c === 0x2d;
        c = b[++i]!;
      }
      if (!(c >= 0x30 && c <= 0x39)) throw NOT_FAST;
      let e = 0;
      do {
        if (e < 1e6) e = e * 10 + (c - 0x30);
        c = b[++i]!;
      } while (c >= 0x30 && c <= 0x39);
      exponent += negativeExp ? -e : e;
    }
    let value = Number.NaN;
    if (exponent >= -22 && exponent <= 22) {
      const v = exponent < 0 ? mantissa / POW10[-exponent]! : mantissa * POW10[exponent]!;
      if (mantissa <= Number.MAX_SAFE_INTEGER) {
        // Both operands are exact doubles, so one IEEE operation gives the correctly rounded value.
        value = v;
      } else if (this.#float32 && i - digitsStart <= MAX_APPROX_CHARS && Number.isFinite(v)) {
        // More digits than a double holds (typical for float32 values printed by JSON.stringify):
        // v is within a few double ulps of the exact value. When everything that close rounds to
        // the same float32, so do the exact value and JSON.parse's double; otherwise ask Number().
        const low = Math.fround(v * (1 - NEAR));
        if (low === Math.fround(v * (1 + NEAR))) value = low;
      }
    }
    if (Number.isNaN(value)) value = Number(String.fromCharCode(...b.subarray(negative ? start + 1 : start, i)));
    this.#push(negative ? -value : value);
    return i;
  }

  #push(value: number): void {
    if (this.#count === this.#data.length) {
      const grown = this.#newArray(Math.max(16, this.#data.length * 2));
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data[this.#count++] = value;
  }
}
