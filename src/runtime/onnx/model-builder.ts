/**
 * Builds small ONNX models in memory. Used for the built-in default repository, for the test and
 * benchmark models the project generates itself, and later for rewriting input shapes.
 */
import onnxProto from 'onnx-proto';
import { type DType, dtypeInfo } from '../../core/dtype.js';

const { onnx } = onnxProto;

export interface ValueSpec {
  readonly name: string;
  readonly dtype: DType;
  /** Numbers are fixed sizes; strings are symbolic (dynamic) dimension names. */
  readonly shape: readonly (number | string)[];
}

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

/**
 * A node attribute. A plain number is INT when it is an integer, else FLOAT; `{ float }` and
 * `{ floats }` force FLOAT/FLOATS (an attribute like Elu's alpha = 1 must stay a float).
 */
export type AttributeValue =
  | number | string | readonly number[]
  | { readonly float: number } | { readonly floats: readonly number[] } | { readonly tensor: InitializerSpec };

export interface InitializerSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Raw little-endian bytes, or numbers converted to the dtype. */
  readonly values: readonly number[] | Uint8Array;
}

export interface GraphSpec {
  readonly name?: string;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly initializers?: readonly InitializerSpec[];
  readonly opset?: number;
  readonly docString?: string;
}

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: dtypeInfo(v.dtype).onnx,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensorProto(t: InitializerSpec): onnxProto.onnx.ITensorProto {
  const info = dtypeInfo(t.dtype);
  let raw: Uint8Array;
  if (t.values instanceof Uint8Array) {
    raw = t.values;
  } else {
    const Ctor = info.array;
    if (!Ctor) throw new TypeError('string initializers are not supported');
    const arr = new Ctor(t.values.length);
    const isBig = arr instanceof BigInt64Array || arr instanceof BigUint64Array;
    t.values.forEach((v, i) => { (arr as unknown as (number | bigint)[])[i] = isBig ? BigInt(v) : v; });
    raw = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  }
  return { name: t.name, dataType: info.onnx, dims: [...t.shape], rawData: raw };
}

function attribute(name: string, value: NonNullable<NodeSpec['attributes']>[string]): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: T.STRING, s: Buffer.from(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: [...(value as number[])] };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: T.FLOATS, floats: [...value.floats] };
  return { name, type: T.TENSOR, t: tensorProto((value as { tensor: InitializerSpec }).tensor) };
}

/** Serialises a graph to ONNX model bytes (IR version 8). */
export function buildOnnxModel(spec: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'tsms',
    docString: spec.docString ?? '',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: spec.name ?? 'graph',
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: (spec.initializers ?? []).map(tensorProto),
      node: spec.nodes.map((n, i) => ({
        name: n.name ?? `${n.op}_${i}`,
        opType: n.op,
        domain: n.domain ?? '',
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
