/**
 * What a tensor in a request "means", read independently of the server's codecs: from protobufjs
 * objects (TFS TensorProto, KServe InferInputTensor) to element bytes. The fuzz tests use it as the
 * oracle: when the server answers a request with a result, the result must be what an identity
 * (or +1, ×2, …) model makes of these elements.
 */
import { dtypeInfo, fromKserve, fromTf, type DType } from '../../src/core/dtype.js';

export type Elements =
  | { readonly dtype: Exclude<DType, 'STRING'>; readonly bytes: Uint8Array }
  | { readonly dtype: 'STRING'; readonly strings: readonly Uint8Array[] };

type Json = any;

function bytesOfArray(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

const asBigInts = (vals: readonly unknown[] | undefined) => (vals ?? []).map((v) => BigInt(String(v)));
const asNumbers = (vals: readonly unknown[] | undefined) => (vals ?? []).map((v) => Number(v));

/** Elements of typed values stored into `dtype`'s typed array (integers wrap as a C cast does). */
export function fromValues(dtype: Exclude<DType, 'STRING'>, values: readonly unknown[]): Uint8Array {
  const info = dtypeInfo(dtype);
  const Ctor = info.array!;
  if (Ctor === BigInt64Array || Ctor === BigUint64Array) return bytesOfArray((Ctor as BigInt64ArrayConstructor).from(asBigInts(values)));
  if (dtype === 'BOOL') return Uint8Array.from(values.map((v) => (v ? 1 : 0)));
  return bytesOfArray((Ctor as Float64ArrayConstructor).from(asNumbers(values)));
}

/**
 * A TFS TensorProto as protobufjs decodes it (toObject with longs as strings): tensor_content when
 * present, else the typed field TensorFlow uses for the dtype. Undefined for unknown dtypes.
 */
export function tfsElements(tp: Json): Elements | undefined {
  const dtype = fromTf(Number(tp.dtype ?? 0));
  if (!dtype) return undefined;
  if (dtype === 'STRING') return { dtype, strings: (tp.string_val ?? []).map((b: Uint8Array) => new Uint8Array(b)) };
  const content: Uint8Array | undefined = tp.tensor_content;
  if (content && content.length > 0) return { dtype, bytes: new Uint8Array(content) };
  const field: Record<Exclude<DType, 'STRING'>, string> = {
    FP32: 'float_val', FP64: 'double_val', INT32: 'int_val', INT16: 'int_val', INT8: 'int_val', UINT8: 'int_val', UINT16: 'int_val',
    INT64: 'int64_val', UINT32: 'uint32_val', UINT64: 'uint64_val', BOOL: 'bool_val', FP16: 'half_val',
  };
  return { dtype, bytes: fromValues(dtype, tp[field[dtype]] ?? []) };
}

/** A KServe InferInputTensor (protobufjs object) with its raw buffer, if raw_input_contents were used. */
export function kserveElements(input: Json, raw: Uint8Array | undefined): Elements | undefined {
  const dtype = fromKserve(String(input.datatype ?? ''));
  if (!dtype) return undefined;
  if (dtype === 'STRING') {
    if (raw) return { dtype, strings: splitPrefixed(raw) ?? [] };
    return { dtype, strings: (input.contents?.bytes_contents ?? []).map((b: Uint8Array) => new Uint8Array(b)) };
  }
  if (raw) return { dtype, bytes: new Uint8Array(raw) };
  const c = input.contents ?? {};
  const field: Record<Exclude<DType, 'STRING'>, string> = {
    FP32: 'fp32_contents', FP64: 'fp64_contents', INT32: 'int_contents', INT16: 'int_contents', INT8: 'int_contents',
    UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents', INT64: 'int64_contents', UINT64: 'uint64_contents',
    BOOL: 'bool_contents', FP16: 'fp16_has_no_contents_field',
  };
  return { dtype, bytes: fromValues(dtype, c[field[dtype]] ?? []) };
}

/** BYTES raw layout: each element a 4-byte little-endian length and its bytes; undefined if it does not add up. */
export function splitPrefixed(raw: Uint8Array): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  let at = 0;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  while (at < raw.length) {
    if (at + 4 > raw.length) return undefined;
    const n = view.getUint32(at, true);
    at += 4;
    if (at + n > raw.length) return undefined;
    out.push(raw.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** Float32 values of element bytes (copied: the bytes may be unaligned). */
export function float32s(bytes: Uint8Array): Float32Array {
  const copy = Uint8Array.from(bytes);
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

/** Elements → the same elements after `f` on every FP32 value (for the +1 / ×2 / −x test models). */
export function mapFloat32(e: Elements, f: (x: number, i: number) => number): Elements {
  if (e.dtype !== 'FP32') throw new Error(`mapFloat32 on ${e.dtype}`);
  const out = Float32Array.from(float32s(e.bytes), f);
  return { dtype: 'FP32', bytes: bytesOfArray(out) };
}

/** Equal dtype and elements; FP32/FP64/FP16 compared as numbers so that every NaN equals every NaN. */
export function sameElements(actual: Elements, expected: Elements): boolean {
  if (actual.dtype !== expected.dtype) return false;
  if (actual.dtype === 'STRING' || expected.dtype === 'STRING') {
    const a = (actual as { strings: readonly Uint8Array[] }).strings;
    const e = (expected as { strings: readonly Uint8Array[] }).strings;
    return a.length === e.length && a.every((s, i) => Buffer.from(s).equals(Buffer.from(e[i]!)));
  }
  const a = actual.bytes;
  const e = expected.bytes;
  if (a.length !== e.length) return false;
  if (actual.dtype === 'FP32' || actual.dtype === 'FP64') {
    const Ctor = actual.dtype === 'FP32' ? Float32Array : Float64Array;
    const x = new Ctor(Uint8Array.from(a).buffer);
    const y = new Ctor(Uint8Array.from(e).buffer);
    for (let i = 0; i < x.length; i++) if (!(x[i] === y[i] || (Number.isNaN(x[i]!) && Number.isNaN(y[i]!)))) return false;
    return true;
  }
  if (actual.dtype === 'FP16') {
    const x = new Uint16Array(Uint8Array.from(a).buffer);
    const y = new Uint16Array(Uint8Array.from(e).buffer);
    const isNaN16 = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x03ff) !== 0;
    for (let i = 0; i < x.length; i++) if (!(x[i] === y[i] || (isNaN16(x[i]!) && isNaN16(y[i]!)))) return false;
    return true;
  }
  return Buffer.from(a).equals(Buffer.from(e));
}

export function describeElements(e: Elements | undefined): string {
  if (!e) return 'undefined';
  if (e.dtype === 'STRING') return `STRING[${e.strings.map((s) => Buffer.from(s).toString('hex')).join(',')}]`;
  return `${e.dtype}:${Buffer.from(e.bytes).toString('hex').slice(0, 200)}`;
}
