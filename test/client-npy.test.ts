/** The .npy codec (src/client/npy.ts): the layout NumPy writes, round trips, and refusals. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNpy, encodeNpy, NpyError } from '../src/client/npy.js';
import { tensor } from '../src/client/tensors.js';
import { allDTypes } from '../src/core/dtype.js';

/** What numpy 1.x writes for np.arange(6, dtype='<f4').reshape(2, 3): header padded to 64 bytes. */
function numpyFile(descr: string, shape: string, data: Uint8Array, major = 1): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const prefix = major === 1 ? 10 : 12;
  header += ' '.repeat(63 - ((prefix + header.length) % 64)) + '\n';
  const head = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(head);
  if (major === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}

describe('npy codec', () => {
  it('writes the header NumPy writes (v1.0, 64-byte aligned data)', () => {
    const file = encodeNpy(tensor('FP32', [2, 3], [0, 1, 2, 3, 4, 5]));
    const expected = numpyFile('<f4', '(2, 3)', new Uint8Array(Float32Array.from([0, 1, 2, 3, 4, 5]).buffer));
    assert.deepEqual(file, expected);
    assert.equal((file.byteLength - 24) % 64, 0);
  });

  it('writes 1-d shapes with the trailing comma and scalars as ()', () => {
    assert.match(encodeNpy(tensor('INT32', [3], [1, 2, 3])).toString('latin1'), /'shape': \(3,\), \}/);
    assert.match(encodeNpy(tensor('INT32', [], [7])).toString('latin1'), /'shape': \(\), \}/);
  });

  for (const dtype of allDTypes.filter((d) => d !== 'STRING')) {
    it(`round-trips ${dtype}`, () => {
      const t = tensor(dtype, [2, 2], dtype === 'INT64' || dtype === 'UINT64' ? [1n, 2n, 3n, 2n ** 40n] : [1, 0, 1, 1]);
      const back = decodeNpy(encodeNpy(t));
      assert.equal(back.dtype, dtype);
      assert.deepEqual(back.shape, [2, 2]);
      assert.deepEqual([...back.data as ArrayLike<unknown> as unknown[]], [...t.data as ArrayLike<unknown> as unknown[]]);
    });
  }

  it('reads version 2.0 files and one-byte descrs written with "|"', () => {
    const t = decodeNpy(numpyFile('|u1', '(4,)', Uint8Array.from([1, 2, 3, 255]), 2));
    assert.deepEqual([t.dtype, t.shape, [...t.data as Uint8Array]], ['UINT8', [4], [1, 2, 3, 255]]);
  });

  it('refuses what it cannot represent, with the reason', () => {
    const refuse = (file: Buffer, re: RegExp) => assert.throws(() => decodeNpy(file), (e: Error) => e instanceof NpyError && re.test(e.message));
    refuse(Buffer.from('not numpy at all'), /bad magic/);
    refuse(numpyFile('>f4', '(1,)', new Uint8Array(4)), /unsupported \.npy dtype >f4/);
    refuse(numpyFile('<U3', '(1,)', new Uint8Array(12)), /unsupported \.npy dtype <U3/);
    refuse(numpyFile('<f4', '(2,)', new Uint8Array(4)), /data is 4 bytes, shape \(2\) of <f4 needs 8/);
    refuse(Buffer.from(numpyFile('<f4', '(1,)', new Uint8Array(4)).toString('latin1').replace('False', 'True '), 'latin1'), /Fortran-order/);
    refuse(numpyFile('<f4', '(1,)', new Uint8Array(4)).subarray(0, 20), /truncated/);
    assert.throws(() => encodeNpy(tensor('STRING', [1], ['a'])), NpyError);
  });
});
