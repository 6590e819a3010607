/**
 * What the bench measures. Each scenario is one row of the table: a model served by tsms over one
 * API at one concurrency on one server variant, compared with the limits named in `limits`.
 * Adding a scenario (or enabling one once the server supports it) is one entry here; rows whose
 * API or server variant the server does not implement yet print "n/a (not implemented yet)".
 */
import type { ApiName } from './apis.js';
import type { Profile } from './options.js';
import type { ServerVariant } from './servers.js';

/** The limits a row is compared with, measured in the same repetition. */
export type LimitKind =
  /** onnxruntime-node in-process on the same model, batch and concurrency (best config). */
  | 'inproc'
  /** bare grpc-js / node:http server answering the same bytes without inference. */
  | 'bare'
  /** naive REST server: JSON.parse + .flat(Infinity) of the same body, same reply bytes. */
  | 'naive-json'
  /**
   * node:http2 (gRPC) or node:http (REST) server that runs onnxruntime once per request on a fixed
   * input and answers the same bytes (no API code): what no server on that transport can beat.
   */
  | 'floor'
  /** the same scenario on the default server (for metrics / batching variants). */
  | 'variant-off';

export interface Scenario {
  readonly model: string;
  readonly api: ApiName;
  readonly concurrency: number;
  /** TCP connections (gRPC default 1 with `concurrency` streams; HTTP/1.1 default = concurrency). */
  readonly connections?: number;
  readonly variant: ServerVariant['name'];
  readonly profiles: readonly Profile[];
  readonly limits: readonly LimitKind[];
  readonly timeoutSeconds?: number;
  /** Measure only when this variant is available (the "off" half of an on/off pair). */
  readonly onlyIfVariant?: ServerVariant['name'];
}

export const MODELS = ['dummy', 'cnn', 'big'] as const;
export const API_ORDER: readonly ApiName[] = ['tfs-grpc', 'tfs-rest-json', 'kserve-grpc', 'kserve-rest-bin'];

const ALL: readonly Profile[] = ['quick', 'default', 'full'];
const NOT_QUICK: readonly Profile[] = ['default', 'full'];
const FULL: readonly Profile[] = ['full'];

export function scenarioId(s: Scenario): string {
  const conn = s.connections ? `x${s.connections}conn` : '';
  const variant = s.variant === 'default' ? '' : ` +${s.variant}`;
  return `${s.model} ${s.api} c${s.concurrency}${conn}${variant}`;
}

/** Where a model × API × concurrency cell of the matrix runs. */
function profilesFor(model: string, api: ApiName, c: number): readonly Profile[] | undefined {
  // 12.6M floats as JSON is ~60 MB per request each way: only in --full, one at a time.
  if (model === 'big' && api === 'tfs-rest-json') return c === 1 ? FULL : undefined;
  if (c === 8 && (model === 'dummy' || (model === 'cnn' && api === 'tfs-grpc'))) return ALL;
  return NOT_QUICK;
}

function matrix(models: readonly string[]): Scenario[] {
  const out: Scenario[] = [];
  for (const model of models) {
    for (const api of API_ORDER) {
      for (const concurrency of [1, 8]) {
        const profiles = profilesFor(model, api, concurrency);
        if (!profiles) continue;
        const limits: LimitKind[] = ['inproc', 'bare'];
        if (model === 'cnn' && api === 'tfs-rest-json') limits.push('naive-json');
        // The floor under the dummy-vs-bare-grpc-js, cnn and 12 MB targets: transport plus one run,
        // nothing else. tsms does not use grpc-js's per-call code, so for 12 MB bare grpc-js is no
        // bound for it (0.09-0.11x in-process); this floor is. For cnn the bare transports say
        // nothing (they skip the 10 ms of inference); the floor shows what is left of in-process
        // once a transport and a worker hop share the 2 cores.
        if (concurrency === 8 && floorFor(model, api)) limits.push('floor');
        out.push({ model, api, concurrency, variant: 'default', profiles, limits, timeoutSeconds: model === 'big' ? 60 : undefined });
      }
    }
  }
  return out;
}

/** Where a floor row runs: the scenarios of the targets it bounds. */
function floorFor(model: string, api: ApiName): boolean {
  if (model === 'dummy' || model === 'big') return api === 'tfs-grpc' || api === 'kserve-grpc';
  if (model === 'cnn') return api === 'tfs-grpc' || api === 'kserve-rest-bin';
  return false;
}

/**
 * Worker threads of a model's floor: compute-bound models run as tsms runs them on 2 cores (2
 * workers x intraOp 1; one main-thread session would leave a core idle), the others on the main
 * thread (a hop would cost more than their run).
 */
export function floorWorkers(model: string): number {
  return model === 'cnn' || model === 'mobilenet' ? 2 : 0;
}

export function allScenarios(extraModels: readonly string[]): Scenario[] {
  return [
    ...matrix([...MODELS, ...extraModels]),
    // Metrics on vs off, where the per-request cost of counting shows most: the tiny model.
    { model: 'dummy', api: 'tfs-grpc', concurrency: 8, variant: 'metrics', profiles: ALL, limits: ['variant-off'] },
    // Dynamic batching on vs off: 16 clients with one batch-1 request each. The target is judged on
    // the memory-bound mlp, where a joined run reuses the weights every single run streams again.
    { model: 'mlp', api: 'tfs-grpc', concurrency: 16, connections: 16, variant: 'default', profiles: ALL, limits: [], onlyIfVariant: 'batching' },
    { model: 'mlp', api: 'tfs-grpc', concurrency: 16, connections: 16, variant: 'batching', profiles: ALL, limits: ['variant-off'] },
    // The compute-bound cnn gains nothing from batching on 2 cores (node-perf §2 rule 4); the pair
    // shows that turning it on does not cost a model like it throughput either.
    { model: 'cnn', api: 'tfs-grpc', concurrency: 16, connections: 16, variant: 'default', profiles: NOT_QUICK, limits: [], onlyIfVariant: 'batching' },
    { model: 'cnn', api: 'tfs-grpc', concurrency: 16, connections: 16, variant: 'batching', profiles: NOT_QUICK, limits: ['variant-off'] },
  ];
}

/** In-process configurations per model; the best one of a repetition is the limit. */
export interface InprocConfig {
  readonly label: string;
  readonly mode: 'main' | 'workers';
  readonly workers: number;
  readonly intraOp: number;
}

const MAIN_INTRA1: InprocConfig = { label: 'main thread, intraOp 1', mode: 'main', workers: 1, intraOp: 1 };
const MAIN_INTRA2: InprocConfig = { label: '1 session intraOp 2', mode: 'main', workers: 1, intraOp: 2 };
const WORKERS2: InprocConfig = { label: '2 worker_threads x intraOp 1', mode: 'workers', workers: 2, intraOp: 1 };

export function inprocConfigs(model: string): readonly InprocConfig[] {
  // Compute-bound models: node-perf §2.3 found 2 workers x intraOp 1 best on 2 cores, but measure both.
  if (model === 'cnn' || model === 'mobilenet') return [MAIN_INTRA2, WORKERS2];
  return [MAIN_INTRA1];
}

/** In-process limits are measured at these concurrencies only (a row at another C has no inproc ratio). */
export const INPROC_CONCURRENCY = [1, 8];
