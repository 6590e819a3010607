/**
 * A closed-loop load generator over the five ways a client can call a model: TFS gRPC, TFS REST,
 * KServe gRPC, KServe REST (JSON) and KServe REST (binary extension). Each worker sends one
 * request at a time to a dummy-like model (b FP32 [1,10] → a = b + k) and checks the answer: every
 * element must be input + k for one whole k ≥ 1, and when the API names the version that answered,
 * k must be that version (the reload benchmark serves version n as "b + n"). Anything else, and any
 * transport error, is a failure with its reason kept. Used by the reload benchmark, the soak script
 * and the fault tests.
 */
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { TfsClient } from '../../test/helpers/tfs-grpc.js';
import { KserveClient } from '../../test/helpers/kserve-grpc.js';

export type Api = 'tfs-grpc' | 'tfs-rest' | 'kserve-grpc' | 'kserve-rest' | 'kserve-rest-binary';
export const ALL_APIS: readonly Api[] = ['tfs-grpc', 'tfs-rest', 'kserve-grpc', 'kserve-rest', 'kserve-rest-binary'];

export interface LoadTarget {
  readonly grpcAddress: string;
  readonly restPort: number;
}

export interface LoadOptions {
  readonly model: string;
  readonly concurrency: number;
  readonly apis?: readonly Api[];
  /** When the API reports the version, the offset k must equal it (models served as "b + version"). */
  readonly offsetIsVersion?: boolean;
  /** Keep every latency (ms) of the current phase, for percentiles. */
  readonly recordLatency?: boolean;
  /** Stop on its own after this many requests in total. */
  readonly maxRequests?: number;
  /** Per-request deadline (ms); past it the request counts as failed. */
  readonly timeoutMs?: number;
}

export interface PhaseResult {
  readonly ok: number;
  readonly failed: number;
  /** The first failures' reasons (at most 20), with the API. */
  readonly errors: readonly string[];
  /** Every failure reason (API and message, numbers masked), with counts. */
  readonly reasons: Readonly<Record<string, number>>;
  /** Requests per API. */
  readonly perApi: Readonly<Record<string, number>>;
  /** Offsets (k) seen, with counts: which versions answered. */
  readonly offsets: Readonly<Record<string, number>>;
  readonly latenciesMs: readonly number[];
  readonly seconds: number;
}

const N = 10;

class Phase {
  ok = 0;
  failed = 0;
  errors: string[] = [];
  reasons: Record<string, number> = {};
  perApi: Record<string, number> = {};
  offsets: Record<string, number> = {};
  latencies: number[] = [];
  readonly started = performance.now();

  result(): PhaseResult {
    return {
      ok: this.ok, failed: this.failed, errors: this.errors, reasons: this.reasons, perApi: this.perApi, offsets: this.offsets,
      latenciesMs: this.latencies, seconds: (performance.now() - this.started) / 1000,
    };
  }
}

export class LoadGenerator {
  private readonly tfs: TfsClient;
  private readonly kserve: KserveClient;
  private readonly agent: http.Agent;
  private readonly apis: readonly Api[];
  private phase = new Phase();
  private stopping = false;
  private sent = 0;
  private workers: Promise<void>[] = [];

  constructor(private readonly target: LoadTarget, private readonly options: LoadOptions) {
    this.tfs = new TfsClient(target.grpcAddress);
    this.kserve = new KserveClient(target.grpcAddress);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
    this.apis = options.apis ?? ALL_APIS;
  }

  /** Requests sent so far, all phases. */
  get total(): number {
    return this.sent;
  }

  start(): this {
    this.workers = Array.from({ length: this.options.concurrency }, (_, i) => this.worker(i));
    return this;
  }

  /** Ends the current phase (its result is returned) and starts a new one; the load goes on. */
  mark(): PhaseResult {
    const done = this.phase.result();
    this.phase = new Phase();
    return done;
  }

  /** Resolves when every worker has stopped on its own (maxRequests reached). */
  async finished(): Promise<PhaseResult> {
    await Promise.all(this.workers);
    return this.phase.result();
  }

  /** Lets running requests finish, then returns the last phase's result. */
  async stop(): Promise<PhaseResult> {
    this.stopping = true;
    await Promise.all(this.workers);
    this.tfs.close();
    this.kserve.close();
    this.agent.destroy();
    return this.phase.result();
  }

