/**
 * Checks a pipeline definition against the models and custom nodes it uses, in OVMS's order and
 * with its statuses (SPEC §7.4), and works out what the executor needs: the nodes in dependency
 * order, each node's demultiplexing level, and the pipeline's input and output metadata.
 *
 * Demultiplexing levels: a node runs once per combination of the shard indices of the
 * demultiplexers above it. Its *level* is that stack of demultiplexer names, e.g. [] at the top,
 * ["crop"] below a demultiplexer "crop". A demultiplexer's outputs are one level deeper than its
 * inputs; a node with `gather_from_node: G` takes inputs at a level ending in G and runs one level
 * up; `response` gathers every level still open. All inputs of a node must come from one level.
 */
import type { DType } from '../core/dtype.js';
import { allDTypes } from '../core/dtype.js';
import type { Servable } from '../core/servable.js';
import { formatShape, type TensorSpec } from '../core/tensor.js';
import { ENTRY_NODE, EXIT_NODE, type Connection, type NodeConfig, type PipelineConfig } from './definition.js';
import { pipelineError } from './status.js';

/** The largest demultiplication a dynamic demultiplexer may ask for. */
export const MAX_DEMULTIPLY_COUNT = 10_000;

/** What validation needs to know about the models of the server. */
export interface ModelLookup {
  /** The AVAILABLE version a node would run on now: the pinned one, or the model's default. */
  availableVersion(modelName: string, version?: number): Servable | undefined;
  /** The model is configured with `auto` batch size or shape, which pipelines forbid. */
  usesDynamicParameters(modelName: string, version?: number): boolean;
}

/** Tensor metadata of an initialized custom node; throws PipelineError when the library fails. */
export type CustomNodeMetadata = (node: NodeConfig) => { readonly inputs: readonly TensorSpec[]; readonly outputs: readonly TensorSpec[] };

export interface ValidatedNode {
  readonly name: string;
  readonly kind: 'entry' | 'exit' | 'model' | 'custom';
  /** undefined for request/response. */
  readonly config?: NodeConfig;
  readonly inputSpecs: ReadonlyMap<string, TensorSpec>;
  readonly outputSpecs: ReadonlyMap<string, TensorSpec>;
  /** Where each input comes from. */
  readonly connections: readonly Connection[];
  /** Distinct source nodes. */
  readonly dependencies: readonly string[];
  /** Nodes fed by this one. */
  readonly consumers: readonly string[];
  /** Demultiplexing level it runs at, and the level of its outputs. */
  readonly level: readonly string[];
  readonly outputLevel: readonly string[];
  /** 0 = dynamic; undefined = not a demultiplexer. */
  readonly demultiplyCount?: number;
  readonly gatherFrom?: string;
  /** alias → output name, only for aliases some node or the response uses. */
  readonly usedOutputs: ReadonlyMap<string, string>;
  /** For model nodes: the metadata validated against, to notice a model change later. */
  readonly modelInputs?: readonly TensorSpec[];
  readonly modelOutputs?: readonly TensorSpec[];
}

export interface ValidatedPipeline {
  readonly name: string;
  readonly config: PipelineConfig;
  readonly nodes: ReadonlyMap<string, ValidatedNode>;
  /** Every node, each after the nodes it depends on (request first, response last). */
  readonly order: readonly string[];
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Inputs only passed through to the response: any dtype and shape is accepted. */
  readonly unspecifiedInputs: ReadonlySet<string>;
}

