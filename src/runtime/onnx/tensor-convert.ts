import * as ort from 'onnxruntime-node';
import { type DType, dtypeInfo, fromOrt } from '../../core/dtype.js';
import { isStringData, type Tensor, type TensorSpec } from '../../core/tensor.js';

const utf8 = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/** Our Tensor → ORT tensor. Numeric data is wrapped, not copied. */
export function toOrtTensor(t: Tensor): ort.Tensor {
  const info = dtypeInfo(t.dtype);
  const dims = t.shape as number[];
  if (isStringData(t.data)) return new ort.Tensor('string', t.data.map((b) => utf8.decode(b)), dims);
  // ORT's float16 and bool tensors take Uint16Array / Uint8Array, which is what we hold.
  return new ort.Tensor(info.ort as 'float32', t.data as Float32Array, dims);
}

/** ORT output → our Tensor, wrapping the typed array ORT returned. */
export function fromOrtTensor(t: ort.Tensor): Tensor {
  const dtype = fromOrt(t.type);
  if (!dtype) throw new TypeError(`unsupported output element type ${t.type}`);
  const shape = t.dims.map(Number);
  if (dtype === 'STRING') return { dtype, shape, data: (t.data as string[]).map((s) => encoder.encode(s)) };
  let data = t.data as Tensor['data'];
  // onnxruntime may hand float16 back as Float16Array where the engine has one; we keep raw bits.
  if (dtype === 'FP16' && !(data instanceof Uint16Array)) {
    const v = data as unknown as ArrayBufferView;
    data = new Uint16Array(v.buffer, v.byteOffset, v.byteLength / 2);
  }
  return { dtype, shape, data };
}

/** Session metadata → TensorSpec; symbolic dims become -1. */
export function specFromMetadata(meta: ort.InferenceSession.ValueMetadata): TensorSpec {
  if (!meta.isTensor) throw new TypeError(`${meta.name} is not a tensor (sequences and maps are not served)`);
  const dtype: DType | undefined = fromOrt(meta.type);
  if (!dtype) throw new TypeError(`${meta.name} has unsupported element type ${meta.type}`);
  return { name: meta.name, dtype, shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}
