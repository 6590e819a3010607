/**
 * TensorFlow Serving Predict messages, via protobufjs reflection over the repo's proto/ files (the
 * same definitions the server serves). If they cannot be loaded, an embedded subset with the same
 * public field numbers is used, so the bench still runs on a tree without proto/.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { protoDir } from '../paths.js';

export const TF_FLOAT = 1;
export const TFS_PREDICT_PATH = '/tensorflow.serving.PredictionService/Predict';
export const TFS_STATUS_PATH = '/tensorflow.serving.ModelService/GetModelStatus';

const embedded: unknown = {
  nested: {
    tensorflow: {
      nested: {
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dim', id: 2 }, unknownRank: { type: 'bool', id: 3 } },
          nested: { Dim: { fields: { size: { type: 'int64', id: 1 }, name: { type: 'string', id: 2 } } } },
        },
        TensorProto: {
          fields: {
            dtype: { type: 'int32', id: 1 },
            tensorShape: { type: 'TensorShapeProto', id: 2 },
            tensorContent: { type: 'bytes', id: 4 },
            floatVal: { rule: 'repeated', type: 'float', id: 5 },
          },
        },
        serving: {
          nested: {
            Int64Value: { fields: { value: { type: 'int64', id: 1 } } },
            ModelSpec: {
              fields: {
                name: { type: 'string', id: 1 },
                version: { type: 'Int64Value', id: 2 },
                signatureName: { type: 'string', id: 3 },
              },
            },
            PredictRequest: {
              fields: {
                modelSpec: { type: 'ModelSpec', id: 1 },
                inputs: { keyType: 'string', type: 'tensorflow.TensorProto', id: 2 },
                outputFilter: { rule: 'repeated', type: 'string', id: 3 },
              },
            },
            PredictResponse: {
              fields: {
                modelSpec: { type: 'ModelSpec', id: 2 },
                outputs: { keyType: 'string', type: 'tensorflow.TensorProto', id: 1 },
              },
            },
            GetModelStatusRequest: { fields: { modelSpec: { type: 'ModelSpec', id: 1 } } },
          },
        },
      },
    },
  },
};

interface Types {
  readonly request: protobuf.Type;
  readonly response: protobuf.Type;
  readonly statusRequest: protobuf.Type;
  readonly source: string;
}

let cached: Types | undefined;

function loadRepoProtos(): Types | undefined {
  const predict = path.join(protoDir, 'tensorflow_serving/apis/predict.proto');
  const status = path.join(protoDir, 'tensorflow_serving/apis/get_model_status.proto');
  if (!existsSync(predict) || !existsSync(status)) return undefined;
  try {
    const root = new protobuf.Root();
    root.resolvePath = (origin, target) => {
      const inRepo = path.join(protoDir, target);
      return existsSync(inRepo) ? inRepo : protobuf.util.path.resolve(origin, target);
    };
    root.loadSync([predict, status], { keepCase: false });
    root.resolveAll();
    return {
      request: root.lookupType('tensorflow.serving.PredictRequest'),
      response: root.lookupType('tensorflow.serving.PredictResponse'),
      statusRequest: root.lookupType('tensorflow.serving.GetModelStatusRequest'),
      source: 'proto/ (protobufjs)',
    };
  } catch {
    return undefined;
  }
}

export function tfsTypes(): Types {
  if (cached) return cached;
  cached = loadRepoProtos();
  if (!cached) {
    const root = protobuf.Root.fromJSON(embedded as protobuf.INamespace);
    cached = {
      request: root.lookupType('tensorflow.serving.PredictRequest'),
      response: root.lookupType('tensorflow.serving.PredictResponse'),
      statusRequest: root.lookupType('tensorflow.serving.GetModelStatusRequest'),
      source: 'embedded subset (protobufjs)',
    };
  }
  return cached;
}

/** PredictRequest with one FP32 input sent as tensor_content (the fast path OVMS clients use). */
export function encodePredictRequest(model: string, inputName: string, shape: readonly number[], data: Float32Array): Uint8Array {
  const { request } = tfsTypes();
  return request.encode(request.fromObject({
    modelSpec: { name: model },
    inputs: {
      [inputName]: {
        dtype: TF_FLOAT,
        tensorShape: { dim: shape.map((size) => ({ size })) },
        tensorContent: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      },
    },
  })).finish();
}

export interface DecodedTensor {
  readonly shape: number[];
  readonly data: Float32Array;
}

function floatsOf(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes); // aligned copy; decoded bytes are views at any offset
  return new Float32Array(copy.buffer, 0, copy.byteLength >> 2);
}

/** Output tensors of a PredictResponse (tensor_content or float_val). */
export function decodePredictResponse(message: Uint8Array): Map<string, DecodedTensor> {
  const { response } = tfsTypes();
  const obj = response.toObject(response.decode(message), { longs: Number }) as {
    outputs?: Record<string, { tensorShape?: { dim?: { size: number }[] }; tensorContent?: Uint8Array; floatVal?: number[] }>;
  };
  const out = new Map<string, DecodedTensor>();
  for (const [name, t] of Object.entries(obj.outputs ?? {})) {
    const shape = (t.tensorShape?.dim ?? []).map((d) => Number(d.size));
    const data = t.tensorContent && t.tensorContent.byteLength > 0 ? floatsOf(t.tensorContent) : Float32Array.from(t.floatVal ?? []);
    out.set(name, { shape, data });
  }
  return out;
}

/** PredictResponse bytes for given outputs, as a TFS server would send them (bare-transport replies). */
export function encodePredictResponse(model: string, outputs: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>): Uint8Array {
  const { response } = tfsTypes();
  const o: Record<string, unknown> = {};
  for (const [name, t] of outputs) {
    o[name] = {
      dtype: TF_FLOAT,
      tensorShape: { dim: t.shape.map((size) => ({ size })) },
      tensorContent: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
    };
  }
  return response.encode(response.fromObject({ modelSpec: { name: model, version: { value: 1 } }, outputs: o })).finish();
}

export function encodeStatusRequest(model: string): Uint8Array {
  const { statusRequest } = tfsTypes();
  return statusRequest.encode(statusRequest.fromObject({ modelSpec: { name: model } })).finish();
}
