/**
 * OpenVINO IR → ONNX model bytes. Walks the layers the Results need in dependency order, hands
 * each to its operation converter (ops/*), and serialises the graph once with buildOnnxModel.
 * Operations without an ONNX equivalent that are best done after the network (DetectionOutput)
 * become post stages: their inputs are extra ONNX outputs, and ir-model.ts runs them in TypeScript.
 */
import type { DType } from '../../core/dtype.js';
import type { TensorSpec } from '../../core/tensor.js';
import { buildOnnxModel, type ValueSpec } from '../onnx/model-builder.js';
import { dtypeOfElementType, dtypeOfPrecision } from './element-types.js';
import { IrImportError, layerError, unsupportedOp } from './errors.js';
import { type Dim, IrGraph, type IrLayer, type PortRef } from './ir-graph.js';
import type { OpContext, PostStageRequest } from './ops/context.js';
import { opTable } from './ops/index.js';
import { OnnxGraph } from './onnx-graph.js';
import { type ConstTensor, decodeConst, readConst } from './weights.js';
import { parseIrXml, parseShapeAttr } from './xml.js';

/** ONNX opset of the imported graph: Resize with `axes`, Reduce* with axes inputs, Split with num_outputs. */
export const IMPORT_OPSET = 18;

export interface ImportOptions {
  /** Input shapes to import with, by input name (OVMS `--shape`); the IR's own shapes otherwise. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
}

export interface PostStagePlan {
  readonly kind: PostStageRequest['kind'];
  readonly layerName: string;
  readonly attrs: Readonly<Record<string, string>>;
  /** ONNX graph outputs holding the stage's inputs, in the operation's input order. */
  readonly inputs: readonly string[];
  /** The model output the stage produces. */
  readonly output: string;
}

export interface ImportedIr {
  readonly model: Uint8Array;
  readonly inputs: readonly ValueSpec[];
  /** Every model output in IR order. */
  readonly outputs: readonly string[];
  /** The outputs as the IR declares them (-1 for dynamic sizes). */
  readonly outputSpecs: readonly TensorSpec[];
  readonly postStages: readonly PostStagePlan[];
  /** IR operation types met, for the load log. */
  readonly opCounts: Readonly<Record<string, number>>;
}

export function importIr(xml: string, bin: Uint8Array, options: ImportOptions = {}): ImportedIr {
  return new Importer(new IrGraph(parseIrXml(xml)), bin, options).run();
}

const portKey = (ref: PortRef): string => `${ref.layer.id}:${ref.port.id}`;

class Importer {
  readonly #graph: IrGraph;
  readonly #bin: Uint8Array;
  readonly #options: ImportOptions;
  readonly #onnx = new OnnxGraph();
  /** IR tensor (layer:port) → ONNX value name. */
  readonly #values = new Map<string, string>();
  readonly #types = new Map<string, DType>();
  readonly #consts = new Map<string, ConstTensor>();
  /** IR tensors produced by a post stage (only Results may read them). */
  readonly #postValues = new Map<string, { layer: IrLayer; request: PostStageRequest }>();
  readonly #inputs: ValueSpec[] = [];
  readonly #opCounts: Record<string, number> = {};

  constructor(graph: IrGraph, bin: Uint8Array, options: ImportOptions) {
    this.#graph = graph;
    this.#bin = bin;
    this.#options = options;
  }