  private async worker(index: number): Promise<void> {
    let turn = index;
    while (!this.stopping && (this.options.maxRequests === undefined || this.sent < this.options.maxRequests)) {
      this.sent++;
      const api = this.apis[turn++ % this.apis.length]!;
      const input = Array.from({ length: N }, () => Math.floor(Math.random() * 100));
      const phase = this.phase;
      const t0 = performance.now();
      let problem: string | undefined;
      try {
        const { output, version } = await this.call(api, input);
        problem = this.check(input, output, version, phase);
      } catch (err) {
        problem = (err as Error).message ?? String(err);
      }
      phase.perApi[api] = (phase.perApi[api] ?? 0) + 1;
      if (problem === undefined) {
        phase.ok++;
        if (this.options.recordLatency) phase.latencies.push(performance.now() - t0);
      } else {
        phase.failed++;
        if (phase.errors.length < 20) phase.errors.push(`${api}: ${problem}`);
        const reason = `${api}: ${problem.slice(0, 100).replace(/\d{3,}/g, 'N')}`;
        phase.reasons[reason] = (phase.reasons[reason] ?? 0) + 1;
      }
    }
  }

  private check(input: readonly number[], output: readonly number[], version: number | undefined, phase: Phase): string | undefined {
    if (output.length !== N) return `expected ${N} values, got ${output.length}`;
    const k = output[0]! - input[0]!;
    if (!Number.isInteger(k) || k < 1 || output.some((v, i) => v - input[i]! !== k)) return `not input + k: ${JSON.stringify(input)} → ${JSON.stringify(output)}`;
    if (this.options.offsetIsVersion && version !== undefined && version !== k) return `version ${version} answered b + ${k}`;
    phase.offsets[k] = (phase.offsets[k] ?? 0) + 1;
    return undefined;
  }

  private deadline(): number {
    return Date.now() + (this.options.timeoutMs ?? 30_000);
  }

  private async call(api: Api, input: readonly number[]): Promise<{ output: number[]; version: number | undefined }> {
    const model = this.options.model;
    const values = Float32Array.from(input);
    const content = Buffer.from(values.buffer);
    switch (api) {
      case 'tfs-grpc': {
        const res = await unary(this.tfs.prediction, 'Predict', {
          model_spec: { name: model },
          inputs: { b: { dtype: 1, tensor_shape: { dim: [{ size: 1 }, { size: N }] }, tensor_content: content } },
        }, this.deadline());
        return { output: floats(res.outputs.a.tensor_content), version: Number(res.model_spec?.version?.value ?? NaN) || undefined };
      }
      case 'kserve-grpc': {
        const res = await unary(this.kserve.service, 'ModelInfer', {
          model_name: model,
          inputs: [{ name: 'b', datatype: 'FP32', shape: [1, N] }],
          raw_input_contents: [content],
        }, this.deadline());
        return { output: floats(res.raw_output_contents[0]), version: Number(res.model_version) || undefined };
      }
      case 'tfs-rest': {
        const r = await this.post(`/v1/models/${model}:predict`, JSON.stringify({ instances: [input] }), {});
        return { output: (JSON.parse(r.body.toString()) as { predictions: number[][] }).predictions[0]!, version: undefined };
      }
      case 'kserve-rest': {
        const r = await this.post(`/v2/models/${model}/infer`, JSON.stringify({ inputs: [{ name: 'b', shape: [1, N], datatype: 'FP32', data: input }] }), {});
        const doc = JSON.parse(r.body.toString()) as { model_version: string; outputs: { data: number[] }[] };
        return { output: doc.outputs[0]!.data, version: Number(doc.model_version) || undefined };
      }
      case 'kserve-rest-binary': {
        const header = Buffer.from(JSON.stringify({
          parameters: { binary_data_output: true },
          inputs: [{ name: 'b', shape: [1, N], datatype: 'FP32', parameters: { binary_data_size: content.length } }],
        }));
        const r = await this.post(`/v2/models/${model}/infer`, Buffer.concat([header, content]), { 'inference-header-content-length': String(header.length) });
        const jsonLength = Number(r.headers['inference-header-content-length']);
        if (!Number.isSafeInteger(jsonLength)) throw new Error(`no binary response: ${r.body.subarray(0, 200).toString()}`);
        const doc = JSON.parse(r.body.subarray(0, jsonLength).toString()) as { model_version: string };
        return { output: floats(r.body.subarray(jsonLength)), version: Number(doc.model_version) || undefined };
      }
    }
  }

  private post(path: string, body: string | Buffer, headers: Record<string, string>): Promise<{ body: Buffer; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port: this.target.restPort, method: 'POST', path, agent: this.agent,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        timeout: this.options.timeoutMs ?? 30_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode} ${buf.subarray(0, 200).toString()}`));
          else resolve({ body: buf, headers: res.headers });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }
}

function unary(client: grpc.Client & Record<string, Function>, method: string, request: unknown, deadline: number): Promise<any> {
  return new Promise((resolve, reject) => {
    client[method]!(request, { deadline }, (err: grpc.ServiceError | null, res: unknown) => (err ? reject(new Error(`${err.code} ${err.details}`)) : resolve(res)));
  });
}

function floats(b: Uint8Array): number[] {
  const copy = Uint8Array.from(b);
  return [...new Float32Array(copy.buffer, 0, copy.byteLength / 4)];
}

/** The p-th percentile (0..100) of `values` (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
