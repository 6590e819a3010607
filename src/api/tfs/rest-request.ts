/**
 * TFS REST Predict request body → Tensors (SPEC §6.3), with OVMS's statuses and texts.
 *
 * `parsePredictBody` depends only on its arguments (bytes + input specs). `decodePredictBody` is
 * the same with the fast scan of large bodies moved to worker threads (json-decode-pool.ts): a
 * multi-MB body blocks the event loop for ms (node-perf.md §2 rule 1).
 *
 * Numbers go straight into a preallocated typed array of the model input's dtype by a recursive
 * filler that also checks the array is rectangular (no `.flat()` + `TypedArray.from`).
 */
import { parse as parseLossless } from 'lossless-json';
import { dtypeInfo, type DType, type NumericArray } from '../../core/dtype.js';
import { servingError, type StatusName } from '../../core/errors.js';
import { numberToHalfBits } from '../../core/fp16.js';
import { formatShape, type Tensor, type TensorMap, type TensorSpec } from '../../core/tensor.js';
import { MAX_JSON_DEPTH } from '../../core/limits.js';
import { fastPathInput, parsePredictBodyFast, type FastPredictBody } from './rest-fast-json.js';
import { DecodeUnavailable, OFFLOAD_MIN_BYTES, type JsonDecodePool } from './json-decode-pool.js';

export type PredictFormat = 'row' | 'column';

export interface PredictRequest {
  /** Row (`instances`) requests get `predictions` back, column (`inputs`) ones get `outputs`. */
  readonly format: PredictFormat;
  readonly inputs: TensorMap;
}

/** Deeper nesting than this is refused (it can only be an attack or a mistake). */
const MAX_RANK = MAX_JSON_DEPTH;

export function parsePredictBody(body: Uint8Array, specs: readonly TensorSpec[]): PredictRequest {
  // One float input sent as a plain nested array: scanned without JSON.parse (rest-fast-json.ts).
  const fast = parsePredictBodyFast(body, specs);
  if (fast) return fromFast(fast);
  return parseGeneral(body, specs);
}

/**
 * parsePredictBody with the fast scan of large bodies done by `pool` in a worker thread; same
 * results and errors. A body the scan refuses gets the general parser here, and a job no worker
 * could finish is parsed here from the start.
 */
export async function decodePredictBody(body: Uint8Array, specs: readonly TensorSpec[], pool: JsonDecodePool | undefined): Promise<PredictRequest> {
  const spec = pool && body.byteLength >= OFFLOAD_MIN_BYTES ? fastPathInput(specs) : undefined;
  if (!spec) return parsePredictBody(body, specs);
  let fast: FastPredictBody | undefined;
  try {
    fast = await pool!.decode(body, spec);
  } catch (err) {
    if (err instanceof DecodeUnavailable) return parsePredictBody(body, specs);
    throw err;
  }
  return fast ? fromFast(fast) : parseGeneral(body, specs);
}

function fromFast(fast: FastPredictBody): PredictRequest {
  return { format: fast.format, inputs: new Map([[fast.name, fast.tensor]]) };
}

/** Any body, through JSON.parse (or lossless-json), with OVMS's statuses for every problem. */
function parseGeneral(body: Uint8Array, specs: readonly TensorSpec[]): PredictRequest {
  const doc = parseJson(body, specs.some((s) => s.dtype === 'INT64' || s.dtype === 'UINT64'));
  if (!isPlainObject(doc)) throw servingError('REST_BODY_IS_NOT_AN_OBJECT');
  const hasInstances = Object.hasOwn(doc, 'instances');
  const hasInputs = Object.hasOwn(doc, 'inputs');
  if (hasInstances === hasInputs) throw servingError('REST_PREDICT_UNKNOWN_ORDER');
  // `signature_name` is ignored, as OVMS does (there is only serving_default).
  const ctx: ParseContext = { specs, specByName: new Map(specs.map((s) => [s.name, s])), maxElements: body.byteLength };
  return hasInstances
    ? { format: 'row', inputs: parseRowFormat(doc['instances'], ctx) }
    : { format: 'column', inputs: parseColumnFormat(doc['inputs'], ctx) };
}

