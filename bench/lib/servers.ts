/**
 * Processes under test: tsms (one per server variant: default, metrics on, dynamic batching on)
 * started from a generated config.json, and the reference servers of the limits.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchModel } from './models.js';
import { benchScript, serverMain } from './paths.js';
import { freePort, startChild, type Child } from './spawn.js';

export interface ServerVariant {
  readonly name: 'default' | 'metrics' | 'batching';
  readonly label: string;
  /**
   * How the variant changes config.json; undefined = the server has no such setting yet, and its
   * rows print "n/a (not implemented yet)". Enabling a feature is a one-line change here.
   */
  readonly patch?: (config: TsmsConfigFile) => TsmsConfigFile;
  /** A GET on the REST port that answers 200 only when the feature works (e.g. /metrics). */
  readonly probePath?: string;
}

export interface TsmsConfigFile {
  model_config_list: { config: Record<string, unknown> }[];
  monitoring?: unknown;
}

export const SERVER_VARIANTS: Readonly<Record<ServerVariant['name'], ServerVariant>> = {
  default: { name: 'default', label: 'metrics off, batching off' },
  metrics: {
    name: 'metrics',
    label: 'metrics on',
    patch: (c) => ({ ...c, monitoring: { metrics: { enable: true } } }),
    probePath: '/metrics',
  },
  batching: {
    name: 'batching',
    label: 'dynamic batching on',
    // tsms's dynamic_batching extension (docs/configuration.md): batches form while the model is busy.
    // 16 = the bench's 16 clients in one batch. 1000 µs: with mlp the 16 requests of a cycle reach the
    // batcher over 0.4-0.55 ms, so 99 % of batches leave full (500 µs cut 2-3 % short).
    patch: (c) => ({
      ...c,
      model_config_list: c.model_config_list.map((m) => ({ config: { ...m.config, dynamic_batching: { max_batch_size: 16, max_queue_delay_us: 1000 } } })),
    }),
  },
};

export interface RunningTsms {
  readonly child: Child;
  readonly grpcPort: number;
  readonly restPort: number;
  readonly configFile: string;
  stop(): Promise<void>;
}

export function configFor(models: readonly BenchModel[]): TsmsConfigFile {
  return {
    model_config_list: models.map((m) => ({ config: { name: m.name, base_path: path.dirname(path.dirname(m.file)) } })),
  };
}

/** Starts tsms on free ports and waits until both listeners report they are up. */
export async function startTsms(config: TsmsConfigFile, workDir: string, tag: string): Promise<RunningTsms> {
  const configFile = path.join(workDir, `config-${tag}.json`);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const grpcPort = await freePort();
  const restPort = await freePort();
  const child = startChild(process.execPath, [serverMain, '--config_path', configFile, '--port', String(grpcPort), '--rest_port', String(restPort)]);
  try {
    await child.waitFor(`Server started on port ${grpcPort}`, 120_000);
    await child.waitFor('Started REST server at', 30_000);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { child, grpcPort, restPort, configFile, stop: () => child.stop() };
}

export interface RunningReference {
  readonly child: Child;
  readonly port: number;
  stop(): Promise<void>;
}

async function startReference(script: string, params: Record<string, unknown>): Promise<RunningReference> {
  const port = await freePort();
  const child = startChild(process.execPath, [benchScript(script), JSON.stringify({ ...params, port })]);
  try {
    await child.waitFor('READY', 30_000);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { child, port, stop: () => child.stop() };
}

export function startBareGrpc(responseFile: string): Promise<RunningReference> {
  return startReference('refs/bare-grpc.js', { responseFile });
}

export interface FloorSpec {
  readonly model: { file: string; inputName: string; inputShape: readonly number[] };
  /** Raw float32 input of one request (the floor runs on it instead of decoding the request). */
  readonly inputFile: string;
  /** 0: one session on the main thread; N: N worker threads (refs/ort-runner.ts). */
  readonly workers: number;
}

/** The node:http2 + onnxruntime floor (refs/http2-ort.ts) of a gRPC scenario. */
export function startHttp2Floor(responseFile: string, floor: FloorSpec): Promise<RunningReference> {
  return startReference('refs/http2-ort.js', { responseFile, ...floorParams(floor) });
}

/** The node:http + onnxruntime floor (refs/bare-http.ts plus one run) of a REST scenario. */
export function startHttpFloor(responseFile: string, contentType: string, headers: Record<string, string>, floor: FloorSpec): Promise<RunningReference> {
  return startReference('refs/bare-http.js', { responseFile, contentType, headers, parse: 'none', floor: floorParams(floor) });
}

function floorParams(f: FloorSpec): Record<string, unknown> {
  return { modelFile: f.model.file, inputName: f.model.inputName, shape: f.model.inputShape, inputFile: f.inputFile, workers: f.workers };
}

export function startBareHttp(responseFile: string, contentType: string, headers: Record<string, string>, parse: 'none' | 'naive-json'): Promise<RunningReference> {
  return startReference('refs/bare-http.js', { responseFile, contentType, headers, parse });
}
