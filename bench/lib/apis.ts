/**
 * The four serving APIs the bench drives, each as one descriptor: how a request for a model is
 * encoded (pre-encoded once, replayed by the load generator), what a reference server answers, and
 * how a real client checks one response before any measurement (h2load ignores grpc-status).
 */
import * as grpc from '@grpc/grpc-js';
import { frame } from './codec/grpc-frame.js';
import { decodeInferResponse, decodeRestResponse, encodeInferRequest, encodeInferResponse, encodeRestBinaryRequest, encodeRestBinaryResponse, KSERVE_INFER_PATH } from './codec/kserve.js';
import { decodePredictions, encodeInstancesBody, encodePredictionsBody } from './codec/rest-json.js';
import { decodePredictResponse, encodePredictRequest, encodePredictResponse, TFS_PREDICT_PATH } from './codec/tfs.js';
import { GRPC_HEADERS, type Transport } from './loadgen/types.js';
import type { BenchModel } from './models.js';

export type ApiName = 'tfs-grpc' | 'tfs-rest-json' | 'kserve-grpc' | 'kserve-rest-bin';

export interface Expected {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface EncodedRequest {
  /** Exactly what goes on the wire as the body (gRPC: framed). */
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

/** What a bare reference server replies. gRPC: the message (grpc-js frames it); HTTP: the body. */
export interface ReferenceReply {
  readonly body: Buffer;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type Verdict =
  | { readonly kind: 'ok'; readonly reply: ReferenceReply }
  | { readonly kind: 'n/a'; readonly reason: string }
  | { readonly kind: 'error'; readonly reason: string };

export interface Endpoints {
  readonly grpcPort: number;
  readonly restPort: number;
}

export interface Api {
  readonly name: ApiName;
  readonly label: string;
  readonly transport: Transport;
  path(model: string): string;
  encodeRequest(model: BenchModel): EncodedRequest;
  /** The reply a server gives for `expected`, encoded here (used when tsms cannot answer yet). */
  encodeReply(model: BenchModel, expected: Expected): ReferenceReply;
  /** Sends the request with a real client and compares the output with `expected`. */
  verify(at: Endpoints, model: BenchModel, expected: Expected): Promise<Verdict>;
}

const MAX_ABS_ERROR = 1e-4;

function compare(model: BenchModel, got: Float32Array | undefined, expected: Expected): string | undefined {
  if (!got) return `no output "${model.outputName}" in the response`;
  if (got.length !== expected.data.length) return `output has ${got.length} values, expected ${expected.data.length}`;
  for (let i = 0; i < got.length; i++) {
    const tol = MAX_ABS_ERROR * Math.max(1, Math.abs(expected.data[i]!));
    if (!(Math.abs(got[i]! - expected.data[i]!) <= tol)) return `output[${i}] = ${got[i]}, expected ${expected.data[i]}`;
  }
  return undefined;
}

const identity = (b: Buffer) => b;
const grpcClients = new Map<number, grpc.Client>();

function grpcClient(port: number): grpc.Client {
  let c = grpcClients.get(port);
  if (!c) {
    c = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    });
    grpcClients.set(port, c);
  }
  return c;
}

export function closeVerifyClients(): void {
  for (const c of grpcClients.values()) c.close();
  grpcClients.clear();
}

async function grpcCall(port: number, path: string, message: Buffer): Promise<{ ok: Buffer } | { code: number; details: string }> {
  return new Promise((resolve) => {
    grpcClient(port).makeUnaryRequest(path, identity, identity, message, { deadline: Date.now() + 60_000 }, (err, value) => {
      if (err) resolve({ code: err.code ?? grpc.status.UNKNOWN, details: err.details ?? err.message });
      else resolve({ ok: value! });
    });
  });
}

function grpcVerdict(r: { code: number; details: string }): Verdict {
  if (r.code === grpc.status.UNIMPLEMENTED) return { kind: 'n/a', reason: 'not implemented yet' };
  if (r.code === grpc.status.UNAVAILABLE) return { kind: 'n/a', reason: `not implemented yet (gRPC unavailable: ${r.details})` };
  return { kind: 'error', reason: `gRPC status ${r.code}: ${r.details}` };
}

async function httpPost(url: string, body: Buffer, headers: Record<string, string>): Promise<Response | { failed: string }> {
  try {
    return await fetch(url, { method: 'POST', body: new Uint8Array(body), headers, signal: AbortSignal.timeout(120_000) });
  } catch (err) {
    return { failed: (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message };
  }
}

/** An endpoint the server does not have yet: no listener, 404/501, or OVMS's unknown-URL 400. */
async function httpNotThere(res: Response | { failed: string }): Promise<Verdict | undefined> {
  if ('failed' in res) {
    // Nothing listening means no REST server yet; any other failure (reset, EPIPE) is the server's.
    return /ECONNREFUSED/.test(res.failed) ? { kind: 'n/a', reason: `not implemented yet (REST: ${res.failed})` } : { kind: 'error', reason: `REST request failed: ${res.failed}` };
  }
  if (res.status === 404 || res.status === 501) return { kind: 'n/a', reason: `not implemented yet (HTTP ${res.status})` };
  if (res.status === 400) {
    const text = await res.clone().text();
    if (/Invalid request URL/i.test(text)) return { kind: 'n/a', reason: 'not implemented yet (HTTP 400 Invalid request URL)' };
  }
  return undefined;
}

const tfsGrpc: Api = {
  name: 'tfs-grpc',
  label: 'TFS gRPC',
  transport: 'grpc',
  path: () => TFS_PREDICT_PATH,
  encodeRequest: (m) => ({ body: frame(encodePredictRequest(m.name, m.inputName, m.inputShape, m.input)), headers: GRPC_HEADERS }),
  encodeReply: (m, e) => ({
    body: Buffer.from(encodePredictResponse(m.name, new Map([[m.outputName, e]]))),
    contentType: 'application/grpc',
    headers: {},
  }),
  async verify(at, m, e) {
    const r = await grpcCall(at.grpcPort, TFS_PREDICT_PATH, Buffer.from(encodePredictRequest(m.name, m.inputName, m.inputShape, m.input)));
    if (!('ok' in r)) return grpcVerdict(r);
    const problem = compare(m, decodePredictResponse(r.ok).get(m.outputName)?.data, e);
    return problem ? { kind: 'error', reason: problem } : { kind: 'ok', reply: { body: r.ok, contentType: 'application/grpc', headers: {} } };
  },
};

const kserveGrpc: Api = {
  name: 'kserve-grpc',
  label: 'KServe gRPC',
  transport: 'grpc',
  path: () => KSERVE_INFER_PATH,
  encodeRequest: (m) => ({ body: frame(encodeInferRequest(m.name, m.inputName, m.inputShape, m.input)), headers: GRPC_HEADERS }),
  encodeReply: (m, e) => ({
    body: Buffer.from(encodeInferResponse(m.name, new Map([[m.outputName, e]]))),
    contentType: 'application/grpc',
    headers: {},
  }),
  async verify(at, m, e) {
    const r = await grpcCall(at.grpcPort, KSERVE_INFER_PATH, Buffer.from(encodeInferRequest(m.name, m.inputName, m.inputShape, m.input)));
    if (!('ok' in r)) return grpcVerdict(r);
    const problem = compare(m, decodeInferResponse(r.ok).get(m.outputName)?.data, e);
    return problem ? { kind: 'error', reason: problem } : { kind: 'ok', reply: { body: r.ok, contentType: 'application/grpc', headers: {} } };
  },
};

const tfsRestJson: Api = {
  name: 'tfs-rest-json',
  label: 'TFS REST JSON',
  transport: 'http',
  path: (model) => `/v1/models/${model}:predict`,
  encodeRequest: (m) => ({ body: encodeInstancesBody(m.input, m.inputShape), headers: { 'content-type': 'application/json' } }),
  encodeReply: (_m, e) => ({ body: encodePredictionsBody(e.data, e.shape), contentType: 'application/json', headers: {} }),
  async verify(at, m, e) {
    const { body, headers } = this.encodeRequest(m);
    const res = await httpPost(`http://127.0.0.1:${at.restPort}${this.path(m.name)}`, body, { ...headers });
    const missing = await httpNotThere(res);
    if (missing) return missing;
    const r = res as Response;
    const text = await r.text();
    if (r.status !== 200) return { kind: 'error', reason: `HTTP ${r.status}: ${text.slice(0, 200)}` };
    let got: Float32Array;
    try {
      got = decodePredictions(text);
    } catch (err) {
      return { kind: 'error', reason: `bad JSON response: ${(err as Error).message}` };
    }
    const problem = compare(m, got, e);
    return problem ? { kind: 'error', reason: problem } : { kind: 'ok', reply: { body: Buffer.from(text), contentType: r.headers.get('content-type') ?? 'application/json', headers: {} } };
  },
};

const kserveRestBinary: Api = {
  name: 'kserve-rest-bin',
  label: 'KServe REST binary',
  transport: 'http',
  path: (model) => `/v2/models/${model}/infer`,
  encodeRequest: (m) => {
    const { body, headerLength } = encodeRestBinaryRequest(m.inputName, m.inputShape, m.input, [m.outputName]);
    return { body, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) } };
  },
  encodeReply: (m, e) => {
    const { body, headerLength } = encodeRestBinaryResponse(m.name, new Map([[m.outputName, e]]));
    return { body, contentType: 'application/octet-stream', headers: { 'inference-header-content-length': String(headerLength) } };
  },
  async verify(at, m, e) {
    const { body, headers } = this.encodeRequest(m);
    const res = await httpPost(`http://127.0.0.1:${at.restPort}${this.path(m.name)}`, body, { ...headers });
    const missing = await httpNotThere(res);
    if (missing) return missing;
    const r = res as Response;
    const buf = Buffer.from(await r.arrayBuffer());
    if (r.status !== 200) return { kind: 'error', reason: `HTTP ${r.status}: ${buf.toString('utf8', 0, 200)}` };
    const headerLen = r.headers.get('inference-header-content-length');
    let got: Float32Array | undefined;
    try {
      got = decodeRestResponse(buf, headerLen === null ? undefined : Number(headerLen)).get(m.outputName)?.data;
    } catch (err) {
      return { kind: 'error', reason: `bad response: ${(err as Error).message}` };
    }
    const problem = compare(m, got, e);
    if (problem) return { kind: 'error', reason: problem };
    const replyHeaders: Record<string, string> = headerLen === null ? {} : { 'inference-header-content-length': headerLen };
    return { kind: 'ok', reply: { body: buf, contentType: r.headers.get('content-type') ?? 'application/octet-stream', headers: replyHeaders } };
  },
};

export const APIS: Readonly<Record<ApiName, Api>> = {
  'tfs-grpc': tfsGrpc,
  'tfs-rest-json': tfsRestJson,
  'kserve-grpc': kserveGrpc,
  'kserve-rest-bin': kserveRestBinary,
};
