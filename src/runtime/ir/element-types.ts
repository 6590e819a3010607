/**
 * OpenVINO element type names (`element_type="f32"` on Parameter/Const, `precision="FP32"` on
 * ports) → the project's DType. Types ONNX Runtime cannot hold (bf16, u1, i4, ...) are absent:
 * the importer reports them as unsupported.
 */
import type { DType } from '../../core/dtype.js';

const byElementType: Readonly<Record<string, DType>> = {
  f32: 'FP32', f16: 'FP16', f64: 'FP64',
  i8: 'INT8', i16: 'INT16', i32: 'INT32', i64: 'INT64',
  u8: 'UINT8', u16: 'UINT16', u32: 'UINT32', u64: 'UINT64',
  boolean: 'BOOL', bool: 'BOOL',
};

const byPrecision: Readonly<Record<string, DType>> = {
  FP32: 'FP32', FP16: 'FP16', FP64: 'FP64',
  I8: 'INT8', I16: 'INT16', I32: 'INT32', I64: 'INT64',
  U8: 'UINT8', U16: 'UINT16', U32: 'UINT32', U64: 'UINT64',
  BOOL: 'BOOL', BOOLEAN: 'BOOL',
};

/** DType of an `element_type` / `destination_type` attribute, or undefined when ORT has no such type. */
export function dtypeOfElementType(name: string): DType | undefined {
  return byElementType[name.trim().toLowerCase()];
}

/** DType of a port `precision` attribute (older IR writes element type names there too). */
export function dtypeOfPrecision(name: string): DType | undefined {
  const p = name.trim();
  return byPrecision[p.toUpperCase()] ?? byElementType[p.toLowerCase()];
}
