/**
 * Edits an ONNX model before its session is created: fixed input dimensions (OVMS `shape` /
 * `batch_size`, and `auto` reloads), a transpose between the client's and the model's layout
 * (`layout: "NHWC:NCHW"`), and `(x - mean) / scale` normalisation. Everything is done by adding
 * ordinary ONNX nodes, so onnxruntime runs it in the session's own thread with no JS copy.
 */
import onnxProto from 'onnx-proto';
import { fromOnnx } from '../../core/dtype.js';
import { servingError } from '../../core/errors.js';
import { formatShape, type TensorSpec } from '../../core/tensor.js';
import type { LayoutChange, Normalization, RuntimeOptions } from '../engine.js';

const { onnx } = onnxProto;
type Model = onnxProto.onnx.ModelProto;
type Graph = onnxProto.onnx.IGraphProto;
type ValueInfo = onnxProto.onnx.IValueInfoProto;
type Dim = onnxProto.onnx.TensorShapeProto.IDimension;

/** Marks names this module adds, so they never collide with the model's own. */
const PREFIX = 'tsms__';

export function decodeModel(bytes: Uint8Array): Model {
  return onnx.ModelProto.decode(bytes);
}

/** The settings that need the model to be edited. */
export function needsRewrite(options: RuntimeOptions): boolean {
  return Object.keys(options.inputShapes ?? {}).length > 0
    || Object.keys(options.layouts ?? {}).length > 0
    || Object.keys(options.normalization ?? {}).length > 0;
}

/** Graph inputs that are not initializers (some exporters list weights as inputs too). */
function realInputs(graph: Graph): ValueInfo[] {
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  return (graph.input ?? []).filter((i) => !weights.has(i.name));
}

function dimOf(d: Dim): number {
  // Decoded messages keep unset fields on the prototype, so only an own dimValue is a fixed size.
  if (!Object.hasOwn(d, 'dimValue') || d.dimValue === undefined || d.dimValue === null) return -1;
  const v = d.dimValue as unknown;
  const n = typeof v === 'number' ? v : Number(String(v));
  return Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

function specOf(v: ValueInfo): TensorSpec {
  const tensor = v.type?.tensorType;
  const dtype = tensor?.elemType !== undefined && tensor.elemType !== null ? fromOnnx(tensor.elemType) : undefined;
  if (!tensor || !dtype) throw new Error(`${v.name} is not a tensor of a supported element type`);
  return { name: v.name ?? '', dtype, shape: (tensor.shape?.dim ?? []).map(dimOf) };
}

/** The model's own inputs and outputs; symbolic dimensions are -1. */
export function graphSpecs(model: Model): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  const graph = model.graph;
  if (!graph) throw new Error('the ONNX file has no graph');
  return { inputs: realInputs(graph).map(specOf), outputs: (graph.output ?? []).map(specOf) };
}

/**
 * Returns the edited model's bytes, and whether any input dimension changed. Throws RESHAPE_ERROR when a requested shape cannot apply (an
 * unknown input, another rank), and a plain error for a layout or normalisation that does not fit.
 */
export function rewriteModel(model: Model, options: RuntimeOptions): { bytes: Uint8Array; reshaped: boolean } {
  const graph = model.graph!;
  const inputs = new Map(realInputs(graph).map((v) => [v.name!, v]));
  const outputs = new Map((graph.output ?? []).map((v) => [v.name!, v]));
  let reshaped = false;

  for (const [name, shape] of Object.entries(options.inputShapes ?? {})) {
    const input = inputs.get(name);
    if (!input) throw servingError('RESHAPE_ERROR', `the model has no input named ${name}`);
    const dims = input.type!.tensorType!.shape?.dim ?? [];
    if (dims.length !== shape.length) {
      throw servingError('RESHAPE_ERROR', `input ${name} has ${dims.length} dimensions ${formatShape(dims.map(dimOf))}, the requested shape ${formatShape(shape)} has ${shape.length}`);
    }
    const next = shape.map((d, i) => (d >= 0 ? { dimValue: d } : dims[i]!));
    if (next.some((d, i) => dimOf(d) !== dimOf(dims[i]!))) reshaped = true;
    input.type!.tensorType!.shape = { dim: next };
  }
  if (reshaped) loosenDeclaredShapes(graph);

  const prepend: onnxProto.onnx.INodeProto[] = [];
  for (const [name, input] of inputs) {
    const layout = options.layouts?.[name];
    const norm = options.normalization?.[name];
    if (!layout && !norm) continue;
    // The graph input keeps its name (clients use it); the model's nodes read a renamed tensor.
    const inner = `${PREFIX}${name}`;
    renameUses(graph, name, inner);
    let current = name;
    if (layout) {
      const perm = permutation(layout.client, layout.model, `input ${name}`);
      const modelDims = input.type!.tensorType!.shape?.dim ?? [];
      checkRank(modelDims.length, layout, `input ${name}`);
      // The client's dim j is the model's dim at the position of the client's j-th letter.
      input.type!.tensorType!.shape = { dim: [...layout.client].map((letter) => modelDims[layout.model.indexOf(letter)]!) };
      const out = norm ? `${inner}__model_layout` : inner;
      prepend.push({ name: `${inner}__transpose`, opType: 'Transpose', input: [current], output: [out], attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: perm }] });
      current = out;
    }
    if (norm) {
      const spec = specOf(input);
      if (spec.dtype !== 'FP32') throw new Error(`mean/scale need an FP32 input; ${name} is ${spec.dtype}`);
      const rank = layout ? layout.model.length : spec.shape.length;
      const modelShape = layout ? [...layout.model].map((l) => spec.shape[layout.client.indexOf(l)]!) : spec.shape;
      const [meanT, scaleT] = normalizationTensors(inner, norm, rank, modelShape, name);
      graph.initializer = [...(graph.initializer ?? []), meanT, scaleT];
      prepend.push({ name: `${inner}__sub`, opType: 'Sub', input: [current, meanT.name!], output: [`${inner}__centred`] });
      prepend.push({ name: `${inner}__div`, opType: 'Div', input: [`${inner}__centred`, scaleT.name!], output: [inner] });
    }
  }

  const append: onnxProto.onnx.INodeProto[] = [];
  for (const [name, layout] of Object.entries(options.layouts ?? {})) {
    if (inputs.has(name)) continue;
    const output = outputs.get(name);
    if (!output) throw new Error(`layout is set for ${name}, which is neither an input nor an output of the model`);
    const modelDims = output.type?.tensorType?.shape?.dim ?? [];
    checkRank(modelDims.length, layout, `output ${name}`);
    const inner = `${PREFIX}${name}`;
    renameUses(graph, name, inner, true);
    // Output side: the model produces its layout, the client reads its own.
    const perm = permutation(layout.model, layout.client, `output ${name}`);
    output.type!.tensorType!.shape = { dim: perm.map((p) => modelDims[p]!) };
    append.push({ name: `${inner}__transpose`, opType: 'Transpose', input: [inner], output: [name], attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: perm }] });
  }
  graph.node = [...prepend, ...(graph.node ?? []), ...append];
  return { bytes: onnx.ModelProto.encode(model).finish(), reshaped };
}

