/**
 * One error type for everything a request can fail with. `code` is the canonical gRPC status
 * name; each protocol maps it to its own wire form in one place (api/grpc-status.ts, api/http).
 * Messages follow OVMS: "<status message> - <details>".
 */
export type StatusCode =
  | 'CANCELLED' | 'UNKNOWN' | 'INVALID_ARGUMENT' | 'DEADLINE_EXCEEDED' | 'NOT_FOUND'
  | 'ALREADY_EXISTS' | 'PERMISSION_DENIED' | 'RESOURCE_EXHAUSTED' | 'FAILED_PRECONDITION'
  | 'ABORTED' | 'OUT_OF_RANGE' | 'UNIMPLEMENTED' | 'INTERNAL' | 'UNAVAILABLE' | 'DATA_LOSS'
  | 'UNAUTHENTICATED';

export interface StatusDef {
  readonly code: StatusCode;
  readonly message: string;
  /** HTTP status when it is not the one derived from `code` (OVMS REST-only statuses). */
  readonly http?: number;
}

function def(code: StatusCode, message: string, http?: number): StatusDef {
  return { code, message, http };
}

/** OVMS statuses with their texts (SPEC §6.1). Keys are OVMS's internal status names. */
export const Status = {
  MODEL_NAME_MISSING: def('NOT_FOUND', 'Model with requested name is not found'),
  MODEL_VERSION_MISSING: def('NOT_FOUND', 'Model with requested version is not found'),
  MODEL_VERSION_NOT_LOADED_YET: def('NOT_FOUND', 'Model with requested version is not loaded yet'),
  MODEL_VERSION_NOT_LOADED_ANYMORE: def('NOT_FOUND', 'Model with requested version is retired'),
  MODEL_MISSING: def('NOT_FOUND', 'Model with requested name and/or version is not found'),
  MODEL_SPEC_MISSING: def('INVALID_ARGUMENT', 'model_spec missing in request'),
  INVALID_SIGNATURE_DEF: def('INVALID_ARGUMENT', 'Invalid signature name'),
  INVALID_NO_OF_INPUTS: def('INVALID_ARGUMENT', 'Invalid number of inputs'),
  INVALID_MISSING_INPUT: def('INVALID_ARGUMENT', 'Missing input with specific name'),
  INVALID_NO_OF_SHAPE_DIMENSIONS: def('INVALID_ARGUMENT', 'Invalid number of shape dimensions'),
  INVALID_BATCH_SIZE: def('INVALID_ARGUMENT', 'Invalid input batch size'),
  INVALID_SHAPE: def('INVALID_ARGUMENT', 'Invalid input shape'),
  INVALID_PRECISION: def('INVALID_ARGUMENT', 'Invalid input precision'),
  INVALID_VALUE_COUNT: def('INVALID_ARGUMENT', 'Invalid number of values in tensor proto container'),
  INVALID_CONTENT_SIZE: def('INVALID_ARGUMENT', 'Invalid content size of tensor proto'),
  INVALID_OUTPUT_NAME: def('INVALID_ARGUMENT', 'Invalid output name'),
  STRING_VAL_EMPTY: def('INVALID_ARGUMENT', 'String val is empty'),
  // Binary (image) inputs, SPEC §6.2. IMAGE_PARSING_FAILED has OVMS 2022+'s text and the
  // INVALID_ARGUMENT its docs promise (2021.4 answered UNKNOWN "Unknown error").
  IMAGE_PARSING_FAILED: def('INVALID_ARGUMENT', 'Image parsing failed'),
  UNSUPPORTED_LAYOUT: def('INVALID_ARGUMENT', 'Received binary image input but resource not configured to accept NHWC layout'),
  INVALID_NO_OF_CHANNELS: def('INVALID_ARGUMENT', 'Invalid number of channels in binary input'),
  BINARY_IMAGES_RESOLUTION_MISMATCH: def('INVALID_ARGUMENT', 'Binary input images for this pipeline are required to have the same resolution'),
  ANONYMOUS_FIXED_SHAPE_NOT_ALLOWED: def('INVALID_ARGUMENT', 'Anonymous fixed shape is invalid for models with multiple inputs'),
  ANONYMOUS_FIXED_LAYOUT_NOT_ALLOWED: def('INVALID_ARGUMENT', 'Anonymous fixed layout is invalid for models with multiple inputs'),
  CONFIG_SHAPE_IS_NOT_IN_MODEL: def('FAILED_PRECONDITION', 'Shape from the network config is not in the network'),
  CONFIG_LAYOUT_IS_NOT_IN_MODEL: def('FAILED_PRECONDITION', 'Layout from the network config is not in the network'),
  DEADLINE_EXCEEDED: def('DEADLINE_EXCEEDED', 'Deadline exceeded'),
  RESHAPE_ERROR: def('FAILED_PRECONDITION', 'Model could not be reshaped with requested shape'),
  CANNOT_LOAD_NETWORK_INTO_TARGET_DEVICE: def('FAILED_PRECONDITION', 'Cannot load network into target device'),
  INTERNAL_INFERENCE_ERROR: def('INTERNAL', 'Internal inference error'),
  UNSUPPORTED_DESERIALIZATION_PRECISION: def('INTERNAL', 'Unsupported deserialization precision'),
  INTERNAL_ERROR: def('INTERNAL', 'Internal server error'),
  NOT_IMPLEMENTED: def('UNIMPLEMENTED', 'Not implemented'),
  REQUEST_CANCELLED: def('CANCELLED', 'Request cancelled by the client'),
  SHUTTING_DOWN: def('UNAVAILABLE', 'Server is shutting down'),
  REST_INVALID_URL: def('INVALID_ARGUMENT', 'Invalid request URL', 400),
  REST_UNSUPPORTED_METHOD: def('INVALID_ARGUMENT', 'Unsupported method', 406),
  JSON_INVALID: def('INVALID_ARGUMENT', 'The file is not valid json', 412),
  REST_BODY_IS_NOT_AN_OBJECT: def('INVALID_ARGUMENT', 'Request body should be JSON object'),
  REST_PREDICT_UNKNOWN_ORDER: def('INVALID_ARGUMENT', 'Invalid JSON structure. Could not detect row or column format'),
  REST_INSTANCES_NOT_AN_ARRAY: def('INVALID_ARGUMENT', 'Invalid JSON structure. Nonamed instance is not an array.'),
  REST_NAMED_INSTANCE_NOT_AN_OBJECT: def('INVALID_ARGUMENT', 'Invalid JSON structure. One of named instances is not a JSON object.'),
  REST_INPUT_NOT_PREALLOCATED: def('INTERNAL', 'Internal allocation error', 500),
  REST_NO_INSTANCES_FOUND: def('INVALID_ARGUMENT', 'Invalid JSON structure. Missing instances in row format'),
  REST_INSTANCES_NOT_NAMED_OR_NONAMED: def('INVALID_ARGUMENT', 'Could not detect neither named or nonamed format'),
  REST_COULD_NOT_PARSE_INSTANCE: def('INVALID_ARGUMENT', 'Could not parse instance content. Not valid ndarray detected'),
  REST_INSTANCES_BATCH_SIZE_DIFFER: def('INVALID_ARGUMENT', 'Invalid JSON structure. Request inputs have different batch sizes'),
  REST_INPUTS_NOT_AN_OBJECT: def('INVALID_ARGUMENT', 'Invalid JSON structure. One of inputs is not a JSON object.'),
  REST_NO_INPUTS_FOUND: def('INVALID_ARGUMENT', 'Invalid JSON structure. Missing inputs in column format'),
  REST_COULD_NOT_PARSE_INPUT: def('INVALID_ARGUMENT', 'Could not parse input content. Not valid ndarray detected'),
  REST_PROTO_TO_STRING_ERROR: def('INTERNAL', 'Response parsing to JSON error', 500),
  REST_UNSUPPORTED_PRECISION: def('INVALID_ARGUMENT', 'Could not parse input content. Unsupported data precision detected'),
  REST_PAYLOAD_TOO_LARGE: def('RESOURCE_EXHAUSTED', 'Request body too large', 413),
  PATH_INVALID: def('INTERNAL', 'The provided base path is invalid or doesn\'t exists'),
} as const satisfies Record<string, StatusDef>;

