/**
 * NumPy `.npy` files (format versions 1–3, little-endian, C order) ↔ tensors. The format is a
 * magic string, a version, a header length, a Python-literal dict header
 * (`{'descr': '<f4', 'fortran_order': False, 'shape': (1, 10), }`) padded so data starts on a
 * 64-byte boundary, then the raw elements.
 */
import type { DType } from '../core/dtype.js';
import { dtypeInfo } from '../core/dtype.js';
import { elementCount, isStringData, tensorBytes, type Tensor } from '../core/tensor.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

const DESCR: Readonly<Record<string, DType>> = {
  '|b1': 'BOOL', '|u1': 'UINT8', '<u2': 'UINT16', '<u4': 'UINT32', '<u8': 'UINT64',
  '|i1': 'INT8', '<i2': 'INT16', '<i4': 'INT32', '<i8': 'INT64',
  '<f2': 'FP16', '<f4': 'FP32', '<f8': 'FP64',
};
const DESCR_OF = Object.fromEntries(Object.entries(DESCR).map(([d, t]) => [t, d])) as Record<DType, string>;

export class NpyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

export function encodeNpy(t: Tensor): Buffer {
  if (isStringData(t.data)) throw new NpyError('STRING tensors have no .npy form here (write them as JSON)');
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${DESCR_OF[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new NpyError('shape too long for an .npy v1 header');
  const prefix = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(prefix);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), tensorBytes(t.data)]);
}

export function decodeNpy(file: Uint8Array): Tensor {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.byteLength < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new NpyError('not an .npy file (bad magic)');
  const major = buf[6]!;
  let headerLength: number;
  let start: number;
  if (major === 1) {
    headerLength = buf.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.byteLength < 12) throw new NpyError('truncated .npy header');
    headerLength = buf.readUInt32LE(8);
    start = 12;
  } else {
    throw new NpyError(`unsupported .npy version ${major}`);
  }
  if (start + headerLength > buf.byteLength) throw new NpyError('truncated .npy header');
  const header = buf.subarray(start, start + headerLength).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new NpyError(`unreadable .npy header: ${header.trim()}`);
  // '<' and '|' are the same on one-byte types; '=' is native, little-endian on every platform Node runs here.
  const dtype = DESCR[descr.replace(/^=/, descr.endsWith('1') ? '|' : '<')];
  if (!dtype) throw new NpyError(`unsupported .npy dtype ${descr} (little-endian bool, ints, floats only)`);
  if (fortran === 'True') throw new NpyError('Fortran-order .npy files are not supported (save with np.ascontiguousarray)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    if (!/^\d+$/.test(s)) throw new NpyError(`bad .npy shape (${shapeText})`);
    return Number(s);
  });
  const info = dtypeInfo(dtype);
  const bytes = elementCount(shape) * info.size;
  const dataStart = start + headerLength;
  if (buf.byteLength - dataStart !== bytes) throw new NpyError(`.npy data is ${buf.byteLength - dataStart} bytes, shape (${shape.join(',')}) of ${descr} needs ${bytes}`);
  // Copied into fresh memory: aligned for the typed array, independent of the file buffer.
  const copy = new Uint8Array(bytes);
  copy.set(buf.subarray(dataStart));
  return { dtype, shape, data: new info.array!(copy.buffer, 0, bytes / info.size) };
}
