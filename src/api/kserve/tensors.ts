/**
 * KServe input tensors → Tensors, shared by the gRPC codec and the REST (JSON and binary) parser:
 * datatype strings, shape checks, raw bytes (numeric little-endian, or BYTES elements each
 * prefixed by a 4-byte little-endian length), and reporting the error OVMS would report first.
 *
 * Raw numeric data becomes a typed-array view over the received buffer (copied once only when
 * misaligned, core/tensor.ts viewBytes); BYTES elements are views too.
 */
import { type DType, dtypeInfo, fromKserve } from '../../core/dtype.js';
import { ServingError, servingError } from '../../core/errors.js';
import { tooManyDimensions } from '../../core/limits.js';
import { elementCount, formatShape, isStringData, tensorBytes, viewBytes, type Tensor, type TensorSpec } from '../../core/tensor.js';
import type { DecodeFault } from '../../serving/validation.js';
import { invalidArgument } from './errors.js';

/** KServe's datatype string for a dtype ("FP32", "BYTES", …) — the `kserve` column of the one table. */
export function kserveDatatype(dtype: DType): string {
  return dtypeInfo(dtype).kserve;
}

/** An input's declared header, checked: the element type and the element count its shape implies. */
export interface InputHeader {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly count: number;
}

/**
 * Checks an input header in OVMS's order: negative dims, element type (named with the model's
 * expected precision when known), then that the element count is representable.
 */
export function checkHeader(datatype: string, shape: readonly number[], expected: DType | undefined): InputHeader | DecodeFault {
  const tooMany = tooManyDimensions(shape);
  if (tooMany) return { error: tooMany };
  for (const d of shape) {
    if (d < 0) return { error: servingError('INVALID_SHAPE', `Negative dimension size is not acceptable: ${formatShape(shape)}`) };
  }
  const dtype = fromKserve(datatype);
  if (!dtype) {
    const want = expected ? `Expected: ${dtypeInfo(expected).ov}; ` : '';
    return { error: servingError('INVALID_PRECISION', `${want}Actual: ${datatype === '' ? '(none)' : datatype}`) };
  }
  let count: number;
  try {
    if (shape.some((d) => !Number.isSafeInteger(d))) throw new RangeError('dimension too large');
    count = elementCount(shape);
  } catch {
    return { error: servingError('INVALID_SHAPE', `Tensor element count overflows: ${formatShape(shape)}`) };
  }
  return { dtype, shape, count };
}

export function isFault(v: InputHeader | DecodeFault | Tensor): v is DecodeFault {
  return 'error' in v;
}

/**
 * A tensor with a valid header but bad data: validation reads only `data.length`, so the
 * stand-in needs no memory (shapes may be hostile).
 */
export function dataFault(header: InputHeader, error: ServingError): DecodeFault {
  return { error, standIn: { dtype: header.dtype, shape: header.shape, data: { length: header.count } as unknown as Tensor['data'] } };
}

/** Raw bytes → Tensor: exactly `count × size` bytes for numeric types, `count` prefixed elements for BYTES. */
export function rawToTensor(header: InputHeader, bytes: Uint8Array): Tensor | DecodeFault {
  const { dtype, shape, count } = header;
  if (dtype === 'STRING') {
    const elements = splitPrefixedElements(bytes);
    if (typeof elements === 'string') return dataFault(header, invalidArgument(`Invalid BYTES content: ${elements}`));
    if (elements.length !== count) return dataFault(header, servingError('INVALID_VALUE_COUNT', `Expected: ${count}; Actual: ${elements.length}`));
    return { dtype, shape, data: elements };
  }
  const size = dtypeInfo(dtype).size;
  if (bytes.byteLength !== count * size) {
    return dataFault(header, servingError('INVALID_CONTENT_SIZE', `Expected: ${count * size} bytes; Actual: ${bytes.byteLength} bytes`));
  }
  return { dtype, shape, data: viewBytes(dtype, bytes) };
}

/** BYTES raw layout: each element is a 4-byte little-endian length and that many bytes (views, no copy). */
export function splitPrefixedElements(bytes: Uint8Array): Uint8Array[] | string {
  const out: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (pos < bytes.byteLength) {
    if (bytes.byteLength - pos < 4) return `element ${out.length} has a truncated 4-byte length prefix`;
    const len = view.getUint32(pos, true);
    pos += 4;
    if (len > bytes.byteLength - pos) return `element ${out.length} declares ${len} bytes but only ${bytes.byteLength - pos} remain`;
    out.push(bytes.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}

/** Bytes a tensor takes in raw form (BYTES: 4 + length per element). */
export function rawSize(tensor: Tensor): number {
  const data = tensor.data;
  if (!isStringData(data)) return data.byteLength;
  let n = 0;
  for (const s of data) n += 4 + s.byteLength;
  return n;
}

/** Writes a tensor's raw form at `pos` of `out`; returns the position after it. */
export function writeRaw(out: Uint8Array, pos: number, tensor: Tensor): number {
  const data = tensor.data;
  if (!isStringData(data)) {
    out.set(tensorBytes(data), pos);
    return pos + data.byteLength;
  }
  for (const s of data) {
    const len = s.byteLength;
    out[pos] = len & 0xff;
    out[pos + 1] = (len >>> 8) & 0xff;
    out[pos + 2] = (len >>> 16) & 0xff;
    out[pos + 3] = (len >>> 24) & 0xff;
    out.set(s, pos + 4);
    pos += 4 + len;
  }
  return pos;
}

/** A numeric tensor's bytes as a view; BYTES tensors are laid out into one new buffer. */
export function rawBytes(tensor: Tensor): Uint8Array {
  const data = tensor.data;
  if (!isStringData(data)) return tensorBytes(data);
  const out = new Uint8Array(rawSize(tensor));
  writeRaw(out, 0, tensor);
  return out;
}

/** The servable's dtype for an input name, if it has that input (for error texts). */
export function expectedDType(specs: readonly TensorSpec[], name: string): DType | undefined {
  for (const s of specs) if (s.name === name) return s.dtype;
  return undefined;
}
