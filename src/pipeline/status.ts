/**
 * OVMS's pipeline statuses (SPEC §7, texts of OVMS src/status.cpp) and the errors built from them.
 * Kept beside the pipeline code rather than in core/errors.ts: only pipelines raise them.
 */
import { ServingError, type StatusCode, type StatusDef } from '../core/errors.js';

function def(code: StatusCode, message: string, http?: number): StatusDef {
  return { code, message, http };
}

// Load-time validation problems are reported in the pipeline status and logs, never sent to a
// client as such (a client gets "Pipeline is not loaded yet"), so their codes only matter to tests
// and logs; they carry OVMS's gRPC mapping where it has one.
export const PipelineStatus = {
  // Request time.
  PIPELINE_DEFINITION_NOT_LOADED_YET: def('UNAVAILABLE', 'Pipeline is not loaded yet'),
  PIPELINE_DEFINITION_NOT_LOADED_ANYMORE: def('NOT_FOUND', 'Pipeline is retired'),
  PIPELINE_DEMULTIPLEXER_NO_RESULTS: def('ABORTED', 'Pipeline execution aborted due to no content from custom node'),
  PIPELINE_INCONSISTENT_SHARD_DIMENSIONS: def('UNKNOWN', 'Gathered tensor shards dimensions are different'),
  PIPELINE_WRONG_NUMBER_OF_DIMENSIONS_TO_DEMULTIPLY: def('UNKNOWN', 'Wrong number of dimensions in a tensor to be sharded'),
  PIPELINE_WRONG_DIMENSION_SIZE_TO_DEMULTIPLY: def('UNKNOWN', 'Wrong dimension size. Should match demultiply count'),
  PIPELINE_TOO_LARGE_DIMENSION_SIZE_TO_DEMULTIPLY: def('UNKNOWN', 'Too large dynamic demultiplication requested.'),
  MODEL_VERSION_UNAVAILABLE_IN_PIPELINE: def('UNAVAILABLE', 'Model used by the pipeline has no available version'),
  NODE_LIBRARY_EXECUTION_FAILED: def('UNKNOWN', 'Custom node failed during execution'),
  NODE_LIBRARY_MISSING_OUTPUT: def('UNKNOWN', 'Custom node output is missing'),
  NODE_LIBRARY_INVALID_PRECISION: def('UNKNOWN', 'Custom node has produced tensor with unspecified precision'),
  NODE_LIBRARY_INVALID_SHAPE: def('UNKNOWN', 'Custom node has produced tensor with not matching shape'),
  NODE_LIBRARY_INVALID_CONTENT_SIZE: def('UNKNOWN', 'Custom node output has invalid content size'),
  NODE_LIBRARY_OUTPUTS_CORRUPTED: def('UNKNOWN', 'Custom node library has returned corrupted outputs handle'),

  // Load time (SPEC §7.4).
  PIPELINE_NODE_WRONG_KIND_CONFIGURATION: def('FAILED_PRECONDITION', 'Unsupported node type'),
  PIPELINE_MULTIPLE_ENTRY_NODES: def('FAILED_PRECONDITION', 'Pipeline definition has multiple request nodes'),
  PIPELINE_MULTIPLE_EXIT_NODES: def('FAILED_PRECONDITION', 'Pipeline definition has multiple response nodes'),
  PIPELINE_MISSING_ENTRY_OR_EXIT: def('FAILED_PRECONDITION', 'Pipeline definition is missing request or response node'),
  PIPELINE_NODE_NAME_DUPLICATE: def('FAILED_PRECONDITION', 'Pipeline definition has multiple nodes with the same name'),
  PIPELINE_CYCLE_FOUND: def('FAILED_PRECONDITION', 'Pipeline definition contains a cycle'),
  PIPELINE_CONTAINS_UNCONNECTED_NODES: def('FAILED_PRECONDITION', 'Pipeline definition has unconnected nodes'),
  PIPELINE_NODE_REFERING_TO_MISSING_NODE: def('FAILED_PRECONDITION', 'Pipeline definition has reference to missing node'),
  PIPELINE_NODE_REFERING_TO_MISSING_MODEL: def('FAILED_PRECONDITION', 'Pipeline definition has reference to missing model'),
  PIPELINE_NODE_REFERING_TO_MISSING_DATA_SOURCE: def('FAILED_PRECONDITION', 'Pipeline definition has reference to missing data source'),
  PIPELINE_NODE_REFERING_TO_MISSING_MODEL_OUTPUT: def('FAILED_PRECONDITION', 'Pipeline definition has reference to missing model output'),
  PIPELINE_CONNECTION_TO_MISSING_MODEL_INPUT: def('FAILED_PRECONDITION', 'Pipeline definition has connection to non existing model input'),
  PIPELINE_NOT_ALL_INPUTS_CONNECTED: def('FAILED_PRECONDITION', 'Pipeline definition does not have connections for all inputs of underlying models'),
  PIPELINE_MODEL_INPUT_CONNECTED_TO_MULTIPLE_DATA_SOURCES: def('FAILED_PRECONDITION', 'Pipeline definition has multiple connections to the same input of underlying model'),
  PIPELINE_EXIT_USED_AS_NODE_DEPENDENCY: def('FAILED_PRECONDITION', 'Pipeline definition has response node used as dependency node'),
  PIPELINE_NAME_OCCUPIED: def('ALREADY_EXISTS', 'Pipeline has the same name as model'),
  PIPELINE_DEFINITION_INVALID_NODE_LIBRARY: def('FAILED_PRECONDITION', 'Pipeline refers to incorrect library'),
  NODE_LIBRARY_INITIALIZE_FAILED: def('FAILED_PRECONDITION', 'Failure during custom node library initialization'),
  NODE_LIBRARY_METADATA_FAILED: def('FAILED_PRECONDITION', 'Custom node failed on metadata call'),
  PIPELINE_NODE_GATHER_FROM_NOT_EXISTING_NODE: def('FAILED_PRECONDITION', 'Gather node refers to not existing node'),
  PIPELINE_NODE_GATHER_FROM_NOT_DEMULTIPLEXER: def('FAILED_PRECONDITION', 'Gather node refers to node that isn\'t demultiplexer'),
  PIPELINE_NODE_GATHER_FROM_ENTRY_NODE: def('FAILED_PRECONDITION', 'Gathering from entry node is not allowed'),
  PIPELINE_WRONG_DEMULTIPLEXER_GATHER_NODES_ORDER: def('FAILED_PRECONDITION', 'Demultiplexer and gather nodes are not in LIFO order'),
  PIPELINE_DEMULTIPLY_COUNT_DOES_NOT_MATCH_TENSOR_SHARD_COUNT: def('FAILED_PRECONDITION', 'Demultiplication count does not match tensor first dimension'),
  PIPELINE_NOT_ENOUGH_SHAPE_DIMENSIONS_TO_DEMULTIPLY: def('FAILED_PRECONDITION', 'Pipeline has not enough shape dimensions to demultiply'),
  PIPELINE_INPUTS_AMBIGUOUS_METADATA: def('FAILED_PRECONDITION', 'Multiple nodes connected to the same pipeline input require different tensor metadata'),
  FORBIDDEN_MODEL_DYNAMIC_PARAMETER: def('FAILED_PRECONDITION', 'Value of provided parameter is forbidden'),
  INVALID_SHAPE: def('INVALID_ARGUMENT', 'Invalid input shape'),
  INVALID_PRECISION: def('INVALID_ARGUMENT', 'Invalid input precision'),
} as const satisfies Record<string, StatusDef>;

export type PipelineStatusName = keyof typeof PipelineStatus;

/** A pipeline failure with OVMS's "<message> - <details>" text. */
export class PipelineError extends ServingError {
  readonly pipelineStatus: PipelineStatusName;

  constructor(name: PipelineStatusName, details?: string, options: { cause?: unknown } = {}) {
    const s: StatusDef = PipelineStatus[name];
    super(s.code, details ? `${s.message} - ${details}` : s.message, { http: s.http, cause: options.cause });
    this.name = 'PipelineError';
    this.pipelineStatus = name;
  }
}

export function pipelineError(name: PipelineStatusName, details?: string): PipelineError {
  return new PipelineError(name, details);
}

/**
 * Adds which node failed to an error raised while running it (a model's validation error, a
 * custom node's exception), keeping its code so the client gets the same status.
 */
export function atNode(err: ServingError, nodeName: string): ServingError {
  const suffix = `node: ${nodeName}`;
  if (err.message.includes(suffix)) return err;
  const message = err.message.includes(' - ') ? `${err.message}; ${suffix}` : `${err.message} - ${suffix}`;
  const wrapped = new ServingError(err.code, message, { status: err.status, http: err.http, cause: err.cause ?? err });
  return wrapped;
}
