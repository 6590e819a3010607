/**
 * The contract of a custom node library: an ES module (.js / .mjs) named in config.json's
 * `custom_node_library_config_list`, exporting these functions. It mirrors OVMS's C API
 * (SPEC §7.3, 2022.1+ form): `initialize`/`deinitialize` bracket the node's life, the two info
 * functions describe its tensors for validation and metadata, `execute` runs it. Nothing needs
 * releasing: JavaScript owns the memory.
 *
 *   export function initialize(params) { return state; }          // optional, may be async
 *   export function getInputsInfo(params, state) { return [{ name, dtype, shape }]; }
 *   export function getOutputsInfo(params, state) { return [...]; }
 *   export function execute(inputs, params, state, context) { return { out: tensor }; } // may be async
 *   export function deinitialize(state) {}                        // optional, may be async
 *
 * One library can serve several pipeline nodes: each node gets its own `initialize` call with its
 * own `params` (config.json node `params`, strings only), and the state it returned.
 *
 * Libraries written in TypeScript import these types only (`import type`), so the compiled module
 * has no runtime dependency on the server.
 */
import type { DType } from '../core/dtype.js';
import type { Tensor } from '../core/tensor.js';

export type { DType } from '../core/dtype.js';
export type { Tensor } from '../core/tensor.js';

/** Node `params` from config.json. */
export type CustomNodeParams = Readonly<Record<string, string>>;

/**
 * One input or output of the node. A dimension of -1 (or 0, as in OVMS) has any size; other
 * dimensions are checked when the pipeline is validated and against what `execute` returns.
 */
export interface CustomNodeTensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** Tensors by name. Inputs are views of the producing node's outputs: read them, do not write. */
export type CustomNodeTensors = Readonly<Record<string, Tensor>>;

/**
 * What `execute` returns. A node with `demultiply_count` normally returns each output as one
 * tensor whose first dimension is split into the branches. It may instead return an output as an
 * array of tensors, one per branch, which may differ in shape (crops of different widths for a
 * recognition model that reads each at its own size); each has the declared shape without its
 * first dimension. This has no counterpart in OVMS, whose C API can only return one buffer.
 */
export type CustomNodeOutputs = Readonly<Record<string, Tensor | readonly Tensor[]>> | ReadonlyMap<string, Tensor | readonly Tensor[]>;

export interface CustomNodeContext {
  readonly pipelineName: string;
  readonly nodeName: string;
  /** Aborted when the request is cancelled or another node of it failed. */
  readonly signal: AbortSignal;
}

export interface CustomNodeLibrary<State = unknown> {
  initialize?(params: CustomNodeParams): State | Promise<State>;
  deinitialize?(state: State): void | Promise<void>;
  getInputsInfo(params: CustomNodeParams, state: State): readonly CustomNodeTensorInfo[];
  getOutputsInfo(params: CustomNodeParams, state: State): readonly CustomNodeTensorInfo[];
  /**
   * Runs the node. Return every declared output (a plain object or a Map); throw to fail the
   * request — the client gets "Custom node failed during execution" with the node name and the
   * error's message.
   */
  execute(inputs: CustomNodeTensors, params: CustomNodeParams, state: State, context: CustomNodeContext): CustomNodeOutputs | Promise<CustomNodeOutputs>;
}