/** Validates `config`; throws PipelineError with OVMS's status on the first problem found. */
export function validatePipeline(config: PipelineConfig, models: ModelLookup, customNode: CustomNodeMetadata): ValidatedPipeline {
  const nodes = new Map<string, NodeConfig>();
  for (const node of config.nodes) {
    if (node.name === ENTRY_NODE) throw pipelineError('PIPELINE_MULTIPLE_ENTRY_NODES', `a node may not be named "${ENTRY_NODE}"`);
    if (node.name === EXIT_NODE) throw pipelineError('PIPELINE_MULTIPLE_EXIT_NODES', `a node may not be named "${EXIT_NODE}"`);
    if (nodes.has(node.name)) throw pipelineError('PIPELINE_NODE_NAME_DUPLICATE', `node: ${node.name}`);
    nodes.set(node.name, node);
  }

  const specs = new Map<string, NodeSpecs>();
  for (const node of config.nodes) specs.set(node.name, nodeSpecs(node, models, customNode));

  const demultiplexers = new Map<string, number>();
  if (config.demultiplyCount !== undefined) demultiplexers.set(ENTRY_NODE, config.demultiplyCount);
  for (const node of config.nodes) if (node.demultiplyCount !== undefined) demultiplexers.set(node.name, node.demultiplyCount);

  for (const node of config.nodes) {
    const own = specs.get(node.name)!;
    if (node.demultiplyCount !== undefined) checkDemultiplexerOutputs(node, own);
    if (node.gatherFrom !== undefined) checkGatherSource(node, nodes, demultiplexers);
    checkConnections(node.name, node, own, node.inputs, config, nodes, specs);
  }
  checkConnections(EXIT_NODE, undefined, undefined, config.outputs, config, nodes, specs);

  const order = dependencyOrder(config);
  const levels = demultiplexingLevels(config, nodes, order);

  // Which aliases are used downstream (only those are requested from models / checked on custom nodes).
  const used = new Map<string, Map<string, string>>();
  const consumers = new Map<string, Set<string>>();
  const noteUse = (consumer: string, c: Connection) => {
    if (!consumers.has(c.sourceNode)) consumers.set(c.sourceNode, new Set());
    consumers.get(c.sourceNode)!.add(consumer);
    if (c.sourceNode === ENTRY_NODE) return;
    const source = nodes.get(c.sourceNode)!;
    if (!used.has(source.name)) used.set(source.name, new Map());
    used.get(source.name)!.set(c.sourceItem, source.outputs.get(c.sourceItem)!);
  };
  for (const node of config.nodes) for (const c of node.inputs) noteUse(node.name, c);
  for (const c of config.outputs) noteUse(EXIT_NODE, c);

  const { inputs, unspecifiedInputs } = pipelineInputs(config, specs);
  const outputs = pipelineOutputs(config, nodes, specs, levels, demultiplexers, inputs);

  const validated = new Map<string, ValidatedNode>();
  const entryInputSpecs = new Map(inputs.map((s) => [s.name, s] as const));
  validated.set(ENTRY_NODE, {
    name: ENTRY_NODE,
    kind: 'entry',
    inputSpecs: entryInputSpecs,
    outputSpecs: entryInputSpecs,
    connections: [],
    dependencies: [],
    consumers: [...(consumers.get(ENTRY_NODE) ?? [])],
    level: [],
    outputLevel: levels.get(ENTRY_NODE)!.output,
    ...(config.demultiplyCount !== undefined ? { demultiplyCount: config.demultiplyCount } : {}),
    usedOutputs: new Map(config.inputs.map((n) => [n, n] as const)),
  });
  for (const node of config.nodes) {
    const s = specs.get(node.name)!;
    const level = levels.get(node.name)!;
    validated.set(node.name, {
      name: node.name,
      kind: node.kind,
      config: node,
      inputSpecs: s.inputs,
      outputSpecs: s.outputs,
      connections: node.inputs,
      dependencies: unique(node.inputs.map((c) => c.sourceNode)),
      consumers: [...(consumers.get(node.name) ?? [])],
      level: level.input,
      outputLevel: level.output,
      ...(node.demultiplyCount !== undefined ? { demultiplyCount: node.demultiplyCount } : {}),
      ...(node.gatherFrom !== undefined ? { gatherFrom: node.gatherFrom } : {}),
      usedOutputs: used.get(node.name) ?? new Map(),
      ...(s.model ? { modelInputs: s.model.inputs, modelOutputs: s.model.outputs } : {}),
    });
  }
  const exitLevel = levels.get(EXIT_NODE)!;
  validated.set(EXIT_NODE, {
    name: EXIT_NODE,
    kind: 'exit',
    inputSpecs: new Map(outputs.map((s) => [s.name, s] as const)),
    outputSpecs: new Map(),
    connections: config.outputs,
    dependencies: unique(config.outputs.map((c) => c.sourceNode)),
    consumers: [],
    level: exitLevel.input,
    outputLevel: [],
    usedOutputs: new Map(),
  });
  return { name: config.name, config, nodes: validated, order, inputs, outputs, unspecifiedInputs };
}

