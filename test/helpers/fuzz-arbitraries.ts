/**
 * fast-check generators for the fuzz tests: valid inputs for a model (so that successes, whose
 * results the oracle checks, are frequent) and hostile ones (any dtype, any dims, any data field),
 * in the message shapes protobufjs encodes for TFS PredictRequest and KServe ModelInferRequest.
 */
import fc from 'fast-check';
import { allDTypes, dtypeInfo, type DType } from '../../src/core/dtype.js';
import { fromValues, type Elements } from './tensor-oracle.js';
import { FUZZ_MODELS, HOSTILE_NAMES, type FuzzModel } from './fuzz-server.js';

type Json = any;

/** One element of `dtype` as a JS value: number, bigint, boolean or bytes. */
export function elementValue(dtype: DType): fc.Arbitrary<unknown> {
  switch (dtype) {
    case 'FP32': return fc.float();
    case 'FP64': return fc.double();
    case 'FP16': return fc.integer({ min: 0, max: 0xffff });
    case 'INT8': return fc.integer({ min: -128, max: 127 });
    case 'INT16': return fc.integer({ min: -32768, max: 32767 });
    case 'INT32': return fc.integer();
    case 'UINT8': return fc.integer({ min: 0, max: 255 });
    case 'UINT16': return fc.integer({ min: 0, max: 0xffff });
    case 'UINT32': return fc.integer({ min: 0, max: 0xffffffff });
    case 'INT64': return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'UINT64': return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case 'BOOL': return fc.boolean();
    // onnxruntime's string tensors hold UTF-8 text without NUL; the server refuses other bytes
    // (INVALID_ARGUMENT, which the hostile cases and the limits tests cover).
    case 'STRING': return fc.string({ unit: 'grapheme', maxLength: 6 }).filter((s) => !s.includes('\0')).map((s) => new TextEncoder().encode(s));
  }
}

export interface ValidTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** JS values, one per element. */
  readonly values: readonly unknown[];
  /** Send as raw bytes (tensor_content / raw_input_contents) rather than typed fields. */
  readonly asBytes: boolean;
}

export function elementsOf(t: ValidTensor): Elements {
  if (t.dtype === 'STRING') return { dtype: 'STRING', strings: t.values as Uint8Array[] };
  return { dtype: t.dtype, bytes: fromValues(t.dtype, t.values) };
}

/** Inputs a model accepts: every input, its dtype, a batch of 1..3 where the batch is free. */
export function validInputs(model: FuzzModel): fc.Arbitrary<ValidTensor[]> {
  const free = model.inputs.some((i) => i.shape.includes(-1));
  return (free ? fc.integer({ min: 1, max: 3 }) : fc.constant(1)).chain((batch) =>
    fc.tuple(...model.inputs.map((spec) => {
      const shape = spec.shape.map((d) => (d < 0 ? batch : d));
      const count = shape.reduce((a, b) => a * b, 1);
      return fc.record({
        name: fc.constant(spec.name),
        dtype: fc.constant(spec.dtype),
        shape: fc.constant(shape),
        values: fc.array(elementValue(spec.dtype), { minLength: count, maxLength: count }),
        asBytes: spec.dtype === 'STRING' ? fc.constant(false) : fc.boolean(),
      });
    })));
}

export const modelArb = fc.constantFrom(...FUZZ_MODELS);

/** A model name: mostly real ones, sometimes hostile or random text. */
export const nameArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...FUZZ_MODELS.map((m) => m.name)) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_NAMES) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);

/** Tensor names: the test models' input/output names, and others. */
export const tensorNameArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('b', 'in', 'x', 'input1', 'input2', 'a', 'out', 'sum', 'doubled', 'negated') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);

/** Dimensions: mostly small, sometimes negative, zero or past every integer width. */
export const dimArb: fc.Arbitrary<number | string> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 5, max: 2000 }) },
  { weight: 2, arbitrary: fc.constantFrom<number | string>(-1, -2, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, '9223372036854775807', '-9223372036854775808') },
);

const validTf = allDTypes.map((d) => dtypeInfo(d).tf);
const validKserve = allDTypes.map((d) => dtypeInfo(d).kserve);

// ---- TFS PredictRequest ---------------------------------------------------------------------------

