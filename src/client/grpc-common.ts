/**
 * gRPC plumbing shared by the TFS and KServe clients: the service stubs come from the repo's
 * proto/ files through @grpc/proto-loader (the client stays independent of the server's
 * hand-written codecs), calls get a deadline and fail with ClientError.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ClientError, GRPC_STATUS_NAMES } from './errors.js';
import type { ClientOptions } from './types.js';

/** proto/ at the package root (this file runs from dist/src/client/). */
export const protoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../proto');

export function loadPackage(files: readonly string[]): grpc.GrpcObject {
  const definition = protoLoader.loadSync([...files], {
    includeDirs: [protoDir],
    keepCase: true,
    // int64 as decimal strings: exact, and versions read naturally.
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition);
}

/** No message size limits: tensors can be large, the server enforces its own. */
export const channelOptions: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
};

export type Stub = grpc.Client & Record<string, (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: any) => void) => grpc.ClientUnaryCall>;

export function credentialsFor(opts: ClientOptions): grpc.ChannelCredentials {
  const tls = opts.tls;
  return tls ? grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null) : grpc.credentials.createInsecure();
}

/** Per-call metadata: the API key, when there is one. */
export function metadataFor(opts: ClientOptions): () => grpc.Metadata {
  return () => {
    const md = new grpc.Metadata();
    if (opts.apiKey !== undefined) md.set('authorization', `Bearer ${opts.apiKey}`);
    return md;
  };
}

export function unary<T = any>(stub: Stub, method: string, request: unknown, timeoutMs: number, metadata: grpc.Metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    stub[method]!(request, metadata, { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(grpcError(method, err));
      else resolve(res as T);
    });
  });
}

function grpcError(method: string, err: grpc.ServiceError): ClientError {
  const status = GRPC_STATUS_NAMES[err.code] ?? `CODE_${err.code}`;
  return new ClientError({ call: method, code: err.code, status, details: err.details || err.message, transport: 'grpc', cause: err });
}

/** Bytes of a typed array, as a Buffer view (no copy). */
export function bufferOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
