/**
 * The serving layer's front: owns every Model, loads them at start, keeps them in line with the
 * repository and the config file (polling and explicit reloads), and answers name/version lookups
 * for the protocols (ServableRegistry).
 *
 * All reconciling (start, poll ticks, reload(), stop()) runs one step at a time through a single
 * queue, so two reconciles never interleave; requests are never blocked by it.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ConfigFileError, loadModelListConfig, readConfigBytes } from '../config/config-file.js';
import type { ModelConfig, ModelListConfig, ServerConfig } from '../config/types.js';
import { servingError } from '../core/errors.js';
import { ModelState, type Servable, type ServableRegistry, type VersionStatus } from '../core/servable.js';
import { PipelineManager } from '../pipeline/pipeline-manager.js';
import type { ModelLookup } from '../pipeline/validate.js';
import type { ModelFormat } from '../runtime/engine.js';
import { localStorage } from '../storage/local.js';
import type { Storage } from '../storage/storage.js';
import { Model, type SyncContext } from './model.js';
import type { ModelVersion } from './model-version.js';

export interface ModelManagerOptions {
  readonly logger: Logger;
  readonly formats: readonly ModelFormat[];
  /** Storage for a base path (local disk unless a cloud storage is plugged in here). */
  readonly storageFor?: (basePath: string) => Storage;
  /** How long Predict waits for a LOADING version (OVMS: 10 s). */
  readonly waitForLoadingMs?: number;
  /** Pause before the second attempt to read an unreadable config file at start (OVMS: 1 s). */
  readonly configRetryDelayMs?: number;
}

/** Result of `reload()` (REST POST /v1/config/reload). */
export interface ReloadResult {
  /** The REST answer should be 201 (something reloaded) rather than 200. Always false in single-model mode, as OVMS. */
  readonly changed: boolean;
  /** The config file was re-read and applied. */
  readonly configReloaded: boolean;
  /** Some model version was started, reloaded or retired. */
  readonly versionsChanged: boolean;
}

/**
 * A failed `reload()`. `message` is OVMS's REST error text; `httpStatus` the code OVMS answers with.
 * Whatever could be applied was applied; the previous config keeps serving when the file is bad.
 */
export class ReloadError extends Error {
  constructor(
    readonly kind: 'CONFIG_FILE_MISSING' | 'CONFIG_RELOAD_FAILED' | 'VERSIONS_RELOAD_FAILED',
    message: string,
    readonly httpStatus: number,
    /** What went wrong, for logs. */
    readonly reasons: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ReloadError';
  }
}

const RELOAD_TEXT = {
  CONFIG_FILE_MISSING: 'Config file not found or cannot open.',
  CONFIG_RELOAD_FAILED: 'Reloading config file failed. Check server logs for more info.',
  VERSIONS_RELOAD_FAILED: 'Reloading models versions failed. Check server logs for more info.',
} as const;

export class ModelManager implements ServableRegistry, ModelLookup {
  private readonly logger: Logger;
  private readonly models = new Map<string, Model>();
  /** Pipelines share the name space with models; a name is looked up as a model first (SPEC §6.2). */
  private readonly pipelines: PipelineManager;
  private readonly storageFor: (basePath: string) => Storage;
  private readonly waitForLoadingMs: number;
  private config: ServerConfig | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** Hash of the config file content last applied (or found invalid), to notice edits. */
  private configHash: string | undefined;
  /** The last config file apply had errors; an explicit reload tries again even if unchanged. */
  private configFailed = false;
  /** The config file could not be read on the last poll (logged once). */
  private configUnreadable = false;

  constructor(private readonly opts: ModelManagerOptions) {
    this.logger = opts.logger;
    this.storageFor = opts.storageFor ?? (() => localStorage);
    this.waitForLoadingMs = opts.waitForLoadingMs ?? 10_000;
    this.pipelines = new PipelineManager({ logger: this.logger, models: this, modelExists: (name) => this.models.has(name) });
  }

  /**
   * Loads the models, then starts polling. Rejects (the server exits 1) on an unreadable or
   * invalid config file, or in single-model mode on any load error; in config mode per-model
   * errors are logged and the server starts anyway (SPEC §1.4).
   */
  async start(config: ServerConfig): Promise<void> {
    this.config = config;
    await this.serialized(async () => {
      if (config.configPath) {
        await this.startFromConfigFile(config.configPath);
      } else if (config.model) {
        const model = this.modelFor(config.model.name);
        model.config = config.model;
        const result = await model.sync(this.syncContext(config.model, true));
        if (result.errors.length > 0) {
          this.logger.error(`Couldn't start model manager: ${result.errors.join('; ')}`);
          throw new Error(`ModelManager::Start() Error: ${result.errors[0]}`);
        }
      }
    }).catch(async (err: unknown) => {
      await this.stop();
      throw err;
    });
    this.schedulePoll();
  }

