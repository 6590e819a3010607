/**
 * KServe v2 REST client. Inference uses the binary data extension both ways: input tensors go
 * as their typed-array bytes after a small JSON header, outputs come back as bytes and become
 * typed-array views over the response (exact for every dtype, no number formatting).
 */
import { dtypeInfo, fromKserve } from '../core/dtype.js';
import { isStringData, tensorBytes, type Tensor, type TensorSpec, viewBytes } from '../core/tensor.js';
import { ClientError } from './errors.js';
import { baseUrl, parseJson, pathSegment, request } from './http.js';
import { inputEntries } from './inputs.js';
import { decodeBytesElements, encodeBytesElements } from './kserve-bytes.js';
import type { RepositoryEntry } from './kserve-grpc.js';
import { flatten, tensor } from './tensors.js';
import type { CallOptions, ClientOptions, InferInputs, InferOptions, InferResult, ModelMetadata, ModelVersionStatus, ServingClient } from './types.js';

const HEADER_LENGTH = 'Inference-Header-Content-Length';

export class KServeRestClient implements ServingClient {
  readonly protocol = 'kserve';
  readonly transport = 'rest';
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly apiKey: string | undefined;

  constructor(opts: ClientOptions) {
    this.url = baseUrl(opts.address);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.apiKey = opts.apiKey;
  }

  private modelUrl(model: string, version: number | undefined): string {
    return `${this.url}/v2/models/${pathSegment(model)}${version === undefined ? '' : `/versions/${version}`}`;
  }

  private async json(call: string, url: string, method: string, timeoutMs?: number): Promise<any> {
    const res = await request(call, url, { method, timeoutMs: timeoutMs ?? this.timeoutMs, apiKey: this.apiKey });
    return res.body.byteLength === 0 ? {} : parseJson(call, res.body.toString('utf8'));
  }

  /** Live and ready answer 200 or an error code; false instead of throwing for a plain "no". */
  private async probe(call: string, url: string, timeoutMs?: number): Promise<boolean> {
    try {
      await request(call, url, { timeoutMs: timeoutMs ?? this.timeoutMs, apiKey: this.apiKey });
      return true;
    } catch (err) {
      if (err instanceof ClientError && err.code === 400) return false;
      throw err;
    }
  }

  serverLive(): Promise<boolean> {
    return this.probe('ServerLive', `${this.url}/v2/health/live`);
  }

  serverReady(): Promise<boolean> {
    return this.probe('ServerReady', `${this.url}/v2/health/ready`);
  }

  async serverMetadata(): Promise<{ name: string; version: string; extensions: string[] }> {
    const r = await this.json('ServerMetadata', `${this.url}/v2`, 'GET');
    return { name: r.name, version: r.version, extensions: [...(r.extensions ?? [])] };
  }

  modelReady(model: string, opts: CallOptions = {}): Promise<boolean> {
    return this.probe('ModelReady', `${this.modelUrl(model, opts.version)}/ready`, opts.timeoutMs);
  }

  async repositoryIndex(opts: { readyOnly?: boolean; timeoutMs?: number } = {}): Promise<RepositoryEntry[]> {
    const res = await request('RepositoryIndex', `${this.url}/v2/repository/index`, {
      method: 'POST',
      body: JSON.stringify(opts.readyOnly ? { ready: true } : {}),
      headers: { 'Content-Type': 'application/json' },
      timeoutMs: opts.timeoutMs ?? this.timeoutMs, apiKey: this.apiKey,
    });
    const list = parseJson('RepositoryIndex', res.body.toString('utf8'));
    return (Array.isArray(list) ? list : []).map((m: any) => ({ name: String(m.name), version: String(m.version ?? ''), state: String(m.state ?? ''), reason: String(m.reason ?? '') }));
  }

  async loadModel(model: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.json('RepositoryModelLoad', `${this.url}/v2/repository/models/${pathSegment(model)}/load`, 'POST', opts.timeoutMs);
  }

  async unloadModel(model: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.json('RepositoryModelUnload', `${this.url}/v2/repository/models/${pathSegment(model)}/unload`, 'POST', opts.timeoutMs);
  }

  async status(model: string, opts: CallOptions = {}): Promise<ModelVersionStatus[]> {
    const entries = (await this.repositoryIndex(opts)).filter((e) => e.name === model && (opts.version === undefined || e.version === String(opts.version)));
    // Unknown model or version: let the server say so (404 with its text).
    if (entries.length === 0) await request('ModelReady', `${this.modelUrl(model, opts.version)}/ready`, { timeoutMs: opts.timeoutMs ?? this.timeoutMs, apiKey: this.apiKey });
    return entries.map((e) => ({ version: e.version, state: e.state, errorCode: e.reason ? 'ERROR' : '', errorMessage: e.reason }));
  }

