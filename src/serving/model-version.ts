/**
 * One version of one model: its state machine (SPEC §4.3), the loaded runtime model, and the
 * requests running on it. This is the Servable protocols call.
 *
 *   START → LOADING → AVAILABLE → UNLOADING → END
 *              ↑ a failed load stays here with error UNKNOWN; END can be loaded again.
 */
import type { Logger } from 'pino';
import { DynamicBatcher } from '../batching/dynamic-batcher.js';
import type { ModelConfig } from '../config/types.js';
import { ServingError, servingError } from '../core/errors.js';
import { type InferOptions, ModelState, type Servable, VersionErrorCode, type VersionStatus } from '../core/servable.js';
import { formatShape, type TensorMap, type TensorSpec } from '../core/tensor.js';
import { decodeBinaryInputs, hasBinaryInputs } from '../image/binary-inputs.js';
import type { LoadedModel, LoadRequest, ModelFormat, RuntimeOptions } from '../runtime/engine.js';
import { pickVersionFiles } from '../repository/model-files.js';
import type { Storage } from '../storage/storage.js';
import { runtimeOptions } from './load-settings.js';
import { autoReshape, planShapes, type ShapePlan } from './model-shapes.js';
import { type Reshapable, validateInputs } from './validation.js';

/** Where and how to load a version. */
export interface VersionSource {
  readonly config: ModelConfig;
  readonly storage: Storage;
  /** The version folder, as a storage path. */
  readonly dir: string;
  readonly formats: readonly ModelFormat[];
  /** Fingerprint of the folder when the load started; kept on failure to avoid retrying unchanged files. */
  readonly signature?: string;
}

/** A loaded model plus the requests using it, so it is closed only once they are done. */
class Lease {
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  readonly allOutputs: readonly string[];
  /** The inputs and outputs clients see (the batcher may open a fixed batch to any size up to it). */
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly batcher: DynamicBatcher | undefined;
  /** Dims a request may change by reloading (`auto`); undefined when none. */
  readonly reshapable: Reshapable | undefined;

  constructor(
    readonly model: LoadedModel,
    private readonly releaseFiles: () => Promise<void>,
    /** How the config's shape settings apply to this model; `options` are what it was loaded with. */
    readonly plan: ShapePlan,
    readonly options: RuntimeOptions,
    config: ModelConfig,
    logger: Logger,
  ) {
    this.allOutputs = model.outputs.map((o) => o.name);
    this.batcher = config.dynamicBatching ? new DynamicBatcher(model, config.dynamicBatching, logger) : undefined;
    this.inputs = this.batcher?.inputs ?? model.inputs;
    this.outputs = this.batcher?.outputs ?? model.outputs;
    this.reshapable = plan.autoBatch || plan.autoInputs.size > 0 ? { batch: plan.autoBatch, inputs: plan.autoInputs } : undefined;
  }

  enter(): void {
    this.active++;
  }

