/**
 * The client's local conversions, without a server: tensor building, JSON nesting, answers in
 * forms the tsms server does not send but other servers do (TFS typed value fields, KServe JSON
 * data), BYTES framing, and image layouts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromTensorProto } from '../src/client/tfs-grpc.js';
import { parseInferResponse } from '../src/client/kserve-rest.js';
import { decodeBytesElements, encodeBytesElements } from '../src/client/kserve-bytes.js';
import { flatten, nest, tensor, tensorValues, topK } from '../src/client/tensors.js';
import { imageToTensor } from '../src/client/image.js';
import { ClientError } from '../src/client/errors.js';
import { numberToHalfBits } from '../src/core/fp16.js';

describe('client tensors', () => {
  it('tensor() keeps a matching typed array and converts plain values', () => {
    const f = new Float32Array([1, 2]);
    assert.equal(tensor('FP32', [2], f).data, f);
    assert.deepEqual([...tensor('INT64', [2], [1, -2]).data as BigInt64Array], [1n, -2n]);
    assert.deepEqual([...tensor('FP16', [1], [1.5]).data as Uint16Array], [numberToHalfBits(1.5)]);
    assert.deepEqual(tensorValues(tensor('STRING', [2], ['a', 'bé'])), ['a', 'bé']);
    assert.throws(() => tensor('FP32', [2, 2], [1, 2, 3]), /shape \[2,2\] needs 4 values, got 3/);
  });

  it('nest and flatten are inverses; ragged arrays are refused', () => {
    const nested = nest([1, 2, 3, 4, 5, 6], [2, 1, 3]);
    assert.deepEqual(nested, [[[1, 2, 3]], [[4, 5, 6]]]);
    assert.deepEqual(flatten(nested), { shape: [2, 1, 3], values: [1, 2, 3, 4, 5, 6] });
    assert.equal(nest([7], []), 7);
    assert.throws(() => flatten([[1, 2], [3]]), /ragged/);
  });

  it('topK orders by value', () => {
    assert.deepEqual(topK([0.1, 0.7, 0.2], 2), [{ index: 1, value: 0.7 }, { index: 2, value: 0.2 }]);
  });
});

describe('answers from other servers', () => {
  it('TFS typed value fields become typed arrays', () => {
    const f = fromTensorProto('y', { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '2' }] }, float_val: [0.5, 2] });
    assert.deepEqual([f.dtype, f.shape, [...f.data as Float32Array]], ['FP32', [1, 2], [0.5, 2]]);
    const i = fromTensorProto('y', { dtype: 'DT_INT64', tensor_shape: { dim: [{ size: '1' }] }, int64_val: ['9007199254740993'] });
    assert.deepEqual([...i.data as BigInt64Array], [9007199254740993n]);
    const h = fromTensorProto('y', { dtype: 'DT_HALF', tensor_shape: { dim: [{ size: '1' }] }, half_val: [numberToHalfBits(-3)] });
    assert.deepEqual(tensorValues(h), [-3]);
    const s = fromTensorProto('y', { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: '1' }] }, string_val: [Buffer.from('hi')] });
    assert.deepEqual(tensorValues(s), ['hi']);
    assert.throws(() => fromTensorProto('y', { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '3' }] }, float_val: [1] }),
      (e: Error) => e instanceof ClientError && e.status === 'BAD_RESPONSE' && /output y/.test(e.details));
  });

  it('KServe JSON data and binary outputs in one answer', () => {
    const header = Buffer.from(JSON.stringify({
      model_name: 'm', model_version: '3', id: 'x',
      outputs: [
        { name: 'j', datatype: 'INT32', shape: [2], data: [5, 6] },
        { name: 'b', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } },
        { name: 's', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: 11 } },
      ],
    }));
    const body = Buffer.concat([header, Buffer.from(new Float32Array([1.5, -1]).buffer), encodeBytesElements([Buffer.from('ab'), Buffer.from('c')])]);
    const r = parseInferResponse(body, String(header.byteLength));
    assert.deepEqual([r.modelName, r.modelVersion, r.id], ['m', '3', 'x']);
    assert.deepEqual([...r.outputs['j']!.data as Int32Array], [5, 6]);
    assert.deepEqual([...r.outputs['b']!.data as Float32Array], [1.5, -1]);
    assert.deepEqual(tensorValues(r.outputs['s']!), ['ab', 'c']);
    assert.throws(() => parseInferResponse(body, String(body.byteLength + 1)), ClientError);
  });

  it('BYTES framing round-trips and refuses an overrun', () => {
    const parts = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array([9])];
    assert.deepEqual(decodeBytesElements(encodeBytesElements(parts)).map((p) => [...p]), parts.map((p) => [...p]));
    assert.throws(() => decodeBytesElements(new Uint8Array([5, 0, 0, 0, 1])), /runs past the end/);
  });
});

describe('image layouts', () => {
  // Two pixels: red (200,10,20) then blue (0,0,255).
  const image = { width: 2, height: 1, rgb: new Uint8Array([200, 10, 20, 0, 0, 255]) };

  it('NHWC RGB as it is, NCHW BGR as planes', () => {
    assert.deepEqual([...imageToTensor(image).data as Float32Array], [200, 10, 20, 0, 0, 255]);
    const t = imageToTensor(image, { layout: 'NCHW', order: 'BGR' });
    assert.deepEqual(t.shape, [1, 3, 1, 2]);
    assert.deepEqual([...t.data as Float32Array], [20, 255, 10, 0, 200, 0]);
  });

  it('per-channel mean and scale are given in RGB order whatever the output order', () => {
    const t = imageToTensor(image, { layout: 'NHWC', order: 'BGR', mean: [100, 0, 20], scale: [2, 1, 5] });
    assert.deepEqual([...t.data as Float32Array], [0, 10, 50, 47, 0, -50]);
    const u8 = imageToTensor(image, { dtype: 'UINT8' });
    assert.ok(u8.data instanceof Uint8Array);
    assert.equal(u8.dtype, 'UINT8');
  });
});