  /** Stops polling, lets in-flight requests finish and unloads every version. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.pollTimer) clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
      await this.queue;
      // Pipelines first: their running requests still use the models.
      await this.pipelines.stop();
      await Promise.all([...this.models.values()].map((m) => m.retireAll()));
    })();
    return this.stopping;
  }

  /**
   * POST /v1/config/reload: re-read the config file if it changed (or its last apply failed),
   * then re-scan every model's versions. Throws ReloadError with OVMS's text on failure.
   */
  reload(): Promise<ReloadResult> {
    return this.serialized(async () => {
      if (this.stopping) return { changed: false, configReloaded: false, versionsChanged: false };
      const configPath = this.config?.configPath;
      const configReloaded = configPath ? await this.reloadConfigFile(configPath, true) : false;
      // A config just applied has retried every failed version already.
      const { changed: versionsChanged, errors } = await this.syncAll(!configReloaded);
      this.pipelines.revalidateAll();
      // An edited custom node library is picked up by an explicit reload even if config.json is unchanged.
      const libraries = configReloaded ? { changed: false, errors: [] } : await this.pipelines.refreshLibraries();
      for (const e of libraries.errors) this.logger.error(e);
      if (errors.length > 0) throw new ReloadError('VERSIONS_RELOAD_FAILED', RELOAD_TEXT.VERSIONS_RELOAD_FAILED, 500, errors);
      return { changed: configPath !== undefined && (configReloaded || versionsChanged || libraries.changed), configReloaded, versionsChanged };
    });
  }

  async getServable(name: string, version?: number, options: { waitForLoading?: boolean; signal?: AbortSignal } = {}): Promise<Servable> {
    const model = this.models.get(name);
    if (!model) {
      // Pipelines have one pseudo-version and ignore the requested one (SPEC §6.2).
      const pipeline = this.pipelines.get(name);
      if (pipeline) return pipeline.ready();
      throw servingError('MODEL_NAME_MISSING');
    }
    if (version === undefined || version === 0) {
      const v = model.getDefault();
      if (!v) throw servingError('MODEL_VERSION_MISSING');
      return v;
    }
    const v = Number.isSafeInteger(version) && version > 0 ? model.getVersion(version) : undefined;
    if (!v) throw servingError('MODEL_VERSION_MISSING');
    return v.whenAvailable(options.waitForLoading ? this.waitForLoadingMs : 0, options.signal);
  }

  readyServable(name: string, version?: number): Servable | undefined {
    const model = this.models.get(name);
    if (!model) return undefined;
    const v = version === undefined || version === 0 ? model.getDefault() : model.getVersion(version);
    return v?.state === ModelState.AVAILABLE ? v : undefined;
  }

  getStatus(name: string, version?: number): VersionStatus[] {
    const model = this.models.get(name);
    if (!model) {
      const pipeline = this.pipelines.get(name);
      if (!pipeline) throw servingError('MODEL_NAME_MISSING');
      // OVMS reports the pipeline's one version whatever version was asked for.
      pipeline.revalidate();
      return [pipeline.status()];
    }
    if (version === undefined || version === 0) return model.statuses();
    const v = Number.isSafeInteger(version) && version > 0 ? model.getVersion(version) : undefined;
    if (!v) throw servingError('MODEL_VERSION_MISSING');
    return [v.status()];
  }

  names(): string[] {
    return [...new Set([...this.models.keys(), ...this.pipelines.names()])].sort();
  }

  /** Pipeline names, for /v1/config and metrics that treat them apart from models. */
  pipelineNames(): string[] {
    return this.pipelines.names().filter((n) => !this.models.has(n)).sort();
  }

  /** Pipelines whose definition is invalid, by name, with the reason (for /v1/config and logs). */
  pipelineErrors(): Map<string, string> {
    const out = new Map<string, string>();
    for (const name of this.pipelines.names()) {
      const p = this.pipelines.get(name)!;
      if (p.error !== undefined) out.set(name, p.error);
    }
    return out;
  }

  // ModelLookup, for pipeline validation and model nodes -------------------------------------------

  availableVersion(modelName: string, version?: number): Servable | undefined {
    const v = this.versionFor(modelName, version);
    return v?.state === ModelState.AVAILABLE ? v : undefined;
  }