interface ParseContext {
  readonly specs: readonly TensorSpec[];
  readonly specByName: ReadonlyMap<string, TensorSpec>;
  /**
   * Every element takes at least one byte of JSON, so a shape promising more elements than the
   * body has bytes is ragged; refusing it before allocating stops a small body from making the
   * server reserve gigabytes (the shape comes from the first element at each depth).
   */
  readonly maxElements: number;
}

/**
 * JSON.parse, except when the model takes 64-bit integers and the body has a run of 16+ digits:
 * JSON.parse would round integers past 2^53, so those bodies go through lossless-json (~10×
 * slower), which hands us each number's text. Integers of up to 15 digits are exact either way.
 */
function parseJson(body: Uint8Array, bigInts: boolean): unknown {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  try {
    return bigInts && LONG_DIGIT_RUN.test(text) ? parseLossless(text, null, parseNumberKeepingBigInts) : JSON.parse(text);
  } catch {
    throw servingError('JSON_INVALID');
  }
}

const LONG_DIGIT_RUN = /\d{16}/;

function parseNumberKeepingBigInts(text: string): number | bigint {
  const n = Number(text);
  if (!Number.isSafeInteger(n) && /^-?\d+$/.test(text)) return BigInt(text);
  return n;
}

// ---- row format: {"instances": [...]} ---------------------------------------------------------

function parseRowFormat(instances: unknown, ctx: ParseContext): TensorMap {
  if (!Array.isArray(instances)) throw servingError('REST_INSTANCES_NOT_AN_ARRAY');
  if (instances.length === 0) throw servingError('REST_NO_INSTANCES_FOUND');
  const first: unknown = instances[0];

  if (isPlainObject(first) && !isBase64Object(first)) {
    // Named: one object per batch item; each input's items are stacked along a new dim 0.
    const items = new Map<string, unknown[]>();
    for (const instance of instances) {
      if (!isPlainObject(instance)) throw servingError('REST_NAMED_INSTANCE_NOT_AN_OBJECT');
      const names = Object.keys(instance);
      if (names.length === 0) throw servingError('REST_COULD_NOT_PARSE_INSTANCE', 'an instance has no inputs');
      for (const name of names) {
        let list = items.get(name);
        if (!list) items.set(name, (list = []));
        list.push(instance[name]);
      }
    }
    const inputs: TensorMap = new Map();
    let batch: number | undefined;
    for (const [name, list] of items) {
      const tensor = buildTensor(ctx, name, list, 'REST_COULD_NOT_PARSE_INSTANCE', true);
      inputs.set(name, tensor);
      batch ??= list.length;
      if (list.length !== batch) throw servingError('REST_INSTANCES_BATCH_SIZE_DIFFER');
    }
    return inputs;
  }

  if (Array.isArray(first) || isScalarLeaf(first) || isBase64Object(first)) {
    // No-name: the whole array is the one input's tensor, dim 0 being the batch.
    const name = onlyInput(ctx.specs).name;
    return new Map([[name, buildTensor(ctx, name, instances, 'REST_COULD_NOT_PARSE_INSTANCE', false)]]);
  }
  throw servingError('REST_INSTANCES_NOT_NAMED_OR_NONAMED');
}

// ---- column format: {"inputs": ...} -----------------------------------------------------------

function parseColumnFormat(inputs: unknown, ctx: ParseContext): TensorMap {
  if (Array.isArray(inputs) || isBase64Object(inputs)) {
    const name = onlyInput(ctx.specs).name;
    return new Map([[name, buildTensor(ctx, name, inputs, 'REST_COULD_NOT_PARSE_INPUT', false)]]);
  }
  if (!isPlainObject(inputs)) throw servingError('REST_INPUTS_NOT_AN_OBJECT');
  const names = Object.keys(inputs);
  if (names.length === 0) throw servingError('REST_NO_INPUTS_FOUND');
  const tensors: TensorMap = new Map();
  for (const name of names) {
    tensors.set(name, buildTensor(ctx, name, inputs[name], 'REST_COULD_NOT_PARSE_INPUT', false));
  }
  return tensors;
}

