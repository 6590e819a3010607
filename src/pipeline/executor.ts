/**
 * Runs one request through a validated pipeline.
 *
 * Event-driven, as OVMS's scheduler: a node instance starts as soon as every tensor it needs is
 * there, so independent branches and the branches of a demultiplexer run at the same time (model
 * nodes then queue for their model's nireq slots). A node at demultiplexing level [A, B] runs once
 * per shard path [i, j]; its instances are keyed by that path.
 *
 * Tensors are handed on by reference: a node's input is the very object its producer returned, a
 * demultiplexed shard is a view of the producer's memory. Only gathering copies (into one tensor),
 * and not even that when the shards are still back to back in memory.
 *
 * The first failure ends the request: the others are told through the abort signal and their
 * results are dropped; the client gets that failure, naming the node.
 */
import { ServingError, servingError, toServingError } from '../core/errors.js';
import type { Tensor, TensorMap } from '../core/tensor.js';
import { ENTRY_NODE, EXIT_NODE } from './definition.js';
import { splitTensor, stackTensors } from './demultiplex.js';
import { atNode, PipelineError, pipelineError } from './status.js';
import { MAX_DEMULTIPLY_COUNT, type ValidatedNode, type ValidatedPipeline } from './validate.js';

/**
 * A node's outputs by the model's (or library's) output names. A demultiplexer may give an output
 * as its list of branch tensors instead of one tensor to split (custom nodes with ragged items).
 */
export type NodeOutputs = ReadonlyMap<string, Tensor | readonly Tensor[]>;

/** Runs the model and custom nodes; the executor only moves tensors and decides when. */
export interface NodeRunner {
  /** Resolves with the requested outputs. */
  run(node: ValidatedNode, inputs: TensorMap, outputNames: readonly string[], signal: AbortSignal): Promise<NodeOutputs>;
}

type Path = readonly number[];
const keyOf = (path: Path) => path.join('.');

interface Instance {
  readonly node: ValidatedNode;
  readonly path: Path;
  /** Dependencies not yet complete. */
  waiting: number;
  /** Shards received so far per gathered dependency. */
  readonly received: Map<string, number>;
}

export function executePipeline(pipeline: ValidatedPipeline, inputs: TensorMap, runner: NodeRunner, signal?: AbortSignal): Promise<TensorMap> {
  return new Execution(pipeline, runner, signal).run(inputs);
}

class Execution {
  /** node → shard path → outputs by alias. */
  private readonly results = new Map<string, Map<string, Map<string, Tensor>>>();
  /** demultiplexer → the path it ran at → how many shards it produced. */
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly instances = new Map<string, Instance>();
  private readonly controller = new AbortController();
  private running = 0;
  private finished = false;
  private resolve!: (outputs: TensorMap) => void;
  private reject!: (err: unknown) => void;
  private readonly onExternalAbort = () => this.fail(servingError('REQUEST_CANCELLED'));

  constructor(private readonly pipeline: ValidatedPipeline, private readonly runner: NodeRunner, private readonly signal?: AbortSignal) {}

  run(inputs: TensorMap): Promise<TensorMap> {
    const done = new Promise<TensorMap>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (this.signal?.aborted) {
      this.fail(servingError('REQUEST_CANCELLED'));
      return done;
    }
    this.signal?.addEventListener('abort', this.onExternalAbort, { once: true });
    try {
      const entry = this.pipeline.nodes.get(ENTRY_NODE)!;
      this.produced(entry, [], inputs);
      // Nodes without inputs (a custom node generating data) start at once.
      for (const node of this.pipeline.nodes.values()) {
        if (node.kind !== 'entry' && node.kind !== 'exit' && node.dependencies.length === 0) this.instance(node, []);
      }
      this.settleIfIdle();
    } catch (err) {
      this.fail(err);
    }
    return done;
  }

