/**
 * Clients for the transport-security tests: unary gRPC calls with any credentials and metadata
 * (messages encoded with protobufjs from the repo's protos), and HTTPS requests with a CA and an
 * optional client certificate (node:https, so the TLS settings are explicit).
 */
import * as grpc from '@grpc/grpc-js';
import https from 'node:https';
import type protobuf from 'protobufjs';
import { kserveRoot } from './kserve-grpc.js';
import { protoRoot } from './tfs-grpc.js';

export type Json = any;

export interface GrpcOutcome {
  readonly code: number;
  readonly details: string;
  readonly response?: Json;
}

/** Known methods: path → request/response message types. */
const METHODS: Readonly<Record<string, { root: protobuf.Root; request: string; response: string }>> = {
  '/tensorflow.serving.PredictionService/Predict': { root: protoRoot, request: 'tensorflow.serving.PredictRequest', response: 'tensorflow.serving.PredictResponse' },
  '/tensorflow.serving.PredictionService/GetModelMetadata': { root: protoRoot, request: 'tensorflow.serving.GetModelMetadataRequest', response: 'tensorflow.serving.GetModelMetadataResponse' },
  '/tensorflow.serving.ModelService/GetModelStatus': { root: protoRoot, request: 'tensorflow.serving.GetModelStatusRequest', response: 'tensorflow.serving.GetModelStatusResponse' },
  '/inference.GRPCInferenceService/ServerLive': { root: kserveRoot, request: 'inference.ServerLiveRequest', response: 'inference.ServerLiveResponse' },
  '/inference.GRPCInferenceService/ServerReady': { root: kserveRoot, request: 'inference.ServerReadyRequest', response: 'inference.ServerReadyResponse' },
  '/inference.GRPCInferenceService/ModelReady': { root: kserveRoot, request: 'inference.ModelReadyRequest', response: 'inference.ModelReadyResponse' },
  '/inference.GRPCInferenceService/ModelMetadata': { root: kserveRoot, request: 'inference.ModelMetadataRequest', response: 'inference.ModelMetadataResponse' },
  '/inference.GRPCInferenceService/ModelInfer': { root: kserveRoot, request: 'inference.ModelInferRequest', response: 'inference.ModelInferResponse' },
};

/** One unary call; resolves with the status (0 = OK) instead of rejecting. */
export function grpcCall(client: grpc.Client, method: string, request: Json, headers: Record<string, string> = {}): Promise<GrpcOutcome> {
  const m = METHODS[method];
  if (!m) throw new Error(`unknown method ${method}`);
  const reqType = m.root.lookupType(m.request);
  const resType = m.root.lookupType(m.response);
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  return grpcRaw(client, method, Buffer.from(reqType.encode(reqType.fromObject(request)).finish()), metadata).then((o) =>
    o.response ? { ...o, response: resType.toObject(resType.decode(o.response), { longs: Number, defaults: false }) } : o);
}

/** Sends raw bytes as a method's request. */
export function grpcRaw(client: grpc.Client, method: string, bytes: Buffer, metadata = new grpc.Metadata()): Promise<{ code: number; details: string; response?: Buffer }> {
  const id = (b: Buffer) => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(method, id, id, bytes, metadata, { deadline: Date.now() + 30000 }, (err, res) => {
      if (err) resolve({ code: err.code, details: err.details });
      else resolve({ code: 0, details: '', response: res! });
    });
  });
}

export function grpcClient(address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): grpc.Client {
  return new grpc.Client(address, credentials, { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1, ...options });
}

export interface HttpsOutcome {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface TlsClientOptions {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** One HTTPS request on a fresh connection; rejects on a TLS failure. */
export function httpsRequest(url: string, tls: TlsClientOptions, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<HttpsOutcome> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: init.method ?? 'GET',
      headers: init.headers,
      agent: false,
      ...(tls.ca && { ca: tls.ca }),
      ...(tls.cert && { cert: tls.cert }),
      ...(tls.key && { key: tls.key }),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
