/**
 * A TensorFlow Serving gRPC client for tests, built from the repo's proto/ files with
 * @grpc/proto-loader, i.e. independently of the server's hand-written codec. Also a raw client
 * to send arbitrary bytes (malformed messages).
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { repoRoot } from './server.js';

export const protoDir = path.join(repoRoot, 'proto');
const files = ['tensorflow_serving/apis/prediction_service.proto', 'tensorflow_serving/apis/model_service.proto'];

const packageDefinition = protoLoader.loadSync(files, {
  includeDirs: [protoDir],
  keepCase: true,
  longs: Number,
  enums: Number,
  defaults: false,
  oneofs: true,
});
const pkg = grpc.loadPackageDefinition(packageDefinition) as any;

/** protobufjs root over the same files, to build/inspect messages (e.g. the packed SignatureDefMap). */
export const protoRoot: protobuf.Root = (() => {
  const root = new protobuf.Root();
  root.resolvePath = (_o, target) => path.join(protoDir, target);
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  return root;
})();

const channelOptions = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };

export interface GrpcError extends Error {
  code: number;
  details: string;
}

/** Messages as proto-loader gives them (plain objects keyed by proto field names). */
export type Json = any;

export class TfsClient {
  readonly prediction: grpc.Client & Record<string, Function>;
  readonly model: grpc.Client & Record<string, Function>;
  readonly raw: grpc.Client;

  constructor(address: string) {
    const creds = grpc.credentials.createInsecure();
    this.prediction = new pkg.tensorflow.serving.PredictionService(address, creds, channelOptions);
    this.model = new pkg.tensorflow.serving.ModelService(address, creds, channelOptions);
    this.raw = new grpc.Client(address, creds, channelOptions);
  }

  private call(client: Record<string, Function>, method: string, request: Json, deadlineMs = 30000): Promise<Json> {
    return new Promise((resolve, reject) => {
      client[method]!(request, { deadline: Date.now() + deadlineMs }, (err: GrpcError | null, res: Json) => (err ? reject(err) : resolve(res)));
    });
  }

  predict(request: Json): Promise<Json> {
    return this.call(this.prediction, 'Predict', request);
  }
  getModelMetadata(request: Json): Promise<Json> {
    return this.call(this.prediction, 'GetModelMetadata', request);
  }
  classify(request: Json): Promise<Json> {
    return this.call(this.prediction, 'Classify', request);
  }
  regress(request: Json): Promise<Json> {
    return this.call(this.prediction, 'Regress', request);
  }
  multiInference(request: Json): Promise<Json> {
    return this.call(this.prediction, 'MultiInference', request);
  }
  getModelStatus(request: Json): Promise<Json> {
    return this.call(this.model, 'GetModelStatus', request);
  }
  reloadConfig(request: Json): Promise<Json> {
    return this.call(this.model, 'HandleReloadConfigRequest', request);
  }

  /** Sends `bytes` as the request message of `path` (e.g. '/tensorflow.serving.PredictionService/Predict'). */
  rawCall(methodPath: string, bytes: Uint8Array): Promise<Buffer> {
    const id = (b: Buffer) => b;
    return new Promise((resolve, reject) => {
      this.raw.makeUnaryRequest(methodPath, id, id, Buffer.from(bytes), { deadline: Date.now() + 30000 }, (err, res) =>
        err ? reject(err) : resolve(res!));
    });
  }

  close(): void {
    this.prediction.close();
    this.model.close();
    this.raw.close();
  }
}

/** Rejects unless `promise` fails with gRPC `code` and exactly `details`. */
export async function expectGrpcError(promise: Promise<unknown>, code: number, details: string | RegExp): Promise<void> {
  let err: GrpcError | undefined;
  try {
    await promise;
  } catch (e) {
    err = e as GrpcError;
  }
  if (!err) throw new Error(`expected gRPC error ${code} "${String(details)}", got success`);
  const ok = err.code === code && (typeof details === 'string' ? err.details === details : details.test(err.details));
  if (!ok) throw new Error(`expected gRPC error ${code} "${String(details)}", got ${err.code} "${err.details}"`);
}

/** Little-endian bytes of a typed array, as tensor_content. */
export function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export function shapeProto(dims: readonly number[]): Json {
  return { dim: dims.map((size) => ({ size })) };
}

export function dimsOf(tensor: Json): number[] {
  return (tensor.tensor_shape?.dim ?? []).map((d: Json) => Number(d.size ?? 0));
}

/** tensor_content of a response tensor as Float32Array (copied: the Buffer may be unaligned). */
export function floatsOf(tensor: Json): number[] {
  const b: Buffer = tensor.tensor_content ?? Buffer.alloc(0);
  const copy = new Uint8Array(b);
  return [...new Float32Array(copy.buffer, 0, copy.byteLength / 4)];
}
