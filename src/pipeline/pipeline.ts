/**
 * One served pipeline: a Servable like a model version, always version 1 (SPEC §4.3, §7.1).
 *
 * States, reported as one pseudo-version:
 *   LOADING (being loaded or reloaded)              → LOADING / OK
 *   FAILED  (validation failed; waits for a change)  → LOADING / FAILED_PRECONDITION
 *   AVAILABLE                                       → AVAILABLE / OK
 *   RETIRED (removed from the config)               → END / OK
 *
 * A *generation* is one loaded definition with its initialized custom nodes. A reload builds a new
 * generation; the old one is deinitialized once the requests running on it are done, so a config
 * change never breaks a request in flight. Validation is redone whenever a model the pipeline uses
 * changes (checked at every request and after every model reconcile), so the pipeline follows the
 * models' default versions and reports FAILED while a model it needs has no usable version.
 */
import type { Logger } from 'pino';
import { ServingError, servingError } from '../core/errors.js';
import { type InferOptions, ModelState, type Servable, VersionErrorCode, type VersionStatus } from '../core/servable.js';
import type { TensorMap, TensorSpec } from '../core/tensor.js';
import { decodeBinaryInputs, hasBinaryInputs } from '../image/binary-inputs.js';
import { validateDataLength, validateInput, validateInputs } from '../serving/validation.js';
import type { CustomNodeLibraries } from './custom-node-library.js';
import { customNodeMetadata, deinitializeCustomNodes, initializeCustomNodes, runCustomNode, type InitializedNode } from './custom-node.js';
import type { PipelineConfig } from './definition.js';
import { executePipeline, type NodeOutputs, type NodeRunner } from './executor.js';
import { PipelineError, pipelineError } from './status.js';
import { modelsChanged, validatePipeline, type ModelLookup, type ValidatedNode, type ValidatedPipeline } from './validate.js';

export type PipelineState = 'LOADING' | 'FAILED' | 'AVAILABLE' | 'RETIRED';

export interface PipelineContext {
  readonly models: ModelLookup;
  readonly libraries: CustomNodeLibraries;
  readonly logger: Logger;
}

class Generation {
  validated: ValidatedPipeline | undefined;
  error: PipelineError | undefined;
  /** Its custom nodes could not be set up: only a reload can help. */
  initFailed = false;
  private active = 0;
  private idle: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  constructor(readonly config: PipelineConfig, readonly definitionKey: string, readonly customNodes: ReadonlyMap<string, InitializedNode>) {}

  enter(): void {
    this.active++;
  }

  exit(): void {
    if (--this.active === 0) for (const w of this.idle.splice(0)) w();
  }

  /** Deinitializes the custom nodes once the requests running on this generation are done (once). */
  close(logger: Logger): Promise<void> {
    this.closing ??= (async () => {
      if (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
      await deinitializeCustomNodes(this.customNodes, logger);
    })();
    return this.closing;
  }
}

export class Pipeline implements Servable {
  readonly version = 1;
  private _state: PipelineState = 'LOADING';
  private generation: Generation | undefined;
  private detail: string | undefined;
  private readonly log: Logger;

  constructor(readonly name: string, private readonly ctx: PipelineContext) {
    this.log = ctx.logger.child({ pipeline: name });
  }

  get state(): PipelineState {
    return this._state;
  }

  /** The validation failure while FAILED. */
  get error(): string | undefined {
    return this.detail;
  }

  get inputs(): readonly TensorSpec[] {
    return this.generation?.validated?.inputs ?? [];
  }

  get outputs(): readonly TensorSpec[] {
    return this.generation?.validated?.outputs ?? [];
  }

  /** The raw config and library fingerprints it was loaded from (a reload with the same key changes nothing). */
  get definitionKey(): string | undefined {
    return this._state === 'RETIRED' ? undefined : this.generation?.definitionKey;
  }

  /** Names of the custom node libraries the current definition uses. */
  get libraryNames(): Set<string> {
    const out = new Set<string>();
    for (const n of this.generation?.config.nodes ?? []) if (n.libraryName !== undefined) out.add(n.libraryName);
    return out;
  }

