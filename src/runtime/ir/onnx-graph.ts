/**
 * The ONNX graph being built while importing an IR: nodes, initializers and unique value names.
 * It is serialised once by `buildOnnxModel`; initializer bytes stay views into the .bin until then.
 */
import type { DType } from '../../core/dtype.js';
import type { AttributeValue, InitializerSpec, NodeSpec } from '../onnx/model-builder.js';

export type Attrs = Readonly<Record<string, AttributeValue>>;

export class OnnxGraph {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];
  readonly #used = new Set<string>();
  #counter = 0;

  /** Reserves `name` (a public input or output name, or an internal tensor name). */
  reserve(name: string): string {
    this.#used.add(name);
    return name;
  }

  isUsed(name: string): boolean {
    return this.#used.has(name);
  }

  /** A new value name that nothing else uses. */
  fresh(hint: string): string {
    let name: string;
    do name = `${hint}~${this.#counter++}`; while (this.#used.has(name));
    return this.reserve(name);
  }

  /** Adds a node; returns its output names (`outputs` as a count makes fresh names). */
  node(op: string, inputs: readonly string[], outputs: readonly string[] | number = 1, attributes?: Attrs, hint = op): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(hint)) : [...outputs];
    this.nodes.push({ op, inputs: [...inputs], outputs: outs, attributes, name: `${hint}#${this.nodes.length}` });
    return outs;
  }

  /** Adds a node with one output and returns that output's name. */
  op(op: string, inputs: readonly string[], attributes?: Attrs, output?: string): string {
    return this.node(op, inputs, output === undefined ? 1 : [output], attributes)[0]!;
  }

  initializer(name: string, dtype: DType, shape: readonly number[], values: readonly number[] | Uint8Array): string {
    this.initializers.push({ name, dtype, shape, values });
    return name;
  }

  /** A new constant tensor. */
  constant(dtype: DType, shape: readonly number[], values: readonly number[] | Uint8Array, hint = 'const'): string {
    return this.initializer(this.fresh(hint), dtype, shape, values);
  }

  int64s(values: readonly number[], hint = 'i64'): string {
    return this.constant('INT64', [values.length], values, hint);
  }

  /** A rank-0 tensor. */
  scalar(dtype: DType, value: number, hint = 'scalar'): string {
    return this.constant(dtype, [], [value], hint);
  }

  floats(values: readonly number[], shape: readonly number[] = [values.length], hint = 'f32'): string {
    return this.constant('FP32', shape, values, hint);
  }
}
