/**
 * Tensors → JSON text for the TFS REST response, written by hand: one string per element, then
 * joined level by level into nested arrays. (Array.from + JSON.stringify costs 2-3× more memory
 * and cannot print floats the way TFS does.)
 *
 * Number formats follow TensorFlow Serving's json_tensor writer:
 *  - FP32: the shortest of 6 or 9 significant digits that reads back as the same float32 (TFS
 *    prints 0.1f as 0.1, not 0.10000000149011612); FP64 and FP16 likewise with their own
 *    precision. Whole numbers get a trailing ".0" so clients see floats.
 *  - NaN / Infinity / -Infinity are written bare, as TFS does (not strict JSON; Python's json
 *    module and most TFS clients read them).
 *  - 64-bit integers are printed exactly from BigInt, unquoted.
 *  - BOOL as true/false.
 *  - STRING as JSON strings when the bytes are valid UTF-8 and the output name does not end in
 *    "_bytes" (TFS's convention for binary outputs); otherwise as {"b64": "<base64>"}.
 */
import { halfToNumber, numberToHalfBits } from '../../core/fp16.js';
import { isStringData, type Tensor } from '../../core/tensor.js';
import type { NumericArray } from '../../core/dtype.js';

const POW10: number[] = [];
for (let i = 0; i <= 400; i++) POW10.push(Number(`1e${i}`));

/** The JSON text of a whole tensor (a bare value for rank 0). */
export function tensorJson(name: string, tensor: Tensor): string {
  if (tensor.shape.length === 0) return formatElements(name, tensor)[0] ?? 'null';
  return `[${tensorItemsJson(name, tensor).join(',')}]`;
}

/** The JSON text of each slice along dim 0 (rank ≥ 1): one per batch item. */
export function tensorItemsJson(name: string, tensor: Tensor): string[] {
  const shape = tensor.shape;
  let count = 1;
  for (const d of shape) count *= d;
  if (count === 0) return emptyItems(shape);
  let parts = formatElements(name, tensor);
  for (let d = shape.length - 1; d >= 1; d--) parts = group(parts, shape[d]!);
  return parts;
}

function group(parts: string[], size: number): string[] {
  const n = parts.length / size;
  const out: string[] = new Array(n);
  for (let k = 0; k < n; k++) out[k] = `[${parts.slice(k * size, (k + 1) * size).join(',')}]`;
  return out;
}

/** Items of a tensor with a zero dim somewhere: nested empty arrays. */
function emptyItems(shape: readonly number[]): string[] {
  // Dims after the first zero never appear; build the item text from that zero outwards.
  const firstZero = shape.indexOf(0);
  if (firstZero === 0) return [];
  let inner = '[]';
  for (let d = firstZero - 1; d >= 1; d--) inner = `[${new Array<string>(shape[d]!).fill(inner).join(',')}]`;
  return new Array<string>(shape[0]!).fill(inner);
}

function formatElements(name: string, tensor: Tensor): string[] {
  const data = tensor.data;
  if (isStringData(data)) return formatStrings(name, data);
  const n = data.length;
  const out: string[] = new Array(n);
  switch (tensor.dtype) {
    case 'FP32': {
      const a = data as Float32Array;
      for (let i = 0; i < n; i++) out[i] = formatFloat32(a[i]!);
      break;
    }
    case 'FP64': {
      const a = data as Float64Array;
      for (let i = 0; i < n; i++) out[i] = formatFloat64(a[i]!);
      break;
    }
    case 'FP16': {
      const a = data as Uint16Array;
      for (let i = 0; i < n; i++) out[i] = formatHalf(a[i]!);
      break;
    }
    case 'BOOL': {
      const a = data as Uint8Array;
      for (let i = 0; i < n; i++) out[i] = a[i] ? 'true' : 'false';
      break;
    }
    default: {
      // Integer types, including BigInt64Array/BigUint64Array (String(bigint) is exact).
      const a = data as Exclude<NumericArray, Float32Array | Float64Array>;
      for (let i = 0; i < n; i++) out[i] = String(a[i]);
    }
  }
  return out;
}

function nonFinite(x: number): string {
  return x !== x ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

/** Whole-number floats keep a ".0" (TFS adds it so clients read floats, not ints). */
function withPoint(r: number): string {
  return Number.isInteger(r) && r < 1e21 && r > -1e21 ? (Object.is(r, -0) ? '-0.0' : `${r}.0`) : `${r}`;
}

/** x rounded to `digits` significant decimal digits, as the nearest double. */
function roundToDigits(x: number, digits: number, exp10: number): number {
  const k = digits - 1 - exp10;
  return k >= 0 ? Math.round(x * POW10[k]!) / POW10[k]! : Math.round(x / POW10[-k]!) * POW10[-k]!;
}

export function formatFloat32(x: number): string {
  if (x === 0) return withPoint(x);
  if (!Number.isFinite(x)) return nonFinite(x);
  const e = Math.floor(Math.log10(Math.abs(x)));
  let r = roundToDigits(x, 6, e);
  if (Math.fround(r) !== x) {
    r = roundToDigits(x, 9, e);
    // Both roundings are checked; the exact value is the always-correct fallback.
    if (Math.fround(r) !== x) r = x;
  }
  return withPoint(r);
}

export function formatFloat64(x: number): string {
  return Number.isFinite(x) ? withPoint(x) : nonFinite(x);
}

export function formatHalf(bits: number): string {
  const x = halfToNumber(bits);
  if (x === 0) return withPoint(x);
  if (!Number.isFinite(x)) return nonFinite(x);
  const e = Math.floor(Math.log10(Math.abs(x)));
  for (const digits of [3, 4, 5]) {
    const r = roundToDigits(x, digits, e);
    if (numberToHalfBits(r) === bits) return withPoint(r);
  }
  return withPoint(x);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function formatStrings(name: string, data: readonly Uint8Array[]): string[] {
  const binary = name.endsWith('_bytes');
  return data.map((bytes) => {
    if (!binary) {
      try {
        return JSON.stringify(utf8.decode(bytes));
      } catch {
        // not UTF-8: fall through to base64
      }
    }
    return `{"b64":"${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}"}`;
  });
}