/** A model node whose model changed (other version, reloaded, gone) since validation. */
export function modelsChanged(pipeline: ValidatedPipeline, models: ModelLookup): boolean {
  for (const node of pipeline.nodes.values()) {
    if (node.kind !== 'model') continue;
    const v = models.availableVersion(node.config!.modelName!, node.config!.modelVersion);
    if (!v || v.inputs !== node.modelInputs || v.outputs !== node.modelOutputs) return true;
  }
  return false;
}

// -------------------------------------------------------------------------------------------------

interface NodeSpecs {
  readonly inputs: ReadonlyMap<string, TensorSpec>;
  readonly outputs: ReadonlyMap<string, TensorSpec>;
  readonly model?: Servable;
}

function nodeSpecs(node: NodeConfig, models: ModelLookup, customNode: CustomNodeMetadata): NodeSpecs {
  if (node.kind === 'model') {
    const model = models.availableVersion(node.modelName!, node.modelVersion);
    if (!model) {
      const version = node.modelVersion !== undefined ? `; version: ${node.modelVersion}` : '';
      throw pipelineError('PIPELINE_NODE_REFERING_TO_MISSING_MODEL', `node: ${node.name}; model: ${node.modelName}${version}`);
    }
    if (models.usesDynamicParameters(node.modelName!, node.modelVersion)) {
      throw pipelineError('FORBIDDEN_MODEL_DYNAMIC_PARAMETER', `node: ${node.name} uses model: ${node.modelName} with auto batch size or shape, which pipelines do not allow`);
    }
    return { inputs: byName(model.inputs), outputs: byName(model.outputs), model };
  }
  const meta = customNode(node);
  return { inputs: byName(meta.inputs), outputs: byName(meta.outputs) };
}

function checkDemultiplexerOutputs(node: NodeConfig, own: NodeSpecs): void {
  for (const realName of new Set(node.outputs.values())) {
    const spec = own.outputs.get(realName);
    if (!spec) continue; // reported as a missing output where it is used
    // OVMS docs ask for at least 2 dimensions: the one split off, and the tensor each branch gets.
    if (spec.shape.length < 2) {
      throw pipelineError('PIPELINE_NOT_ENOUGH_SHAPE_DIMENSIONS_TO_DEMULTIPLY',
        `node: ${node.name}; output: ${realName}; shape: ${formatShape(spec.shape)}`);
    }
    const count = node.demultiplyCount!;
    const first = spec.shape[0]!;
    if (count > 0 && first >= 0 && first !== count) {
      throw pipelineError('PIPELINE_DEMULTIPLY_COUNT_DOES_NOT_MATCH_TENSOR_SHARD_COUNT',
        `node: ${node.name}; demultiply_count: ${count}; output: ${realName}; shape: ${formatShape(spec.shape)}`);
    }
  }
}

function checkGatherSource(node: NodeConfig, nodes: ReadonlyMap<string, NodeConfig>, demultiplexers: ReadonlyMap<string, number>): void {
  const from = node.gatherFrom!;
  if (from === ENTRY_NODE) throw pipelineError('PIPELINE_NODE_GATHER_FROM_ENTRY_NODE', `node: ${node.name}`);
  if (!nodes.has(from)) throw pipelineError('PIPELINE_NODE_GATHER_FROM_NOT_EXISTING_NODE', `node: ${node.name}; gather_from_node: ${from}`);
  if (!demultiplexers.has(from)) throw pipelineError('PIPELINE_NODE_GATHER_FROM_NOT_DEMULTIPLEXER', `node: ${node.name}; gather_from_node: ${from}`);
}

/**
 * The connections into one node (or into `response`): sources exist, every input is fed exactly
 * once, and connected tensors agree in shape and precision.
 */
