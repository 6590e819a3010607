/**
 * KServe v2 REST inference bodies (SPEC §6.4): JSON, and the binary data extension in both
 * directions.
 *
 * Request: `{"id"?, "parameters"?, "inputs": [{"name", "shape", "datatype", "parameters"?, "data"}],
 * "outputs"?: [{"name", "parameters"?}]}`. With the binary extension the JSON is only the first
 * `Inference-Header-Content-Length` bytes; an input with `"parameters": {"binary_data_size": N}`
 * has no "data" and takes the next N bytes after the JSON (inputs in order). Those bytes become a
 * typed-array view over the request body (copied once only when misaligned); BYTES elements are
 * each a 4-byte little-endian length and the bytes.
 *
 * Response: `{"model_name", "model_version", "id"?, "parameters"?, "outputs": [{"name", "datatype",
 * "shape", "data"}]}`. An output asked for with `"parameters": {"binary_data": true}` (or every
 * output, with the request parameter `"binary_data_output": true`) carries
 * `"parameters": {"binary_data_size": N}` instead of "data", and its bytes follow the JSON in
 * output order: the body is sent as a list of chunks (the JSON, then views of the output arrays),
 * so no output is copied into an intermediate buffer.
 */
import { parse as parseLossless } from 'lossless-json';
import { type DType, dtypeInfo, type NumericArray } from '../../core/dtype.js';
import { servingError } from '../../core/errors.js';
import { numberToHalfBits } from '../../core/fp16.js';
import { MAX_JSON_DEPTH } from '../../core/limits.js';
import { isStringData, type Tensor, type TensorMap, type TensorSpec } from '../../core/tensor.js';
import { formatFloat32, formatFloat64, formatHalf } from '../tfs/rest-json-writer.js';
import { invalidArgument } from './errors.js';
import {
  checkHeader, dataFault, expectedDType, isFault, kserveDatatype, rawBytes, rawToTensor,
  type InputHeader,
} from './tensors.js';
import { firstDecodeError, type DecodeFault } from '../../serving/validation.js';

export const HEADER_LENGTH_HEADER = 'inference-header-content-length';

export interface RequestedOutput {
  readonly name: string;
  /** Send this output's data as binary after the JSON. */
  readonly binary: boolean;
}

export interface RestInferRequest {
  readonly id: string | undefined;
  /** Request-level parameters, echoed in the response (without the binary extension's own key). */
  readonly parameters: Record<string, unknown> | undefined;
  readonly inputs: TensorMap;
  /** Requested outputs in request order; undefined = all, each binary when `binaryOutputs`. */
  readonly outputs: readonly RequestedOutput[] | undefined;
  /** `"binary_data_output": true`: outputs not listed individually are binary. */
  readonly binaryOutputs: boolean;
}

/** Deeper nesting than this in "data" is refused (only an attack or a mistake). */
const MAX_DEPTH = MAX_JSON_DEPTH;

/**
 * Parses an inference request body. `headerLength` is the Inference-Header-Content-Length header
 * value (undefined when absent: the whole body is JSON).
 */
