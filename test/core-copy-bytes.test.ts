/**
 * copyBytes (src/core/copy-bytes.ts): the bytes arrive exactly, in every mix of plain and shared
 * memory and at every alignment, and nothing past them is touched.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyBytes } from '../src/core/copy-bytes.js';

function memory(kind: 'plain' | 'shared', size: number): ArrayBufferLike {
  return kind === 'shared' ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
}

describe('copyBytes', () => {
  for (const from of ['plain', 'shared'] as const) {
    for (const to of ['plain', 'shared'] as const) {
      it(`copies ${from} → ${to} memory at source offsets 0, 3 and 4 and target offsets 0 and 5`, () => {
        for (const n of [1, 7, 8, 1000, 70_001]) {
          for (const sourceOffset of [0, 3, 4]) {
            for (const targetOffset of [0, 5]) {
              const source = new Uint8Array(memory(from, n + 8), sourceOffset, n);
              for (let i = 0; i < n; i++) source[i] = (i * 7 + sourceOffset) & 0xff;
              const whole = new Uint8Array(memory(to, n + 16)).fill(0xee);
              const target = whole.subarray(targetOffset, targetOffset + n + 3);
              copyBytes(target, source);
              assert.deepEqual(Buffer.from(target.subarray(0, n)), Buffer.from(source), `n=${n} source+${sourceOffset} target+${targetOffset}`);
              // Neither the bytes before the target nor those after the copied range changed.
              assert.ok(whole.subarray(0, targetOffset).every((b) => b === 0xee));
              assert.ok(whole.subarray(targetOffset + n).every((b) => b === 0xee));
            }
          }
        }
      });
    }
  }

  it('copies nothing for an empty source', () => {
    const target = new Uint8Array(4).fill(9);
    copyBytes(target, new Uint8Array(0));
    assert.deepEqual([...target], [9, 9, 9, 9]);
  });

  it('refuses a source longer than the target, and leaves the target alone', () => {
    const target = new Uint8Array(new SharedArrayBuffer(4)).fill(1);
    assert.throws(() => copyBytes(target, new Uint8Array([5, 6, 7, 8, 9])), { name: 'RangeError', message: 'copyBytes: 5 bytes do not fit in 4' });
    assert.deepEqual([...target], [1, 1, 1, 1]);
  });
});