/** No-name formats carry no input name, so they only make sense for single-input servables. */
function onlyInput(specs: readonly TensorSpec[]): TensorSpec {
  if (specs.length !== 1) {
    throw servingError('REST_INPUT_NOT_PREALLOCATED', `the no-named format needs a servable with exactly one input; this one has ${specs.length}`);
  }
  return specs[0]!;
}

// ---- one tensor ---------------------------------------------------------------------------

/** A problem with one value; turned into the row or column status with the input's name. */
class ValueProblem extends Error {}

/**
 * Builds one input tensor. With `stacked`, `value` is the list of per-instance items (row named
 * format) and the tensor's shape is [items, ...item shape]; otherwise `value` is the tensor.
 */
function buildTensor(ctx: ParseContext, name: string, value: unknown, status: StatusName, stacked: boolean): Tensor {
  try {
    const items = stacked ? (value as unknown[]) : [value];
    const itemShape = shapeOf(items[0]);
    const shape = stacked ? [items.length, ...itemShape] : itemShape;
    const leaf = firstLeaf(items[0]);
    const dtype = tensorDType(ctx.specByName.get(name), leaf);
    let perItem = 1;
    for (const d of itemShape) perItem *= d;
    const count = perItem * items.length;
    if (count > ctx.maxElements) throw new ValueProblem(`shape ${formatShape(shape)} holds more elements than the body has; arrays must be rectangular`);
    const sink = createSink(dtype, count);
    for (let i = 0; i < items.length; i++) fill(items[i], itemShape, 0, sink, i * perItem);
    return { dtype, shape, data: sink.data };
  } catch (err) {
    if (err instanceof ValueProblem) throw servingError(status, `input ${name}: ${err.message}`);
    throw err;
  }
}

