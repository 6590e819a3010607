/**
 * One custom node of one pipeline: its library's state from `initialize`, its metadata, and a run
 * with the outputs checked against what the library declared (OVMS's NODE_LIBRARY_* checks), so a
 * buggy library fails its request with a clear message instead of handing garbage downstream.
 *
 * Custom nodes run on the server's main thread (see custom-nodes/README.md for the measurements
 * behind that choice); a library with heavy work can move it to its own worker threads, since
 * `execute` may return a promise.
 */
import type { Logger } from 'pino';
import { dtypeInfo } from '../core/dtype.js';
import { ServingError, servingError } from '../core/errors.js';
import { elementCount, formatShape, isStringData, type Tensor, type TensorMap, type TensorSpec } from '../core/tensor.js';
import type { CustomNodeLibrary, CustomNodeTensors } from './custom-node-api.js';
import type { NodeOutputs } from './executor.js';
import type { CustomNodeLibraries } from './custom-node-library.js';
import type { NodeConfig, PipelineConfig } from './definition.js';
import { PipelineError, pipelineError } from './status.js';
import { specsFromLibraryInfo, type ValidatedNode } from './validate.js';

export interface InitializedNode {
  readonly node: NodeConfig;
  readonly libraryName: string;
  /** The library's file fingerprint when initialized, to notice a changed library. */
  readonly fingerprint: string;
  readonly library: CustomNodeLibrary;
  readonly state: unknown;
}

/**
 * Calls `initialize` for every custom node of `config`. On the first failure the nodes already
 * initialized are deinitialized again and a PipelineError is thrown.
 */
export async function initializeCustomNodes(config: PipelineConfig, libraries: CustomNodeLibraries, logger: Logger): Promise<Map<string, InitializedNode>> {
  const done = new Map<string, InitializedNode>();
  try {
    for (const node of config.nodes) {
      if (node.kind !== 'custom') continue;
      const entry = libraries.get(node.libraryName!);
      if (!entry || !entry.ok) {
        const why = !entry ? 'no library of that name in custom_node_library_config_list' : entry.reason;
        throw pipelineError('PIPELINE_DEFINITION_INVALID_NODE_LIBRARY', `node: ${node.name}; library: ${node.libraryName}: ${why}`);
      }
      let state: unknown;
      try {
        state = await entry.library.initialize?.(node.params);
      } catch (err) {
        throw pipelineError('NODE_LIBRARY_INITIALIZE_FAILED', `node: ${node.name}; library: ${node.libraryName}: ${messageOf(err)}`);
      }
      done.set(node.name, { node, libraryName: entry.name, fingerprint: entry.fingerprint, library: entry.library, state });
    }
  } catch (err) {
    await deinitializeCustomNodes(done, logger);
    throw err;
  }
  return done;
}

export async function deinitializeCustomNodes(nodes: ReadonlyMap<string, InitializedNode>, logger: Logger): Promise<void> {
  for (const n of nodes.values()) {
    try {
      await n.library.deinitialize?.(n.state);
    } catch (err) {
      logger.error({ err }, `Custom node: ${n.node.name} (library: ${n.libraryName}) failed to deinitialize`);
    }
  }
}

/** getInputsInfo / getOutputsInfo as TensorSpecs (NODE_LIBRARY_METADATA_FAILED when they throw or return nonsense). */
export function customNodeMetadata(n: InitializedNode): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  const call = (what: 'getInputsInfo' | 'getOutputsInfo') => {
    let info: unknown;
    try {
      info = n.library[what](n.node.params, n.state);
    } catch (err) {
      throw pipelineError('NODE_LIBRARY_METADATA_FAILED', `node: ${n.node.name}; ${what}: ${messageOf(err)}`);
    }
    return specsFromLibraryInfo(n.node.name, what, info);
  };
  return { inputs: call('getInputsInfo'), outputs: call('getOutputsInfo') };
}

/**
 * Runs the node on `inputs` and returns the requested outputs after checking them. A
 * demultiplexer's output may be a list of per-branch tensors (see CustomNodeOutputs).
 */
