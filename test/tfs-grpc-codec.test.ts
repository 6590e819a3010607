/**
 * The hand-written Predict codec against protobufjs (an independent encoder/decoder of the same
 * .proto files): every typed field packed and unpacked, hostile sizes, malformed bytes, and the
 * OVMS order of errors.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { ServingError } from '../src/core/errors.js';
import type { DType } from '../src/core/dtype.js';
import type { Tensor, TensorSpec } from '../src/core/tensor.js';
import { dataTypeName } from '../src/api/tfs/grpc-protos.js';
import { decodeInputs, decodeTensorProto, encodePredictResponse, parsePredictRequest } from '../src/api/tfs/predict-codec.js';
import { WireReader, writeVarint64, varint64Size } from '../src/api/tfs/proto-wire.js';
import { protoRoot, type Json } from './helpers/tfs-grpc.js';

const PredictRequest = protoRoot.lookupType('tensorflow.serving.PredictRequest');
const PredictResponse = protoRoot.lookupType('tensorflow.serving.PredictResponse');
const TensorProto = protoRoot.lookupType('tensorflow.TensorProto');

function encodeRequest(obj: Json): Uint8Array {
  return PredictRequest.encode(PredictRequest.fromObject(obj)).finish();
}

/** A request whose input "x" is built from raw TensorProto bytes (for hand-made encodings). */
function requestWithTensorBytes(tensorBytes: Uint8Array): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('m').ldelim();
  w.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string('x').uint32((2 << 3) | 2).bytes(tensorBytes).ldelim();
  return w.finish();
}

function decodeOne(request: Uint8Array, name = 'x', expected?: DType): Tensor {
  const parsed = parsePredictRequest(request);
  return decodeTensorProto(parsed.inputs.get(name)!, expected, dataTypeName);
}

function decodeTensorObject(obj: Json, expected?: DType): Tensor {
  return decodeOne(encodeRequest({ model_spec: { name: 'm' }, inputs: { x: obj } }), 'x', expected);
}

function shape(dims: number[]): Json {
  return { dim: dims.map((size) => ({ size })) };
}

