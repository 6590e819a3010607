/**
 * Hand-written ModelInferRequest decoder and ModelInferResponse encoder (the KServe gRPC hot path),
 * for the same reasons as the TFS Predict codec (research/node-perf.md §2 rule 2: tensors stay
 * bytes; a direct walker and a one-allocation encoder beat every protobuf library).
 * Field numbers follow proto/inference/grpc_predict_v2.proto.
 *
 * Inputs come either as typed `contents` (bool/int/int64/uint/uint64/fp32/fp64/bytes_contents;
 * FP16 has no typed field) or as `raw_input_contents` (one buffer per input, in input order) —
 * never both. Outputs always go back in `raw_output_contents`, in the order of the response's
 * `outputs`. The request's `parameters` entries are validated, then copied into the response unchanged.
 */
import { type DType, dtypeInfo } from '../../core/dtype.js';
import { ServingError } from '../../core/errors.js';
import { type NumericArray } from '../../core/dtype.js';
import { type Tensor, type TensorMap, type TensorSpec } from '../../core/tensor.js';
import {
  countVarints, tagOf, varint32Size, varint64Size, WireError, WireReader, WireType, writeVarint32, writeVarint64,
  decodeFixedRuns,
  decodeVarintRuns,
  joinParts,
  locateField,
  Splices,
  type MessageParts,
  utf8Size,
  writeUtf8,
} from '../tfs/proto-wire.js';
import { servingError } from '../../core/errors.js';
import { bothContentsAndRaw, invalidArgument } from './errors.js';
import {
  checkHeader, dataFault, expectedDType, isFault, kserveDatatype, rawSize, rawToTensor, writeRaw,
} from './tensors.js';
import { firstDecodeError, type DecodeFault } from '../../serving/validation.js';

const RequestField = { MODEL_NAME: 1, MODEL_VERSION: 2, ID: 3, PARAMETERS: 4, INPUTS: 5, OUTPUTS: 6, RAW_INPUT_CONTENTS: 7 } as const;
const InputField = { NAME: 1, DATATYPE: 2, SHAPE: 3, PARAMETERS: 4, CONTENTS: 5 } as const;
const RequestedOutputField = { NAME: 1 } as const;
const ResponseField = { MODEL_NAME: 1, MODEL_VERSION: 2, ID: 3, PARAMETERS: 4, OUTPUTS: 5, RAW_OUTPUT_CONTENTS: 6 } as const;
const OutputField = { NAME: 1, DATATYPE: 2, SHAPE: 3 } as const;
const ContentsField = {
  BOOL: 1, INT: 2, INT64: 3, UINT: 4, UINT64: 5, FP32: 6, FP64: 7, BYTES: 8,
} as const;

/** The InferTensorContents field each element type is sent in (none for FP16: raw only). */
const contentsFieldOf: Record<DType, number | undefined> = {
  BOOL: ContentsField.BOOL,
  INT8: ContentsField.INT, INT16: ContentsField.INT, INT32: ContentsField.INT,
  INT64: ContentsField.INT64,
  UINT8: ContentsField.UINT, UINT16: ContentsField.UINT, UINT32: ContentsField.UINT,
  UINT64: ContentsField.UINT64,
  FP32: ContentsField.FP32,
  FP64: ContentsField.FP64,
  STRING: ContentsField.BYTES,
  FP16: undefined,
};

/** Wire type of one unpacked element of a contents field. */
function elementWireType(field: number): WireType {
  switch (field) {
    case ContentsField.FP32: return WireType.FIXED32;
    case ContentsField.FP64: return WireType.FIXED64;
    case ContentsField.BYTES: return WireType.LEN;
    default: return WireType.VARINT;
  }
}

// ---- request ----

export interface InferInputView {
  name: string;
  datatype: string;
  readonly shape: number[];
  /** The contents message was present (even empty). */
  hasContents: boolean;
  /** Runs of contents values: (field, start, end, wireType) quadruples in arrival order. */
  readonly runs: number[];
}

