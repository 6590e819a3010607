/**
 * KServe v2 messages: gRPC ModelInfer via protobufjs over the repo's proto/inference/
 * grpc_predict_v2.proto (an embedded subset with the same public field numbers if it cannot be
 * loaded), and the REST binary data extension (JSON header + raw bytes,
 * `Inference-Header-Content-Length`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { protoDir } from '../paths.js';

export const KSERVE_INFER_PATH = '/inference.GRPCInferenceService/ModelInfer';

const parameter = {
  oneofs: { parameterChoice: { oneof: ['boolParam', 'int64Param', 'stringParam', 'doubleParam', 'uint64Param'] } },
  fields: {
    boolParam: { type: 'bool', id: 1 },
    int64Param: { type: 'int64', id: 2 },
    stringParam: { type: 'string', id: 3 },
    doubleParam: { type: 'double', id: 4 },
    uint64Param: { type: 'uint64', id: 5 },
  },
};
const contents = {
  fields: {
    boolContents: { rule: 'repeated', type: 'bool', id: 1 },
    intContents: { rule: 'repeated', type: 'int32', id: 2 },
    int64Contents: { rule: 'repeated', type: 'int64', id: 3 },
    uintContents: { rule: 'repeated', type: 'uint32', id: 4 },
    uint64Contents: { rule: 'repeated', type: 'uint64', id: 5 },
    fp32Contents: { rule: 'repeated', type: 'float', id: 6 },
    fp64Contents: { rule: 'repeated', type: 'double', id: 7 },
    bytesContents: { rule: 'repeated', type: 'bytes', id: 8 },
  },
};
const tensorFields: Record<string, object> = {
  name: { type: 'string', id: 1 },
  datatype: { type: 'string', id: 2 },
  shape: { rule: 'repeated', type: 'int64', id: 3 },
  parameters: { keyType: 'string', type: 'InferParameter', id: 4 },
  contents: { type: 'InferTensorContents', id: 5 },
};

const descriptor: unknown = {
  nested: {
    inference: {
      nested: {
        InferParameter: parameter,
        InferTensorContents: contents,
        ModelInferRequest: {
          fields: {
            modelName: { type: 'string', id: 1 },
            modelVersion: { type: 'string', id: 2 },
            id: { type: 'string', id: 3 },
            parameters: { keyType: 'string', type: 'InferParameter', id: 4 },
            inputs: { rule: 'repeated', type: 'InferInputTensor', id: 5 },
            outputs: { rule: 'repeated', type: 'InferRequestedOutputTensor', id: 6 },
            rawInputContents: { rule: 'repeated', type: 'bytes', id: 7 },
          },
          nested: {
            InferInputTensor: { fields: tensorFields },
            InferRequestedOutputTensor: {
              fields: { name: { type: 'string', id: 1 }, parameters: { keyType: 'string', type: 'InferParameter', id: 2 } },
            },
          },
        },
        ModelInferResponse: {
          fields: {
            modelName: { type: 'string', id: 1 },
            modelVersion: { type: 'string', id: 2 },
            id: { type: 'string', id: 3 },
            parameters: { keyType: 'string', type: 'InferParameter', id: 4 },
            outputs: { rule: 'repeated', type: 'InferOutputTensor', id: 5 },
            rawOutputContents: { rule: 'repeated', type: 'bytes', id: 6 },
          },
          nested: { InferOutputTensor: { fields: tensorFields } },
        },
      },
    },
  },
};
function loadRoot(): protobuf.Root {
  const file = path.join(protoDir, 'inference/grpc_predict_v2.proto');
  if (existsSync(file)) {
    try {
      const root = protobuf.loadSync(file);
      root.resolveAll();
      root.lookupType('inference.ModelInferRequest');
      return root;
    } catch {
      // fall back to the embedded subset
    }
  }
  return protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
}

const root = loadRoot();
const InferRequest = root.lookupType('inference.ModelInferRequest');
const InferResponse = root.lookupType('inference.ModelInferResponse');

export interface Floats {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const bytesOf = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
const floatsOf = (b: Uint8Array) => {
  const copy = new Uint8Array(b);
  return new Float32Array(copy.buffer, 0, copy.byteLength >> 2);
};

/** ModelInferRequest with the input in raw_input_contents (the zero-copy path). */
export function encodeInferRequest(model: string, inputName: string, shape: readonly number[], data: Float32Array): Uint8Array {
  return InferRequest.encode(InferRequest.fromObject({
    modelName: model,
    inputs: [{ name: inputName, datatype: 'FP32', shape: [...shape] }],
    rawInputContents: [bytesOf(data)],
  })).finish();
}