export type StatusName = keyof typeof Status;

export class ServingError extends Error {
  readonly code: StatusCode;
  readonly status: StatusName | undefined;
  readonly http: number | undefined;

  constructor(code: StatusCode, message: string, options: { status?: StatusName; http?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServingError';
    this.code = code;
    this.status = options.status;
    this.http = options.http;
  }
}

/** Build the error for an OVMS status, with OVMS's " - <details>" suffix. */
export function servingError(name: StatusName, details?: string): ServingError {
  const s: StatusDef = Status[name];
  const message = details ? `${s.message} - ${details}` : s.message;
  return new ServingError(s.code, message, { status: name, http: s.http });
}

/** Anything thrown below api/ that is not a ServingError becomes INTERNAL with its text kept for logs. */
export function toServingError(err: unknown): ServingError {
  if (err instanceof ServingError) return err;
  const e = servingError('INTERNAL_ERROR');
  (e as { cause?: unknown }).cause = err;
  return e;
}

/** HTTP status for an error: OVMS's explicit one, else derived from the canonical code. */
export function httpStatusOf(err: ServingError): number {
  if (err.http !== undefined) return err.http;
  switch (err.code) {
    case 'INVALID_ARGUMENT': case 'OUT_OF_RANGE': return 400;
    case 'UNAUTHENTICATED': return 401;
    case 'PERMISSION_DENIED': return 403;
    case 'NOT_FOUND': return 404;
    case 'ALREADY_EXISTS': return 409;
    case 'FAILED_PRECONDITION': return 412;
    case 'RESOURCE_EXHAUSTED': return 429;
    case 'CANCELLED': return 499;
    case 'UNIMPLEMENTED': return 501;
    case 'UNAVAILABLE': return 503;
    case 'DEADLINE_EXCEEDED': return 504;
    case 'ABORTED': return 204;
    default: return 500;
  }
}

/** gRPC numeric status for an error. */
export function grpcStatusOf(err: ServingError): number {
  return grpcCodes[err.code];
}

const grpcCodes: Record<StatusCode, number> = {
  CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5,
  ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9,
  ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14,
  DATA_LOSS: 15, UNAUTHENTICATED: 16,
};