function checkConnections(
  consumerName: string,
  consumer: NodeConfig | undefined,
  own: NodeSpecs | undefined,
  connections: readonly Connection[],
  config: PipelineConfig,
  nodes: ReadonlyMap<string, NodeConfig>,
  specs: ReadonlyMap<string, NodeSpecs>,
): void {
  const connected = new Set<string>();
  for (const c of connections) {
    if (c.sourceNode === EXIT_NODE) throw pipelineError('PIPELINE_EXIT_USED_AS_NODE_DEPENDENCY', `node: ${consumerName}`);
    const source = nodes.get(c.sourceNode);
    if (c.sourceNode !== ENTRY_NODE && !source) {
      throw pipelineError('PIPELINE_NODE_REFERING_TO_MISSING_NODE', `node: ${consumerName} refers to node: ${c.sourceNode}`);
    }
    if (own && !own.inputs.has(c.input)) {
      throw pipelineError('PIPELINE_CONNECTION_TO_MISSING_MODEL_INPUT', `node: ${consumerName} has no input: ${c.input}`);
    }
    if (connected.has(c.input)) {
      throw pipelineError('PIPELINE_MODEL_INPUT_CONNECTED_TO_MULTIPLE_DATA_SOURCES', `node: ${consumerName}; input: ${c.input}`);
    }
    connected.add(c.input);
    if (!source) {
      if (!config.inputs.includes(c.sourceItem)) {
        throw pipelineError('PIPELINE_NODE_REFERING_TO_MISSING_DATA_SOURCE', `node: ${consumerName} refers to pipeline input: ${c.sourceItem}, which is not in the pipeline inputs`);
      }
      continue;
    }
    const realName = source.outputs.get(c.sourceItem);
    if (realName === undefined) {
      throw pipelineError('PIPELINE_NODE_REFERING_TO_MISSING_DATA_SOURCE', `node: ${consumerName} refers to data item: ${c.sourceItem} of node: ${source.name}, which has no such output alias`);
    }
    const produced = specs.get(source.name)!.outputs.get(realName);
    if (!produced) {
      throw pipelineError('PIPELINE_NODE_REFERING_TO_MISSING_MODEL_OUTPUT', `node: ${source.name} has no output: ${realName} (data item: ${c.sourceItem})`);
    }
    if (consumer && own) checkTensorsMatch(consumer, own.inputs.get(c.input)!, source, produced);
  }
  if (own) {
    const missing = [...own.inputs.keys()].filter((name) => !connected.has(name));
    if (missing.length > 0) throw pipelineError('PIPELINE_NOT_ALL_INPUTS_CONNECTED', `node: ${consumerName}; not connected: ${missing.join(', ')}`);
  }
}

/** OVMS's connection check: shapes equal where both are known (after demultiplexing/gathering), same precision. */
function checkTensorsMatch(consumer: NodeConfig, input: TensorSpec, producer: NodeConfig, output: TensorSpec): void {
  let produced = output.shape;
  if (producer.demultiplyCount !== undefined) produced = produced.slice(1);
  let expected = input.shape;
  if (consumer.gatherFrom !== undefined) {
    if (expected.length === 0) {
      throw pipelineError('PIPELINE_NOT_ENOUGH_SHAPE_DIMENSIONS_TO_DEMULTIPLY', `node: ${consumer.name} gathers into input: ${input.name} of shape ${formatShape(expected)}`);
    }
    expected = expected.slice(1);
  }
  if (!shapesCompatible(expected, produced)) {
    throw pipelineError('INVALID_SHAPE', `Shape mismatch between: dependant node: ${consumer.name}; input: ${input.name}; shape: ${formatShape(input.shape)} vs dependency node: ${producer.name}; output: ${output.name}; shape: ${formatShape(output.shape)}`);
  }
  if (input.dtype !== output.dtype) {
    throw pipelineError('INVALID_PRECISION', `Precision mismatch between: dependant node: ${consumer.name}; input: ${input.name}; precision: ${input.dtype} vs dependency node: ${producer.name}; output: ${output.name}; precision: ${output.dtype}`);
  }
}

export function shapesCompatible(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x >= 0 && y >= 0 && x !== y) return false;
  }
  return true;
}

/**
 * Depth-first from `response` along dependencies: a node met again while still on the path is a
 * cycle; a node never met does not contribute to the response. Returns dependencies-first order.
 */