export function parseInferBody(body: Uint8Array, headerLength: string | undefined, specs: readonly TensorSpec[]): RestInferRequest {
  let jsonEnd = body.byteLength;
  if (headerLength !== undefined) {
    const n = /^\d+$/.test(headerLength.trim()) ? Number(headerLength.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n > body.byteLength) {
      throw invalidArgument(`Invalid Inference-Header-Content-Length: ${JSON.stringify(headerLength)} (the body has ${body.byteLength} bytes)`);
    }
    jsonEnd = n;
  }
  const doc = parseJson(body.subarray(0, jsonEnd), specs.some((s) => s.dtype === 'INT64' || s.dtype === 'UINT64'));
  if (!isObject(doc)) throw servingError('REST_BODY_IS_NOT_AN_OBJECT');

  const id = doc['id'];
  if (id !== undefined && typeof id !== 'string') throw invalidArgument('"id" must be a string');
  const parameters = optionalObject(doc['parameters'], '"parameters"');
  // Echoed with JSON.stringify, which overflows the stack on deep nesting: refuse it up front.
  if (parameters && nestedDeeperThan(parameters, MAX_DEPTH)) {
    throw invalidArgument(`"parameters" is nested deeper than ${MAX_DEPTH} levels`);
  }
  const binaryOutputs = parameters?.['binary_data_output'] === true;

  const inputsValue = doc['inputs'];
  if (!Array.isArray(inputsValue) || inputsValue.length === 0) throw invalidArgument('"inputs" must be a non-empty array of input tensors');
  const binary = body.subarray(jsonEnd);
  let binaryPos = 0;
  const decoded: TensorMap = new Map();
  const received = new Set<string>();
  let faults: Map<string, DecodeFault> | undefined;
  for (const [i, input] of inputsValue.entries()) {
    if (!isObject(input)) throw invalidArgument(`inputs[${i}] must be an object`);
    const name = input['name'];
    if (typeof name !== 'string') throw invalidArgument(`inputs[${i}].name must be a string`);
    if (received.has(name)) throw invalidArgument(`Duplicate input name in request: ${name}`);
    received.add(name);
    const datatype = input['datatype'];
    if (typeof datatype !== 'string') throw invalidArgument(`inputs[${i}].datatype must be a string`);
    const shape = input['shape'];
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isInteger(d))) {
      throw invalidArgument(`inputs[${i}].shape must be an array of integers`);
    }
    const inputParams = optionalObject(input['parameters'], `inputs[${i}].parameters`);
    const binarySize = inputParams?.['binary_data_size'];

    let result: Tensor | DecodeFault;
    const header = checkHeader(datatype, shape as number[], expectedDType(specs, name));
    if (binarySize !== undefined) {
      if (typeof binarySize !== 'number' || !Number.isSafeInteger(binarySize) || binarySize < 0) {
        throw invalidArgument(`inputs[${i}].parameters.binary_data_size must be a non-negative integer`);
      }
      if (binarySize > binary.byteLength - binaryPos) {
        throw invalidArgument(`input ${name}: binary_data_size ${binarySize} runs past the end of the body (${binary.byteLength - binaryPos} binary bytes left)`);
      }
      const bytes = binary.subarray(binaryPos, binaryPos + binarySize);
      binaryPos += binarySize;
      result = isFault(header) ? header : rawToTensor(header, bytes);
    } else {
      if (!Object.hasOwn(input, 'data')) throw invalidArgument(`input ${name} has neither "data" nor a binary_data_size parameter`);
      result = isFault(header) ? header : jsonToTensor(header, name, input['data']);
    }
    if (isFault(result)) (faults ??= new Map()).set(name, result);
    else decoded.set(name, result);
  }
  if (binaryPos !== binary.byteLength) {
    throw invalidArgument(`${binary.byteLength - binaryPos} bytes after the JSON header belong to no input (binary_data_size values add up to ${binaryPos})`);
  }
  if (faults) throw firstDecodeError(received, specs, decoded, faults);

  const outputs = parseOutputs(doc['outputs'], binaryOutputs);
  let echoed: Record<string, unknown> | undefined;
  if (parameters) {
    const { binary_data_output: _control, ...rest } = parameters;
    if (Object.keys(rest).length > 0) echoed = rest;
  }
  return { id, parameters: echoed, inputs: decoded, outputs, binaryOutputs };
}

function parseOutputs(value: unknown, binaryDefault: boolean): RequestedOutput[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalidArgument('"outputs" must be an array');
  const out: RequestedOutput[] = [];
  const seen = new Set<string>();
  for (const [i, o] of value.entries()) {
    if (!isObject(o) || typeof o['name'] !== 'string') throw invalidArgument(`outputs[${i}] must be an object with a "name"`);
    const params = optionalObject(o['parameters'], `outputs[${i}].parameters`);
    const flag = params?.['binary_data'];
    if (flag !== undefined && typeof flag !== 'boolean') throw invalidArgument(`outputs[${i}].parameters.binary_data must be true or false`);
    if (seen.has(o['name'])) continue;
    seen.add(o['name']);
    out.push({ name: o['name'], binary: flag ?? binaryDefault });
  }
  return out.length > 0 ? out : undefined;
}

// ---- JSON data → Tensor -------------------------------------------------------------------------