export interface ParsedInferRequest {
  readonly buf: Uint8Array;
  modelName: string;
  modelVersion: string;
  id: string;
  /** [start, end) of each `parameters` map entry's bytes (validated), copied as they are into the response. */
  readonly parameterEntries: number[];
  readonly inputs: InferInputView[];
  /** Requested output names, in request order (empty: all outputs). */
  readonly outputs: string[];
  readonly raw: Uint8Array[];
}

/** Walks a ModelInferRequest. Malformed bytes → INVALID_ARGUMENT naming the problem. */
/** Where the first raw_input_contents buffer starts in a ModelInferRequest, from its first bytes (for alignment). */
export function inferPayloadOffset(head: Uint8Array): number | undefined {
  return locateField(head, [RequestField.RAW_INPUT_CONTENTS]);
}

export function parseInferRequest(buf: Uint8Array): ParsedInferRequest {
  try {
    return walkRequest(buf);
  } catch (err) {
    if (err instanceof WireError) throw malformed(err);
    throw err;
  }
}

function malformed(err: WireError): ServingError {
  return new ServingError('INVALID_ARGUMENT', `Malformed ModelInferRequest: ${err.message}`, { cause: err });
}

function walkRequest(buf: Uint8Array): ParsedInferRequest {
  const r = new WireReader(buf);
  const req: ParsedInferRequest = {
    buf, modelName: '', modelVersion: '', id: '', parameterEntries: [], inputs: [], outputs: [], raw: [],
  };
  while (!r.done) {
    const t = r.tag();
    const field = t >>> 3;
    const wt = t & 7;
    switch (field) {
      case RequestField.MODEL_NAME:
        r.expect(wt, WireType.LEN, field, 'model_name');
        req.modelName = r.string();
        break;
      case RequestField.MODEL_VERSION:
        r.expect(wt, WireType.LEN, field, 'model_version');
        req.modelVersion = r.string();
        break;
      case RequestField.ID:
        r.expect(wt, WireType.LEN, field, 'id');
        req.id = r.string();
        break;
      case RequestField.PARAMETERS: {
        r.expect(wt, WireType.LEN, field, 'parameters');
        const start = r.lengthDelimited();
        // Validated before it is echoed: a malformed entry would make the response undecodable.
        walkParameterEntry(new WireReader(buf, start, r.pos));
        req.parameterEntries.push(start, r.pos);
        break;
      }
      case RequestField.INPUTS: {
        r.expect(wt, WireType.LEN, field, 'inputs');
        const start = r.lengthDelimited();
        req.inputs.push(walkInput(new WireReader(buf, start, r.pos)));
        break;
      }
      case RequestField.OUTPUTS: {
        r.expect(wt, WireType.LEN, field, 'outputs');
        const start = r.lengthDelimited();
        req.outputs.push(walkRequestedOutput(new WireReader(buf, start, r.pos)));
        break;
      }
      case RequestField.RAW_INPUT_CONTENTS:
        r.expect(wt, WireType.LEN, field, 'raw_input_contents');
        req.raw.push(r.bytes());
        break;
      default:
        r.skip(wt, field);
    }
  }
  return req;
}

/** One `map<string, InferParameter>` entry; throws WireError unless protobuf parsers would accept it. */
function walkParameterEntry(r: WireReader): void {
  while (!r.done) {
    const t = r.tag();
    const field = t >>> 3;
    const wt = t & 7;
    if (field === 1) {
      r.expect(wt, WireType.LEN, field, 'parameters key');
      r.string();
    } else if (field === 2) {
      r.expect(wt, WireType.LEN, field, 'parameters value');
      const start = r.lengthDelimited();
      walkInferParameter(new WireReader(r.buf, start, r.pos));
    } else r.skip(wt, field);
  }
}

/** InferParameter's oneof: bool_param 1, int64_param 2, string_param 3, double_param 4, uint64_param 5. */
function walkInferParameter(r: WireReader): void {
  while (!r.done) {
    const t = r.tag();
    const field = t >>> 3;
    const wt = t & 7;
    switch (field) {
      case 1: case 2: case 5:
        r.expect(wt, WireType.VARINT, field, 'parameters value');
        r.varint64();
        break;
      case 3:
        r.expect(wt, WireType.LEN, field, 'parameters value');
        r.string();
        break;
      case 4:
        r.expect(wt, WireType.FIXED64, field, 'parameters value');
        r.advance(8);
        break;
      default:
        r.skip(wt, field);
    }
  }
}