/**
 * After input dims change, declared output and intermediate shapes may be stale; fixed output
 * dims become symbolic so onnxruntime infers them anew (its metadata then reports the new sizes).
 */
function loosenDeclaredShapes(graph: Graph): void {
  graph.valueInfo = [];
  (graph.output ?? []).forEach((o, i) => {
    const shape = o.type?.tensorType?.shape;
    if (!shape?.dim) return;
    shape.dim = shape.dim.map((d, j) => (dimOf(d) >= 0 ? { dimParam: `${PREFIX}out${i}_${j}` } : d));
  });
}

/** perm such that transposing a tensor in layout `from` gives layout `to`: out[i] = in[perm[i]]. */
function permutation(from: string, to: string, what: string): number[] {
  const perm = [...to].map((letter) => from.indexOf(letter));
  if (from.length !== to.length || perm.some((p) => p < 0)) throw new Error(`${what}: cannot transpose between layouts ${from} and ${to}`);
  return perm;
}

function checkRank(rank: number, layout: LayoutChange, what: string): void {
  if (rank !== layout.model.length) {
    throw new Error(`${what} has ${rank} dimensions; layout ${layout.client}:${layout.model} needs ${layout.model.length}`);
  }
}

function normalizationTensors(inner: string, norm: Normalization, rank: number, modelShape: readonly number[], input: string): [onnxProto.onnx.ITensorProto, onnxProto.onnx.ITensorProto] {
  const channels = Math.max(norm.mean.length, norm.scale.length);
  for (const [key, values] of [['mean', norm.mean], ['scale', norm.scale]] as const) {
    if (values.length !== 1 && values.length !== channels) throw new Error(`${key} for ${input} has ${values.length} values; expected 1 or ${channels}`);
  }
  let dims: number[] = [1];
  if (channels > 1) {
    const axis = norm.channelAxis;
    if (axis === undefined || axis < 0 || axis >= rank) throw new Error(`per-channel mean/scale for ${input} need its channel dimension (set layout, e.g. "NCHW")`);
    const c = modelShape[axis]!;
    if (c >= 0 && c !== channels) throw new Error(`mean/scale for ${input} have ${channels} values but the input has ${c} channels`);
    dims = Array.from({ length: rank }, (_, i) => (i === axis ? channels : 1));
  }
  const expand = (v: readonly number[]) => (v.length === channels ? v : new Array<number>(channels).fill(v[0]!));
  const tensor = (suffix: string, values: readonly number[]) => {
    const data = Float32Array.from(expand(values));
    return { name: `${inner}__${suffix}`, dataType: onnx.TensorProto.DataType.FLOAT, dims, rawData: new Uint8Array(data.buffer) };
  };
  return [tensor('mean', norm.mean), tensor('scale', norm.scale)];
}

/**
 * Points every reader of tensor `from` at `to` (nodes, nested subgraphs). With `producers`, the
 * node that writes `from` writes `to` instead (used to slip a transpose in front of an output).
 */
function renameUses(graph: Graph, from: string, to: string, producers = false): void {
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map((n) => (n === from ? to : n));
    if (producers) node.output = (node.output ?? []).map((n) => (n === from ? to : n));
    for (const attr of node.attribute ?? []) {
      if (attr.g) renameUses(attr.g, from, to);
      for (const g of attr.graphs ?? []) renameUses(g, from, to);
    }
  }
  if (!producers) return;
  // An output that is also a graph input or initializer directly (no producing node).
  for (const init of graph.initializer ?? []) if (init.name === from) init.name = to;
}