export function encodeInferResponse(model: string, outputs: ReadonlyMap<string, Floats>): Uint8Array {
  const names = [...outputs.keys()];
  return InferResponse.encode(InferResponse.fromObject({
    modelName: model,
    modelVersion: '1',
    outputs: names.map((name) => ({ name, datatype: 'FP32', shape: [...outputs.get(name)!.shape] })),
    rawOutputContents: names.map((n) => bytesOf(outputs.get(n)!.data)),
  })).finish();
}

export function decodeInferResponse(message: Uint8Array): Map<string, Floats> {
  const obj = InferResponse.toObject(InferResponse.decode(message), { longs: Number }) as {
    outputs?: { name: string; shape?: number[]; contents?: { fp32Contents?: number[] } }[];
    rawOutputContents?: Uint8Array[];
  };
  const out = new Map<string, Floats>();
  (obj.outputs ?? []).forEach((t, i) => {
    const raw = obj.rawOutputContents?.[i];
    const data = raw ? floatsOf(raw) : Float32Array.from(t.contents?.fp32Contents ?? []);
    out.set(t.name, { shape: (t.shape ?? []).map(Number), data });
  });
  return out;
}

export interface RestBinaryBody {
  readonly body: Buffer;
  readonly headerLength: number;
}

/** POST /v2/models/{model}/infer body: JSON header with binary_data_size, then the raw tensor. */
export function encodeRestBinaryRequest(inputName: string, shape: readonly number[], data: Float32Array, outputNames: readonly string[]): RestBinaryBody {
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: inputName, shape, datatype: 'FP32', parameters: { binary_data_size: data.byteLength } }],
    outputs: outputNames.map((name) => ({ name, parameters: { binary_data: true } })),
  }));
  return { body: Buffer.concat([header, bytesOf(data)]), headerLength: header.byteLength };
}

export function encodeRestBinaryResponse(model: string, outputs: ReadonlyMap<string, Floats>): RestBinaryBody {
  const header = Buffer.from(JSON.stringify({
    model_name: model,
    model_version: '1',
    outputs: [...outputs].map(([name, t]) => ({ name, datatype: 'FP32', shape: t.shape, parameters: { binary_data_size: t.data.byteLength } })),
  }));
  return { body: Buffer.concat([header, ...[...outputs.values()].map((t) => bytesOf(t.data))]), headerLength: header.byteLength };
}

/** Decodes a KServe REST response, binary or plain JSON (`headerLength` undefined = whole body JSON). */
export function decodeRestResponse(body: Uint8Array, headerLength: number | undefined): Map<string, Floats> {
  const jsonEnd = headerLength ?? body.byteLength;
  const header = JSON.parse(Buffer.from(body.buffer, body.byteOffset, jsonEnd).toString('utf8')) as {
    outputs?: { name: string; shape: number[]; data?: number[]; parameters?: { binary_data_size?: number } }[];
  };
  const out = new Map<string, Floats>();
  let offset = jsonEnd;
  for (const t of header.outputs ?? []) {
    const size = t.parameters?.binary_data_size;
    if (size !== undefined) {
      out.set(t.name, { shape: t.shape, data: floatsOf(body.subarray(offset, offset + size)) });
      offset += size;
    } else {
      out.set(t.name, { shape: t.shape, data: Float32Array.from(t.data ?? []) });
    }
  }
  return out;
}