const TF_FIELD: Record<DType, string> = {
  FP32: 'float_val', FP64: 'double_val', INT32: 'int_val', INT16: 'int_val', INT8: 'int_val', UINT8: 'int_val', UINT16: 'int_val',
  INT64: 'int64_val', UINT32: 'uint32_val', UINT64: 'uint64_val', BOOL: 'bool_val', FP16: 'half_val', STRING: 'string_val',
};

function protoValues(values: readonly unknown[]): unknown[] {
  return values.map((v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** A valid TensorProto object for `t`. */
export function tfsTensor(t: ValidTensor): Json {
  const base = { dtype: dtypeInfo(t.dtype).tf, tensor_shape: { dim: t.shape.map((size) => ({ size })) } };
  if (t.asBytes && t.dtype !== 'STRING') return { ...base, tensor_content: Buffer.from((elementsOf(t) as { bytes: Uint8Array }).bytes) };
  return { ...base, [TF_FIELD[t.dtype]]: protoValues(t.values) };
}

/** A TensorProto with any dtype, dims and data fields, valid or not. */
export const hostileTfsTensor: fc.Arbitrary<Json> = fc.record({
  dtype: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...validTf) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 130 }) }),
  tensor_shape: fc.record({
    dim: fc.array(fc.record({ size: dimArb }), { maxLength: 6 }),
    unknown_rank: fc.boolean(),
  }, { requiredKeys: ['dim'] }),
  tensor_content: fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b)),
  float_val: fc.array(fc.float(), { maxLength: 12 }),
  double_val: fc.array(fc.double(), { maxLength: 6 }),
  int_val: fc.array(fc.integer(), { maxLength: 12 }),
  int64_val: fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), { maxLength: 6 }),
  uint32_val: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 6 }),
  uint64_val: fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), { maxLength: 6 }),
  bool_val: fc.array(fc.boolean(), { maxLength: 12 }),
  half_val: fc.array(fc.integer({ min: -70000, max: 70000 }), { maxLength: 12 }),
  string_val: fc.array(fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)), { maxLength: 6 }),
}, { requiredKeys: ['dtype'] });

export interface TfsCase {
  readonly request: Json;
  /** Built to be accepted: the server must answer it with the right result. */
  readonly valid: boolean;
}

const versionArb = fc.option(fc.oneof(fc.constantFrom<number | string>(0, 1, 2, -1, '9223372036854775807', '-9223372036854775808')), { nil: undefined });

/** PredictRequest objects: valid ones for a random model, and hostile ones. */
export const tfsPredictCase: fc.Arbitrary<TfsCase> = fc.oneof(
  {
    weight: 1,
    arbitrary: modelArb.chain((model) => fc.record({
      inputs: validInputs(model),
      version: fc.constantFrom(undefined, 0, 1),
      filter: fc.subarray([...model.outputs]),
    }).map(({ inputs, version, filter }): TfsCase => ({
      valid: true,
      request: {
        model_spec: { name: model.name, ...(version !== undefined && { version: { value: version } }), signature_name: 'serving_default' },
        inputs: Object.fromEntries(inputs.map((t) => [t.name, tfsTensor(t)])),
        output_filter: filter,
      },
    }))),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      name: nameArb,
      version: versionArb,
      label: fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
      inputs: fc.dictionary(tensorNameArb, hostileTfsTensor, { maxKeys: 3 }),
      filter: fc.array(tensorNameArb, { maxLength: 3 }),
      noSpec: fc.boolean(),
    }).map(({ name, version, label, inputs, filter, noSpec }): TfsCase => ({
      valid: false,
      request: {
        ...(!noSpec && { model_spec: { name, ...(version !== undefined && { version: { value: version } }), ...(label !== undefined && { version_label: label }) } }),
        inputs,
        output_filter: filter,
      },
    })),
  },
);

// ---- KServe ModelInferRequest ---------------------------------------------------------------------

const KS_FIELD: Record<DType, string | undefined> = {
  FP32: 'fp32_contents', FP64: 'fp64_contents', INT32: 'int_contents', INT16: 'int_contents', INT8: 'int_contents',
  UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents', INT64: 'int64_contents', UINT64: 'uint64_contents',
  BOOL: 'bool_contents', FP16: undefined, STRING: 'bytes_contents',
};

