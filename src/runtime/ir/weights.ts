/**
 * Const layers read from the .bin. Their bytes stay views into the one buffer the .bin was read
 * into; they are copied exactly once, when the ONNX model is serialised. Small constants that
 * steer the conversion (a Transpose order, Reshape target, axes) are decoded to numbers.
 */
import { type DType, dtypeInfo } from '../../core/dtype.js';
import { elementCount } from '../../core/tensor.js';
import { halfToNumber } from '../../core/fp16.js';
import { dtypeOfElementType } from './element-types.js';
import { layerError } from './errors.js';
import type { IrLayer } from './ir-graph.js';
import { parseShapeAttr } from './xml.js';

export interface ConstTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** A view into the .bin. */
  readonly bytes: Uint8Array;
}

/** Decoding steering constants beyond this many elements would only mean a malformed model. */
const MAX_DECODED = 1 << 20;

export function readConst(layer: IrLayer, bin: Uint8Array): ConstTensor {
  const et = layer.data.element_type;
  if (et === undefined) throw layerError(layer, 'Const has no element_type');
  const dtype = dtypeOfElementType(et);
  if (!dtype) throw layerError(layer, `element type "${et}" is not supported (onnxruntime has no such tensor type)`);
  const shape = parseShapeAttr(layer.data.shape ?? '');
  if (!shape || shape.some((d) => d < 0)) throw layerError(layer, `Const has a dynamic or invalid shape "${layer.data.shape}"`);
  const offset = Number(layer.data.offset ?? 0);
  const size = Number(layer.data.size ?? 0);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0) {
    throw layerError(layer, `invalid offset "${layer.data.offset}" or size "${layer.data.size}"`);
  }
  const expected = elementCount(shape) * dtypeInfo(dtype).size;
  if (size !== expected) throw layerError(layer, `size ${size} does not match shape [${shape.join(',')}] of ${et} (${expected} bytes)`);
  if (offset + size > bin.byteLength) {
    throw layerError(layer, `reads bytes ${offset}..${offset + size} but the .bin has only ${bin.byteLength} bytes`);
  }
  return { dtype, shape, bytes: bin.subarray(offset, offset + size) };
}

/** The constant's values as numbers (int64 beyond 2^53 lose precision, as no IR shape needs them). */
export function decodeConst(c: ConstTensor, layer: IrLayer): number[] {
  const info = dtypeInfo(c.dtype);
  const n = c.bytes.byteLength / info.size;
  if (n > MAX_DECODED) throw layerError(layer, `constant of ${n} elements is too large to be read as a parameter`);
  const view = new DataView(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = readElement(view, c.dtype, i * info.size);
  return out;
}

function readElement(view: DataView, dtype: DType, at: number): number {
  switch (dtype) {
    case 'FP32': return view.getFloat32(at, true);
    case 'FP64': return view.getFloat64(at, true);
    case 'FP16': return halfToNumber(view.getUint16(at, true));
    case 'INT8': return view.getInt8(at);
    case 'INT16': return view.getInt16(at, true);
    case 'INT32': return view.getInt32(at, true);
    case 'INT64': return Number(view.getBigInt64(at, true));
    case 'UINT8': case 'BOOL': return view.getUint8(at);
    case 'UINT16': return view.getUint16(at, true);
    case 'UINT32': return view.getUint32(at, true);
    case 'UINT64': return Number(view.getBigUint64(at, true));
    default: throw new TypeError(`cannot decode ${dtype}`);
  }
}