function dependencyOrder(config: PipelineConfig): string[] {
  const deps = new Map<string, string[]>();
  deps.set(ENTRY_NODE, []);
  for (const node of config.nodes) deps.set(node.name, unique(node.inputs.map((c) => c.sourceNode)));
  deps.set(EXIT_NODE, unique(config.outputs.map((c) => c.sourceNode)));

  const order: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  // Iterative DFS: a hostile config cannot blow the stack with a long chain.
  const stack: { name: string; next: number }[] = [{ name: EXIT_NODE, next: 0 }];
  state.set(EXIT_NODE, 'open');
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const list = deps.get(top.name)!;
    if (top.next < list.length) {
      const dep = list[top.next++]!;
      const s = state.get(dep);
      if (s === 'open') {
        const path = stack.slice(stack.findIndex((f) => f.name === dep)).map((f) => f.name).reverse();
        throw pipelineError('PIPELINE_CYCLE_FOUND', dep === top.name ? `node: ${dep} is connected to itself` : `nodes: ${path.join(', ')}`);
      }
      if (s === undefined) {
        state.set(dep, 'open');
        stack.push({ name: dep, next: 0 });
      }
      continue;
    }
    state.set(top.name, 'done');
    order.push(top.name);
    stack.pop();
  }
  const unconnected = [...deps.keys()].filter((n) => !state.has(n));
  if (unconnected.length > 0) throw pipelineError('PIPELINE_CONTAINS_UNCONNECTED_NODES', `nodes: ${unconnected.join(', ')}`);
  return order;
}

interface Level {
  readonly input: readonly string[];
  readonly output: readonly string[];
}

function demultiplexingLevels(config: PipelineConfig, nodes: ReadonlyMap<string, NodeConfig>, order: readonly string[]): Map<string, Level> {
  const levels = new Map<string, Level>();
  levels.set(ENTRY_NODE, { input: [], output: config.demultiplyCount !== undefined ? [ENTRY_NODE] : [] });
  const lifo = (details: string) => pipelineError('PIPELINE_WRONG_DEMULTIPLEXER_GATHER_NODES_ORDER', details);
  for (const name of order) {
    if (name === ENTRY_NODE) continue;
    const node = nodes.get(name);
    const connections = node ? node.inputs : config.outputs;
    let incoming: readonly string[] | undefined;
    for (const c of connections) {
      const l = levels.get(c.sourceNode)!.output;
      if (incoming === undefined) incoming = l;
      else if (!sameLevel(incoming, l)) {
        throw lifo(`inputs of node: ${name} come from different demultiplexing levels: ${describeLevel(incoming)} and ${describeLevel(l)}`);
      }
    }
    let input = incoming ?? [];
    if (node?.gatherFrom !== undefined) {
      if (input[input.length - 1] !== node.gatherFrom) {
        throw lifo(`node: ${name} gathers from: ${node.gatherFrom}, but its inputs are at level ${describeLevel(input)}`);
      }
      input = input.slice(0, -1);
    }
    const output = node?.demultiplyCount !== undefined ? [...input, name] : input;
    levels.set(name, { input, output });
  }
  return levels;
}

