/**
 * The model repository extension (Triton/KServe: index, load, unload) on top of the model
 * manager, and how it works together with config.json:
 *
 *  - config.json (or --model_name/--model_path) decides which models exist and with which
 *    settings; the repository API decides whether a configured model is loaded.
 *  - unload retires every version of the model (in-flight requests finish first). It stays
 *    unloaded — polling does not bring it back, nor does POST /v1/config/reload of an unchanged
 *    file — until a load request, or until an edited config.json is applied (the file is then the
 *    newer word and everything in it is served again).
 *  - load reads the model's entry from the current config.json, so it also applies an edit of
 *    that entry, then starts, reloads and retries its versions. A name config.json does not list
 *    cannot be loaded (404); the rest of an edited file is applied by the next poll or reload.
 */
import { loadModelListConfig } from '../config/config-file.js';
import type { ModelConfig, ServerConfig } from '../config/types.js';
import { ServingError, servingError } from '../core/errors.js';
import { ModelState, VersionErrorCode, type VersionStatus } from '../core/servable.js';
import type { ReloadResult } from './model-manager.js';
import type { ReadinessSource } from './readiness.js';

/** What repository control needs from the model manager (ModelManager implements it). */
export interface RepositoryHost extends ReadinessSource {
  readonly serverConfig: ServerConfig | undefined;
  setModelConfig(name: string, config: ModelConfig | undefined): Promise<{ changed: boolean; errors: readonly string[] }>;
}

/** One row of the repository index (Triton's ModelIndex). */
export interface ModelIndexEntry {
  readonly name: string;
  /** Empty for a model with no version at all. */
  readonly version: string;
  /** READY, LOADING, UNLOADING or UNAVAILABLE (Triton's state names). */
  readonly state: string;
  /** Why it is not READY, when known. */
  readonly reason: string;
}

/** Every model (and pipeline) version; with `readyOnly`, only the READY ones. */
export function repositoryIndex(host: RepositoryHost, readyOnly: boolean): ModelIndexEntry[] {
  const out: ModelIndexEntry[] = [];
  for (const name of host.names()) {
    let statuses: VersionStatus[];
    try {
      statuses = host.getStatus(name);
    } catch {
      continue;
    }
    if (statuses.length === 0 && !readyOnly) {
      out.push({ name, version: '', state: 'UNAVAILABLE', reason: host.modelConfig(name) ? 'no version found' : 'unloaded' });
    }
    for (const s of statuses) {
      const entry = indexEntry(name, s, host.modelConfig(name) !== undefined);
      if (!readyOnly || entry.state === 'READY') out.push(entry);
    }
  }
  return out;
}

function indexEntry(name: string, s: VersionStatus, configured: boolean): ModelIndexEntry {
  const version = String(s.version);
  switch (s.state) {
    case ModelState.AVAILABLE:
      return { name, version, state: 'READY', reason: '' };
    case ModelState.START:
    case ModelState.LOADING:
      return s.errorCode === VersionErrorCode.OK
        ? { name, version, state: 'LOADING', reason: '' }
        : { name, version, state: 'UNAVAILABLE', reason: s.detail ?? s.errorMessage };
    case ModelState.UNLOADING:
      return { name, version, state: 'UNLOADING', reason: '' };
    default:
      return { name, version, state: 'UNAVAILABLE', reason: configured ? 'retired' : 'unloaded' };
  }
}

/**
 * Loads (or reloads) a configured model from its current config entry. Resolves when every
 * requested version has been tried; rejects FAILED_PRECONDITION with the load errors otherwise.
 */
export async function loadModel(host: RepositoryHost, name: string): Promise<void> {
  const config = await configEntry(host, name);
  const { errors } = await host.setModelConfig(name, config);
  if (errors.length > 0) {
    throw new ServingError('FAILED_PRECONDITION', `Model ${name} could not be loaded: ${errors.join('; ')}`);
  }
}

/** Unloads a model: every version retires; nothing to do when it is not loaded. */
export async function unloadModel(host: RepositoryHost, name: string): Promise<void> {
  if (!host.names().includes(name)) throw servingError('MODEL_NAME_MISSING');
  if (host.modelConfig(name) === undefined) return;
  await host.setModelConfig(name, undefined);
}

/** The model's entry in the current configuration (config.json read now, or the single model). */
async function configEntry(host: RepositoryHost, name: string): Promise<ModelConfig> {
  const server = host.serverConfig;
  if (server?.configPath) {
    let models: readonly ModelConfig[];
    try {
      models = (await loadModelListConfig(server.configPath)).models;
    } catch (err) {
      // An unreadable or invalid file: the entry the model is served with is still the best answer.
      const current = host.modelConfig(name);
      if (current) return current;
      throw new ServingError('FAILED_PRECONDITION', `Model ${name} could not be loaded: ${(err as Error).message}`);
    }
    const entry = models.find((m) => m.name === name);
    if (!entry) throw servingError('MODEL_NAME_MISSING');
    return entry;
  }
  if (server?.model && server.model.name === name) return server.model;
  throw servingError('MODEL_NAME_MISSING');
}

/** The model manager as the REST and gRPC control endpoints use it (repository, /v1/config). */
export interface ManagerControl extends RepositoryHost {
  /** POST /v1/config/reload (throws ReloadError with OVMS's text and code). */
  reload(): Promise<ReloadResult>;
  /** Model-level errors (e.g. an invalid base path), for logs. */
  modelErrors(): Map<string, string>;
}