  /** Stores `outputs` of `node` run at `path` (splitting a demultiplexer's) and notifies consumers. */
  private produced(node: ValidatedNode, path: Path, outputs: NodeOutputs): void {
    if (node.demultiplyCount === undefined) {
      this.store(node, path, outputs as ReadonlyMap<string, Tensor>);
      return;
    }
    const count = this.shardCount(node, outputs);
    if (!this.counts.has(node.name)) this.counts.set(node.name, new Map());
    this.counts.get(node.name)!.set(keyOf(path), count);
    const shards = new Map<string, readonly Tensor[]>();
    for (const [alias, value] of outputs) shards.set(alias, Array.isArray(value) ? value : splitTensor(value as Tensor));
    for (let i = 0; i < count; i++) {
      const shard = new Map<string, Tensor>();
      for (const [alias, list] of shards) shard.set(alias, list[i]!);
      this.store(node, [...path, i], shard);
    }
  }

  /** How many branches a demultiplexer opens; checks its outputs agree (OVMS's runtime checks). */
  private shardCount(node: ValidatedNode, outputs: NodeOutputs): number {
    let count: number | undefined;
    for (const [alias, value] of outputs) {
      let first: number;
      if (Array.isArray(value)) {
        first = value.length;
      } else {
        const t = value as Tensor;
        if (t.shape.length < 1) {
          throw pipelineError('PIPELINE_WRONG_NUMBER_OF_DIMENSIONS_TO_DEMULTIPLY', `node: ${node.name}; output: ${alias} is a scalar`);
        }
        first = t.shape[0]!;
      }
      if (count === undefined) count = first;
      else if (first !== count) {
        throw pipelineError('PIPELINE_WRONG_DIMENSION_SIZE_TO_DEMULTIPLY', `node: ${node.name}; outputs have different first dimensions: ${count} and ${first}`);
      }
    }
    count ??= 0;
    const configured = node.demultiplyCount!;
    if (configured > 0 && count !== configured) {
      throw pipelineError('PIPELINE_WRONG_DIMENSION_SIZE_TO_DEMULTIPLY', `node: ${node.name}; demultiply_count: ${configured}; actual: ${count}`);
    }
    if (count > MAX_DEMULTIPLY_COUNT) {
      throw pipelineError('PIPELINE_TOO_LARGE_DIMENSION_SIZE_TO_DEMULTIPLY', `node: ${node.name}; count: ${count}; allowed: ${MAX_DEMULTIPLY_COUNT}`);
    }
    if (count === 0) throw pipelineError('PIPELINE_DEMULTIPLEXER_NO_RESULTS', `node: ${node.name}`);
    return count;
  }

  private store(node: ValidatedNode, path: Path, outputs: ReadonlyMap<string, Tensor>): void {
    if (!this.results.has(node.name)) this.results.set(node.name, new Map());
    this.results.get(node.name)!.set(keyOf(path), new Map(outputs));
    for (const consumerName of node.consumers) {
      if (consumerName === EXIT_NODE) continue; // assembled once everything has run
      const consumer = this.pipeline.nodes.get(consumerName)!;
      if (consumer.gatherFrom !== undefined) {
        const target = path.slice(0, -1);
        const inst = this.instance(consumer, target);
        const got = (inst.received.get(node.name) ?? 0) + 1;
        inst.received.set(node.name, got);
        if (got === this.count(consumer.gatherFrom, target)) this.satisfied(inst);
      } else {
        this.satisfied(this.instance(consumer, path));
      }
    }
  }

  private count(demultiplexer: string, path: Path): number {
    return this.counts.get(demultiplexer)!.get(keyOf(path))!;
  }

  private instance(node: ValidatedNode, path: Path): Instance {
    const key = `${node.name}\0${keyOf(path)}`;
    let inst = this.instances.get(key);
    if (!inst) {
      inst = { node, path, waiting: node.dependencies.length, received: new Map() };
      this.instances.set(key, inst);
      if (inst.waiting === 0) this.start(inst);
    }
    return inst;
  }

  private satisfied(inst: Instance): void {
    if (--inst.waiting === 0) this.start(inst);
  }