class DataProblem extends Error {}

/** "data" nested or flat: only the number of elements must match the shape (row-major order). */
function jsonToTensor(header: InputHeader, name: string, data: unknown): Tensor | DecodeFault {
  const fault = (message: string) => dataFault(header, servingError('REST_COULD_NOT_PARSE_INPUT', `input ${name}: ${message}`));
  let present: number;
  try {
    present = countLeaves(data, 0);
  } catch (err) {
    if (err instanceof DataProblem) return fault(err.message);
    throw err;
  }
  // Counted before anything is allocated: a huge shape with little data costs nothing.
  if (present !== header.count) {
    return dataFault(header, servingError('INVALID_VALUE_COUNT', `Expected: ${header.count}; Actual: ${present}`));
  }
  const sink = createSink(header.dtype, header.count);
  try {
    fillLeaves(data, sink, 0);
  } catch (err) {
    if (err instanceof DataProblem) return fault(err.message);
    throw err;
  }
  return { dtype: header.dtype, shape: header.shape, data: sink.data };
}

function countLeaves(v: unknown, depth: number): number {
  if (!Array.isArray(v)) return 1;
  if (depth >= MAX_DEPTH) throw new DataProblem(`"data" is nested deeper than ${MAX_DEPTH} levels`);
  let n = 0;
  for (const x of v) n += countLeaves(x, depth + 1);
  return n;
}

function fillLeaves(v: unknown, sink: Sink, k: number): number {
  if (!Array.isArray(v)) {
    sink.put(k, v);
    return k + 1;
  }
  for (const x of v) k = fillLeaves(x, sink, k);
  return k;
}

interface Sink {
  readonly data: NumericArray | Uint8Array[];
  put(index: number, value: unknown): void;
}

const INT_RANGES: Partial<Record<DType, readonly [number, number]>> = {
  INT8: [-128, 127], UINT8: [0, 255], INT16: [-32768, 32767], UINT16: [0, 65535],
  INT32: [-2147483648, 2147483647], UINT32: [0, 4294967295],
};

function createSink(dtype: DType, count: number): Sink {
  if (dtype === 'STRING') {
    const data: Uint8Array[] = new Array(count);
    return {
      data,
      put(i, v) {
        if (typeof v !== 'string') throw new DataProblem(`${describe(v)} is not a string (BYTES data are JSON strings)`);
        data[i] = Buffer.from(v, 'utf8');
      },
    };
  }
  const Ctor = dtypeInfo(dtype).array!;
  const data = new Ctor(count);
  switch (dtype) {
    case 'FP32':
    case 'FP64': {
      const out = data as Float64Array;
      return { data, put(i, v) { out[i] = toNumber(v, dtype); } };
    }
    case 'FP16': {
      const out = data as Uint16Array;
      return { data, put(i, v) { out[i] = numberToHalfBits(toNumber(v, dtype)); } };
    }
    case 'BOOL': {
      const out = data as Uint8Array;
      return {
        data,
        put(i, v) {
          if (typeof v !== 'boolean') throw new DataProblem(`${describe(v)} is not a boolean (BOOL data are true or false)`);
          out[i] = v ? 1 : 0;
        },
      };
    }
    case 'INT64':
    case 'UINT64': {
      const out = data as BigInt64Array;
      const [min, max] = dtype === 'INT64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      return {
        data,
        put(i, v) {
          let b: bigint;
          if (typeof v === 'bigint') b = v;
          else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
          else throw new DataProblem(`${describe(v)} is not an integer that ${dtype} can hold exactly`);
          if (b < min || b > max) throw new DataProblem(`${b} is out of range for ${dtype}`);
          out[i] = b;
        },
      };
    }
    default: {
      const out = data as Int32Array;
      const [min, max] = INT_RANGES[dtype]!;
      return {
        data,
        put(i, v) {
          if (typeof v !== 'number' || !Number.isInteger(v)) throw new DataProblem(`${describe(v)} is not an integer (${dtype} data)`);
          if (v < min || v > max) throw new DataProblem(`${v} is out of range for ${dtype} [${min}, ${max}]`);
          out[i] = v;
        },
      };
    }
  }
}