function walkInput(r: WireReader): InferInputView {
  const input: InferInputView = { name: '', datatype: '', shape: [], hasContents: false, runs: [] };
  while (!r.done) {
    const t = r.tag();
    const field = t >>> 3;
    const wt = t & 7;
    switch (field) {
      case InputField.NAME:
        r.expect(wt, WireType.LEN, field, 'inputs.name');
        input.name = r.string();
        break;
      case InputField.DATATYPE:
        r.expect(wt, WireType.LEN, field, 'inputs.datatype');
        input.datatype = r.string();
        break;
      case InputField.SHAPE:
        readInt64s(r, wt, field, input.shape);
        break;
      case InputField.CONTENTS: {
        r.expect(wt, WireType.LEN, field, 'inputs.contents');
        const start = r.lengthDelimited();
        input.hasContents = true;
        walkContents(new WireReader(r.buf, start, r.pos), input.runs);
        break;
      }
      default:
        // parameters (per-input) carry nothing tsms acts on over gRPC.
        r.skip(wt, field);
    }
  }
  return input;
}

/** A repeated int64 field, packed or not. */
function readInt64s(r: WireReader, wt: number, field: number, into: number[]): void {
  if (wt === WireType.LEN) {
    const start = r.lengthDelimited();
    const end = r.pos;
    const inner = new WireReader(r.buf, start, end);
    while (!inner.done) into.push(inner.int64());
  } else if (wt === WireType.VARINT) {
    into.push(r.int64());
  } else {
    throw new WireError(`shape (field ${field}) has wire type ${wt}`);
  }
}

function walkRequestedOutput(r: WireReader): string {
  let name = '';
  while (!r.done) {
    const t = r.tag();
    if (t >>> 3 === RequestedOutputField.NAME) {
      r.expect(t & 7, WireType.LEN, RequestedOutputField.NAME, 'outputs.name');
      name = r.string();
    } else r.skip(t & 7, t >>> 3);
  }
  return name;
}

function walkContents(r: WireReader, runs: number[]): void {
  while (!r.done) {
    const t = r.tag();
    const field = t >>> 3;
    const wt = t & 7;
    if (field < ContentsField.BOOL || field > ContentsField.BYTES) {
      r.skip(wt, field);
      continue;
    }
    const start = r.pos;
    if (wt === WireType.LEN) {
      runs.push(field, r.lengthDelimited(), r.pos, wt);
    } else if (wt === elementWireType(field)) {
      r.skip(wt, field);
      runs.push(field, start, r.pos, wt);
    } else {
      throw new WireError(`InferTensorContents field ${field} has wire type ${wt}`);
    }
  }
}

// ---- inputs → Tensors ----

/**
 * The request's inputs as Tensors, checked against the servable's inputs for the order of errors.
 * Numeric raw buffers and fp32/fp64 contents become views over the request (no copy when aligned).
 */
export function decodeInferInputs(req: ParsedInferRequest, specs: readonly TensorSpec[]): TensorMap {
  const useRaw = req.raw.length > 0;
  if (useRaw) {
    if (req.inputs.some((i) => i.hasContents)) throw bothContentsAndRaw();
    if (req.raw.length !== req.inputs.length) {
      throw invalidArgument(`raw_input_contents has ${req.raw.length} buffers for ${req.inputs.length} inputs; send one per input, in input order`);
    }
  }
  const out: TensorMap = new Map();
  const received = new Set<string>();
  let faults: Map<string, DecodeFault> | undefined;
  for (let i = 0; i < req.inputs.length; i++) {
    const input = req.inputs[i]!;
    if (received.has(input.name)) throw invalidArgument(`Duplicate input name in request: ${input.name}`);
    received.add(input.name);
    const result = decodeInput(req.buf, input, useRaw ? req.raw[i] : undefined, expectedDType(specs, input.name));
    if (isFault(result)) (faults ??= new Map()).set(input.name, result);
    else out.set(input.name, result);
  }
  if (faults) throw firstDecodeError(received, specs, out, faults);
  return out;
}

