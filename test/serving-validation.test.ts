/**
 * Request validation: OVMS's order of checks and its exact texts (SPEC §5, §6.1, §6.2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DType } from '../src/core/dtype.js';
import { ServingError } from '../src/core/errors.js';
import type { Tensor, TensorMap, TensorSpec } from '../src/core/tensor.js';
import { validateInputs } from '../src/serving/validation.js';

const dummy: TensorSpec[] = [{ name: 'b', dtype: 'FP32', shape: [1, 10] }];
const addTwo: TensorSpec[] = [
  { name: 'input2', dtype: 'FP32', shape: [1, 5] },
  { name: 'input1', dtype: 'FP32', shape: [1, 10] },
];

function fp32(shape: number[], count = shape.reduce((a, b) => a * b, 1)): Tensor {
  return { dtype: 'FP32', shape, data: new Float32Array(count) };
}

function tensor(dtype: DType, shape: number[], count = shape.reduce((a, b) => a * b, 1)): Tensor {
  if (dtype === 'STRING') return { dtype, shape, data: Array.from({ length: count }, () => new Uint8Array(1)) };
  const arrays: Partial<Record<DType, new (n: number) => Tensor['data']>> = {
    FP32: Float32Array, INT32: Int32Array, FP16: Uint16Array, UINT16: Uint16Array, INT64: BigInt64Array, UINT8: Uint8Array,
  };
  return { dtype, shape, data: new arrays[dtype]!(count) };
}

function inputs(entries: Record<string, Tensor>): TensorMap {
  return new Map(Object.entries(entries));
}

/** Asserts validation fails with exactly this message and status. */
function rejects(specs: readonly TensorSpec[], map: TensorMap, message: string, status: string): void {
  assert.throws(() => validateInputs(specs, map), (err: unknown) => {
    assert.ok(err instanceof ServingError);
    assert.equal(err.message, message);
    assert.equal(err.status, status);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    return true;
  });
}

test('a correct request passes', () => {
  validateInputs(dummy, inputs({ b: fp32([1, 10]) }));
  validateInputs(addTwo, inputs({ input1: fp32([1, 10]), input2: fp32([1, 5]) }));
});

test('too many and too few inputs: INVALID_NO_OF_INPUTS with counts', () => {
  rejects(dummy, inputs({ b: fp32([1, 10]), c: fp32([1, 10]) }), 'Invalid number of inputs - Expected: 1; Actual: 2', 'INVALID_NO_OF_INPUTS');
  rejects(addTwo, inputs({ input1: fp32([1, 10]) }), 'Invalid number of inputs - Expected: 2; Actual: 1', 'INVALID_NO_OF_INPUTS');
  rejects(dummy, inputs({}), 'Invalid number of inputs - Expected: 1; Actual: 0', 'INVALID_NO_OF_INPUTS');
});

test('wrong input name: INVALID_MISSING_INPUT names the required input', () => {
  rejects(dummy, inputs({ a: fp32([1, 10]) }), 'Missing input with specific name - Required input: b', 'INVALID_MISSING_INPUT');
});

test('negative dimension: INVALID_SHAPE with OVMS text, before the precision check', () => {
  rejects(dummy, inputs({ b: { dtype: 'INT32', shape: [1, -10], data: new Int32Array(0) } }),
    'Invalid input shape - Negative dimension size is not acceptable: (1,-10)', 'INVALID_SHAPE');
});

test('precision mismatch uses OpenVINO names', () => {
  rejects(dummy, inputs({ b: tensor('INT32', [1, 10]) }), 'Invalid input precision - Expected: FP32; Actual: I32', 'INVALID_PRECISION');
  rejects([{ name: 'x', dtype: 'UINT8', shape: [2] }], inputs({ x: tensor('INT64', [2]) }),
    'Invalid input precision - Expected: U8; Actual: I64', 'INVALID_PRECISION');
  // STRING data for a numeric input is the binary (image) path (SPEC §6.2): it must be 1-D first.
  rejects(dummy, inputs({ b: tensor('STRING', [1, 10]) }), 'Invalid number of shape dimensions - Expected number of binary input shape dimensions: 1; Actual: 2', 'INVALID_NO_OF_SHAPE_DIMENSIONS');
});

test('precision is checked before rank', () => {
  rejects(dummy, inputs({ b: tensor('INT32', [1, 10, 1]) }), 'Invalid input precision - Expected: FP32; Actual: I32', 'INVALID_PRECISION');
});

test('wrong rank: INVALID_NO_OF_SHAPE_DIMENSIONS with both shapes', () => {
  rejects(dummy, inputs({ b: fp32([1, 10, 1]) }), 'Invalid number of shape dimensions - Expected: (1,10); Actual: (1,10,1)', 'INVALID_NO_OF_SHAPE_DIMENSIONS');
  rejects(dummy, inputs({ b: fp32([10]) }), 'Invalid number of shape dimensions - Expected: (1,10); Actual: (10)', 'INVALID_NO_OF_SHAPE_DIMENSIONS');
});

test('dim 0 mismatch is a batch size error, before other dims', () => {
  rejects(dummy, inputs({ b: fp32([2, 10]) }), 'Invalid input batch size - Expected: 1; Actual: 2', 'INVALID_BATCH_SIZE');
  rejects(dummy, inputs({ b: fp32([2, 11]) }), 'Invalid input batch size - Expected: 1; Actual: 2', 'INVALID_BATCH_SIZE');
});

