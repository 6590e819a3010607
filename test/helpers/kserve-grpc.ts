/**
 * A KServe v2 gRPC client for tests, built from proto/inference/grpc_predict_v2.proto with
 * @grpc/proto-loader, i.e. independently of the server's hand-written ModelInfer codec.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import path from 'node:path';
import { protoDir } from './tfs-grpc.js';

const file = 'inference/grpc_predict_v2.proto';

const packageDefinition = protoLoader.loadSync(file, {
  includeDirs: [protoDir],
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});
const pkg = grpc.loadPackageDefinition(packageDefinition) as any;

export const kserveRoot: protobuf.Root = (() => {
  const root = new protobuf.Root();
  root.resolvePath = (_o, target) => path.join(protoDir, target);
  root.loadSync(file, { keepCase: true });
  root.resolveAll();
  return root;
})();

export type Json = any;

export class KserveClient {
  readonly service: grpc.Client & Record<string, Function>;

  constructor(address: string) {
    this.service = new pkg.inference.GRPCInferenceService(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    });
  }

  call(method: string, request: Json = {}): Promise<Json> {
    return new Promise((resolve, reject) => {
      this.service[method]!(request, { deadline: Date.now() + 30000 }, (err: Error | null, res: Json) => (err ? reject(err) : resolve(res)));
    });
  }

  /** Sends raw bytes as the request message of `method` (malformed-message tests). */
  rawCall(method: string, bytes: Uint8Array): Promise<Buffer> {
    const id = (b: Buffer) => b;
    return new Promise((resolve, reject) => {
      this.service.makeUnaryRequest(`/inference.GRPCInferenceService/${method}`, id, id, Buffer.from(bytes), { deadline: Date.now() + 30000 }, (err, res) =>
        err ? reject(err) : resolve(res!));
    });
  }

  close(): void {
    this.service.close();
  }
}

/** Float32 values of a raw output buffer (copied: the Buffer may be unaligned). */
export function floats(raw: Buffer): number[] {
  const copy = new Uint8Array(raw);
  return [...new Float32Array(copy.buffer, 0, copy.byteLength / 4)];
}

export function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** BYTES raw layout: 4-byte little-endian length before each element. */
export function prefixed(elements: readonly (string | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of elements) {
    const b = typeof e === 'string' ? Buffer.from(e) : Buffer.from(e);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    parts.push(len, b);
  }
  return Buffer.concat(parts);
}