function sameLevel(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function describeLevel(level: readonly string[]): string {
  return level.length === 0 ? '(not demultiplexed)' : `(${level.join(' > ')})`;
}

/**
 * Pipeline inputs take their metadata from the node inputs they feed; two nodes asking for
 * different metadata make the input ambiguous. Inputs only passed through to the response accept
 * anything. A demultiplexing pipeline takes one more leading dimension.
 */
function pipelineInputs(config: PipelineConfig, specs: ReadonlyMap<string, NodeSpecs>): { inputs: TensorSpec[]; unspecifiedInputs: Set<string> } {
  const found = new Map<string, TensorSpec>();
  const passthrough = new Set<string>();
  for (const node of config.nodes) {
    for (const c of node.inputs) {
      if (c.sourceNode !== ENTRY_NODE) continue;
      const spec = specs.get(node.name)!.inputs.get(c.input)!;
      const previous = found.get(c.sourceItem);
      if (previous && (previous.dtype !== spec.dtype || !sameShape(previous.shape, spec.shape))) {
        throw pipelineError('PIPELINE_INPUTS_AMBIGUOUS_METADATA',
          `input: ${c.sourceItem}: ${previous.dtype} ${formatShape(previous.shape)} vs ${spec.dtype} ${formatShape(spec.shape)} (node: ${node.name})`);
      }
      found.set(c.sourceItem, spec);
    }
  }
  for (const c of config.outputs) if (c.sourceNode === ENTRY_NODE && !found.has(c.sourceItem)) passthrough.add(c.sourceItem);
  const prefix = config.demultiplyCount === undefined ? [] : [config.demultiplyCount > 0 ? config.demultiplyCount : -1];
  const inputs: TensorSpec[] = [];
  for (const name of config.inputs) {
    const spec = found.get(name);
    if (spec) inputs.push({ name, dtype: spec.dtype, shape: [...prefix, ...spec.shape] });
    else if (passthrough.has(name)) inputs.push({ name, dtype: 'FP32', shape: [] });
  }
  return { inputs, unspecifiedInputs: passthrough };
}

/** Pipeline outputs: the producing node's output, with one leading dimension per level gathered at `response`. */
function pipelineOutputs(
  config: PipelineConfig,
  nodes: ReadonlyMap<string, NodeConfig>,
  specs: ReadonlyMap<string, NodeSpecs>,
  levels: ReadonlyMap<string, Level>,
  demultiplexers: ReadonlyMap<string, number>,
  inputs: readonly TensorSpec[],
): TensorSpec[] {
  const outputs: TensorSpec[] = [];
  for (const c of config.outputs) {
    const level = levels.get(c.sourceNode)!.output;
    const prefix = level.map((d) => {
      const count = demultiplexers.get(d)!;
      return count > 0 ? count : -1;
    });
    if (c.sourceNode === ENTRY_NODE) {
      // Passed through: the request input as sent (its own demultiplexing dim is already in it).
      const spec = inputs.find((s) => s.name === c.sourceItem);
      outputs.push({ name: c.input, dtype: spec?.dtype ?? 'FP32', shape: spec ? [...spec.shape] : [] });
      continue;
    }
    const source = nodes.get(c.sourceNode)!;
    const spec = specs.get(source.name)!.outputs.get(source.outputs.get(c.sourceItem)!)!;
    const shard = source.demultiplyCount !== undefined ? spec.shape.slice(1) : spec.shape;
    outputs.push({ name: c.input, dtype: spec.dtype, shape: [...prefix, ...shard] });
  }
  return outputs;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function byName(specs: readonly TensorSpec[]): Map<string, TensorSpec> {
  return new Map(specs.map((s) => [s.name, s] as const));
}

function unique<T>(list: readonly T[]): T[] {
  return [...new Set(list)];
}

const knownDTypes = new Set<string>(allDTypes);

/**
 * A custom node's getInputsInfo/getOutputsInfo result as TensorSpecs; anything malformed is the
 * library's fault (NODE_LIBRARY_METADATA_FAILED). OVMS marks a dynamic dimension with 0; -1 works too.
 */
export function specsFromLibraryInfo(nodeName: string, what: string, info: unknown): TensorSpec[] {
  const bad = (why: string) => pipelineError('NODE_LIBRARY_METADATA_FAILED', `node: ${nodeName}; ${what}: ${why}`);
  if (!Array.isArray(info)) throw bad('did not return an array');
  const out: TensorSpec[] = [];
  const names = new Set<string>();
  for (const item of info as unknown[]) {
    const t = item as { name?: unknown; dtype?: unknown; shape?: unknown };
    if (typeof t?.name !== 'string' || t.name === '') throw bad('a tensor has no name');
    if (names.has(t.name)) throw bad(`tensor ${t.name} is listed twice`);
    names.add(t.name);
    if (typeof t.dtype !== 'string' || !knownDTypes.has(t.dtype)) throw bad(`tensor ${t.name} has unknown dtype ${String(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= -1)) {
      throw bad(`tensor ${t.name} has an invalid shape`);
    }
    out.push({ name: t.name, dtype: t.dtype as DType, shape: (t.shape as number[]).map((d) => (d <= 0 ? -1 : d)) });
  }
  return out;
}