function servingErr(fn: () => unknown): ServingError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ServingError, `expected ServingError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('PredictRequest walker', () => {
  it('reads model_spec, inputs and output_filter as protobufjs wrote them', () => {
    const content = new Float32Array([1, 2, 3, 4, 5, 6]);
    const bytes = encodeRequest({
      model_spec: { name: 'resnet', version: { value: 7 }, signature_name: 'serving_default' },
      inputs: {
        a: { dtype: 1, tensor_shape: shape([2, 3]), tensor_content: new Uint8Array(content.buffer) },
        b: { dtype: 3, tensor_shape: shape([1]), int_val: [-5] },
      },
      output_filter: ['o1', 'o2'],
    });
    const parsed = parsePredictRequest(bytes);
    assert.deepEqual(parsed.modelSpec, { name: 'resnet', version: 7, versionLabel: undefined, signatureName: 'serving_default' });
    assert.deepEqual(parsed.outputFilter, ['o1', 'o2']);
    assert.deepEqual([...parsed.inputs.keys()].sort(), ['a', 'b']);
    const a = decodeTensorProto(parsed.inputs.get('a')!, 'FP32', dataTypeName);
    assert.equal(a.dtype, 'FP32');
    assert.deepEqual(a.shape, [2, 3]);
    assert.deepEqual([...(a.data as Float32Array)], [1, 2, 3, 4, 5, 6]);
    const b = decodeTensorProto(parsed.inputs.get('b')!, 'INT32', dataTypeName);
    assert.deepEqual([...(b.data as Int32Array)], [-5]);
  });

  it('tells an absent model_spec and an absent version apart', () => {
    assert.equal(parsePredictRequest(encodeRequest({ inputs: {} })).modelSpec, undefined);
    const spec = parsePredictRequest(encodeRequest({ model_spec: { name: 'x' } })).modelSpec!;
    assert.equal(spec.version, undefined);
    const label = parsePredictRequest(encodeRequest({ model_spec: { name: 'x', version_label: 'stable' } })).modelSpec!;
    assert.equal(label.versionLabel, 'stable');
    assert.equal(label.version, undefined);
    const negative = parsePredictRequest(encodeRequest({ model_spec: { name: 'x', version: { value: -3 } } })).modelSpec!;
    assert.equal(negative.version, -3);
    assert.equal(parsePredictRequest(new Uint8Array(0)).modelSpec, undefined);
  });

  it('views tensor_content without copying when aligned, and copies when not', () => {
    const values = new Float32Array([0.5, -1.5, 2.25, 8]);
    const tensorBytes = TensorProto.encode(TensorProto.fromObject({ dtype: 1, tensor_shape: shape([4]), tensor_content: new Uint8Array(values.buffer) })).finish();
    const request = requestWithTensorBytes(tensorBytes);
    for (let pad = 0; pad < 4; pad++) {
      const buf = new Uint8Array(request.length + pad);
      buf.set(request, pad);
      const t = decodeOne(buf.subarray(pad));
      const data = t.data as Float32Array;
      assert.deepEqual([...data], [0.5, -1.5, 2.25, 8]);
      // tensor_content is the last 16 bytes of this request.
      const contentOffset = pad + request.length - 16;
      assert.equal(data.buffer === buf.buffer, contentOffset % 4 === 0, `pad ${pad}`);
      if (data.buffer === buf.buffer) assert.equal(data.byteOffset, contentOffset);
    }
  });

  it('skips unknown fields of every wire type, including groups', () => {
    const tensor = protobuf.Writer.create();
    tensor.uint32((1 << 3) | 0).uint32(1); // dtype FP32
    tensor.uint32((99 << 3) | 0).uint64(123456789); // unknown varint
    tensor.uint32((98 << 3) | 1).fixed64(1); // unknown fixed64
    tensor.uint32((97 << 3) | 5).fixed32(1); // unknown fixed32
    tensor.uint32((96 << 3) | 2).bytes(new Uint8Array([1, 2, 3])); // unknown bytes
    tensor.uint32((95 << 3) | 3).uint32((1 << 3) | 0).uint32(5).uint32((95 << 3) | 4); // group
    tensor.uint32((2 << 3) | 2).fork().uint32((2 << 3) | 2).fork().uint32((1 << 3) | 0).int64(2).ldelim().ldelim();
    tensor.uint32((5 << 3) | 2).bytes(new Uint8Array(new Float32Array([3, 4]).buffer));
    const t = decodeOne(requestWithTensorBytes(tensor.finish()));
    assert.deepEqual(t.shape, [2]);
    assert.deepEqual([...(t.data as Float32Array)], [3, 4]);
  });
});

describe('typed value fields', () => {
  const cases: { dtype: DType; tf: number; field: string; values: Json[]; read: (t: Tensor) => unknown[]; expect?: unknown[] }[] = [
    { dtype: 'FP32', tf: 1, field: 'float_val', values: [1.5, -2, 3.25], read: (t) => [...(t.data as Float32Array)] },
    { dtype: 'FP64', tf: 2, field: 'double_val', values: [1e300, -2.5, Math.PI], read: (t) => [...(t.data as Float64Array)] },
    { dtype: 'INT32', tf: 3, field: 'int_val', values: [-2147483648, 2147483647, -1], read: (t) => [...(t.data as Int32Array)] },
    { dtype: 'INT16', tf: 5, field: 'int_val', values: [-32768, 32767, -1], read: (t) => [...(t.data as Int16Array)] },
    { dtype: 'INT8', tf: 6, field: 'int_val', values: [-128, 127, -1], read: (t) => [...(t.data as Int8Array)] },
    { dtype: 'UINT8', tf: 4, field: 'int_val', values: [0, 255, 7], read: (t) => [...(t.data as Uint8Array)] },
    { dtype: 'UINT16', tf: 17, field: 'int_val', values: [0, 65535, 300], read: (t) => [...(t.data as Uint16Array)] },
    { dtype: 'UINT32', tf: 22, field: 'uint32_val', values: [0, 4294967295, 70000], read: (t) => [...(t.data as Uint32Array)] },
    {
      dtype: 'INT64', tf: 9, field: 'int64_val', values: ['-9223372036854775808', '9223372036854775807', '-1'],
      read: (t) => [...(t.data as BigInt64Array)], expect: [-9223372036854775808n, 9223372036854775807n, -1n],
    },
    {
      dtype: 'UINT64', tf: 23, field: 'uint64_val', values: ['18446744073709551615', '4294967296', '1'],
      read: (t) => [...(t.data as BigUint64Array)], expect: [18446744073709551615n, 4294967296n, 1n],
    },
    { dtype: 'BOOL', tf: 10, field: 'bool_val', values: [true, false, true], read: (t) => [...(t.data as Uint8Array)], expect: [1, 0, 1] },
    { dtype: 'FP16', tf: 19, field: 'half_val', values: [0x3c00, 0xc000, 0x7bff], read: (t) => [...(t.data as Uint16Array)] },
  ];

  for (const c of cases) {
    it(`${c.dtype} from packed ${c.field}`, () => {
      const t = decodeTensorObject({ dtype: c.tf, tensor_shape: shape([1, 3]), [c.field]: c.values }, c.dtype);
      assert.equal(t.dtype, c.dtype);
      assert.deepEqual(t.shape, [1, 3]);
      assert.deepEqual(c.read(t), c.expect ?? c.values);
    });

    it(`${c.dtype} from unpacked ${c.field}, split over several runs`, () => {
      const fieldNo = TensorProto.fields[c.field]!.id;
      const type = TensorProto.fields[c.field]!.type;
      const w = protobuf.Writer.create();
      w.uint32((1 << 3) | 0).uint32(c.tf);
      w.uint32((2 << 3) | 2).fork().uint32((2 << 3) | 2).fork().uint32(8).int64(1).ldelim().uint32((2 << 3) | 2).fork().uint32(8).int64(3).ldelim().ldelim();
      const wireType = type === 'float' ? 5 : type === 'double' ? 1 : 0;
      // First value unpacked, the rest as a packed run: parsers must accept the mix.
      w.uint32((fieldNo << 3) | wireType);
      (w as unknown as Record<string, (v: unknown) => void>)[type]!(c.values[0]);
      w.uint32((fieldNo << 3) | 2).fork();
      for (const v of c.values.slice(1)) (w as unknown as Record<string, (v: unknown) => void>)[type]!(v);
      w.ldelim();
      const t = decodeOne(requestWithTensorBytes(w.finish()), 'x', c.dtype);
      assert.deepEqual(c.read(t), c.expect ?? c.values);
    });
  }

  it('STRING elements are views of string_val', () => {
    const t = decodeTensorObject({ dtype: 7, tensor_shape: shape([3]), string_val: [Buffer.from('héllo'), Buffer.alloc(0), Buffer.from([0, 255])] });
    const data = t.data as Uint8Array[];
    assert.equal(data.length, 3);
    assert.equal(Buffer.from(data[0]!).toString('utf8'), 'héllo');
    assert.equal(data[1]!.length, 0);
    assert.deepEqual([...data[2]!], [0, 255]);
  });

  it('tensor_content wins over typed fields (TensorFlow rule)', () => {
    const t = decodeTensorObject({ dtype: 1, tensor_shape: shape([2]), tensor_content: new Uint8Array(new Float32Array([7, 8]).buffer), float_val: [1] });
    assert.deepEqual([...(t.data as Float32Array)], [7, 8]);
  });

  it('fields of another element type are ignored', () => {
    const err = servingErr(() => decodeTensorObject({ dtype: 3, tensor_shape: shape([2]), float_val: [1, 2], int_val: [5] }));
    assert.equal(err.message, 'Invalid number of values in tensor proto container - Expected: 2; Actual: 1');
  });

  it('zero-element tensors decode to empty arrays', () => {
    const t = decodeTensorObject({ dtype: 1, tensor_shape: shape([0, 5]) });
    assert.equal((t.data as Float32Array).length, 0);
  });
});

describe('tensor checks with OVMS texts', () => {
  it('content size', () => {
    const err = servingErr(() => decodeTensorObject({ dtype: 1, tensor_shape: shape([1, 10]), tensor_content: new Uint8Array(36) }));
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.equal(err.message, 'Invalid content size of tensor proto - Expected: 40 bytes; Actual: 36 bytes');
  });

  it('value count', () => {
    const err = servingErr(() => decodeTensorObject({ dtype: 1, tensor_shape: shape([1, 10]), float_val: [1, 2, 3, 4, 5, 6, 7, 8, 9] }));
    assert.equal(err.message, 'Invalid number of values in tensor proto container - Expected: 10; Actual: 9');
    const s = servingErr(() => decodeTensorObject({ dtype: 7, tensor_shape: shape([2]), string_val: [Buffer.from('a')] }));
    assert.equal(s.message, 'Invalid number of values in tensor proto container - Expected: 2; Actual: 1');
  });

  it('no data at all: bytes for tensor_content types, values for FP16/UINT16', () => {
    assert.equal(servingErr(() => decodeTensorObject({ dtype: 1, tensor_shape: shape([1, 10]) })).message,
      'Invalid content size of tensor proto - Expected: 40 bytes; Actual: 0 bytes');
    assert.equal(servingErr(() => decodeTensorObject({ dtype: 19, tensor_shape: shape([1, 10]) })).message,
      'Invalid number of values in tensor proto container - Expected: 10; Actual: 0');
  });

  it('negative dimensions', () => {
    const err = servingErr(() => decodeTensorObject({ dtype: 1, tensor_shape: shape([1, -10]), tensor_content: new Uint8Array(40) }));
    assert.equal(err.message, 'Invalid input shape - Negative dimension size is not acceptable: (1,-10)');
  });

  it('unknown element types are named', () => {
    const err = servingErr(() => decodeTensorObject({ dtype: 14, tensor_shape: shape([1]), tensor_content: new Uint8Array(2) }, 'FP32'));
    assert.equal(err.message, 'Invalid input precision - Expected: FP32; Actual: DT_BFLOAT16');
    assert.equal(servingErr(() => decodeTensorObject({ tensor_shape: shape([1]) }, 'FP32')).message,
      'Invalid input precision - Expected: FP32; Actual: DT_INVALID');
    assert.equal(servingErr(() => decodeTensorObject({ dtype: 1234, tensor_shape: shape([1]) }, 'INT8')).message,
      'Invalid input precision - Expected: I8; Actual: DataType(1234)');
  });

  it('hostile shapes are rejected before allocating', () => {
    const overflow = servingErr(() => decodeTensorObject({ dtype: 1, tensor_shape: shape([2 ** 31, 2 ** 31, 2 ** 31]), float_val: [1] }));
    assert.equal(overflow.message, `Invalid input shape - Tensor element count overflows: (${2 ** 31},${2 ** 31},${2 ** 31})`);
    const huge = servingErr(() => decodeTensorObject({ dtype: 1, tensor_shape: shape([2 ** 40]), tensor_content: new Uint8Array(4) }));
    assert.equal(huge.message, `Invalid content size of tensor proto - Expected: ${2 ** 42} bytes; Actual: 4 bytes`);
    const hugeTyped = servingErr(() => decodeTensorObject({ dtype: 3, tensor_shape: shape([2 ** 40]), int_val: [1] }));
    assert.equal(hugeTyped.message, `Invalid number of values in tensor proto container - Expected: ${2 ** 40}; Actual: 1`);
    const int64Max = servingErr(() => decodeTensorObject({ dtype: 1, tensor_shape: shape(['9223372036854775807' as unknown as number]) }));
    assert.match(int64Max.message, /^Invalid input shape - Tensor element count overflows/);
  });
});

describe('error order follows OVMS validation', () => {
  const specs: TensorSpec[] = [
    { name: 'a', dtype: 'FP32', shape: [1, 2] },
    { name: 'b', dtype: 'FP32', shape: [1, 2] },
  ];
  const good = { dtype: 1, tensor_shape: shape([1, 2]), float_val: [1, 2] };
  const badSize = { dtype: 1, tensor_shape: shape([1, 2]), float_val: [1] };
  const decode = (inputs: Json) => decodeInputs(parsePredictRequest(encodeRequest({ model_spec: { name: 'm' }, inputs })).inputs, specs, dataTypeName);

  it('input count comes before a data fault', () => {
    assert.equal(servingErr(() => decode({ a: badSize })).message, 'Invalid number of inputs - Expected: 2; Actual: 1');
  });
  it('a missing input comes before a data fault', () => {
    assert.equal(servingErr(() => decode({ c: good, b: badSize })).message, 'Missing input with specific name - Required input: a');
  });
  it('the same input\'s shape comes before its data size', () => {
    const wrongShape = { dtype: 1, tensor_shape: shape([1, 3]), float_val: [1] };
    assert.equal(servingErr(() => decode({ a: good, b: wrongShape })).message, 'Invalid input shape - Expected: (1,2); Actual: (1,3)');
  });
  it('the same input\'s precision comes before its data size', () => {
    const wrongType = { dtype: 2, tensor_shape: shape([1, 2]), double_val: [1] };
    assert.equal(servingErr(() => decode({ a: good, b: wrongType })).message, 'Invalid input precision - Expected: FP32; Actual: FP64');
  });
  it('an earlier input\'s fault comes first', () => {
    const wrongShape = { dtype: 1, tensor_shape: shape([1, 3]), float_val: [1, 2, 3] };
    assert.equal(servingErr(() => decode({ a: wrongShape, b: badSize })).message, 'Invalid input shape - Expected: (1,2); Actual: (1,3)');
    assert.equal(servingErr(() => decode({ a: badSize, b: wrongShape })).message,
      'Invalid number of values in tensor proto container - Expected: 2; Actual: 1');
  });
  it('valid inputs decode', () => {
    const out = decode({ a: good, b: good });
    assert.deepEqual([...(out.get('b')!.data as Float32Array)], [1, 2]);
  });
});

describe('malformed bytes', () => {
  const valid = encodeRequest({
    model_spec: { name: 'dummy', version: { value: 300 }, signature_name: 'serving_default' },
    inputs: {
      b: { dtype: 1, tensor_shape: shape([1, 3]), float_val: [1, 2, 3] },
      c: { dtype: 9, tensor_shape: shape([2]), int64_val: ['-1', '5'] },
      d: { dtype: 7, tensor_shape: shape([1]), string_val: [Buffer.from('x')] },
    },
    output_filter: ['a'],
  });
  const specs: TensorSpec[] = [
    { name: 'b', dtype: 'FP32', shape: [1, 3] },
    { name: 'c', dtype: 'INT64', shape: [2] },
    { name: 'd', dtype: 'STRING', shape: [1] },
  ];

  /** Parsing and decoding may fail only with a ServingError. */
  function survive(bytes: Uint8Array): void {
    try {
      const parsed = parsePredictRequest(bytes);
      decodeInputs(parsed.inputs, specs, dataTypeName);
    } catch (err) {
      if (!(err instanceof ServingError)) throw err;
      assert.equal(err.code === 'INVALID_ARGUMENT' || err.code === 'NOT_FOUND', true, err.message);
    }
  }

  it('every truncation either parses or fails with INVALID_ARGUMENT', () => {
    for (let n = 0; n < valid.length; n++) survive(valid.subarray(0, n));
  });

  it('names the problem', () => {
    const err = servingErr(() => parsePredictRequest(valid.subarray(0, 5)));
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.match(err.message, /^Malformed PredictRequest: .*runs past the end of the message/);
    assert.match(servingErr(() => parsePredictRequest(new Uint8Array([0x2c]))).message, /^Malformed PredictRequest: invalid wire type 4/);
    assert.match(servingErr(() => parsePredictRequest(new Uint8Array([0x08, 0x01]))).message, /model_spec \(field 1\) has wire type 0/);
    assert.match(servingErr(() => parsePredictRequest(new Uint8Array([0x00]))).message, /invalid field number 0/);
    assert.match(servingErr(() => parsePredictRequest(new Uint8Array([0x1a, 0x02, 0xc3, 0x28]))).message, /not valid UTF-8/);
    assert.match(servingErr(() => parsePredictRequest(new Uint8Array(Array(11).fill(0xff)))).message, /varint longer than 10 bytes/);
  });

  it('random byte flips never escape as anything but a ServingError', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 3000; i++) {
      const copy = new Uint8Array(valid);
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256);
      survive(copy);
    }
    for (let i = 0; i < 1000; i++) {
      const junk = new Uint8Array(Math.floor(rand() * 64));
      for (let k = 0; k < junk.length; k++) junk[k] = Math.floor(rand() * 256);
      survive(junk);
    }
  });
});

describe('PredictResponse encoder', () => {
  it('round-trips through protobufjs for every element type', () => {
    const outputs = new Map<string, Tensor>([
      ['f32', { dtype: 'FP32', shape: [1, 3], data: new Float32Array([1.5, -2, 0]) }],
      ['f64', { dtype: 'FP64', shape: [2], data: new Float64Array([Math.E, -1]) }],
      ['i64', { dtype: 'INT64', shape: [2], data: new BigInt64Array([-5n, 2n ** 40n]) }],
      ['u8', { dtype: 'UINT8', shape: [2, 1], data: new Uint8Array([0, 255]) }],
      ['f16', { dtype: 'FP16', shape: [1], data: new Uint16Array([0x3c00]) }],
      ['bool', { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) }],
      ['empty', { dtype: 'FP32', shape: [0, 4], data: new Float32Array(0) }],
      ['str', { dtype: 'STRING', shape: [2], data: [Buffer.from('ab'), new Uint8Array(0)] }],
    ]);
    const bytes = encodePredictResponse(outputs, { name: 'mödel', version: 2 ** 40, signatureName: 'serving_default' });
    const decoded = PredictResponse.toObject(PredictResponse.decode(bytes), { longs: String, bytes: Array, defaults: true }) as Json;
    assert.deepEqual(decoded.model_spec, { name: 'mödel', version: { value: String(2 ** 40) }, signature_name: 'serving_default' });
    const o = decoded.outputs;
    assert.deepEqual(Object.keys(o).sort(), ['bool', 'empty', 'f16', 'f32', 'f64', 'i64', 'str', 'u8']);
    const dims = (t: Json) => t.tensor_shape.dim.map((d: Json) => Number(d.size));
    const content = (t: Json) => new Uint8Array(t.tensor_content);
    assert.equal(o.f32.dtype, 1);
    assert.deepEqual(dims(o.f32), [1, 3]);
    assert.deepEqual([...new Float32Array(content(o.f32).buffer)], [1.5, -2, 0]);
    assert.equal(o.f64.dtype, 2);
    assert.deepEqual([...new Float64Array(content(o.f64).buffer)], [Math.E, -1]);
    assert.equal(o.i64.dtype, 9);
    assert.deepEqual([...new BigInt64Array(content(o.i64).buffer)], [-5n, 2n ** 40n]);
    assert.equal(o.u8.dtype, 4);
    assert.deepEqual(dims(o.u8), [2, 1]);
    assert.equal(o.f16.dtype, 19);
    assert.equal(o.bool.dtype, 10);
    assert.deepEqual(dims(o.empty), [0, 4]);
    assert.equal(content(o.empty).length, 0);
    assert.equal(o.str.dtype, 7);
    assert.deepEqual(o.str.string_val.map((s: number[]) => Buffer.from(s).toString()), ['ab', '']);
    assert.equal(content(o.str).length, 0);
  });

  it('writes int64 varints protobufjs reads back', () => {
    for (const v of [0, 1, 127, 128, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35, 2 ** 53 - 1, -1, -(2 ** 31), -(2 ** 53 - 1)]) {
      const buf = new Uint8Array(16);
      const end = writeVarint64(buf, 0, v);
      assert.equal(end, varint64Size(v), `size of ${v}`);
      assert.equal(protobuf.Reader.create(buf.subarray(0, end)).int64().toString(), String(v));
      assert.equal(new WireReader(buf, 0, end).int64(), v);
    }
  });

  it('a view of parsed request bytes used by the response stays intact', () => {
    // Outputs may alias the request buffer (identity models): encoding copies them into a new buffer.
    const input = new Float32Array([1, 2, 3]);
    const bytes = encodePredictResponse(new Map([['o', { dtype: 'FP32', shape: [3], data: input }]]), { name: 'm', version: 1, signatureName: 'serving_default' });
    input[0] = 100;
    const decoded = PredictResponse.decode(bytes) as Json;
    const c = new Uint8Array(decoded.outputs.o.tensor_content);
    assert.deepEqual([...new Float32Array(c.buffer)], [1, 2, 3]);
  });
});