  async metadata(model: string, opts: CallOptions = {}): Promise<ModelMetadata> {
    const r = await this.json('ModelMetadata', this.modelUrl(model, opts.version), 'GET', opts.timeoutMs);
    const specs = (list: any[]): TensorSpec[] => (list ?? []).map((t) => ({ name: String(t.name), dtype: fromKserve(String(t.datatype)) ?? 'FP32', shape: (t.shape ?? []).map(Number) }));
    return { name: r.name, versions: (r.versions ?? []).map(String), platform: r.platform, inputs: specs(r.inputs), outputs: specs(r.outputs) };
  }

  predict(model: string, inputs: InferInputs, opts: InferOptions = {}): Promise<InferResult> {
    return this.infer(model, inputs, opts);
  }

  async infer(model: string, inputs: InferInputs, opts: InferOptions = {}): Promise<InferResult> {
    const entries = inputEntries(inputs);
    const blobs = entries.map(([, t]) => (isStringData(t.data) ? encodeBytesElements(t.data) : tensorBytes(t.data)));
    const header = {
      ...(opts.id !== undefined && { id: opts.id }),
      parameters: { binary_data_output: true },
      inputs: entries.map(([name, t], i) => ({ name, shape: t.shape, datatype: dtypeInfo(t.dtype).kserve, parameters: { binary_data_size: blobs[i]!.byteLength } })),
      ...(opts.outputs && { outputs: opts.outputs.map((name) => ({ name, parameters: { binary_data: true } })) }),
    };
    const json = Buffer.from(JSON.stringify(header));
    const res = await request('ModelInfer', `${this.modelUrl(model, opts.version)}/infer`, {
      method: 'POST',
      body: Buffer.concat([json, ...blobs]),
      headers: { 'Content-Type': 'application/octet-stream', [HEADER_LENGTH]: String(json.byteLength) },
      timeoutMs: opts.timeoutMs ?? this.timeoutMs, apiKey: this.apiKey,
    });
    return parseInferResponse(res.body, res.headers.get(HEADER_LENGTH));
  }

  /** Reloads the named models (all configured ones when none is named) from config.json. */
  async reload(models?: readonly string[], opts: { timeoutMs?: number } = {}): Promise<void> {
    const names = models ?? [...new Set((await this.repositoryIndex(opts)).map((e) => e.name))];
    for (const name of names) await this.loadModel(name, opts);
  }

  close(): void {}
}

function badResponse(details: string): ClientError {
  return new ClientError({ call: 'ModelInfer', code: 0, status: 'BAD_RESPONSE', details, transport: 'rest' });
}

/** A JSON or binary-extension inference answer → typed-array outputs. */
export function parseInferResponse(body: Buffer, headerLength: string | null): InferResult {
  const jsonEnd = headerLength === null ? body.byteLength : Number(headerLength);
  if (!Number.isInteger(jsonEnd) || jsonEnd < 0 || jsonEnd > body.byteLength) throw badResponse(`bad ${HEADER_LENGTH}: ${headerLength}`);
  const r = parseJson('ModelInfer', body.subarray(0, jsonEnd).toString('utf8'));
  let pos = jsonEnd;
  const outputs: Record<string, Tensor> = {};
  for (const o of r.outputs ?? []) {
    const dtype = fromKserve(String(o.datatype));
    if (!dtype) throw badResponse(`output ${o.name} has unknown datatype ${o.datatype}`);
    const shape: number[] = (o.shape ?? []).map(Number);
    const size = o.parameters?.binary_data_size;
    if (size !== undefined) {
      const n = Number(size);
      if (pos + n > body.byteLength) throw badResponse(`output ${o.name} runs past the end of the answer`);
      const bytes = body.subarray(pos, pos + n);
      pos += n;
      outputs[o.name] = { dtype, shape, data: dtype === 'STRING' ? decodeBytesElements(bytes) : viewBytes(dtype, bytes) };
    } else {
      outputs[o.name] = tensor(dtype, shape, flatten(o.data).values as never);
    }
  }
  return { modelName: String(r.model_name), modelVersion: String(r.model_version ?? ''), ...(r.id !== undefined && { id: String(r.id) }), outputs };
}
