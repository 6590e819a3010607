/**
 * Our Tensor ↔ onnxruntime tensors, and the plain form tensors take between threads.
 * Numeric data is never turned into JS numbers: it stays a typed array end to end.
 */
import * as ort from 'onnxruntime-node';
import { type DType, type DTypeInfo, type NumericArray, dtypeInfo, fromOrt } from '../../core/dtype.js';
import { servingError } from '../../core/errors.js';
import { copyBytes } from '../../core/copy-bytes.js';
import { elementCount, isStringData, type Tensor, type TensorMap, type TensorSpec } from '../../core/tensor.js';
import { isHandedOver } from '../owned-buffers.js';
import type { BufferPool } from '../../core/buffer-pool.js';

type OrtTensorType = ort.Tensor.Type;

/** A tensor as posted between threads: typed-array data travels by transfer, strings by clone. */
export interface WireTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: NumericArray | readonly string[];
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * ONNX string tensors hold UTF-8 text, so bytes that are not UTF-8 are refused rather than mangled.
 * So is a NUL byte: onnxruntime-node passes strings as C strings and would silently cut them there.
 */
export function decodeStrings(name: string, data: readonly Uint8Array[]): string[] {
  return data.map((bytes, i) => {
    if (bytes.includes(0)) {
      throw servingError('INVALID_PRECISION', `input ${name}: string element ${i} contains a NUL byte, which onnxruntime string tensors cannot hold`);
    }
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw servingError('INVALID_PRECISION', `input ${name}: string element ${i} is not valid UTF-8 (ONNX string tensors hold UTF-8 text)`);
    }
  });
}

export function encodeStrings(data: readonly string[]): Uint8Array[] {
  return data.map((s) => utf8Encoder.encode(s));
}

/** Our Tensor → ORT tensor for inline runs. Numeric data is wrapped, not copied. */
export function toOrtTensor(name: string, t: Tensor): ort.Tensor {
  const dims = [...t.shape];
  if (isStringData(t.data)) return new ort.Tensor('string', decodeStrings(name, t.data), dims);
  // FP16 is raw uint16 bits and BOOL is uint8 0/1, which is exactly what ORT's tensors take.
  return new ort.Tensor(dtypeInfo(t.dtype).ort as OrtTensorType, t.data as Float32Array, dims);
}

/** ORT output → our Tensor, keeping the typed array ORT returned. */
export function fromOrtTensor(t: ort.Tensor): Tensor {
  const dtype = fromOrt(t.type);
  if (!dtype) throw new TypeError(`unsupported output element type ${t.type}`);
  const shape = t.dims.map(Number);
  if (dtype === 'STRING') return { dtype, shape, data: encodeStrings(t.data as string[]) };
  return { dtype, shape, data: asOurArray(dtype, t.data as unknown as NumericArray) };
}

/** Where the engine has Float16Array, ORT may return one; we always hold FP16 as raw uint16 bits. */
function asOurArray(dtype: DType, data: NumericArray): NumericArray {
  if (dtype === 'FP16' && !(data instanceof Uint16Array)) {
    const v = data as ArrayBufferView;
    return new Uint16Array(v.buffer, v.byteOffset, v.byteLength / 2);
  }
  return data;
}