function toNumber(v: unknown, dtype: DType): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new DataProblem(`${describe(v)} is not a number (${dtype} data)`);
}

// ---- response -----------------------------------------------------------------------------------

export interface RestResponseHeader {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string | undefined;
  readonly parameters: Record<string, unknown> | undefined;
}

export interface EncodedInferResponse {
  /** The JSON part's byte length when binary data follows it (Inference-Header-Content-Length). */
  readonly headerLength: number | undefined;
  /** The JSON, then each binary output's bytes (views; the server writes them without joining). */
  readonly chunks: Uint8Array[];
}

/** `outputs` in the order given by `order`, each as JSON data or as binary data after the JSON. */
export function encodeRestInferResponse(outputs: TensorMap, order: readonly RequestedOutput[], header: RestResponseHeader): EncodedInferResponse {
  const parts: string[] = [];
  const binaries: Uint8Array[] = [];
  for (const { name, binary } of order) {
    const tensor = outputs.get(name)!;
    const head = `{"name":${JSON.stringify(name)},"datatype":"${kserveDatatype(tensor.dtype)}","shape":[${tensor.shape.join(',')}]`;
    if (binary) {
      const bytes = rawBytes(tensor);
      binaries.push(bytes);
      parts.push(`${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`);
    } else {
      parts.push(`${head},"data":[${jsonElements(tensor)}]}`);
    }
  }
  let json = `{"model_name":${JSON.stringify(header.modelName)},"model_version":${JSON.stringify(header.modelVersion)}`;
  if (header.id !== undefined) json += `,"id":${JSON.stringify(header.id)}`;
  if (header.parameters) json += `,"parameters":${JSON.stringify(header.parameters)}`;
  json += `,"outputs":[${parts.join(',')}]}`;
  const jsonBytes = Buffer.from(json, 'utf8');
  if (binaries.length === 0) return { headerLength: undefined, chunks: [jsonBytes] };
  return { headerLength: jsonBytes.byteLength, chunks: [jsonBytes, ...binaries] };
}

const lenientUtf8 = new TextDecoder('utf-8');

/** Flat row-major data, numbers printed as TFS REST prints them (shortest float32 form, exact int64). */
function jsonElements(tensor: Tensor): string {
  const data = tensor.data;
  if (isStringData(data)) return data.map((b) => JSON.stringify(lenientUtf8.decode(b))).join(',');
  const n = data.length;
  const out: string[] = new Array(n);
  switch (tensor.dtype) {
    case 'FP32':
      for (let i = 0; i < n; i++) out[i] = formatFloat32((data as Float32Array)[i]!);
      break;
    case 'FP64':
      for (let i = 0; i < n; i++) out[i] = formatFloat64((data as Float64Array)[i]!);
      break;
    case 'FP16':
      for (let i = 0; i < n; i++) out[i] = formatHalf((data as Uint16Array)[i]!);
      break;
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = (data as Uint8Array)[i] ? 'true' : 'false';
      break;
    default:
      for (let i = 0; i < n; i++) out[i] = String(data[i]);
  }
  return out.join(',');
}

// ---- JSON helpers -------------------------------------------------------------------------------

const LONG_DIGIT_RUN = /\d{16}/;

/** JSON.parse, or lossless-json when 64-bit integers could lose digits (as the TFS REST parser). */
function parseJson(bytes: Uint8Array, bigInts: boolean): unknown {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    return bigInts && LONG_DIGIT_RUN.test(text) ? parseLossless(text, null, keepBigInts) : JSON.parse(text);
  } catch {
    throw servingError('JSON_INVALID');
  }
}

function keepBigInts(text: string): number | bigint {
  const n = Number(text);
  if (!Number.isSafeInteger(n) && /^-?\d+$/.test(text)) return BigInt(text);
  return n;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalObject(v: unknown, what: string): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw invalidArgument(`${what} must be an object`);
  return v;
}

/** Whether objects/arrays in `v` nest more than `limit` levels; stops descending at the limit. */
function nestedDeeperThan(v: unknown, limit: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (limit <= 0) return true;
  for (const x of Object.values(v)) if (nestedDeeperThan(x, limit - 1)) return true;
  return false;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}