function decodeInput(buf: Uint8Array, input: InferInputView, raw: Uint8Array | undefined, expected: DType | undefined): Tensor | DecodeFault {
  const header = checkHeader(input.datatype, input.shape, expected);
  if (isFault(header)) return header;
  if (raw) return rawToTensor(header, raw);
  const { dtype, count } = header;
  const field = contentsFieldOf[dtype];
  if (field === undefined) {
    return dataFault(header, invalidArgument(`${kserveDatatype(dtype)} data must be sent in raw_input_contents (InferTensorContents has no field for it)`));
  }
  if (!input.hasContents) {
    const size = dtypeInfo(dtype).size;
    return dataFault(header, size === 0
      ? servingError('INVALID_VALUE_COUNT', `Expected: ${count}; Actual: 0`)
      : servingError('INVALID_CONTENT_SIZE', `Expected: ${count * size} bytes; Actual: 0 bytes`));
  }
  let present: number;
  try {
    present = countValues(buf, input.runs, field);
  } catch (err) {
    if (err instanceof WireError) throw malformed(err);
    throw err;
  }
  if (present !== count) return dataFault(header, servingError('INVALID_VALUE_COUNT', `Expected: ${count}; Actual: ${present}`));
  try {
    // countValues only counted varint ends, so an over-long varint surfaces here.
    return { dtype, shape: header.shape, data: decodeValues(buf, input.runs, field, dtype, count) };
  } catch (err) {
    if (err instanceof WireError) throw malformed(err);
    throw err;
  }
}

function countValues(buf: Uint8Array, runs: readonly number[], field: number): number {
  let n = 0;
  for (let i = 0; i < runs.length; i += 4) {
    if (runs[i] !== field) continue;
    const start = runs[i + 1]!;
    const end = runs[i + 2]!;
    const wt = runs[i + 3]!;
    if (field === ContentsField.BYTES || wt !== WireType.LEN) {
      n++;
    } else if (field === ContentsField.FP32 || field === ContentsField.FP64) {
      const width = field === ContentsField.FP32 ? 4 : 8;
      if ((end - start) % width !== 0) throw new WireError(`packed field ${field} at byte ${start} is not a multiple of ${width} bytes`);
      n += (end - start) / width;
    } else {
      n += countVarints(buf, start, end);
    }
  }
  return n;
}

function decodeValues(buf: Uint8Array, runs: readonly number[], field: number, dtype: DType, count: number): Tensor['data'] {
  if (field === ContentsField.BYTES) {
    const out: Uint8Array[] = [];
    for (let i = 0; i < runs.length; i += 4) if (runs[i] === field) out.push(buf.subarray(runs[i + 1]!, runs[i + 2]!));
    return out;
  }
  if (field === ContentsField.FP32 || field === ContentsField.FP64) return decodeFixedRuns(buf, runs, field, dtype, count);
  const out: NumericArray = new (dtypeInfo(dtype).array!)(count);
  decodeVarintRuns(buf, runs, field, out, field === ContentsField.BOOL);
  return out;
}

// ---- response ----

export interface InferResponseHeader {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  /** The request these outputs answer: its parameter entries are echoed. */
  readonly request?: ParsedInferRequest;
}

/**
 * Encodes a ModelInferResponse in one allocation: every output's metadata in `outputs` and its
 * data in `raw_output_contents` (numeric bytes copied straight from the output's typed array;
 * BYTES as 4-byte-length-prefixed elements). `order` lists the output names to send, in order.
 */
export function encodeInferResponse(outputs: TensorMap, order: readonly string[], header: InferResponseHeader): Buffer {
  return joinParts(encodeInferResponseParts(outputs, order, header));
}