  usesDynamicParameters(modelName: string, version?: number): boolean {
    const config = this.versionFor(modelName, version)?.config ?? this.models.get(modelName)?.config;
    if (!config) return false;
    const shape = config.shape;
    const autoShape = shape === 'auto'
      || (shape !== undefined && !Array.isArray(shape) && typeof shape === 'object'
        && Object.values(shape as Record<string, unknown>).includes('auto'));
    return config.batchSize === 'auto' || autoShape;
  }

  private versionFor(modelName: string, version?: number): ModelVersion | undefined {
    const model = this.models.get(modelName);
    if (!model?.config) return undefined;
    return version === undefined || version === 0 ? model.getDefault() : model.getVersion(version);
  }

  /** Model-level errors (e.g. an invalid base path) by model name, for /v1/config and logs. */
  modelErrors(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [name, m] of this.models) if (m.error) out.set(name, m.error);
    return out;
  }

  // ---------------------------------------------------------------------------------------------

  /** Runs `task` after every earlier reconcile step has finished. */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private schedulePoll(): void {
    const seconds = this.config?.filePollWaitSeconds ?? 0;
    if (!(seconds > 0) || this.stopping) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      void this.serialized(() => this.pollOnce())
        .catch((err: unknown) => this.logger.error({ err }, 'Model repository poll failed'))
        .finally(() => this.schedulePoll());
    }, seconds * 1000);
    this.pollTimer.unref();
  }

  private async pollOnce(): Promise<void> {
    if (this.stopping) return;
    const configPath = this.config?.configPath;
    if (configPath) await this.reloadConfigFile(configPath, false);
    await this.syncAll(false);
    this.pipelines.revalidateAll();
  }

  private async startFromConfigFile(path: string): Promise<void> {
    let list: ModelListConfig;
    let hash: string | undefined;
    try {
      ({ list, hash } = await this.readConfigFile(path));
    } catch (err) {
      if (!(err instanceof ConfigFileError)) throw err;
      // OVMS reads the file a second time, 1 s later, in case it was being written.
      this.logger.warn(`${err.message} Retrying in a moment.`);
      await new Promise((resolve) => setTimeout(resolve, this.opts.configRetryDelayMs ?? 1000));
      ({ list, hash } = await this.readConfigFile(path));
    }
    this.configHash = hash;
    this.configFailed = (await this.applyModelList(list)).entryErrors.length > 0;
  }

  /** Reads and validates the config file; the hash is of the bytes read before validation. */
  private async readConfigFile(path: string): Promise<{ list: ModelListConfig; hash: string | undefined }> {
    const hash = await fileHash(path, this.storageFor(path));
    const list = await loadModelListConfig(path, this.storageFor(path));
    return { list, hash };
  }

  /**
   * Applies the config file if its content changed (explicit: or the last apply failed). An
   * invalid file is logged and the previous config keeps serving. Returns whether it was applied.
   */
  private async reloadConfigFile(path: string, explicit: boolean): Promise<boolean> {
    const hash = await fileHash(path, this.storageFor(path));
    if (hash === undefined) {
      if (explicit) throw new ReloadError('CONFIG_FILE_MISSING', RELOAD_TEXT.CONFIG_FILE_MISSING, 500, [`Cannot read ${path}`]);
      if (!this.configUnreadable) this.logger.error(`Config file ${path} not found or cannot open; keeping the current configuration`);
      this.configUnreadable = true;
      return false;
    }
    this.configUnreadable = false;
    if (hash === this.configHash && !(explicit && this.configFailed)) return false;
    this.configHash = hash;
    this.logger.info(`Config file ${path} changed; reloading`);
    let list: ModelListConfig;
    try {
      list = await loadModelListConfig(path, this.storageFor(path));
    } catch (err) {
      if (!(err instanceof ConfigFileError)) throw err;
      this.configFailed = true;
      this.logger.error(`Reloading config file ${path} failed: ${err.message} The previous configuration keeps serving.`);
      if (explicit) throw new ReloadError('CONFIG_RELOAD_FAILED', RELOAD_TEXT.CONFIG_RELOAD_FAILED, err.kind === 'JSON_INVALID' ? 412 : 500, [err.message]);
      return false;
    }
    const { entryErrors } = await this.applyModelList(list);
    this.configFailed = entryErrors.length > 0;
    if (entryErrors.length > 0 && explicit) throw new ReloadError('CONFIG_RELOAD_FAILED', RELOAD_TEXT.CONFIG_RELOAD_FAILED, 500, entryErrors);
    return true;
  }

  /**
   * Brings the served models in line with a config: new models load, changed ones reload (or
   * only start/retire versions when just the policy changed), removed ones retire all versions.
   * Everything is logged; bad entries are skipped and the rest is applied regardless.
   * `entryErrors`: entries that could not be used; `loadErrors`: models or versions that did not load.
   */
  private async applyModelList(list: ModelListConfig): Promise<{ entryErrors: string[]; loadErrors: string[] }> {
    const entryErrors: string[] = [];
    const loadErrors: string[] = [];
    for (const r of list.rejected) {
      const message = `Parsing model: ${r.name ?? `#${r.index}`} config failed: ${r.reason}`;
      this.logger.error(message);
      entryErrors.push(message);
    }
    for (const w of list.warnings ?? []) this.logger.warn(`Model: ${w.name ?? `#${w.index}`}: ${w.message}`);
    const inConfig = new Set<string>();
    for (const modelConfig of list.models) {
      if (this.pipelines.isActive(modelConfig.name) && !this.models.has(modelConfig.name)) {
        const message = `Model name: ${modelConfig.name} is already occupied by pipeline definition.`;
        this.logger.error(message);
        entryErrors.push(message);
        continue;
      }
      if (inConfig.has(modelConfig.name)) {
        const message = `Duplicated model names: ${modelConfig.name} defined in config file. Only first definition will be loaded.`;
        this.logger.error(message);
        entryErrors.push(message);
        continue;
      }
      inConfig.add(modelConfig.name);
      const model = this.modelFor(modelConfig.name);
      model.config = modelConfig;
      const result = await model.sync(this.syncContext(modelConfig, true));
      loadErrors.push(...result.errors);
    }
    for (const model of this.models.values()) {
      if (inConfig.has(model.name) || !model.config) continue;
      this.logger.info(`Model: ${model.name} removed from the config; retiring all its versions`);
      model.config = undefined;
      await model.retireAll();
    }
    entryErrors.push(...await this.pipelines.apply(list));
    return { entryErrors, loadErrors };
  }

  private async syncAll(retryFailed: boolean): Promise<{ changed: boolean; errors: string[] }> {
    let changed = false;
    const errors: string[] = [];
    for (const model of this.models.values()) {
      if (!model.config || this.stopping) continue;
      const result = await model.sync(this.syncContext(model.config, retryFailed));
      changed ||= result.changed;
      errors.push(...result.errors);
    }
    return { changed, errors };
  }

  private syncContext(config: ModelConfig, retryFailed: boolean): SyncContext {
    return { storage: this.storageFor(config.basePath), formats: this.opts.formats, retryFailed };
  }

  private modelFor(name: string): Model {
    let model = this.models.get(name);
    if (!model) {
      model = new Model(name, this.logger);
      this.models.set(name, model);
    }
    return model;
  }

  // ---- Hooks for the repository extension and readiness (src/serving/repository-control.ts,
  // src/serving/readiness.ts; engineer K). Kept at the end and self-contained on purpose.

  /** The settings a model is served with; undefined when it is not configured (removed from config.json, or unloaded through the repository API). */
  modelConfig(name: string): ModelConfig | undefined {
    return this.models.get(name)?.config;
  }

  /** The server configuration given to start(). */
  get serverConfig(): ServerConfig | undefined {
    return this.config;
  }

  /**
   * Serves `name` with `config` (starting, reloading and retrying its versions), or with undefined
   * retires all its versions and leaves it out of polling until a config file change applies it
   * again. Runs in the reconcile queue like polls and reloads.
   */
  setModelConfig(name: string, config: ModelConfig | undefined): Promise<{ changed: boolean; errors: readonly string[] }> {
    return this.serialized(async () => {
      if (this.stopping) return { changed: false, errors: [] };
      if (config === undefined) {
        const model = this.models.get(name);
        if (!model) throw servingError('MODEL_NAME_MISSING');
        model.config = undefined;
        const changed = await model.retireAll();
        this.pipelines.revalidateAll();
        return { changed, errors: [] };
      }
      const model = this.modelFor(name);
      model.config = config;
      const result = await model.sync(this.syncContext(config, true));
      this.pipelines.revalidateAll();
      return result;
    });
  }
}

/** sha-256 of a file's bytes (on disk or in cloud storage), or undefined when it cannot be read. */
async function fileHash(path: string, storage: Storage): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readConfigBytes(path, storage)).digest('hex');
  } catch {
    return undefined;
  }
}