/** Shape from the first element at each depth; `fill` then checks every other array against it. */
function shapeOf(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    if (v.length === 0) throw new ValueProblem('empty arrays are not valid tensors');
    if (shape.length === MAX_RANK) throw new ValueProblem(`arrays nested deeper than ${MAX_RANK} levels`);
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

function firstLeaf(value: unknown): unknown {
  let v = value;
  while (Array.isArray(v)) v = v[0];
  return v;
}

/**
 * The servable's dtype for its inputs. A `{"b64": …}` value makes a STRING tensor whatever the
 * input (OVMS's binary-input path decides later what it may feed). Inputs the servable does not
 * have get a type guessed from their first value, only so that validation can name the problem.
 */
function tensorDType(spec: TensorSpec | undefined, leaf: unknown): DType {
  if (isBase64Object(leaf)) return 'STRING';
  if (spec) return spec.dtype;
  if (typeof leaf === 'boolean') return 'BOOL';
  if (typeof leaf === 'string') return 'STRING';
  return 'FP32';
}

function fill(value: unknown, shape: readonly number[], level: number, sink: Sink, offset: number): number {
  if (level === shape.length) {
    putLeaf(sink, offset, value, level);
    return offset + 1;
  }
  if (!Array.isArray(value)) throw new ValueProblem(`found ${describe(value)} where an array was expected (depth ${level + 1}); arrays must be rectangular`);
  if (value.length !== shape[level]) {
    throw new ValueProblem(`array of ${value.length} elements at depth ${level + 1} where ${shape[level]} were expected; arrays must be rectangular`);
  }
  let i = offset;
  if (level === shape.length - 1) {
    if (sink.fastNumbers) {
      // The common case (float arrays) without a call per element.
      const out = sink.data as Float64Array;
      for (let j = 0; j < value.length; j++) {
        const v: unknown = value[j];
        if (typeof v === 'number') out[i++] = v;
        else putLeaf(sink, i++, v, level + 1);
      }
    } else {
      for (let j = 0; j < value.length; j++) putLeaf(sink, i++, value[j], level + 1);
    }
    return i;
  }
  for (let j = 0; j < value.length; j++) i = fill(value[j], shape, level + 1, sink, i);
  return i;
}

function putLeaf(sink: Sink, index: number, value: unknown, level: number): void {
  if (Array.isArray(value)) {
    throw new ValueProblem(`found an array where a value was expected (depth ${level + 1}); arrays must be rectangular`);
  }
  sink.put(index, value);
}

// ---- element conversion ----------------------------------------------------------------------

interface Sink {
  readonly data: NumericArray | Uint8Array[];
  /** A JS number can be stored as is (float types): no range or integer check needed. */
  readonly fastNumbers: boolean;
  put(index: number, value: unknown): void;
}

const INT_RANGES: Partial<Record<DType, readonly [number, number]>> = {
  INT8: [-128, 127],
  UINT8: [0, 255],
  INT16: [-32768, 32767],
  UINT16: [0, 65535],
  INT32: [-2147483648, 2147483647],
  UINT32: [0, 4294967295],
};
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function createSink(dtype: DType, count: number): Sink {
  if (dtype === 'STRING') {
    const data: Uint8Array[] = new Array(count);
    return { data, fastNumbers: false, put: (i, v) => { data[i] = toBytes(v); } };
  }
  const info = dtypeInfo(dtype);
  const data = new info.array!(count);
  switch (dtype) {
    case 'FP32':
    case 'FP64': {
      const out = data as Float64Array;
      return { data, fastNumbers: true, put: (i, v) => { out[i] = toNumber(v, dtype); } };
    }
    case 'FP16': {
      const out = data as Uint16Array;
      return { data, fastNumbers: false, put: (i, v) => { out[i] = numberToHalfBits(toNumber(v, dtype)); } };
    }
    case 'BOOL': {
      const out = data as Uint8Array;
      return {
        data, fastNumbers: false, put: (i, v) => {
          if (typeof v !== 'boolean') throw new ValueProblem(`${describe(v)} is not a boolean (BOOL inputs take true or false)`);
          out[i] = v ? 1 : 0;
        },
      };
    }
    case 'INT64':
    case 'UINT64': {
      const out = data as BigInt64Array;
      const [min, max] = dtype === 'INT64' ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
      return {
        data, fastNumbers: false, put: (i, v) => {
          let b: bigint;
          if (typeof v === 'bigint') b = v;
          else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
          else if (typeof v === 'number' && Number.isInteger(v)) throw new ValueProblem(`${describe(v)} is out of range for ${dtype} (write large integers without exponent)`);
          else throw notAnInteger(v, dtype);
          if (b < min || b > max) throw new ValueProblem(`${b} is out of range for ${dtype}`);
          out[i] = b;
        },
      };
    }
    default: {
      const out = data as Int32Array;
      const [min, max] = INT_RANGES[dtype]!;
      return {
        data, fastNumbers: false, put: (i, v) => {
          if (typeof v === 'number' && Number.isInteger(v)) {
            if (v < min || v > max) throw new ValueProblem(`${v} is out of range for ${dtype} [${min}, ${max}]`);
            out[i] = v;
          } else if (typeof v === 'bigint') {
            throw new ValueProblem(`${v} is out of range for ${dtype} [${min}, ${max}]`);
          } else {
            throw notAnInteger(v, dtype);
          }
        },
      };
    }
  }
}

function toNumber(v: unknown, dtype: DType): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new ValueProblem(`${describe(v)} is not a number (${dtype} input)`);
}

function notAnInteger(v: unknown, dtype: DType): ValueProblem {
  return new ValueProblem(typeof v === 'number' ? `${v} is not an integer (${dtype} input)` : `${describe(v)} is not a number (${dtype} input)`);
}

/** STRING elements: JSON strings as UTF-8, `{"b64": …}` objects as their decoded bytes. */
function toBytes(v: unknown): Uint8Array {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (isBase64Object(v)) {
    const text = v['b64'] as string;
    if (!isBase64(text)) throw new ValueProblem('the "b64" value is not valid base64');
    return Buffer.from(text, 'base64');
  }
  throw new ValueProblem(`${describe(v)} is not a string or a {"b64": ...} object (STRING input)`);
}

// Standard alphabet; padding optional, but only where it belongs.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

function isBase64(text: string): boolean {
  return BASE64.test(text);
}

// ---- JSON value kinds ----------------------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** OVMS's test: an object with a string "b64" member. */
function isBase64Object(v: unknown): v is Record<string, unknown> {
  return isPlainObject(v) && typeof v['b64'] === 'string';
}

function isScalarLeaf(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string' || typeof v === 'boolean';
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}