/** BYTES raw layout: a 4-byte little-endian length before each element. */
export function prefixedBytes(elements: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of elements) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(e.length);
    parts.push(len, Buffer.from(e));
  }
  return Buffer.concat(parts);
}

/** Raw bytes of a valid tensor as raw_input_contents carries them. */
export function rawOf(t: ValidTensor): Buffer {
  return t.dtype === 'STRING' ? prefixedBytes(t.values as Uint8Array[]) : Buffer.from((elementsOf(t) as { bytes: Uint8Array }).bytes);
}

export interface KserveCase {
  readonly request: Json;
  readonly valid: boolean;
}

const kserveDatatypeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...validKserve) },
  { weight: 1, arbitrary: fc.constantFrom('BF16', 'fp32', 'FP32 ', '', 'STRING', 'INT128') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

const inferParameter = fc.oneof(
  fc.record({ bool_param: fc.boolean() }),
  fc.record({ int64_param: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String) }),
  fc.record({ string_param: fc.string({ maxLength: 10 }) }),
);

export const hostileKserveInput: fc.Arbitrary<Json> = fc.record({
  name: tensorNameArb,
  datatype: kserveDatatypeArb,
  shape: fc.array(dimArb, { maxLength: 6 }),
  parameters: fc.dictionary(fc.constantFrom('binary_data_size', 'content_type', 'x'), inferParameter, { maxKeys: 2 }),
  contents: fc.record({
    bool_contents: fc.array(fc.boolean(), { maxLength: 12 }),
    int_contents: fc.array(fc.integer(), { maxLength: 12 }),
    int64_contents: fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), { maxLength: 6 }),
    uint_contents: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 12 }),
    uint64_contents: fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), { maxLength: 6 }),
    fp32_contents: fc.array(fc.float(), { maxLength: 12 }),
    fp64_contents: fc.array(fc.double(), { maxLength: 6 }),
    bytes_contents: fc.array(fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)), { maxLength: 6 }),
  }, { requiredKeys: [] }),
}, { requiredKeys: ['name', 'datatype', 'shape'] });

/** ModelInferRequest objects: valid ones for a random model (raw or typed contents), and hostile ones. */
export const kserveInferCase: fc.Arbitrary<KserveCase> = fc.oneof(
  {
    weight: 1,
    arbitrary: modelArb.chain((model) => fc.record({
      inputs: validInputs(model),
      version: fc.constantFrom('', '1'),
      id: fc.string({ maxLength: 8 }),
      raw: fc.boolean(),
      outputs: fc.subarray([...model.outputs]),
      parameters: fc.dictionary(fc.string({ maxLength: 6 }), inferParameter, { maxKeys: 2 }),
    }).map(({ inputs, version, id, raw, outputs, parameters }): KserveCase => {
      // FP16 has no typed contents field: it always travels raw, and then every input must.
      const useRaw = raw || inputs.some((t) => t.dtype === 'FP16');
      return {
        valid: true,
        request: {
          model_name: model.name,
          model_version: version,
          id,
          parameters,
          inputs: inputs.map((t) => ({
            name: t.name,
            datatype: dtypeInfo(t.dtype).kserve,
            shape: t.shape,
            ...(!useRaw && { contents: { [KS_FIELD[t.dtype]!]: protoValues(t.values) } }),
          })),
          outputs: outputs.map((name) => ({ name })),
          ...(useRaw && { raw_input_contents: inputs.map(rawOf) }),
        },
      };
    })),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      name: nameArb,
      version: fc.constantFrom('', '1', '0', '-1', '01', '1.0', 'abc', '99999999999999999999', ' 1', '1 '),
      inputs: fc.array(hostileKserveInput, { maxLength: 3 }),
      outputs: fc.array(fc.record({ name: tensorNameArb }), { maxLength: 2 }),
      raw: fc.option(fc.array(fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b)), { maxLength: 3 }), { nil: undefined }),
    }).map(({ name, version, inputs, outputs, raw }): KserveCase => ({
      valid: false,
      request: { model_name: name, model_version: version, inputs, outputs, ...(raw && { raw_input_contents: raw }) },
    })),
  },
);
