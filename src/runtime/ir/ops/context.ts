/**
 * What an operation converter sees of the import: its layer, its inputs as ONNX values, constant
 * inputs as numbers, its attributes, and the ONNX graph to add nodes to.
 */
import type { DType } from '../../../core/dtype.js';
import type { Dim, IrLayer } from '../ir-graph.js';
import type { OnnxGraph } from '../onnx-graph.js';

export interface OpContext {
  readonly layer: IrLayer;
  readonly graph: OnnxGraph;
  readonly inputCount: number;
  /** ONNX value feeding input i. */
  input(i: number): string;
  /** The IR's static dims of input i (sizes may be stale when the model was imported with other input shapes; ranks are not). */
  inputDims(i: number): readonly Dim[];
  inputType(i: number): DType;
  /** Values of input i when it comes straight from a Const layer, else undefined. */
  constInput(i: number): number[] | undefined;
  /** Values of input i, which must be a Const (e.g. a Transpose order): fails the import otherwise. */
  requireConst(i: number, what: string): number[];
  /** Input i as a 1-D int64 tensor (ONNX wants int64 for axes, shapes, pads; IR often has i32 or scalars). */
  int64Input(i: number): string;
  /** The ONNX name to give output i. */
  output(i: number): string;
  outputUsed(i: number): boolean;
  outputType(i: number): DType;
  outputDims(i: number): readonly Dim[];

  /** Attribute helpers over the layer's `<data>`; a missing required attribute fails the import. */
  str(name: string, fallback?: string): string;
  int(name: string, fallback?: number): number;
  float(name: string, fallback?: number): number;
  bool(name: string, fallback?: boolean): boolean;
  ints(name: string, fallback?: readonly number[]): number[];
  floats(name: string, fallback?: readonly number[]): number[];
  has(name: string): boolean;

  /** Fails the import with a message naming this layer. */
  fail(problem: string): never;
  /** Hands a value to a TypeScript stage that runs after onnxruntime (see post/*). */
  postStage(stage: PostStageRequest): void;
}

/** A computation done in TypeScript on onnxruntime's outputs (DetectionOutput). */
export interface PostStageRequest {
  readonly kind: 'DetectionOutput';
  /** ONNX values the stage reads, in the operation's input order. */
  readonly inputs: readonly string[];
  readonly attrs: Readonly<Record<string, string>>;
}

export interface OpConverter {
  /** Opsets this converter understands (the layer's `version`); undefined = any. */
  readonly versions?: readonly string[];
  convert(ctx: OpContext): void;
}

export type OpTable = Readonly<Record<string, OpConverter>>;