  private start(inst: Instance): void {
    if (this.finished) return;
    this.instances.delete(`${inst.node.name}\0${keyOf(inst.path)}`);
    this.running++;
    // Through a microtask: a chain of synchronous custom nodes must not nest on the stack.
    Promise.resolve()
      .then(() => this.execute(inst))
      .then(
        (outputs) => {
          this.running--;
          if (this.finished) return;
          this.produced(inst.node, inst.path, outputs);
          this.settleIfIdle();
        },
        (err: unknown) => {
          this.running--;
          this.fail(err);
        },
      )
      .catch((err: unknown) => this.fail(err));
  }

  private async execute(inst: Instance): Promise<NodeOutputs> {
    const { node, path } = inst;
    const inputs: TensorMap = new Map();
    for (const c of node.connections) inputs.set(c.input, this.inputTensor(node, c.sourceNode, c.sourceItem, path));
    const outputNames = [...new Set(node.usedOutputs.values())];
    let produced: NodeOutputs;
    try {
      if (this.controller.signal.aborted) throw servingError('REQUEST_CANCELLED');
      produced = await this.runner.run(node, inputs, outputNames, this.controller.signal);
    } catch (err) {
      const e = toServingError(err);
      throw e instanceof PipelineError || e.status === 'REQUEST_CANCELLED' ? e : atNode(e, node.name);
    }
    const byAlias = new Map<string, Tensor | readonly Tensor[]>();
    for (const [alias, realName] of node.usedOutputs) byAlias.set(alias, produced.get(realName)!);
    return byAlias;
  }

  /** The tensor a node input gets: the producer's output at this path, or its shards stacked. */
  private inputTensor(node: ValidatedNode, source: string, alias: string, path: Path): Tensor {
    if (node.gatherFrom === undefined) return this.output(source, alias, path);
    const n = this.count(node.gatherFrom, path);
    const shards: Tensor[] = [];
    for (let i = 0; i < n; i++) shards.push(this.output(source, alias, [...path, i]));
    return stackTensors(shards, `node: ${node.name} gathering ${source}:${alias}`);
  }

  private output(node: string, alias: string, path: Path): Tensor {
    const t = this.results.get(node)?.get(keyOf(path))?.get(alias);
    if (!t) throw servingError('INTERNAL_ERROR', `pipeline ${this.pipeline.name}: no ${node}:${alias} at shard ${keyOf(path) || '(top)'}`);
    return t;
  }

  private settleIfIdle(): void {
    if (this.finished || this.running > 0) return;
    if (this.instances.size > 0) {
      const stuck = [...this.instances.values()].map((i) => i.node.name).join(', ');
      this.fail(servingError('INTERNAL_ERROR', `pipeline ${this.pipeline.name}: nodes never got their inputs: ${stuck}`));
      return;
    }
    try {
      this.finish(this.assembleResponse());
    } catch (err) {
      this.fail(err);
    }
  }

  /** Pipeline outputs: each gathered over every level still open at `response`. */
  private assembleResponse(): TensorMap {
    const exit = this.pipeline.nodes.get(EXIT_NODE)!;
    const out: TensorMap = new Map();
    for (const c of exit.connections) {
      const gather = (path: number[], depth: number): Tensor => {
        if (depth === exit.level.length) return this.output(c.sourceNode, c.sourceItem, path);
        const n = this.count(exit.level[depth]!, path);
        const shards: Tensor[] = [];
        for (let i = 0; i < n; i++) shards.push(gather([...path, i], depth + 1));
        return stackTensors(shards, `output: ${c.input}`);
      };
      out.set(c.input, gather([], 0));
    }
    return out;
  }

  private finish(outputs: TensorMap): void {
    if (this.finished) return;
    this.finished = true;
    this.signal?.removeEventListener('abort', this.onExternalAbort);
    this.resolve(outputs);
  }

  private fail(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.signal?.removeEventListener('abort', this.onExternalAbort);
    this.controller.abort();
    this.reject(err instanceof ServingError ? err : toServingError(err));
  }
}
