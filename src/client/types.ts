/**
 * What every client (TensorFlow Serving or KServe v2, gRPC or REST) answers, in one shape, so a
 * program can switch protocol with one option.
 */
import type { DType } from '../core/dtype.js';
import type { Tensor, TensorSpec } from '../core/tensor.js';

export type { DType } from '../core/dtype.js';
export type { Tensor, TensorSpec } from '../core/tensor.js';

export type Protocol = 'tfs' | 'kserve';

export interface ClientOptions {
  /** `host:port` for gRPC; `http://host:port` (or `host:port`) for REST. */
  readonly address: string;
  /** Per-call deadline in milliseconds unless a call gives its own (default 30 s). */
  readonly timeoutMs?: number;
  /** Sent as `Authorization: Bearer <key>` (servers started with --api_key_file). */
  readonly apiKey?: string;
  /** gRPC over TLS: PEM CA to trust (system roots when absent), and a client certificate for mTLS. REST: use an https:// address. */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

export interface CallOptions {
  /** A numeric model version; the default (highest available) when absent. */
  readonly version?: number;
  readonly timeoutMs?: number;
}

export interface InferOptions extends CallOptions {
  /** Only these outputs, in this order (all when absent). */
  readonly outputs?: readonly string[];
  /** KServe request id (echoed back). */
  readonly id?: string;
}

export interface ModelVersionStatus {
  readonly version: string;
  /** TFS: START/LOADING/AVAILABLE/UNLOADING/END; KServe (repository index): READY/LOADING/UNLOADING/UNAVAILABLE. */
  readonly state: string;
  /** TFS: error_code (OK, NOT_FOUND, …); KServe: '' or the reason. */
  readonly errorCode: string;
  readonly errorMessage: string;
}

export interface ModelMetadata {
  readonly name: string;
  /** The version answered for (TFS), or every available version (KServe). */
  readonly versions: readonly string[];
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** KServe only (e.g. onnxruntime_onnx). */
  readonly platform?: string;
}

export interface InferResult {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id?: string;
  /** Outputs by name, in the server's order. */
  readonly outputs: Readonly<Record<string, Tensor>>;
}

/** Inputs by name; a Map keeps the caller's order (KServe sends inputs in order). */
export type InferInputs = Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>;

/** The calls every protocol has. */
export interface ServingClient {
  readonly protocol: Protocol;
  readonly transport: 'grpc' | 'rest';
  /** Status of every version of a model (or of one version). */
  status(model: string, opts?: CallOptions): Promise<ModelVersionStatus[]>;
  metadata(model: string, opts?: CallOptions): Promise<ModelMetadata>;
  /** Runs the model. TFS calls this Predict, KServe ModelInfer; both names work. */
  infer(model: string, inputs: InferInputs, opts?: InferOptions): Promise<InferResult>;
  predict(model: string, inputs: InferInputs, opts?: InferOptions): Promise<InferResult>;
  /**
   * TFS: asks the server to re-read its configuration (REST `POST /v1/config/reload`; gRPC
   * `HandleReloadConfigRequest`, which OVMS accepts without effect). KServe: reloads the named
   * models (all configured ones when none is named) through the repository extension.
   */
  reload(models?: readonly string[], opts?: { timeoutMs?: number }): Promise<void>;
  close(): void;
}

export function isDType(v: string): v is DType {
  return ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'STRING'].includes(v);
}