export async function runCustomNode(
  pipelineName: string,
  n: InitializedNode,
  node: ValidatedNode,
  inputs: TensorMap,
  outputNames: readonly string[],
  signal: AbortSignal,
): Promise<NodeOutputs> {
  const args: Record<string, Tensor> = Object.create(null);
  for (const [name, t] of inputs) args[name] = t;
  let result: unknown;
  try {
    result = await n.library.execute(args as CustomNodeTensors, n.node.params, n.state, { pipelineName, nodeName: n.node.name, signal });
  } catch (err) {
    if (signal.aborted) throw servingError('REQUEST_CANCELLED');
    if (err instanceof ServingError) throw err;
    throw new PipelineError('NODE_LIBRARY_EXECUTION_FAILED', `node: ${n.node.name}: ${messageOf(err)}`, { cause: err });
  }
  try {
    return checkOutputs(n, node, result, outputNames);
  } catch (err) {
    if (err instanceof ServingError) throw err;
    // Reading the outputs ran library code (a getter, a proxy trap) that threw.
    throw new PipelineError('NODE_LIBRARY_EXECUTION_FAILED', `node: ${n.node.name}: ${messageOf(err)}`, { cause: err });
  }
}

function checkOutputs(n: InitializedNode, node: ValidatedNode, result: unknown, outputNames: readonly string[]): NodeOutputs {
  const outputs = asMap(n.node.name, result);
  const checked = new Map<string, Tensor | readonly Tensor[]>();
  for (const name of outputNames) {
    const t = outputs.get(name);
    if (!t) throw pipelineError('NODE_LIBRARY_MISSING_OUTPUT', `node: ${n.node.name}; output: ${name}`);
    const spec = node.outputSpecs.get(name)!;
    if (Array.isArray(t)) {
      if (node.demultiplyCount === undefined) {
        throw pipelineError('NODE_LIBRARY_OUTPUTS_CORRUPTED', `node: ${n.node.name}; output: ${name} is a list of tensors, which only a demultiplexer may return`);
      }
      const shardSpec = { ...spec, shape: spec.shape.slice(1) };
      (t as readonly Tensor[]).forEach((shard, i) => checkOutput(n.node.name, shardSpec, shard, ` item ${i}`));
    } else {
      checkOutput(n.node.name, spec, t as Tensor);
    }
    checked.set(name, t);
  }
  return checked;
}

function asMap(nodeName: string, result: unknown): ReadonlyMap<string, Tensor | readonly Tensor[]> {
  if (result instanceof Map) return result as ReadonlyMap<string, Tensor | readonly Tensor[]>;
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    return new Map(Object.entries(result as Record<string, Tensor | readonly Tensor[]>));
  }
  throw pipelineError('NODE_LIBRARY_OUTPUTS_CORRUPTED', `node: ${nodeName}: execute returned ${result === null ? 'null' : typeof result}, not an object of tensors`);
}

/** The output must be a well-formed tensor matching the declared dtype and known dimensions. */
function checkOutput(nodeName: string, spec: TensorSpec, t: Tensor, item = ''): void {
  const where = `node: ${nodeName}; output: ${spec.name}${item}`;
  if (t === null || typeof t !== 'object' || !Array.isArray(t.shape)) {
    throw pipelineError('NODE_LIBRARY_OUTPUTS_CORRUPTED', `${where} is not a tensor ({dtype, shape, data})`);
  }
  if (t.dtype !== spec.dtype) throw pipelineError('NODE_LIBRARY_INVALID_PRECISION', `${where}; expected: ${spec.dtype}; actual: ${String(t.dtype)}`);
  const shapeOk = t.shape.length === spec.shape.length
    && t.shape.every((d, i) => Number.isSafeInteger(d) && d >= 0 && (spec.shape[i]! < 0 || d === spec.shape[i]));
  if (!shapeOk) {
    throw pipelineError('NODE_LIBRARY_INVALID_SHAPE', `${where}; expected: ${formatShape(spec.shape)}; actual: ${formatShape(t.shape)}`);
  }
  const count = elementCount(t.shape);
  const Ctor = dtypeInfo(spec.dtype).array;
  const dataOk = spec.dtype === 'STRING'
    ? isStringData(t.data) && t.data.every((b) => b instanceof Uint8Array)
    : Ctor !== undefined && t.data instanceof Ctor;
  if (!dataOk) throw pipelineError('NODE_LIBRARY_OUTPUTS_CORRUPTED', `${where}: data is not ${spec.dtype === 'STRING' ? 'an array of Uint8Array' : `a ${Ctor?.name}`}`);
  if (t.data.length !== count) {
    throw pipelineError('NODE_LIBRARY_INVALID_CONTENT_SIZE', `${where}; expected: ${count} elements for ${formatShape(t.shape)}; actual: ${t.data.length}`);
  }
}

/** A library may throw anything: a null-prototype object, or one whose toString or message getter throws. */
function messageOf(err: unknown): string {
  try {
    const message = err instanceof Error ? err.message : String(err);
    return typeof message === 'string' ? message : String(message);
  } catch {
    return 'the thrown value cannot be described';
  }
}