test('other dim mismatch: INVALID_SHAPE with both shapes', () => {
  rejects(dummy, inputs({ b: fp32([1, 11]) }), 'Invalid input shape - Expected: (1,10); Actual: (1,11)', 'INVALID_SHAPE');
});

test('-1 in the model shape accepts any size', () => {
  const dynamic: TensorSpec[] = [{ name: 'in', dtype: 'FP32', shape: [-1, 3] }];
  validateInputs(dynamic, inputs({ in: fp32([7, 3]) }));
  validateInputs(dynamic, inputs({ in: fp32([0, 3]) }));
  rejects(dynamic, inputs({ in: fp32([7, 4]) }), 'Invalid input shape - Expected: (-1,3); Actual: (7,4)', 'INVALID_SHAPE');
  validateInputs([{ name: 'in', dtype: 'FP32', shape: [-1, -1] }], inputs({ in: fp32([2, 5]) }));
});

test('model inputs are checked in name order: the first failing one by name wins', () => {
  // input2 (listed first in the model) has a wrong precision, input1 a wrong batch: input1 is reported.
  rejects(addTwo, inputs({ input1: fp32([3, 10]), input2: tensor('INT32', [1, 5]) }),
    'Invalid input batch size - Expected: 1; Actual: 3', 'INVALID_BATCH_SIZE');
  rejects(addTwo, inputs({ input1: fp32([1, 10]), input2: tensor('INT32', [1, 5]) }),
    'Invalid input precision - Expected: FP32; Actual: I32', 'INVALID_PRECISION');
});

test('data that does not fill the shape: content size in bytes for tensor_content types', () => {
  rejects(dummy, inputs({ b: fp32([1, 10], 9) }), 'Invalid content size of tensor proto - Expected: 40 bytes; Actual: 36 bytes', 'INVALID_CONTENT_SIZE');
  rejects([{ name: 'x', dtype: 'INT64', shape: [1, 2] }], inputs({ x: tensor('INT64', [1, 2], 3) }),
    'Invalid content size of tensor proto - Expected: 16 bytes; Actual: 24 bytes', 'INVALID_CONTENT_SIZE');
});

test('data that does not fill the shape: value count for FP16, U16 and strings', () => {
  rejects([{ name: 'h', dtype: 'FP16', shape: [1, 10] }], inputs({ h: tensor('FP16', [1, 10], 9) }),
    'Invalid number of values in tensor proto container - Expected: 10; Actual: 9', 'INVALID_VALUE_COUNT');
  rejects([{ name: 'u', dtype: 'UINT16', shape: [2] }], inputs({ u: tensor('UINT16', [2], 3) }),
    'Invalid number of values in tensor proto container - Expected: 2; Actual: 3', 'INVALID_VALUE_COUNT');
  rejects([{ name: 's', dtype: 'STRING', shape: [-1] }], inputs({ s: { dtype: 'STRING', shape: [3], data: [new Uint8Array(1)] } }),
    'Invalid number of values in tensor proto container - Expected: 3; Actual: 1', 'INVALID_VALUE_COUNT');
});

test('hostile shapes never crash: overflow, fractions and NaN are shape errors', () => {
  const dynamic: TensorSpec[] = [{ name: 'in', dtype: 'FP32', shape: [-1, -1, -1] }];
  rejects(dynamic, inputs({ in: { dtype: 'FP32', shape: [2 ** 30, 2 ** 30, 2 ** 30], data: new Float32Array(1) } }),
    `Invalid input shape - Tensor element count overflows: (${2 ** 30},${2 ** 30},${2 ** 30})`, 'INVALID_SHAPE');
  rejects(dynamic, inputs({ in: { dtype: 'FP32', shape: [1.5, 1, 1], data: new Float32Array(1) } }),
    'Invalid input shape - Expected: (-1,-1,-1); Actual: (1.5,1,1)', 'INVALID_SHAPE');
  rejects(dynamic, inputs({ in: { dtype: 'FP32', shape: [NaN, 1, 1], data: new Float32Array(1) } }),
    'Invalid input shape - Expected: (-1,-1,-1); Actual: (NaN,1,1)', 'INVALID_SHAPE');
  // A huge but representable count with little data is a content size error, not a crash.
  rejects(dynamic, inputs({ in: { dtype: 'FP32', shape: [2 ** 20, 2 ** 20, 1], data: new Float32Array(4) } }),
    `Invalid content size of tensor proto - Expected: ${2 ** 40 * 4} bytes; Actual: 16 bytes`, 'INVALID_CONTENT_SIZE');
});

test('scalars and empty tensors', () => {
  validateInputs([{ name: 's', dtype: 'FP32', shape: [] }], inputs({ s: fp32([]) }));
  rejects([{ name: 's', dtype: 'FP32', shape: [] }], inputs({ s: fp32([1]) }),
    'Invalid number of shape dimensions - Expected: (); Actual: (1)', 'INVALID_NO_OF_SHAPE_DIMENSIONS');
  validateInputs([{ name: 'e', dtype: 'FP32', shape: [-1, 4] }], inputs({ e: fp32([0, 4]) }));
});
