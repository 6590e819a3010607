/**
 * The one table of element types. Every protocol and runtime maps through here, so adding a
 * type or fixing a mapping happens in exactly one place.
 */
export type DType =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64'
  | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'FP32' | 'FP64' | 'STRING';

export type NumericArray =
  | Float32Array | Float64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

type ArrayCtor = {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
};

export interface DTypeInfo {
  readonly dtype: DType;
  /** tensorflow.DataType enum value. */
  readonly tf: number;
  /** tensorflow.DataType enum name, as REST metadata prints it. */
  readonly tfName: string;
  /** KServe v2 datatype string. */
  readonly kserve: string;
  /** onnxruntime-node Tensor type string. */
  readonly ort: string;
  /** ONNX TensorProto.DataType value. */
  readonly onnx: number;
  /** OpenVINO precision name: OVMS error texts use it ("Expected: FP32; Actual: I32"). */
  readonly ov: string;
  /** Bytes per element; 0 for STRING (variable length). */
  readonly size: number;
  /** Typed array holding the element type; undefined for STRING. FP16 is raw uint16 bits, BOOL is uint8. */
  readonly array?: ArrayCtor;
}

const table: DTypeInfo[] = [
  { dtype: 'BOOL', tf: 10, tfName: 'DT_BOOL', kserve: 'BOOL', ort: 'bool', onnx: 9, ov: 'BOOL', size: 1, array: Uint8Array },
  { dtype: 'UINT8', tf: 4, tfName: 'DT_UINT8', kserve: 'UINT8', ort: 'uint8', onnx: 2, ov: 'U8', size: 1, array: Uint8Array },
  { dtype: 'UINT16', tf: 17, tfName: 'DT_UINT16', kserve: 'UINT16', ort: 'uint16', onnx: 4, ov: 'U16', size: 2, array: Uint16Array },
  { dtype: 'UINT32', tf: 22, tfName: 'DT_UINT32', kserve: 'UINT32', ort: 'uint32', onnx: 12, ov: 'U32', size: 4, array: Uint32Array },
  { dtype: 'UINT64', tf: 23, tfName: 'DT_UINT64', kserve: 'UINT64', ort: 'uint64', onnx: 13, ov: 'U64', size: 8, array: BigUint64Array },
  { dtype: 'INT8', tf: 6, tfName: 'DT_INT8', kserve: 'INT8', ort: 'int8', onnx: 3, ov: 'I8', size: 1, array: Int8Array },
  { dtype: 'INT16', tf: 5, tfName: 'DT_INT16', kserve: 'INT16', ort: 'int16', onnx: 5, ov: 'I16', size: 2, array: Int16Array },
  { dtype: 'INT32', tf: 3, tfName: 'DT_INT32', kserve: 'INT32', ort: 'int32', onnx: 6, ov: 'I32', size: 4, array: Int32Array },
  { dtype: 'INT64', tf: 9, tfName: 'DT_INT64', kserve: 'INT64', ort: 'int64', onnx: 7, ov: 'I64', size: 8, array: BigInt64Array },
  { dtype: 'FP16', tf: 19, tfName: 'DT_HALF', kserve: 'FP16', ort: 'float16', onnx: 10, ov: 'FP16', size: 2, array: Uint16Array },
  { dtype: 'FP32', tf: 1, tfName: 'DT_FLOAT', kserve: 'FP32', ort: 'float32', onnx: 1, ov: 'FP32', size: 4, array: Float32Array },
  { dtype: 'FP64', tf: 2, tfName: 'DT_DOUBLE', kserve: 'FP64', ort: 'float64', onnx: 11, ov: 'FP64', size: 8, array: Float64Array },
  { dtype: 'STRING', tf: 7, tfName: 'DT_STRING', kserve: 'BYTES', ort: 'string', onnx: 8, ov: 'STRING', size: 0 },
];

function index<K extends keyof DTypeInfo>(key: K): Map<DTypeInfo[K], DTypeInfo> {
  return new Map(table.map((info) => [info[key], info]));
}

const byDType = index('dtype');
const byTf = index('tf');
const byTfName = index('tfName');
const byKserve = index('kserve');
const byOrt = index('ort');
const byOnnx = index('onnx');

export function dtypeInfo(dtype: DType): DTypeInfo {
  return byDType.get(dtype)!;
}
export const fromTf = (v: number): DType | undefined => byTf.get(v)?.dtype;
export const fromTfName = (v: string): DType | undefined => byTfName.get(v)?.dtype;
export const fromKserve = (v: string): DType | undefined => byKserve.get(v)?.dtype;
export const fromOrt = (v: string): DType | undefined => byOrt.get(v)?.dtype;
export const fromOnnx = (v: number): DType | undefined => byOnnx.get(v)?.dtype;
export const allDTypes: readonly DType[] = table.map((t) => t.dtype);

/** TF DataType names for values we do not serve, so errors can still name what the client sent. */
export function tfTypeName(v: number): string {
  return byTf.get(v)?.ov ?? `DT_${v}`;
}
