/**
 * TensorFlow Serving REST client: `/v1/models/{m}[/versions/{v}]` status, `/metadata`, `:predict`
 * in the columnar format (`{"inputs": {name: nested values}}`), and `/v1/config[/reload]`.
 * JSON does not carry dtypes, so predict learns each output's dtype from the model's metadata
 * (asked once per model and version).
 */
import { type DType, fromTfName } from '../core/dtype.js';
import { type Tensor, type TensorSpec } from '../core/tensor.js';
import { ClientError } from './errors.js';
import { baseUrl, parseJson, pathSegment, request, writeJson } from './http.js';
import { inputEntries } from './inputs.js';
import { flatten, nest, tensor, tensorValues } from './tensors.js';
import type { CallOptions, ClientOptions, InferInputs, InferOptions, InferResult, ModelMetadata, ModelVersionStatus, ServingClient } from './types.js';

/** `/v1/config` and reload answers: model name → its versions' statuses. */
export type ConfigStatus = Record<string, ModelVersionStatus[]>;

export class TfsRestClient implements ServingClient {
  readonly protocol = 'tfs';
  readonly transport = 'rest';
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly apiKey: string | undefined;
  private readonly metadataCache = new Map<string, Promise<ModelMetadata>>();

  constructor(opts: ClientOptions) {
    this.url = baseUrl(opts.address);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.apiKey = opts.apiKey;
  }

  private modelUrl(model: string, version: number | undefined): string {
    return `${this.url}/v1/models/${pathSegment(model)}${version === undefined ? '' : `/versions/${version}`}`;
  }

  private async getJson(call: string, url: string, timeoutMs?: number, method = 'GET'): Promise<any> {
    const res = await request(call, url, { method, timeoutMs: timeoutMs ?? this.timeoutMs, apiKey: this.apiKey });
    return parseJson(call, res.body.toString('utf8'));
  }

  async status(model: string, opts: CallOptions = {}): Promise<ModelVersionStatus[]> {
    const body = await this.getJson('GetModelStatus', this.modelUrl(model, opts.version), opts.timeoutMs);
    return versionStatuses(body);
  }

  async metadata(model: string, opts: CallOptions = {}): Promise<ModelMetadata> {
    const body = await this.getJson('GetModelMetadata', `${this.modelUrl(model, opts.version)}/metadata`, opts.timeoutMs);
    const sig = body?.metadata?.signature_def?.signatureDef?.serving_default;
    if (!sig) throw new ClientError({ call: 'GetModelMetadata', code: 0, status: 'BAD_RESPONSE', details: 'no serving_default signature', transport: 'rest' });
    return {
      name: String(body.modelSpec?.name ?? model),
      versions: [String(body.modelSpec?.version ?? '')],
      inputs: specsOf(sig.inputs),
      outputs: specsOf(sig.outputs),
    };
  }

  predict(model: string, inputs: InferInputs, opts: InferOptions = {}): Promise<InferResult> {
    return this.infer(model, inputs, opts);
  }

  async infer(model: string, inputs: InferInputs, opts: InferOptions = {}): Promise<InferResult> {
    const key = `${model}\n${opts.version ?? ''}`;
    let meta = this.metadataCache.get(key);
    if (!meta) {
      meta = this.metadata(model, opts);
      this.metadataCache.set(key, meta);
      meta.catch(() => this.metadataCache.delete(key));
    }
    const columns: Record<string, unknown> = {};
    for (const [name, t] of inputEntries(inputs)) columns[name] = nest(jsonValues(t), t.shape);
    const res = await request('Predict', `${this.modelUrl(model, opts.version)}:predict`, {
      method: 'POST',
      body: writeJson({ inputs: columns }),
      headers: { 'Content-Type': 'application/json' },
      timeoutMs: opts.timeoutMs ?? this.timeoutMs, apiKey: this.apiKey,
    });
    const body = parseJson('Predict', res.body.toString('utf8'));
    const specs = (await meta).outputs;
    const raw = body?.outputs;
    // One output comes back bare, several as a map by name (TFS columnar format).
    const named: Record<string, unknown> = specs.length === 1 && (Array.isArray(raw) || typeof raw !== 'object' || raw === null) ? { [specs[0]!.name]: raw } : raw ?? {};
    const outputs: Record<string, Tensor> = {};
    const wanted = opts.outputs ?? Object.keys(named);
    for (const name of wanted) {
      if (!(name in named)) throw new ClientError({ call: 'Predict', code: 0, status: 'BAD_RESPONSE', details: `no output named ${name}`, transport: 'rest' });
      const dtype: DType = specs.find((s) => s.name === name)?.dtype ?? 'FP32';
      outputs[name] = fromJson(dtype, named[name]);
    }
    return { modelName: model, modelVersion: String((await meta).versions[0] ?? ''), outputs };
  }

  /** `GET /v1/config`: every model's version statuses. */
  async config(opts: { timeoutMs?: number } = {}): Promise<ConfigStatus> {
    return configStatus(await this.getJson('GetConfig', `${this.url}/v1/config`, opts.timeoutMs));
  }

  /** `POST /v1/config/reload`; the server re-reads config.json when it changed. */
  async reload(_models?: readonly string[], opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.reloadConfig(opts);
  }

  /** The reload with its answer: whether anything was reloaded (HTTP 201) and the statuses. */
  async reloadConfig(opts: { timeoutMs?: number } = {}): Promise<{ reloaded: boolean; models: ConfigStatus }> {
    const res = await request('ReloadConfig', `${this.url}/v1/config/reload`, { method: 'POST', timeoutMs: opts.timeoutMs ?? this.timeoutMs, apiKey: this.apiKey });
    return { reloaded: res.status === 201, models: configStatus(parseJson('ReloadConfig', res.body.toString('utf8'))) };
  }

  close(): void {
    this.metadataCache.clear();
  }
}

function versionStatuses(body: any): ModelVersionStatus[] {
  return (body?.model_version_status ?? []).map((s: any) => ({
    version: String(s.version),
    state: String(s.state),
    errorCode: String(s.status?.error_code ?? 'OK'),
    errorMessage: String(s.status?.error_message ?? ''),
  }));
}

function configStatus(body: any): ConfigStatus {
  const out: ConfigStatus = {};
  for (const [name, entry] of Object.entries(body ?? {})) out[name] = versionStatuses(entry);
  return out;
}

function specsOf(map: Record<string, any> | undefined): TensorSpec[] {
  return Object.entries(map ?? {}).map(([name, info]) => ({
    name,
    dtype: fromTfName(String(info.dtype)) ?? 'FP32',
    shape: (info.tensorShape?.dim ?? []).map((d: any) => Number(d.size)),
  }));
}

/** Values as TFS REST JSON wants them; bytes that are not UTF-8 text go as {"b64": …}. */
function jsonValues(t: Tensor): unknown[] {
  if (t.dtype !== 'STRING') return tensorValues(t);
  return (t.data as readonly Uint8Array[]).map((b) => ({ b64: Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64') }));
}

function fromJson(dtype: DType, value: unknown): Tensor {
  const { shape, values } = flatten(value);
  if (dtype === 'STRING') {
    return tensor('STRING', shape, values.map((v) => (typeof v === 'object' && v !== null && 'b64' in v ? new Uint8Array(Buffer.from(String((v as { b64: unknown }).b64), 'base64')) : String(v))));
  }
  return tensor(dtype, shape, values.map((v) => (typeof v === 'string' ? Number(v) : v)) as never);
}