  run(): ImportedIr {
    this.#declareInputs();
    for (const layer of this.#graph.neededInOrder()) {
      this.#opCounts[layer.type] = (this.#opCounts[layer.type] ?? 0) + 1;
      if (layer.type === 'Parameter' || layer.type === 'Const' || layer.type === 'Result') continue;
      for (let i = 0; i < layer.inputs.length; i++) {
        const ref = this.#graph.producer(layer, i);
        if (this.#postValues.has(portKey(ref))) {
          throw layerError(layer, `reads the output of ${ref.layer.type} layer "${ref.layer.name}", which tsms computes after the network: only a model output may use it`);
        }
      }
      const converter = opTable[layer.type];
      if (!converter || (converter.versions && !converter.versions.includes(layer.version))) throw unsupportedOp(layer);
      converter.convert(this.#context(layer));
    }
    return this.#finish();
  }

  #declareInputs(): void {
    const overrides = new Map(Object.entries(this.#options.inputShapes ?? {}));
    for (const layer of this.#graph.layers) {
      if (layer.type !== 'Parameter') continue;
      const port = layer.outputs[0];
      if (!port) throw layerError(layer, 'Parameter has no output port');
      const name = publicName(layer, 0);
      if (this.#onnx.isUsed(name)) throw layerError(layer, `a second model input is named "${name}"`);
      const et = layer.data.element_type ?? port.precision ?? 'f32';
      const dtype = dtypeOfElementType(et) ?? dtypeOfPrecision(et);
      if (!dtype) throw layerError(layer, `input element type "${et}" is not supported`);
      let dims: readonly Dim[] | undefined = layer.data.shape !== undefined ? parseShapeAttr(layer.data.shape) : port.dims;
      if (!dims) throw layerError(layer, 'inputs of dynamic rank are not supported');
      const wanted = overrides.get(name);
      if (wanted) {
        if (wanted.length !== dims.length) {
          throw new IrImportError(`input "${name}" has ${dims.length} dimensions; the requested shape [${wanted.join(',')}] has ${wanted.length}`);
        }
        const own = dims;
        // -1 keeps the model's own dimension, as for ONNX models.
        dims = wanted.map((d, i) => (d < 0 ? own[i]! : d));
        overrides.delete(name);
      }
      this.#onnx.reserve(name);
      const key = `${layer.id}:${port.id}`;
      this.#values.set(key, name);
      this.#types.set(key, dtype);
      this.#inputs.push({ name, dtype, shape: dims.map((d, i) => (d >= 0 ? d : `${name}_dim${i}`)) });
    }
    if (overrides.size > 0) {
      throw new IrImportError(`no model input is named ${[...overrides.keys()].map((n) => `"${n}"`).join(', ')} (inputs: ${this.#inputs.map((i) => i.name).join(', ')})`);
    }
  }

  #finish(): ImportedIr {
    const irVersion = this.#graph.net.irVersion;
    const outputs: string[] = [];
    const outputSpecs: TensorSpec[] = [];
    const onnxOutputs: ValueSpec[] = [];
    const postStages: PostStagePlan[] = [];
    const seen = new Map<string, string>();
    for (const result of this.#graph.layers.filter((l) => l.type === 'Result')) {
      const ref = this.#graph.producer(result, 0);
      const name = publicName(ref.layer, ref.index);
      const key = portKey(ref);
      const previous = seen.get(name);
      if (previous !== undefined) {
        if (previous === key) continue;
        throw layerError(result, `a second model output is named "${name}"`);
      }
      seen.set(name, key);
      outputs.push(name);
      outputSpecs.push({ name, dtype: this.#typeOf(ref), shape: ref.port.dims });
      const post = this.#postValues.get(key);
      if (post) {
        postStages.push(this.#postStage(post.layer, post.request, name));
        continue;
      }
      const value = this.#value(ref);
      if (value !== name) {
        if (this.#onnx.isUsed(name)) throw layerError(result, `output name "${name}" is also the name of a model input`);
        this.#onnx.reserve(name);
        this.#onnx.op('Identity', [value], undefined, name);
      }
      onnxOutputs.push({ name, dtype: this.#typeOf(ref), shape: symbolicDims(name, ref.port.dims) });
    }
    for (const stage of postStages) {
      for (const input of stage.inputs) onnxOutputs.push(this.#postInputSpec(input));
    }
    const model = buildOnnxModel({
      name: this.#graph.net.name || 'openvino_ir',
      inputs: this.#inputs,
      outputs: onnxOutputs,
      nodes: this.#onnx.nodes,
      initializers: this.#onnx.initializers,
      opset: IMPORT_OPSET,
      docString: `Imported by tsms from OpenVINO IR v${irVersion} "${this.#graph.net.name}"`,
    });
    return { model, inputs: this.#inputs, outputs, outputSpecs, postStages, opCounts: this.#opCounts };
  }

  readonly #postInputSpecs = new Map<string, ValueSpec>();

  #postInputSpec(name: string): ValueSpec {
    return this.#postInputSpecs.get(name)!;
  }

  #postStage(layer: IrLayer, request: PostStageRequest, output: string): PostStagePlan {
    const inputs = request.inputs.map((value, k) => {
      const name = this.#onnx.reserve(`tsms.post.${layer.id}.${k}`);
      this.#onnx.op('Identity', [value], undefined, name);
      const ref = this.#graph.producer(layer, k);
      this.#postInputSpecs.set(name, { name, dtype: this.#typeOf(ref), shape: symbolicDims(name, ref.port.dims) });
      return name;
    });
    return { kind: request.kind, layerName: layer.name, attrs: request.attrs, inputs, output };
  }

  #typeOf(ref: PortRef): DType {
    const key = portKey(ref);
    const known = this.#types.get(key);
    if (known) return known;
    if (ref.layer.type === 'Const') return this.#const(ref.layer).dtype;
    const p = ref.port.precision && dtypeOfPrecision(ref.port.precision);
    if (p) return p;
    // Ports without a precision: operations that choose their output type say so in attributes,
    // comparisons give booleans, and the rest keep their first input's type.
    const declared = declaredOutputType(ref);
    if (declared) return declared;
    return ref.layer.inputs.length > 0 ? this.#typeOf(this.#graph.producer(ref.layer, 0)) : 'FP32';
  }

  #const(layer: IrLayer): ConstTensor {
    let c = this.#consts.get(layer.id);
    if (!c) {
      c = readConst(layer, this.#bin);
      this.#consts.set(layer.id, c);
    }
    return c;
  }

  /** The ONNX value of an IR tensor; a Const becomes an initializer the first time it is used. */
  #value(ref: PortRef): string {
    const key = portKey(ref);
    const known = this.#values.get(key);
    if (known) return known;
    if (ref.layer.type === 'Const') {
      const c = this.#const(ref.layer);
      const name = this.#onnx.reserve(`ir/${ref.layer.id}.${ref.port.id}`);
      this.#onnx.initializer(name, c.dtype, c.shape, c.bytes);
      this.#values.set(key, name);
      return name;
    }
    throw layerError(ref.layer, `output port ${ref.port.id} is used before it was converted`);
  }

  #context(layer: IrLayer): OpContext {
    const graph = this.#graph;
    const onnx = this.#onnx;
    const self = this;
    const fail = (problem: string): never => {
      throw layerError(layer, problem);
    };
    const attr = (name: string): string | undefined => layer.data[name];
    const required = (name: string): string => attr(name) ?? fail(`attribute "${name}" is missing`);
    const num = (name: string, text: string): number => {
      const v = Number(text);
      if (!Number.isFinite(v) && !/^-?inf/i.test(text.trim())) fail(`attribute ${name}="${text}" is not a number`);
      return Number.isFinite(v) ? v : (text.trim().startsWith('-') ? -Infinity : Infinity);
    };
    const list = (name: string, text: string): number[] => (text.trim() === '' ? [] : text.split(',').map((t) => num(name, t)));
    const ctx: OpContext = {
      layer,
      graph: onnx,
      inputCount: layer.inputs.length,
      input: (i) => self.#value(graph.producer(layer, i)),
      inputDims: (i) => graph.producer(layer, i).port.dims,
      inputType: (i) => self.#typeOf(graph.producer(layer, i)),
      constInput(i) {
        if (i >= layer.inputs.length) return undefined;
        const ref = graph.producer(layer, i);
        return ref.layer.type === 'Const' ? decodeConst(self.#const(ref.layer), ref.layer) : undefined;
      },
      requireConst(i, what) {
        return ctx.constInput(i) ?? fail(`${what} (input ${i}) must be a constant; computed values are not supported`);
      },
      int64Input(i) {
        const values = ctx.constInput(i);
        if (values) return onnx.int64s(values, `${layer.name}/in${i}`);
        const v = ctx.input(i);
        const asInt = ctx.inputType(i) === 'INT64' ? v : onnx.op('Cast', [v], { to: 7 });
        return ctx.inputDims(i).length === 1 ? asInt : onnx.op('Reshape', [asInt, onnx.int64s([-1])]);
      },
      output(i) {
        const port = layer.outputs[i] ?? fail(`has no output ${i}`);
        const key = `${layer.id}:${port.id}`;
        let name = self.#values.get(key);
        if (!name) {
          name = onnx.reserve(`ir/${layer.id}.${port.id}`);
          self.#values.set(key, name);
        }
        return name;
      },
      outputUsed: (i) => graph.consumers(layer, i).length > 0,
      outputType: (i) => self.#typeOf({ layer, index: i, port: layer.outputs[i] ?? fail(`has no output ${i}`) }),
      outputDims: (i) => (layer.outputs[i] ?? fail(`has no output ${i}`)).dims,
      str: (name, fallback) => attr(name) ?? fallback ?? required(name),
      int(name, fallback) {
        const t = attr(name);
        if (t === undefined) return fallback ?? Number(required(name));
        const v = num(name, t);
        return Number.isInteger(v) ? v : fail(`attribute ${name}="${t}" is not an integer`);
      },
      float(name, fallback) {
        const t = attr(name);
        return t === undefined ? fallback ?? num(name, required(name)) : num(name, t);
      },
      bool(name, fallback) {
        const t = attr(name);
        if (t === undefined) return fallback ?? (required(name) === 'true');
        const s = t.trim().toLowerCase();
        if (s === 'true' || s === '1') return true;
        if (s === 'false' || s === '0') return false;
        return fail(`attribute ${name}="${t}" is not a boolean`);
      },
      ints(name, fallback) {
        const t = attr(name);
        if (t === undefined) return [...(fallback ?? list(name, required(name)))];
        const v = list(name, t);
        return v.every(Number.isInteger) ? v : fail(`attribute ${name}="${t}" is not a list of integers`);
      },
      floats(name, fallback) {
        const t = attr(name);
        return t === undefined ? [...(fallback ?? list(name, required(name)))] : list(name, t);
      },
      has: (name) => attr(name) !== undefined,
      fail,
      postStage(request) {
        for (let i = 1; i < layer.outputs.length; i++) if (ctx.outputUsed(i)) fail(`output ${i} is not supported`);
        for (const consumer of graph.consumers(layer, 0)) {
          if (consumer.type !== 'Result') fail(`its output feeds ${consumer.type} layer "${consumer.name}"; tsms computes ${layer.type} after the network, so only a model output may use it`);
        }
        self.#postValues.set(`${layer.id}:${layer.outputs[0]!.id}`, { layer, request });
      },
    };
    return ctx;
  }
}

const BOOLEAN_OPS = new Set(['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'LogicalAnd', 'LogicalOr', 'LogicalXor', 'LogicalNot']);

function declaredOutputType(ref: PortRef): DType | undefined {
  const { layer, index } = ref;
  const attr = (name: string, fallback?: string): DType | undefined => {
    const v = layer.data[name] ?? fallback;
    return v === undefined ? undefined : dtypeOfElementType(v);
  };
  if (BOOLEAN_OPS.has(layer.type)) return 'BOOL';
  switch (layer.type) {
    case 'Convert': return attr('destination_type');
    case 'ShapeOf': case 'NonZero': return attr('output_type', 'i64');
    case 'Range': return layer.version === 'opset4' ? attr('output_type') : undefined;
    case 'TopK': return index === 1 ? attr('index_element_type', 'i32') : undefined;
    case 'MaxPool': return index === 1 ? attr('index_element_type', 'i64') : undefined;
    case 'PriorBox': case 'PriorBoxClustered': case 'DetectionOutput': return 'FP32';
    default: return undefined;
  }
}

/**
 * The name OVMS shows for a tensor: its first port name (IR v11), else — as OpenVINO names v10
 * tensors — the producing layer's name, with ".<port>" when that layer has several outputs.
 */
export function publicName(layer: IrLayer, index: number): string {
  const port = layer.outputs[index]!;
  if (port.names.length > 0) return [...port.names].sort()[0]!;
  return layer.outputs.length === 1 ? layer.name : `${layer.name}.${port.id}`;
}

/** The rank is known; sizes are left to onnxruntime's shape inference, which fills them in when it can. */
function symbolicDims(name: string, dims: readonly Dim[]): string[] {
  return dims.map((_d, i) => `${name}_dim${i}`);
}