/** As encodeInferResponse, with large numeric output bytes left where they are (see Splices). */
export function encodeInferResponseParts(outputs: TensorMap, order: readonly string[], header: InferResponseHeader): MessageParts {
  const splices = new Splices();
  let spliced = 0;
  const nameSize = utf8Size(header.modelName);
  const versionSize = utf8Size(header.modelVersion);
  const idSize = utf8Size(header.id);
  let total = (nameSize ? fieldSize(nameSize) : 0) + (versionSize ? fieldSize(versionSize) : 0) + (idSize ? fieldSize(idSize) : 0);
  const params = header.request?.parameterEntries ?? [];
  for (let i = 0; i < params.length; i += 2) total += fieldSize(params[i + 1]! - params[i]!);

  const metas: { name: string; tensor: Tensor; nameSize: number; datatype: string; shapeSize: number; metaSize: number; rawSize: number }[] = [];
  for (const name of order) {
    const tensor = outputs.get(name)!;
    const datatype = kserveDatatype(tensor.dtype);
    let shapeSize = 0;
    for (const d of tensor.shape) shapeSize += varint64Size(d);
    const oNameSize = utf8Size(name);
    const metaSize = fieldSize(oNameSize) + fieldSize(datatype.length) + (tensor.shape.length ? fieldSize(shapeSize) : 0);
    const size = rawSize(tensor);
    metas.push({ name, tensor, nameSize: oNameSize, datatype, shapeSize, metaSize, rawSize: size });
    total += fieldSize(metaSize) + fieldSize(size);
    if (Splices.bytesToSplice(tensor.data)) spliced += size;
  }

  const out = Buffer.allocUnsafe(total - spliced);
  let pos = 0;
  if (nameSize) pos = writeString(out, pos, ResponseField.MODEL_NAME, header.modelName, nameSize);
  if (versionSize) pos = writeString(out, pos, ResponseField.MODEL_VERSION, header.modelVersion, versionSize);
  if (idSize) pos = writeString(out, pos, ResponseField.ID, header.id, idSize);
  for (let i = 0; i < params.length; i += 2) {
    const entry = header.request!.buf.subarray(params[i]!, params[i + 1]!);
    pos = writeVarint32(out, pos, tagOf(ResponseField.PARAMETERS, WireType.LEN));
    pos = writeVarint32(out, pos, entry.length);
    out.set(entry, pos);
    pos += entry.length;
  }
  for (const m of metas) {
    pos = writeVarint32(out, pos, tagOf(ResponseField.OUTPUTS, WireType.LEN));
    pos = writeVarint32(out, pos, m.metaSize);
    pos = writeString(out, pos, OutputField.NAME, m.name, m.nameSize);
    pos = writeString(out, pos, OutputField.DATATYPE, m.datatype, m.datatype.length);
    if (m.tensor.shape.length) {
      pos = writeVarint32(out, pos, tagOf(OutputField.SHAPE, WireType.LEN));
      pos = writeVarint32(out, pos, m.shapeSize);
      for (const d of m.tensor.shape) pos = writeVarint64(out, pos, d);
    }
  }
  // One raw buffer per output, in the same order, even when empty (clients match them by index).
  for (const m of metas) {
    pos = writeVarint32(out, pos, tagOf(ResponseField.RAW_OUTPUT_CONTENTS, WireType.LEN));
    pos = writeVarint32(out, pos, m.rawSize);
    const spliceable = Splices.bytesToSplice(m.tensor.data);
    if (spliceable) splices.add(pos, spliceable);
    else pos = writeRaw(out, pos, m.tensor);
  }
  if (pos !== total - spliced) throw new Error(`ModelInferResponse encoder wrote ${pos} of ${total - spliced} bytes`);
  return splices.assemble(out);
}

function fieldSize(payload: number): number {
  return 1 + varint32Size(payload) + payload;
}

function writeString(out: Buffer, pos: number, field: number, value: string, size: number): number {
  pos = writeVarint32(out, pos, tagOf(field, WireType.LEN));
  pos = writeVarint32(out, pos, size);
  return writeUtf8(out, pos, value, size);
}
