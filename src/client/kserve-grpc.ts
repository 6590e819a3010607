/**
 * KServe v2 gRPC client (inference.GRPCInferenceService): ModelInfer with raw_input_contents
 * (typed-array bytes as they are), ModelMetadata, ModelReady, ServerLive/Ready and the repository
 * extension.
 */
import * as grpc from '@grpc/grpc-js';
import { fromKserve } from '../core/dtype.js';
import { dtypeInfo } from '../core/dtype.js';
import { isStringData, type Tensor, type TensorSpec, viewBytes } from '../core/tensor.js';
import { ClientError } from './errors.js';
import { bufferOf, channelOptions, credentialsFor, loadPackage, metadataFor, type Stub, unary } from './grpc-common.js';
import { inputEntries } from './inputs.js';
import { decodeBytesElements, encodeBytesElements } from './kserve-bytes.js';
import type { CallOptions, ClientOptions, InferInputs, InferOptions, InferResult, ModelMetadata, ModelVersionStatus, ServingClient } from './types.js';

let pkg: any;

export interface RepositoryEntry {
  readonly name: string;
  readonly version: string;
  readonly state: string;
  readonly reason: string;
}

export class KServeGrpcClient implements ServingClient {
  readonly protocol = 'kserve';
  readonly transport = 'grpc';
  private readonly stub: Stub;
  private readonly timeoutMs: number;
  private readonly metadata_: () => grpc.Metadata;

  constructor(opts: ClientOptions) {
    pkg ??= loadPackage(['inference/grpc_predict_v2.proto']);
    this.stub = new pkg.inference.GRPCInferenceService(opts.address, credentialsFor(opts), channelOptions);
    this.metadata_ = metadataFor(opts);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  private call<T = any>(method: string, request: object, timeoutMs?: number): Promise<T> {
    return unary<T>(this.stub, method, request, timeoutMs ?? this.timeoutMs, this.metadata_());
  }

  async serverLive(): Promise<boolean> {
    return Boolean((await this.call('ServerLive', {})).live);
  }

  async serverReady(): Promise<boolean> {
    return Boolean((await this.call('ServerReady', {})).ready);
  }

  async serverMetadata(): Promise<{ name: string; version: string; extensions: string[] }> {
    const r = await this.call('ServerMetadata', {});
    return { name: r.name, version: r.version, extensions: [...(r.extensions ?? [])] };
  }

  async modelReady(model: string, opts: CallOptions = {}): Promise<boolean> {
    return Boolean((await this.call('ModelReady', { name: model, version: versionText(opts.version) }, opts.timeoutMs)).ready);
  }

  async repositoryIndex(opts: { readyOnly?: boolean; timeoutMs?: number } = {}): Promise<RepositoryEntry[]> {
    const r = await this.call('RepositoryIndex', { ready: opts.readyOnly ?? false }, opts.timeoutMs);
    return (r.models ?? []).map((m: any) => ({ name: m.name, version: m.version, state: m.state, reason: m.reason }));
  }

  async loadModel(model: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.call('RepositoryModelLoad', { model_name: model }, opts.timeoutMs);
  }

  async unloadModel(model: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.call('RepositoryModelUnload', { model_name: model }, opts.timeoutMs);
  }

  /** The model's versions from the repository index; an unknown model fails as ModelReady does (NOT_FOUND). */
  async status(model: string, opts: CallOptions = {}): Promise<ModelVersionStatus[]> {
    const entries = (await this.repositoryIndex(opts)).filter((e) => e.name === model && (opts.version === undefined || e.version === String(opts.version)));
    if (entries.length === 0) await this.modelReady(model, opts);
    return entries.map((e) => ({ version: e.version, state: e.state, errorCode: e.reason ? 'ERROR' : '', errorMessage: e.reason }));
  }

  async metadata(model: string, opts: CallOptions = {}): Promise<ModelMetadata> {
    const r = await this.call('ModelMetadata', { name: model, version: versionText(opts.version) }, opts.timeoutMs);
    const specs = (list: any[]): TensorSpec[] => (list ?? []).map((t) => ({
      name: t.name,
      dtype: fromKserve(t.datatype) ?? 'FP32',
      shape: (t.shape ?? []).map(Number),
    }));
    return { name: r.name, versions: [...(r.versions ?? [])], platform: r.platform, inputs: specs(r.inputs), outputs: specs(r.outputs) };
  }

  predict(model: string, inputs: InferInputs, opts: InferOptions = {}): Promise<InferResult> {
    return this.infer(model, inputs, opts);
  }

  async infer(model: string, inputs: InferInputs, opts: InferOptions = {}): Promise<InferResult> {
    const entries = inputEntries(inputs);
    const request = {
      model_name: model,
      model_version: versionText(opts.version),
      id: opts.id ?? '',
      inputs: entries.map(([name, t]) => ({ name, datatype: dtypeInfo(t.dtype).kserve, shape: t.shape.map(String) })),
      outputs: (opts.outputs ?? []).map((name) => ({ name })),
      raw_input_contents: entries.map(([, t]) => (isStringData(t.data) ? encodeBytesElements(t.data) : bufferOf(t.data))),
    };
    const r = await this.call('ModelInfer', request, opts.timeoutMs);
    const raw: Buffer[] = r.raw_output_contents ?? [];
    const outputs: Record<string, Tensor> = {};
    (r.outputs ?? []).forEach((o: any, i: number) => {
      const dtype = fromKserve(o.datatype);
      if (!dtype) throw new ClientError({ call: 'ModelInfer', code: 0, status: 'BAD_RESPONSE', details: `output ${o.name} has unknown datatype ${o.datatype}`, transport: 'grpc' });
      const shape = (o.shape ?? []).map(Number);
      const bytes = raw[i] ?? Buffer.alloc(0);
      outputs[o.name] = { dtype, shape, data: dtype === 'STRING' ? decodeBytesElements(bytes) : viewBytes(dtype, bytes) };
    });
    return { modelName: r.model_name, modelVersion: r.model_version, ...(r.id && { id: r.id }), outputs };
  }

  /** Re-reads each model's config.json entry and reloads it (RepositoryModelLoad); all configured models when none is named. */
  async reload(models?: readonly string[], opts: { timeoutMs?: number } = {}): Promise<void> {
    const names = models ?? [...new Set((await this.repositoryIndex(opts)).map((e) => e.name))];
    for (const name of names) await this.loadModel(name, opts);
  }

  close(): void {
    this.stub.close();
  }
}

function versionText(version: number | undefined): string {
  return version === undefined ? '' : String(version);
}