  exit(): void {
    if (--this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Waits for in-flight requests, then frees the runtime model and any downloaded files. */
  async close(logger: Logger): Promise<void> {
    if (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    try {
      await this.model.close();
    } catch (err) {
      logger.error({ err }, 'Error while closing a model version');
    }
    try {
      await this.releaseFiles();
    } catch (err) {
      logger.error({ err }, 'Error while removing a model version\'s local files');
    }
  }
}

const stateName = (s: ModelState) => ModelState[s];

export class ModelVersion implements Servable {
  private _state = ModelState.START;
  private errorCode = VersionErrorCode.OK;
  private detail: string | undefined;
  private lease: Lease | undefined;
  /** A load or retire is running (a waiting request should keep waiting). */
  private busy = false;
  /** Load/retire operations on this version run one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  private listeners = new Set<() => void>();
  private readonly log: Logger;
  /** Without this version's bindings: the runtime adds its own model/version fields. */
  private readonly runtimeLogger: Logger;
  /** Settings of the last load attempt. */
  private _config: ModelConfig | undefined;
  /** Folder fingerprint of the last failed load. */
  private _failedSignature: string | undefined;
  /** Where the serving model came from: `auto` reshapes load from here again. */
  private source: VersionSource | undefined;

  constructor(
    readonly name: string,
    readonly version: number,
    logger: Logger,
    /** Called after every state change (the model recomputes its default version). */
    private readonly onChange: (v: ModelVersion) => void = () => {},
  ) {
    this.log = logger.child({ model: name, version });
    this.runtimeLogger = logger;
    this.logState();
  }

  get state(): ModelState {
    return this._state;
  }

  get config(): ModelConfig | undefined {
    return this._config;
  }

  /** The last load attempt failed (state LOADING, error UNKNOWN). */
  get failed(): boolean {
    return this._state === ModelState.LOADING && this.errorCode === VersionErrorCode.UNKNOWN;
  }

  get failedSignature(): string | undefined {
    return this._failedSignature;
  }

  /** UNLOADING or END: retired, or on its way there. */
  get retired(): boolean {
    return this._state === ModelState.UNLOADING || this._state === ModelState.END;
  }

  get inputs(): readonly TensorSpec[] {
    return this.lease?.inputs ?? [];
  }

  get outputs(): readonly TensorSpec[] {
    return this.lease?.outputs ?? [];
  }

  /** The loaded runtime model (streams, nireq, active runs) for the metrics gauges; undefined when not loaded. */
  get runtime(): LoadedModel | undefined {
    return this.lease?.model;
  }

  status(): VersionStatus {
    return {
      version: this.version,
      state: this._state,
      errorCode: this.errorCode,
      errorMessage: VersionErrorCode[this.errorCode],
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
    };
  }

  /**
   * Loads (or reloads with new settings) from `source`. An AVAILABLE version keeps serving on its
   * old runtime model until the new one is ready. Resolves false when loading failed; the version
   * then stays LOADING with error UNKNOWN and the reason in `detail`.
   */
  load(source: VersionSource): Promise<boolean> {
    return this.enqueue(() => this.doLoad(source));
  }

  /** UNLOADING (new requests refused) → wait for in-flight requests → close → END. */
  retire(): Promise<void> {
    return this.enqueue(() => this.doRetire());
  }

  /**
   * Validates, decodes binary (image) inputs, reloads the version with the request's shapes when
   * `auto` asks for it, and runs — through the dynamic batcher when one is configured.
   */
  infer(inputs: TensorMap, options: InferOptions = {}): Promise<TensorMap> {
    const lease = this.lease;
    if (this._state !== ModelState.AVAILABLE || !lease) return Promise.reject(this.notServingError());
    if (lease.batcher || lease.reshapable || hasBinaryInputs(lease.inputs, inputs)) return this.inferPrepared(lease, inputs, options);
    // The common case (tensors as they are, straight to the runtime) without an async frame: for
    // tiny models each promise hop is a measurable share of the request.
    lease.enter();
    let run: Promise<TensorMap>;
    try {
      validateInputs(lease.inputs, inputs);
      const outputNames = selectOutputs(lease, options.outputs);
      if (options.signal?.aborted) throw servingError('REQUEST_CANCELLED');
      run = lease.model.run(inputs, outputNames, options.signal, options.observe);
    } catch (err) {
      lease.exit();
      return Promise.reject(this.inferenceError(err, options.signal));
    }
    return run.then(
      (outputs) => {
        lease.exit();
        return outputs;
      },
      (err: unknown) => {
        lease.exit();
        throw this.inferenceError(err, options.signal);
      },
    );
  }

  /** infer() for requests that need preparing first: image decoding, `auto` reshapes, batching. */
  private async inferPrepared(current: Lease, inputs: TensorMap, options: InferOptions): Promise<TensorMap> {
    let lease = current;
    lease.enter();
    try {
      validateInputs(lease.inputs, inputs, lease.reshapable);
      let tensors = inputs;
      if (hasBinaryInputs(lease.inputs, inputs)) {
        tensors = await decodeBinaryInputs(lease.inputs, inputs, {
          layouts: lease.plan.clientLayouts,
          colorFormats: lease.plan.colorFormats,
          keepSize: lease.plan.autoInputs,
        });
        if (lease.reshapable) validateInputs(lease.inputs, tensors, lease.reshapable);
      }
      if (lease.reshapable) {
        const shapes = autoReshape(lease.plan, lease.inputs, tensors, lease.options.layouts ?? {});
        if (shapes) {
          const next = await this.reshape(lease, shapes, tensors);
          lease.exit();
          lease = next; // entered by reshape()
        }
      }
      if (lease.reshapable || tensors !== inputs) validateInputs(lease.inputs, tensors);
      const outputNames = selectOutputs(lease, options.outputs);
      if (options.signal?.aborted) throw servingError('REQUEST_CANCELLED');
      if (lease.batcher) return await lease.batcher.run(tensors, outputNames, { signal: options.signal, deadline: options.deadline });
      return await lease.model.run(tensors, outputNames, options.signal, options.observe);
    } catch (err) {
      throw this.inferenceError(err, options.signal);
    } finally {
      lease.exit();
    }
  }

  /** What a failed run answers: serving errors as they are, a cancellation, or a logged internal error. */
  private inferenceError(err: unknown, signal: AbortSignal | undefined): ServingError {
    if (err instanceof ServingError) return err;
    if (signal?.aborted) return servingError('REQUEST_CANCELLED');
    this.log.error({ err }, 'Inference failed');
    const e = servingError('INTERNAL_INFERENCE_ERROR');
    (e as { cause?: unknown }).cause = err;
    return e;
  }

  /**
   * `auto` shape / batch size (SPEC §5): loads this version again with `shapes` and swaps it in.
   * Reshapes run one at a time with loads and retires. Requests already running finish on the old
   * runtime model (it closes once they are done); the caller and requests that waited run on the
   * new one. The version stays AVAILABLE throughout, so no request fails for the reload. If the
   * model cannot take the shapes, the old model keeps serving and the request gets RESHAPE_ERROR.
   * Resolves with the lease to use, already entered.
   */
  private reshape(from: Lease, shapes: Record<string, number[]>, tensors: TensorMap): Promise<Lease> {
    return this.enqueue(async () => {
      const current = this.lease;
      if (this._state !== ModelState.AVAILABLE || !current || !this.source) throw this.notServingError();
      // Another request may have reshaped to what this one needs while it waited.
      if (current !== from) {
        const again = current.reshapable && autoReshape(current.plan, current.inputs, tensors, current.options.layouts ?? {});
        if (!again) {
          current.enter();
          return current;
        }
        shapes = again;
      }
      const inputShapes = { ...(current.plan.runtime.inputShapes ?? {}), ...shapes };
      const described = Object.entries(shapes).map(([n, s]) => `${n}${formatShape(s)}`).join(', ');
      this.log.info(`Reloading model: ${this.name} version: ${this.version} with new input shapes: ${described}`);
      let next: Lease;
      try {
        next = await this.openLease(this.source, inputShapes);
      } catch (err) {
        const reason = (err as Error)?.message ?? String(err);
        this.log.error({ detail: reason }, `Model: ${this.name} version: ${this.version} could not be reshaped; the previous shapes keep serving`);
        if (err instanceof ServingError && err.status === 'RESHAPE_ERROR') throw err;
        throw servingError('RESHAPE_ERROR', reason);
      }
      this.lease = next;
      next.enter();
      this.notify();
      void current.close(this.log);
      return next;
    });
  }

  /**
   * This version once it is AVAILABLE. A version still loading is waited for up to `waitMs`
   * (0: not at all), woken by state changes rather than polling. A failed load with no retry
   * running fails at once: waiting could not change anything.
   */
  async whenAvailable(waitMs: number, signal?: AbortSignal): Promise<ModelVersion> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (this._state === ModelState.AVAILABLE) return this;
      if (this.retired) throw servingError('MODEL_VERSION_NOT_LOADED_ANYMORE');
      const remaining = deadline - Date.now();
      if (remaining <= 0 || (this.failed && !this.busy)) throw servingError('MODEL_VERSION_NOT_LOADED_YET');
      await this.nextChange(remaining, signal);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async doLoad(source: VersionSource): Promise<boolean> {
    const { config } = source;
    const previous = this.lease;
    const reloading = previous !== undefined && this._state === ModelState.AVAILABLE;
    this._config = config;
    this.busy = true;
    // A retry of a failed load keeps reporting the failure until it succeeds, so a broken version
    // polled every second does not flood the log with LOADING lines.
    if (!reloading && !this.failed) this.setState(ModelState.LOADING, VersionErrorCode.OK);
    else if (reloading) this.log.info(`Reloading model: ${this.name} version: ${this.version} with new settings`);
    try {
      this.lease = await this.openLease(source);
      this.source = source;
      this._failedSignature = undefined;
      this.busy = false;
      this.setState(ModelState.AVAILABLE, VersionErrorCode.OK);
      if (reloading) await previous.close(this.log);
      return true;
    } catch (err) {
      const reason = (err as Error)?.message ?? String(err);
      this._failedSignature = source.signature;
      this.busy = false;
      // On a failed reload the old runtime model goes too: it was built with the old settings, and
      // OVMS does not keep serving it either.
      if (reloading) this.lease = undefined;
      this.setState(ModelState.LOADING, VersionErrorCode.UNKNOWN, reason);
      if (reloading) await previous.close(this.log);
      return false;
    }
  }

  /**
   * Loads the version's files into a runtime model with the config's shape settings resolved
   * against the model's own inputs (`autoShapes` replaces the input shapes for an `auto` reload).
   * A format that cannot describe a model before loading it gets it loaded as it is first, and
   * again when the settings change anything.
   */
  private async openLease(source: VersionSource, autoShapes?: Readonly<Record<string, readonly number[]>>): Promise<Lease> {
    const { config, storage, dir, formats } = source;
    const picked = await pickVersionFiles(storage, dir, formats);
    const local = await storage.localize(dir);
    const models: LoadedModel[] = [];
    try {
      const request: Omit<LoadRequest, 'options'> = {
        modelName: this.name, version: this.version, dir: local.path, files: picked.files, logger: this.runtimeLogger,
      };
      const base = runtimeOptions(config);
      const load = async (options: RuntimeOptions) => {
        const model = await picked.format.load({ ...request, options });
        models.push(model);
        return model;
      };
      const withPlan = (plan: ShapePlan): RuntimeOptions => ({
        ...base,
        ...plan.runtime,
        ...(autoShapes && { inputShapes: autoShapes }),
      });
      let plan: ShapePlan;
      let model: LoadedModel;
      let options: RuntimeOptions;
      const native = picked.format.inspect ? await picked.format.inspect(request) : undefined;
      if (native) {
        plan = planShapes(config, native);
        options = withPlan(plan);
        model = await load(options);
      } else {
        model = await load(base);
        plan = planShapes(config, { inputs: model.inputs, outputs: model.outputs });
        options = withPlan(plan);
        if (options.inputShapes || options.layouts || options.normalization) {
          await model.close();
          model = await load(options);
        } else {
          options = base;
        }
      }
      return new Lease(model, local.release.bind(local), plan, options, config, this.log);
    } catch (err) {
      await Promise.all(models.map((m) => m.close().catch(() => undefined)));
      await local.release().catch(() => undefined);
      throw err;
    }
  }

  private async doRetire(): Promise<void> {
    if (this.retired) return;
    this.busy = true;
    this.setState(ModelState.UNLOADING, VersionErrorCode.OK);
    const lease = this.lease;
    this.lease = undefined;
    if (lease) await lease.close(this.log);
    this.busy = false;
    this.setState(ModelState.END, VersionErrorCode.OK);
  }

  private setState(state: ModelState, errorCode: VersionErrorCode, detail?: string): void {
    const same = state === this._state && errorCode === this.errorCode && detail === this.detail;
    this._state = state;
    this.errorCode = errorCode;
    this.detail = detail;
    if (same) {
      this.log.debug(`Model: ${this.name} version: ${this.version} still ${stateName(state)}${detail ? `: ${detail}` : ''}`);
    } else {
      this.logState();
    }
    this.notify();
  }

  private notify(): void {
    this.onChange(this);
    for (const l of [...this.listeners]) l();
  }

  /** OVMS's status-change line, with the failure reason when there is one. */
  private logState(): void {
    const line = `STATUS CHANGE: Version ${this.version} of model ${this.name} status change. New status: ( "state": "${stateName(this._state)}", "error_code": "${VersionErrorCode[this.errorCode]}" )`;
    if (this.detail) this.log.error({ state: stateName(this._state), detail: this.detail }, `${line}; error: ${this.detail}`);
    else this.log.info({ state: stateName(this._state) }, line);
  }

  private notServingError(): ServingError {
    return this.retired ? servingError('MODEL_VERSION_NOT_LOADED_ANYMORE') : servingError('MODEL_VERSION_NOT_LOADED_YET');
  }

  /** Resolves on the next state change or after `ms`; rejects when `signal` aborts. */
  private nextChange(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(servingError('REQUEST_CANCELLED'));
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(done);
        signal?.removeEventListener('abort', onAbort);
      };
      const done = () => {
        cleanup();
        resolve();
      };
      const onAbort = () => {
        cleanup();
        reject(servingError('REQUEST_CANCELLED'));
      };
      // Not unref'd: someone awaits this answer, so the process must stay up to give it.
      const timer = setTimeout(done, ms);
      this.listeners.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** The output names to compute: all of them, or the requested ones (each must exist). */
function selectOutputs(lease: Lease, requested: readonly string[] | undefined): readonly string[] {
  if (!requested || requested.length === 0) return lease.allOutputs;
  const names: string[] = [];
  for (const name of requested) {
    if (!lease.allOutputs.includes(name)) throw servingError('INVALID_OUTPUT_NAME', `Unknown output: ${name}`);
    if (!names.includes(name)) names.push(name);
  }
  return names;
}
