/**
 * Typed-array tensors for clients: build one from numbers or a typed array, turn JSON values into
 * one and back. Numeric data is always the dtype's typed array (`Float32Array` for FP32,
 * `BigInt64Array` for INT64, raw `Uint16Array` bits for FP16, `Uint8Array` 0/1 for BOOL); STRING
 * data is one `Uint8Array` per element.
 */
import { type DType, type NumericArray, dtypeInfo } from '../core/dtype.js';
import { halfToNumber, numberToHalfBits } from '../core/fp16.js';
import { elementCount, isStringData, type Tensor } from '../core/tensor.js';

export type TensorValues = NumericArray | readonly (number | bigint | boolean)[] | readonly (string | Uint8Array)[];

/**
 * A tensor from values: a typed array of the dtype's kind is used as it is (no copy); plain arrays
 * are converted (numbers to bigint for 64-bit integers, numbers to half bits for FP16).
 */
export function tensor(dtype: DType, shape: readonly number[], values: TensorValues): Tensor {
  const count = elementCount(shape);
  if (values.length !== count) {
    throw new RangeError(`shape [${shape.join(',')}] needs ${count} values, got ${values.length}`);
  }
  if (dtype === 'STRING') {
    const enc = new TextEncoder();
    const data = Array.from(values as ArrayLike<unknown>, (v) => (v instanceof Uint8Array ? v : enc.encode(String(v))));
    return { dtype, shape: [...shape], data };
  }
  const Ctor = dtypeInfo(dtype).array!;
  if (values instanceof Ctor && !(dtype === 'FP16' && !(values instanceof Uint16Array))) {
    return { dtype, shape: [...shape], data: values as NumericArray };
  }
  return { dtype, shape: [...shape], data: toTypedArray(dtype, values as ArrayLike<unknown>) };
}

/** Converts plain values to the dtype's typed array. */
export function toTypedArray(dtype: DType, values: ArrayLike<unknown>): NumericArray {
  const info = dtypeInfo(dtype);
  const out = new info.array!(values.length);
  const big = dtype === 'INT64' || dtype === 'UINT64';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (big) (out as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
    else if (dtype === 'FP16') (out as Uint16Array)[i] = numberToHalfBits(Number(v));
    else if (dtype === 'BOOL') (out as Uint8Array)[i] = v ? 1 : 0;
    else (out as Float32Array)[i] = typeof v === 'boolean' ? Number(v) : Number(v);
  }
  return out;
}

/** The tensor's values as JSON-able scalars: FP16 as numbers, 64-bit integers as bigint, STRING as text. */
export function tensorValues(t: Tensor): (number | bigint | boolean | string)[] {
  if (isStringData(t.data)) {
    const dec = new TextDecoder();
    return t.data.map((b) => dec.decode(b));
  }
  const data = t.data;
  if (t.dtype === 'FP16') return Array.from(data as Uint16Array, halfToNumber);
  if (t.dtype === 'BOOL') return Array.from(data as Uint8Array, (v) => v !== 0);
  return Array.from(data as ArrayLike<number | bigint>);
}

/** Flat values nested by shape ([2,3] → two rows of three); a scalar shape gives the one value. */
export function nest<T>(flat: readonly T[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  let pos = 0;
  const build = (dim: number): unknown => {
    const n = shape[dim]!;
    const out: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = dim === shape.length - 1 ? flat[pos++] : build(dim + 1);
    return out;
  };
  return build(0);
}

/** A nested JSON array → its shape and flat values; ragged arrays are an error. */
export function flatten(value: unknown): { shape: number[]; values: unknown[] } {
  const shape: number[] = [];
  let probe = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const values: unknown[] = [];
  const walk = (v: unknown, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(v)) throw new TypeError('ragged array: deeper nesting than the first element');
      values.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) throw new TypeError(`ragged array at depth ${dim}`);
    for (const x of v) walk(x, dim + 1);
  };
  walk(value, 0);
  return { shape, values };
}

/** A readable summary for logs and the CLI: `FP32[1,10]`. */
export function describeTensor(t: Tensor): string {
  return `${t.dtype}[${t.shape.join(',')}]`;
}

/** Index of the largest values, best first (for top-k of classifier outputs). */
export function topK(values: ArrayLike<number>, k: number): { index: number; value: number }[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b]! - values[a]!);
  return idx.slice(0, k).map((index) => ({ index, value: values[index]! }));
}