  status(): VersionStatus {
    const failed = this._state === 'FAILED';
    const state = this._state === 'AVAILABLE' ? ModelState.AVAILABLE : this._state === 'RETIRED' ? ModelState.END : ModelState.LOADING;
    const errorCode = failed ? VersionErrorCode.FAILED_PRECONDITION : VersionErrorCode.OK;
    return {
      version: this.version,
      state,
      errorCode,
      errorMessage: VersionErrorCode[errorCode],
      ...(failed && this.detail !== undefined ? { detail: this.detail } : {}),
    };
  }

  /**
   * Loads (or reloads) the definition: initializes its custom nodes and validates it. Resolves
   * with the validation error, if any (the pipeline is then FAILED).
   */
  async load(config: PipelineConfig, definitionKey: string): Promise<PipelineError | undefined> {
    const previous = this.generation;
    // A pipeline that serves keeps serving on its old definition until the new one is ready.
    if (this._state !== 'AVAILABLE') this.setState('LOADING');
    let generation: Generation;
    try {
      const customNodes = await initializeCustomNodes(config, this.ctx.libraries, this.log);
      generation = new Generation(config, definitionKey, customNodes);
    } catch (err) {
      generation = new Generation(config, definitionKey, new Map());
      generation.error = err instanceof PipelineError ? err : pipelineError('NODE_LIBRARY_INITIALIZE_FAILED', String(err));
      generation.initFailed = true;
    }
    this.generation = generation;
    if (!generation.error) this.validate(generation);
    this.applyValidation(generation);
    if (previous) void previous.close(this.log);
    return generation.error;
  }

  /** Validates again if a model it uses changed; returns the problem, if any. */
  revalidate(force = false): PipelineError | undefined {
    const g = this.generation;
    if (!g || this._state === 'RETIRED' || this._state === 'LOADING') return g?.error;
    if (g.initFailed) return g.error;
    if (!force && g.validated && !modelsChanged(g.validated, this.ctx.models)) return undefined;
    this.validate(g);
    this.applyValidation(g);
    return g.error;
  }

  /** Removed from the config: new requests are refused; custom nodes are released after running requests. */
  async retire(): Promise<void> {
    if (this._state === 'RETIRED') return;
    this.setState('RETIRED');
    const g = this.generation;
    if (g) await g.close(this.log);
  }

  /** This pipeline, if it can serve now (a changed model is revalidated first). */
  ready(): Pipeline {
    if (this._state === 'AVAILABLE' || this._state === 'FAILED') this.revalidate();
    if (this._state === 'RETIRED') throw pipelineError('PIPELINE_DEFINITION_NOT_LOADED_ANYMORE');
    if (this._state !== 'AVAILABLE') throw pipelineError('PIPELINE_DEFINITION_NOT_LOADED_YET');
    return this;
  }

  async infer(inputs: TensorMap, options: InferOptions = {}): Promise<TensorMap> {
    this.ready();
    const g = this.generation!;
    const validated = g.validated!;
    validateEntry(validated, inputs);
    const wanted = selectOutputs(validated, options.outputs);
    g.enter();
    try {
      let tensors = inputs;
      // Encoded images (gRPC string_val, REST b64, KServe BYTES) for an image input: decoded here,
      // once, as a model would (SPEC §6.2: BGR, NHWC or NCHW after the input's shape).
      const imageInputs = validated.unspecifiedInputs.size === 0 ? validated.inputs : validated.inputs.filter((s) => !validated.unspecifiedInputs.has(s.name));
      if (hasBinaryInputs(imageInputs, inputs)) {
        tensors = await decodeBinaryInputs(imageInputs, inputs, { shared: true });
        validateEntry(validated, tensors);
      }
      const outputs = await executePipeline(validated, tensors, this.runner(g, options.deadline), options.signal);
      if (!wanted) return outputs;
      return new Map(wanted.map((n) => [n, outputs.get(n)!] as const));
    } finally {
      g.exit();
    }
  }

  // ---------------------------------------------------------------------------------------------

  private validate(g: Generation): void {
    try {
      g.validated = validatePipeline(g.config, this.ctx.models, (node) => customNodeMetadata(g.customNodes.get(node.name)!));
      g.error = undefined;
    } catch (err) {
      if (!(err instanceof PipelineError)) throw err;
      g.validated = undefined;
      g.error = err;
    }
  }

