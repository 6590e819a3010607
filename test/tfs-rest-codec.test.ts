/**
 * The TFS REST body codec on its own: request JSON → Tensors (shapes, dtypes, OVMS error texts)
 * and Tensors → response JSON (TFS number formats). Pure functions, no server.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePredictBody } from '../src/api/tfs/rest-request.js';
import { encodePredictResponse } from '../src/api/tfs/rest-response.js';
import { formatFloat32, formatFloat64 } from '../src/api/tfs/rest-json-writer.js';
import { halfToNumber, numberToHalfBits } from '../src/core/fp16.js';
import { ServingError } from '../src/core/errors.js';
import type { DType } from '../src/core/dtype.js';
import type { Tensor, TensorMap, TensorSpec } from '../src/core/tensor.js';

const dummy: TensorSpec[] = [{ name: 'b', dtype: 'FP32', shape: [1, 10] }];
const twoInputs: TensorSpec[] = [
  { name: 'input1', dtype: 'FP32', shape: [1, 10] },
  { name: 'input2', dtype: 'FP32', shape: [1, 10] },
];
const spec = (dtype: DType, name = 'in'): TensorSpec[] => [{ name, dtype, shape: [-1, 3] }];

function parse(body: unknown, specs: readonly TensorSpec[]) {
  return parsePredictBody(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), specs);
}

function parseError(body: unknown, specs: readonly TensorSpec[]): ServingError {
  try {
    parse(body, specs);
  } catch (err) {
    assert.ok(err instanceof ServingError, `expected a ServingError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the body to be rejected');
}

function tensor(dtype: DType, shape: number[], data: Tensor['data']): Tensor {
  return { dtype, shape, data };
}

describe('parsePredictBody: the four formats', () => {
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  test('row named: one object per batch item, stacked along dim 0', () => {
    const r = parse({ instances: [{ b: ten }] }, dummy);
    assert.equal(r.format, 'row');
    const t = r.inputs.get('b')!;
    assert.deepEqual(t.shape, [1, 10]);
    assert.equal(t.dtype, 'FP32');
    assert.deepEqual(Array.from(t.data as Float32Array), ten);
  });

  test('row no-name: the outer array is dim 0', () => {
    const r = parse({ instances: [ten, ten] }, dummy);
    assert.equal(r.format, 'row');
    assert.deepEqual(r.inputs.get('b')!.shape, [2, 10]);
  });

  test('column named and no-name: the value is the whole tensor', () => {
    const named = parse({ inputs: { b: [ten] } }, dummy);
    assert.equal(named.format, 'column');
    assert.deepEqual(named.inputs.get('b')!.shape, [1, 10]);
    const noname = parse({ inputs: [[ten, ten]] }, dummy);
    assert.deepEqual(noname.inputs.get('b')!.shape, [1, 2, 10]);
  });

  test('row named with several inputs and deeper items', () => {
    const r = parse({ instances: [{ input1: [[1, 2], [3, 4]], input2: 5 }, { input1: [[5, 6], [7, 8]], input2: 6 }] }, twoInputs);
    assert.deepEqual(r.inputs.get('input1')!.shape, [2, 2, 2]);
    assert.deepEqual(Array.from(r.inputs.get('input1')!.data as Float32Array), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(r.inputs.get('input2')!.shape, [2]);
  });

  test('shapes from 1x1 to 2x1x3x1x5 are read exactly', () => {
    let n = 0;
    const nest = (shape: number[]): unknown => (shape.length === 0 ? n++ : Array.from({ length: shape[0]! }, () => nest(shape.slice(1))));
    for (const shape of [[1, 1], [1, 3], [3, 1], [2, 1, 3, 1, 5]]) {
      n = 0;
      const t = parse({ inputs: { b: nest(shape) } }, dummy).inputs.get('b')!;
      assert.deepEqual(t.shape, shape);
      assert.deepEqual(Array.from(t.data as Float32Array), Array.from({ length: n }, (_, i) => i));
    }
  });

  test('signature_name is ignored and scalars make rank-0 tensors', () => {
    const r = parse({ signature_name: 'whatever', inputs: { b: 3.5 } }, dummy);
    assert.deepEqual(r.inputs.get('b')!.shape, []);
    assert.deepEqual(Array.from(r.inputs.get('b')!.data as Float32Array), [3.5]);
  });

  test('inputs the model does not have are kept (validation names the problem)', () => {
    const r = parse({ inputs: { x: [[1, 2]], s: ['a'], f: [true] } }, dummy);
    assert.equal(r.inputs.get('x')!.dtype, 'FP32');
    assert.equal(r.inputs.get('s')!.dtype, 'STRING');
    assert.equal(r.inputs.get('f')!.dtype, 'BOOL');
  });
});

describe('parsePredictBody: OVMS errors (SPEC §6.1, §6.3)', () => {
  const cases: [string, unknown, readonly TensorSpec[], string, number][] = [
    ['invalid JSON', '{"instances": [1,', dummy, 'The file is not valid json', 412],
    ['empty body', '', dummy, 'The file is not valid json', 412],
    ['array body', [1, 2], dummy, 'Request body should be JSON object', 400],
    ['null body', 'null', dummy, 'Request body should be JSON object', 400],
    ['both keys', { instances: [[1]], inputs: [[1]] }, dummy, 'Invalid JSON structure. Could not detect row or column format', 400],
    ['neither key', { signature_name: 'x' }, dummy, 'Invalid JSON structure. Could not detect row or column format', 400],
    ['instances not an array', { instances: { b: [1] } }, dummy, 'Invalid JSON structure. Nonamed instance is not an array.', 400],
    ['no instances', { instances: [] }, dummy, 'Invalid JSON structure. Missing instances in row format', 400],
    ['named then not an object', { instances: [{ b: [1] }, [1]] }, dummy, 'Invalid JSON structure. One of named instances is not a JSON object.', 400],
    ['neither named nor no-name', { instances: [null] }, dummy, 'Could not detect neither named or nonamed format', 400],
    ['inputs not an object', { inputs: 5 }, dummy, 'Invalid JSON structure. One of inputs is not a JSON object.', 400],
    ['no inputs', { inputs: {} }, dummy, 'Invalid JSON structure. Missing inputs in column format', 400],
    ['batch sizes differ', { instances: [{ input1: [1], input2: [1] }, { input1: [2] }] }, twoInputs, 'Invalid JSON structure. Request inputs have different batch sizes', 400],
    ['no-name row on a 2-input model', { instances: [[1, 2]] }, twoInputs, 'Internal allocation error', 500],
    ['no-name column on a 2-input model', { inputs: [[1, 2]] }, twoInputs, 'Internal allocation error', 500],
  ];
  for (const [name, body, specs, message, http] of cases) {
    test(name, () => {
      const err = parseError(body, specs);
      assert.ok(err.message.startsWith(message), err.message);
      assert.equal(err.http ?? 400, http);
    });
  }

  const instance = 'Could not parse instance content. Not valid ndarray detected - input b: ';
  const input = 'Could not parse input content. Not valid ndarray detected - input b: ';
  const detailCases: [string, unknown, string][] = [
    ['ragged row', { instances: [[1, 2], [3]] }, `${instance}array of 1 elements at depth 2 where 2 were expected; arrays must be rectangular`],
    ['ragged column', { inputs: { b: [[1, 2], [3]] } }, `${input}array of 1 elements at depth 2 where 2 were expected; arrays must be rectangular`],
    ['deeper than the first element', { inputs: { b: [[1, 2], [3, [4]]] } }, `${input}found an array where a value was expected (depth 3); arrays must be rectangular`],
    ['shallower than the first element', { inputs: { b: [[1, 2], 3] } }, `${input}found 3 where an array was expected (depth 2); arrays must be rectangular`],
    ['empty nested array', { inputs: { b: [[]] } }, `${input}empty arrays are not valid tensors`],
    ['empty column value', { inputs: { b: [] } }, `${input}empty arrays are not valid tensors`],
    ['items of different shapes', { instances: [{ b: [1, 2] }, { b: [1, 2, 3] }] }, `${instance}array of 3 elements at depth 1 where 2 were expected; arrays must be rectangular`],
    ['empty instance', { instances: [{}] }, 'Could not parse instance content. Not valid ndarray detected - an instance has no inputs'],
    ['string for a float input', { inputs: { b: [['x']] } }, `${input}"x" is not a number (FP32 input)`],
    ['null for a float input', { inputs: { b: [null] } }, `${input}null is not a number (FP32 input)`],
  ];
  for (const [name, body, message] of detailCases) {
    test(name, () => {
      const err = parseError(body, dummy);
      assert.equal(err.message, message);
      assert.equal(err.http ?? 400, 400);
      assert.equal(err.code, 'INVALID_ARGUMENT');
    });
  }

  test('a first element promising more data than the body holds is refused before allocating', () => {
    const wide = new Array(10000).fill(0);
    const rows: unknown[] = [wide, ...new Array(9999).fill([0])];
    const err = parseError({ inputs: { b: [rows] } }, dummy);
    assert.match(err.message, /^Could not parse input content\. Not valid ndarray detected - input b: shape \(1,10000,10000\) holds more elements than the body has/);
  });

  test('nesting deeper than 64 levels is refused without recursion trouble', () => {
    const deep = '{"inputs": {"b": ' + '['.repeat(100000) + '1' + ']'.repeat(100000) + '}}';
    const err = parseError(deep, dummy);
    assert.match(err.message, /nested deeper than 64 levels/);
  });
});

describe('parsePredictBody: dtypes', () => {
  test('integers are range-checked and must be whole', () => {
    assert.deepEqual(Array.from(parse({ inputs: [[-128, 127, 0]] }, spec('INT8')).inputs.get('in')!.data as Int8Array), [-128, 127, 0]);
    assert.deepEqual(Array.from(parse({ inputs: [[0, 65535, 1]] }, spec('UINT16')).inputs.get('in')!.data as Uint16Array), [0, 65535, 1]);
    assert.deepEqual(Array.from(parse({ inputs: [[0, 4294967295, 1]] }, spec('UINT32')).inputs.get('in')!.data as Uint32Array), [0, 4294967295, 1]);
    assert.equal(parseError({ inputs: [[128, 0, 0]] }, spec('INT8')).message,
      'Could not parse input content. Not valid ndarray detected - input in: 128 is out of range for INT8 [-128, 127]');
    assert.equal(parseError({ inputs: [[-1, 0, 0]] }, spec('UINT8')).message,
      'Could not parse input content. Not valid ndarray detected - input in: -1 is out of range for UINT8 [0, 255]');
    assert.equal(parseError({ instances: [[1.5, 0, 0]] }, spec('INT32')).message,
      'Could not parse instance content. Not valid ndarray detected - input in: 1.5 is not an integer (INT32 input)');
    assert.equal(parseError({ inputs: [[true, 0, 0]] }, spec('INT16')).message,
      'Could not parse input content. Not valid ndarray detected - input in: true is not a number (INT16 input)');
  });

  test('INT64 and UINT64 keep every digit (BigInt), beyond 2^53', () => {
    const body = '{"inputs": [[9223372036854775807, -9223372036854775808, 9007199254740993]]}';
    const t = parse(body, spec('INT64')).inputs.get('in')!;
    assert.ok(t.data instanceof BigInt64Array);
    assert.deepEqual(Array.from(t.data), [9223372036854775807n, -9223372036854775808n, 9007199254740993n]);
    const u = parse('{"inputs": [[18446744073709551615, 0, 1]]}', spec('UINT64')).inputs.get('in')!;
    assert.deepEqual(Array.from(u.data as BigUint64Array), [18446744073709551615n, 0n, 1n]);
    assert.match(parseError('{"inputs": [[9223372036854775808, 0, 0]]}', spec('INT64')).message, /9223372036854775808 is out of range for INT64/);
    assert.match(parseError('{"inputs": [[-1, 0, 0]]}', spec('UINT64')).message, /-1 is out of range for UINT64/);
    assert.match(parseError('{"inputs": [[1e30, 0, 0]]}', spec('INT64')).message, /out of range for INT64/);
    assert.match(parseError('{"inputs": [[0.5, 0, 0]]}', spec('INT64')).message, /0.5 is not an integer \(INT64 input\)/);
    assert.equal(parseError('{"inputs": [[1, 2', spec('INT64')).message, 'The file is not valid json');
  });

  test('FP16 is stored as half bits, FP64 at full precision', () => {
    const h = parse({ inputs: [[0.1, 65504, 70000]] }, spec('FP16')).inputs.get('in')!;
    assert.deepEqual(Array.from(h.data as Uint16Array), [0x2e66, 0x7bff, 0x7c00]);
    const d = parse({ inputs: [[0.1, 1e300, -2.5]] }, spec('FP64')).inputs.get('in')!;
    assert.deepEqual(Array.from(d.data as Float64Array), [0.1, 1e300, -2.5]);
  });

  test('BOOL takes JSON booleans only', () => {
    assert.deepEqual(Array.from(parse({ inputs: [[true, false, true]] }, spec('BOOL')).inputs.get('in')!.data as Uint8Array), [1, 0, 1]);
    assert.match(parseError({ inputs: [[1, 0, 1]] }, spec('BOOL')).message, /1 is not a boolean \(BOOL inputs take true or false\)/);
  });

  test('STRING takes UTF-8 strings and {"b64": ...} objects', () => {
    const t = parse({ instances: [['hé', '', 'x'], [{ b64: 'AP8=' }, { b64: 'aGk' }, 'z']] }, spec('STRING')).inputs.get('in')!;
    assert.deepEqual(t.shape, [2, 3]);
    const data = t.data as Uint8Array[];
    assert.deepEqual(Array.from(data[0]!), [0x68, 0xc3, 0xa9]);
    assert.equal(data[1]!.length, 0);
    assert.deepEqual(Array.from(data[3]!), [0x00, 0xff]);
    assert.equal(Buffer.from(data[4]!).toString(), 'hi');
    assert.equal(parseError({ inputs: [[{ b64: 'not base64!' }]] }, spec('STRING')).message,
      'Could not parse input content. Not valid ndarray detected - input in: the "b64" value is not valid base64');
    assert.equal(parseError({ instances: [{ in: { b64: 'a' } }] }, spec('STRING')).message,
      'Could not parse instance content. Not valid ndarray detected - input in: the "b64" value is not valid base64');
    assert.match(parseError({ inputs: [[5]] }, spec('STRING')).message, /5 is not a string or a \{"b64": \.\.\.\} object \(STRING input\)/);
  });

  test('b64 values make a STRING tensor of the binary-input shape, even for a numeric input', () => {
    const row = parse({ instances: [{ b: { b64: 'AAEC' } }, { b: { b64: 'AwQF' } }] }, dummy).inputs.get('b')!;
    assert.equal(row.dtype, 'STRING');
    assert.deepEqual(row.shape, [2]);
    const noname = parse({ instances: [{ b64: 'AAEC' }] }, dummy).inputs.get('b')!;
    assert.deepEqual(noname.shape, [1]);
    const column = parse({ inputs: { b: [{ b64: 'AAEC' }] } }, dummy).inputs.get('b')!;
    assert.deepEqual(column.shape, [1]);
  });
});

describe('encodePredictResponse', () => {
  const a = tensor('FP32', [2, 2], new Float32Array([1, 2.5, 0.1, -3]));
  const b = tensor('INT64', [2], new BigInt64Array([9223372036854775807n, -1n]));

  test('row: single output → nested array per item; several → object per item', () => {
    assert.equal(encodePredictResponse('row', new Map([['a', a]])), '{"predictions":[[1.0,2.5],[0.1,-3.0]]}');
    assert.equal(encodePredictResponse('row', new Map<string, Tensor>([['a', a], ['b', b]])),
      '{"predictions":[{"a":[1.0,2.5],"b":9223372036854775807},{"a":[0.1,-3.0],"b":-1}]}');
  });

  test('column: single output → the array; several → object of arrays', () => {
    assert.equal(encodePredictResponse('column', new Map([['a', a]])), '{"outputs":[[1.0,2.5],[0.1,-3.0]]}');
    assert.equal(encodePredictResponse('column', new Map<string, Tensor>([['a', a], ['b', b]])),
      '{"outputs":{"a":[[1.0,2.5],[0.1,-3.0]],"b":[9223372036854775807,-1]}}');
  });

  test('row with outputs of different batch sizes is "Response parsing to JSON error" (500)', () => {
    const c = tensor('FP32', [3], new Float32Array(3));
    const outputs: TensorMap = new Map([['a', a], ['c', c]]);
    assert.throws(() => encodePredictResponse('row', outputs), (err: ServingError) => {
      assert.ok(err.message.startsWith('Response parsing to JSON error - outputs differ in batch size'), err.message);
      assert.equal(err.http, 500);
      return true;
    });
    assert.match(encodePredictResponse('column', outputs), /"c":\[0\.0,0\.0,0\.0\]/);
  });

  test('zero-size dims become empty arrays; scalars print bare in column format', () => {
    assert.equal(encodePredictResponse('column', new Map([['e', tensor('FP32', [2, 0, 3], new Float32Array(0))]])), '{"outputs":[[],[]]}');
    assert.equal(encodePredictResponse('column', new Map([['e', tensor('FP32', [0, 3], new Float32Array(0))]])), '{"outputs":[]}');
    assert.equal(encodePredictResponse('column', new Map([['s', tensor('INT32', [], new Int32Array([7]))]])), '{"outputs":7}');
    assert.throws(() => encodePredictResponse('row', new Map([['s', tensor('INT32', [], new Int32Array([7]))]])), /Response parsing to JSON error/);
  });

  test('BOOL, FP16, NaN/Infinity and strings', () => {
    const outputs: TensorMap = new Map<string, Tensor>([
      ['flag', tensor('BOOL', [2], new Uint8Array([1, 0]))],
      ['half', tensor('FP16', [4], new Uint16Array([0x2e66, 0x3c00, 0x7c00, 0x7e00]))],
      ['f', tensor('FP32', [3], new Float32Array([NaN, -Infinity, Infinity]))],
      ['text', tensor('STRING', [2], [Buffer.from('a"b'), new Uint8Array([0xff])])],
      ['raw_bytes', tensor('STRING', [1], [Buffer.from('hi')])],
    ]);
    assert.equal(encodePredictResponse('column', outputs),
      '{"outputs":{"flag":[true,false],"half":[0.1,1.0,Infinity,NaN],"f":[NaN,-Infinity,Infinity],' +
      '"text":["a\\"b",{"b64":"/w=="}],"raw_bytes":[{"b64":"aGk="}]}}');
  });
});

describe('number formats', () => {
  test('float32 prints the short form TFS prints, and always reads back exactly', () => {
    const cases: [number, string][] = [[0.1, '0.1'], [1, '1.0'], [-2.5, '-2.5'], [1234567, '1234567.0'], [0.3, '0.3'],
      [1e-7, '1e-7'], [3.4e38, '3.4e+38'], [16777216, '16777216.0'], [-0, '-0.0'], [1 / 3, '0.333333343']];
    for (const [v, s] of cases) assert.equal(formatFloat32(Math.fround(v)), s, `value ${v}`);
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    let seed = 12345;
    for (let i = 0; i < 200000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      bits[0] = seed;
      const x = f[0]!;
      if (!Number.isFinite(x)) continue;
      assert.equal(Math.fround(Number(formatFloat32(x))), x, `float bits ${seed}`);
    }
  });

  test('float64 prints the shortest round-trip form', () => {
    assert.equal(formatFloat64(0.1), '0.1');
    assert.equal(formatFloat64(2), '2.0');
    assert.equal(formatFloat64(1e300), '1e+300');
    assert.equal(formatFloat64(NaN), 'NaN');
  });

  test('FP16 conversion rounds to nearest even and reads back exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const x = halfToNumber(bits);
      if (Number.isNaN(x)) continue;
      assert.equal(numberToHalfBits(x), bits, `half bits ${bits.toString(16)}`);
    }
    assert.equal(numberToHalfBits(65519), 0x7bff);
    assert.equal(numberToHalfBits(65520), 0x7c00);
    assert.equal(numberToHalfBits(1 + 2 ** -11), 0x3c00); // tie → even
    assert.equal(numberToHalfBits(1 + 3 * 2 ** -11), 0x3c02); // tie → even (up)
    assert.equal(numberToHalfBits(2 ** -25), 0); // tie between 0 and the smallest subnormal → 0
    assert.equal(numberToHalfBits(2 ** -25 + 2 ** -40), 1);
  });
});
