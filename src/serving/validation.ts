/**
 * Request inputs checked against a model's inputs, in OVMS's order and with its texts (SPEC §5
 * decision table, §6.1 messages, §6.2 validation order). ModelVersion.infer calls this, so every
 * protocol front end gets the same answers without doing anything.
 *
 * Order: input count → then per model input, sorted by name: present → no negative dims →
 * precision → rank → batch (dim 0) → other dims → amount of data. First failure wins.
 * A -1 in the model's shape accepts any size.
 *
 * Binary inputs (a STRING tensor for a numeric input: encoded images) get OVMS's binary checks
 * instead: rank 1, one image per batch item, no empty element. They are decoded after this and
 * validated again as the numeric tensors they become.
 *
 * Under `shape: auto` / `batch_size: auto`, a dimension the version can be reloaded for is not an
 * error here (OVMS answers "reshape required" and reloads); the request is validated strictly
 * once the reload is done.
 */
import { dtypeInfo } from '../core/dtype.js';
import { ServingError, servingError } from '../core/errors.js';
import { formatShape, isStringData, type Tensor, type TensorMap, type TensorSpec } from '../core/tensor.js';

/** Which dims may differ from the loaded model because a request reloads it with its own (`auto`). */
export interface Reshapable {
  /** dim 0 of every input (`batch_size: auto`). */
  readonly batch?: boolean;
  /** Every dim of these inputs (`shape: auto`). */
  readonly inputs?: ReadonlySet<string>;
}

export function validateInputs(specs: readonly TensorSpec[], inputs: TensorMap, reshapable?: Reshapable): void {
  if (inputs.size !== specs.length) {
    throw servingError('INVALID_NO_OF_INPUTS', `Expected: ${specs.length}; Actual: ${inputs.size}`);
  }
  for (const spec of sortedByName(specs)) {
    const tensor = inputs.get(spec.name);
    if (!tensor) throw servingError('INVALID_MISSING_INPUT', `Required input: ${spec.name}`);
    validateInput(spec, tensor, reshapable);
  }
}

/** One input against its spec (all checks after "present"). */
export function validateInput(spec: TensorSpec, tensor: Tensor, reshapable?: Reshapable): void {
  const shape = tensor.shape;
  for (const d of shape) {
    if (d < 0) throw servingError('INVALID_SHAPE', `Negative dimension size is not acceptable: ${formatShape(shape)}`);
  }
  const anyShape = reshapable?.inputs?.has(spec.name) ?? false;
  const anyBatch = anyShape || (reshapable?.batch ?? false);
  if (tensor.dtype === 'STRING' && spec.dtype !== 'STRING' && isStringData(tensor.data)) {
    validateBinaryInput(spec, tensor, tensor.data, anyBatch);
    return;
  }
  if (tensor.dtype !== spec.dtype) {
    throw servingError('INVALID_PRECISION', `Expected: ${dtypeInfo(spec.dtype).ov}; Actual: ${dtypeInfo(tensor.dtype).ov}`);
  }
  const expected = spec.shape;
  if (shape.length !== expected.length) {
    throw servingError('INVALID_NO_OF_SHAPE_DIMENSIONS', `Expected: ${formatShape(expected)}; Actual: ${formatShape(shape)}`);
  }
  // Hostile dims (fractions, NaN, > 2^53) can never match the model; say so as a shape error.
  for (const d of shape) {
    if (!Number.isSafeInteger(d)) throw servingError('INVALID_SHAPE', `Expected: ${formatShape(expected)}; Actual: ${formatShape(shape)}`);
  }
  if (!anyBatch && expected.length > 0 && expected[0]! >= 0 && shape[0] !== expected[0]) {
    throw servingError('INVALID_BATCH_SIZE', `Expected: ${expected[0]}; Actual: ${shape[0]}`);
  }
  for (let i = 1; i < expected.length && !anyShape; i++) {
    if (expected[i]! >= 0 && shape[i] !== expected[i]) {
      throw servingError('INVALID_SHAPE', `Expected: ${formatShape(expected)}; Actual: ${formatShape(shape)}`);
    }
  }
  validateDataLength(tensor);
}