  private applyValidation(g: Generation): void {
    if (g.error) {
      if (this._state !== 'FAILED' || this.detail !== g.error.message) {
        this.detail = g.error.message;
        this.setState('FAILED');
      }
      return;
    }
    this.detail = undefined;
    if (this._state !== 'AVAILABLE') {
      this.setState('AVAILABLE');
      const v = g.validated!;
      this.log.info(`Pipeline: ${this.name} inputs: ${describe(v.inputs)}; outputs: ${describe(v.outputs)}`);
    }
  }

  private setState(state: PipelineState): void {
    this._state = state;
    const s = this.status();
    const line = `STATUS CHANGE: Pipeline ${this.name} status change. New status: ( "state": "${ModelState[s.state]}", "error_code": "${VersionErrorCode[s.errorCode]}" )`;
    if (state === 'FAILED') this.log.error({ state }, `${line}; error: ${this.detail}`);
    else this.log.info({ state }, line);
  }

  private runner(g: Generation, deadline: number | undefined): NodeRunner {
    const models = this.ctx.models;
    const pipelineName = this.name;
    return {
      run(node: ValidatedNode, inputs: TensorMap, outputNames: readonly string[], signal: AbortSignal): Promise<NodeOutputs> {
        if (node.kind === 'custom') return runCustomNode(pipelineName, g.customNodes.get(node.name)!, node, inputs, outputNames, signal);
        return runModelNode(models, node, inputs, outputNames, signal, deadline);
      },
    };
  }
}

/**
 * A model node runs on the model's version of the moment (pinned, or the default). If that version
 * starts retiring before the node reaches it, the node moves to the version that replaced it; with
 * none left the request fails UNAVAILABLE.
 */
async function runModelNode(
  models: ModelLookup, node: ValidatedNode, inputs: TensorMap, outputNames: readonly string[], signal: AbortSignal, deadline: number | undefined,
): Promise<TensorMap> {
  const { modelName, modelVersion } = node.config!;
  let tried: Servable | undefined;
  for (;;) {
    const servable = models.availableVersion(modelName!, modelVersion);
    if (!servable || servable === tried) {
      const version = modelVersion !== undefined ? ` version: ${modelVersion}` : '';
      throw pipelineError('MODEL_VERSION_UNAVAILABLE_IN_PIPELINE', `node: ${node.name}; model: ${modelName}${version}`);
    }
    try {
      return await servable.infer(inputs, { signal, outputs: outputNames, ...(deadline !== undefined ? { deadline } : {}) });
    } catch (err) {
      const retired = err instanceof ServingError
        && (err.status === 'MODEL_VERSION_NOT_LOADED_ANYMORE' || err.status === 'MODEL_VERSION_NOT_LOADED_YET');
      if (!retired || signal.aborted) throw err;
      tried = servable;
    }
  }
}

/** Request inputs against the pipeline inputs, with the model rules and texts (SPEC §7.1). */
function validateEntry(p: ValidatedPipeline, inputs: TensorMap): void {
  if (p.unspecifiedInputs.size === 0) {
    validateInputs(p.inputs, inputs);
    return;
  }
  if (inputs.size !== p.inputs.length) {
    throw servingError('INVALID_NO_OF_INPUTS', `Expected: ${p.inputs.length}; Actual: ${inputs.size}`);
  }
  for (const spec of [...p.inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const t = inputs.get(spec.name);
    if (!t) throw servingError('INVALID_MISSING_INPUT', `Required input: ${spec.name}`);
    if (p.unspecifiedInputs.has(spec.name)) validateDataLength(t);
    else validateInput(spec, t);
  }
}

function selectOutputs(p: ValidatedPipeline, requested: readonly string[] | undefined): string[] | undefined {
  if (!requested || requested.length === 0) return undefined;
  const names: string[] = [];
  for (const name of requested) {
    if (!p.outputs.some((o) => o.name === name)) throw servingError('INVALID_OUTPUT_NAME', `Unknown output: ${name}`);
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

function describe(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `${s.name} ${s.dtype} (${s.shape.join(',')})`).join(', ') || '(none)';
}
