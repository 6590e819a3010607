import { servingError, type ServingError } from './errors.js';

/**
 * The request limits in one place, so the flags, the decoders, the docs and the tests agree.
 *
 * Only the request size is a flag (--max_request_size). Everything else a request may hold is
 * bounded by it or by the model, so no further knob is needed:
 *   - tensor elements: every decoder checks the element count a shape promises against the bytes
 *     actually sent before allocating (ragged/short data → INVALID_CONTENT_SIZE / INVALID_VALUE_COUNT
 *     / REST parse errors), and a product past 2^53 is INVALID_SHAPE "overflows";
 *   - dimensions: a request's rank must equal the model input's (INVALID_NO_OF_SHAPE_DIMENSIONS);
 *     before that, the decoders refuse more than MAX_TENSOR_RANK dims (tooManyDimensions), so an
 *     error text never echoes a megabyte-long shape, and REST JSON nesting stops at MAX_JSON_DEPTH;
 *   - number of inputs: must equal the model's (INVALID_NO_OF_INPUTS);
 *   - string lengths: each BYTES/STRING element lies inside the received message;
 *   - image pixels: src/image caps decoded pixels per image and per request;
 *   - model names and versions: looked up in the in-memory registry only, never used to build a
 *     path, so `../x`, `/etc/passwd` or NUL are just unknown names (404 / NOT_FOUND); the REST
 *     router also refuses a name whose decoded form holds `/` or NUL (400).
 */

/** Default --max_request_size: 1 GiB, OVMS's gRPC message limit, applied to REST bodies too. */
export const DEFAULT_MAX_REQUEST_BYTES = 1024 ** 3;

/**
 * Largest accepted --max_request_size: gRPC's message length limit is a signed 32-bit int, and a
 * REST body is kept in one Buffer.
 */
export const MAX_REQUEST_BYTES_LIMIT = 2 ** 31 - 1;

/** More dimensions than any model here has; a request shape beyond it is refused unread. */
export const MAX_TENSOR_RANK = 64;

/** The error for a request shape with more than MAX_TENSOR_RANK dims, else undefined. */
export function tooManyDimensions(shape: readonly number[]): ServingError | undefined {
  if (shape.length <= MAX_TENSOR_RANK) return undefined;
  return servingError('INVALID_NO_OF_SHAPE_DIMENSIONS', `at most ${MAX_TENSOR_RANK} dimensions are accepted; Actual: ${shape.length}`);
}

/** JSON arrays nested deeper than this in a REST request are refused (TFS and KServe decoders). */
export const MAX_JSON_DEPTH = 64;