/** OVMS's checks for encoded images (SPEC §6.2): 1-D [N], N = the model's batch, no empty element. */
function validateBinaryInput(spec: TensorSpec, tensor: Tensor, images: readonly Uint8Array[], anyBatch: boolean): void {
  const shape = tensor.shape;
  if (shape.length !== 1) {
    throw servingError('INVALID_NO_OF_SHAPE_DIMENSIONS', `Expected number of binary input shape dimensions: 1; Actual: ${shape.length}`);
  }
  const batch = spec.shape[0];
  if (!anyBatch && spec.shape.length > 0 && batch! >= 0 && shape[0] !== batch) {
    throw servingError('INVALID_BATCH_SIZE', `Expected: ${batch}; Actual: ${shape[0]}`);
  }
  validateDataLength(tensor);
  if (images.length === 0 || images.some((b) => b.length === 0)) throw servingError('STRING_VAL_EMPTY');
}

/**
 * The data must hold exactly as many elements as the shape says. Protocol decoders check this
 * against the wire already; this is the last guard before the runtime reads memory by shape.
 */
export function validateDataLength(tensor: Tensor): void {
  let count = 1;
  for (const d of tensor.shape) {
    count *= d;
    if (!Number.isSafeInteger(count)) {
      throw servingError('INVALID_SHAPE', `Tensor element count overflows: ${formatShape(tensor.shape)}`);
    }
  }
  const actual = tensor.data.length;
  if (actual === count) return;
  const info = dtypeInfo(tensor.dtype);
  // OVMS counts values for the types it receives as value lists (half_val, int_val, string_val)
  // and bytes for tensor_content.
  if (info.size === 0 || tensor.dtype === 'FP16' || tensor.dtype === 'UINT16') {
    throw servingError('INVALID_VALUE_COUNT', `Expected: ${count}; Actual: ${actual}`);
  }
  throw servingError('INVALID_CONTENT_SIZE', `Expected: ${count * info.size} bytes; Actual: ${actual * info.size} bytes`);
}

const sortedCache = new WeakMap<readonly TensorSpec[], readonly TensorSpec[]>();

/** Specs in name order (code-unit order: std::map's byte order for ASCII names), computed once per spec list. */
function sortedByName(specs: readonly TensorSpec[]): readonly TensorSpec[] {
  let sorted = sortedCache.get(specs);
  if (!sorted) {
    sorted = [...specs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    sortedCache.set(specs, sorted);
  }
  return sorted;
}

/** Why one request input could not be decoded into a Tensor; `standIn` carries its header when only the data is wrong. */
export interface DecodeFault {
  readonly error: ServingError;
  readonly standIn?: Tensor;
}

/**
 * The error for a request whose inputs could not all be decoded (any protocol): the one OVMS would
 * report first. A data fault of one input must not hide a shape error of the same input, or any
 * fault of an input sorted before it. `received` holds the names of the inputs the request sent.
 */
export function firstDecodeError(
  received: { readonly size: number; has(name: string): boolean },
  specs: readonly TensorSpec[],
  decoded: TensorMap,
  faults: ReadonlyMap<string, DecodeFault>,
): ServingError {
  if (received.size !== specs.length) return servingError('INVALID_NO_OF_INPUTS', `Expected: ${specs.length}; Actual: ${received.size}`);
  for (const spec of sortedByName(specs)) {
    if (!received.has(spec.name)) return servingError('INVALID_MISSING_INPUT', `Required input: ${spec.name}`);
    const fault = faults.get(spec.name);
    const tensor = fault ? fault.standIn : decoded.get(spec.name);
    if (tensor) {
      try {
        validateInput(spec, tensor);
      } catch (err) {
        if (err instanceof ServingError) return err;
        throw err;
      }
    }
    if (fault) return fault.error;
  }
  return faults.values().next().value!.error;
}