/** Session metadata → TensorSpec; symbolic dims become -1. */
export function specFromMetadata(meta: ort.InferenceSession.ValueMetadata): TensorSpec {
  if (!meta.isTensor) throw new TypeError(`${meta.name} is not a tensor (sequences and maps are not served)`);
  const dtype: DType | undefined = fromOrt(meta.type);
  if (!dtype) throw new TypeError(`${meta.name} has unsupported element type ${meta.type}`);
  return { name: meta.name, dtype, shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}

/**
 * Main thread → worker. Every numeric input is copied into a buffer from `pool`, which the
 * runtime owns exclusively: a plain buffer goes in `transfer`, a shared one in `shared` (posted
 * as is; the caller gives it back to the pool once the run answered). The caller's memory is never
 * detached, and no large buffer is structured-cloned. The exception is memory handed over with
 * owned-buffers.ts, which is transferred without a copy.
 */
export function toWire(name: string, t: Tensor, pool: BufferPool, transfer: ArrayBuffer[], shared: SharedArrayBuffer[]): WireTensor {
  const dims = [...t.shape];
  if (isStringData(t.data)) return { name, dtype: t.dtype, dims, data: decodeStrings(name, t.data) };
  const source = t.data;
  const info = dtypeInfo(t.dtype);
  // Memory the server made itself for this run (a joined batch, decoded images) moves as it is.
  if (isHandedOver(source.buffer) && source.byteOffset === 0 && source.byteLength === source.buffer.byteLength && source.byteLength > 0) {
    transfer.push(source.buffer);
    return { name, dtype: t.dtype, dims, data: source };
  }
  const data = copyFromPool(source, info, pool);
  if (data.buffer instanceof SharedArrayBuffer) shared.push(data.buffer);
  else transfer.push(data.buffer as ArrayBuffer);
  return { name, dtype: t.dtype, dims, data };
}

/** `source`'s elements, copied into the start of a buffer taken from `pool`. */
function copyFromPool(source: NumericArray, info: DTypeInfo, pool: BufferPool): NumericArray {
  const buffer = pool.take(source.byteLength);
  copyBytes(new Uint8Array(buffer, 0, source.byteLength), new Uint8Array(source.buffer, source.byteOffset, source.byteLength));
  return new info.array!(buffer, 0, source.byteLength / info.size);
}

/**
 * In the worker: an input that arrived in shared memory, copied into a plain buffer from `pool`
 * (onnxruntime refuses shared memory). Other inputs are returned as they are.
 */
export function unshare(w: WireTensor, pool: BufferPool, local: ArrayBuffer[]): WireTensor {
  if (Array.isArray(w.data)) return w;
  const source = w.data as NumericArray;
  if (!(source.buffer instanceof SharedArrayBuffer)) return w;
  const data = copyFromPool(source, dtypeInfo(w.dtype), pool);
  local.push(data.buffer as ArrayBuffer);
  return { ...w, data };
}

/** Wire tensor → ORT tensor, in the worker; wraps the transferred buffer. */
export function wireToOrt(w: WireTensor): ort.Tensor {
  const type = dtypeInfo(w.dtype).ort as OrtTensorType;
  return new ort.Tensor(type, w.data as Float32Array, [...w.dims]);
}

/**
 * ORT output → wire tensor, in the worker. ORT 1.30 copies outputs into fresh ArrayBuffers that
 * only this tensor references, so they are transferred as they are; a view that does not span its
 * whole buffer is copied first, because transferring would detach memory someone else may use.
 */
export function ortToWire(name: string, t: ort.Tensor, transfer: ArrayBuffer[]): WireTensor {
  const dtype = fromOrt(t.type);
  if (!dtype) throw new TypeError(`unsupported output element type ${t.type}`);
  const dims = t.dims.map(Number);
  if (dtype === 'STRING') return { name, dtype, dims, data: t.data as string[] };
  let data = asOurArray(dtype, t.data as unknown as NumericArray);
  const spansBuffer = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
  if (!spansBuffer) data = data.slice();
  if (data.byteLength > 0) transfer.push(data.buffer as ArrayBuffer);
  return { name, dtype, dims, data };
}

/** Wire tensor → our Tensor, on the main thread. */
export function fromWire(w: WireTensor): Tensor {
  if (w.dtype === 'STRING') return { dtype: w.dtype, shape: w.dims, data: encodeStrings(w.data as string[]) };
  return { dtype: w.dtype, shape: w.dims, data: w.data as NumericArray };
}

/**
 * Zero-filled inputs for warm-up runs: symbolic dims become 1, strings are empty. Good enough to
 * time a model; a model that rejects them simply skips the measurement.
 */
export function zeroInputs(specs: readonly TensorSpec[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of specs) {
    const dims = spec.shape.map((d) => (d < 0 ? 1 : d));
    const count = elementCount(dims);
    const info = dtypeInfo(spec.dtype);
    feeds[spec.name] = info.array
      ? new ort.Tensor(info.ort as OrtTensorType, new info.array(count) as Float32Array, dims)
      : new ort.Tensor('string', new Array<string>(count).fill(''), dims);
  }
  return feeds;
}

/** Turns a map of our outputs from a wire list, in the order requested. */
export function wireListToMap(list: readonly WireTensor[]): TensorMap {
  const out: TensorMap = new Map();
  for (const w of list) out.set(w.name, fromWire(w));
  return out;
}
