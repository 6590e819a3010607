import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import { ServingError, servingError } from '../../core/errors.js';
import type { TensorSpec } from '../../core/tensor.js';
import { usableCpus } from '../cpu.js';
import type { LoadRequest, ModelFormat } from '../engine.js';
import { InlineBackend, WorkerBackend } from './backends.js';
import { OnnxModel } from './onnx-model.js';
import {
  EXECUTION_KEY, type ExecutionMode, type ExecutionPlan, INLINE_THRESHOLD_MS, checkTargetDevice, planExecution, sessionOptions,
} from './session-options.js';
import { decodeModel, graphSpecs, needsRewrite, rewriteModel } from './model-rewrite.js';
import { specFromMetadata, zeroInputs } from './tensor-convert.js';
import type { WarmupResult } from './worker-messages.js';
import { SessionWorker, WorkerInitError, WorkerPool } from './worker-pool.js';

/**
 * Auto nireq for inline (tiny) models. onnxruntime-node runs each `session.run` in its own
 * setImmediate, so a pool of 1 lets only one run start per event-loop turn; with 8 requests in
 * flight that capped dummy over gRPC at ~4.2k req/s. Letting up to 16 runs queue inside onnxruntime
 * (safe: concurrent runs on one session execute one after another, FIFO) measured 10.6-12.2k req/s
 * on the same box. An explicit nireq still applies as given.
 */
const INLINE_AUTO_NIREQ = 16;

export { OnnxModel } from './onnx-model.js';

/** Timed warm-up runs used to choose between inline and worker execution. */
const WARMUP_RUNS = 8;

/** ONNX models: the first `.onnx` file of a version folder (OVMS picks the first match too). */
export const onnxFormat: ModelFormat = {
  name: 'onnx',
  pick(fileNames) {
    const f = [...fileNames].sort().find((n) => n.toLowerCase().endsWith('.onnx'));
    return f ? [f] : undefined;
  },
  load: loadOnnx,
  async inspect(req) {
    const file = path.join(req.dir, req.files[0]!);
    try {
      return graphSpecs(decodeModel(await readFile(file)));
    } catch (err) {
      throw loadError(file, err);
    }
  },
};

/** Where a session reads its model: the file, or the edited bytes. */
export interface ModelSource {
  readonly file: string;
  readonly bytes?: Uint8Array;
  /** Input dimensions were changed: the load makes one trial run so a reshape the model cannot take fails now. */
  readonly reshaped: boolean;
}

async function modelSource(file: string, req: LoadRequest): Promise<ModelSource> {
  if (!needsRewrite(req.options)) return { file, reshaped: false };
  let model;
  try {
    model = decodeModel(await readFile(file));
  } catch (err) {
    throw loadError(file, err);
  }
  let edited: { bytes: Uint8Array; reshaped: boolean };
  try {
    edited = rewriteModel(model, req.options);
  } catch (err) {
    throw loadError(file, err);
  }
  // onnxruntime-node refuses SharedArrayBuffer memory, so each worker gets its own copy (workerData clones).
  return { file, bytes: edited.bytes, reshaped: edited.reshaped };
}

/**
 * Loads a model whose bytes another format produced (OpenVINO IR imported by runtime/ir): the same
 * sessions, workers and execution plan as an .onnx file. `source.file` only names it in logs and errors.
 */
export function loadOnnxModel(req: LoadRequest, source: ModelSource): Promise<OnnxModel> {
  return loadOnnx(req, source);
}

async function loadOnnx(req: LoadRequest, given?: ModelSource): Promise<OnnxModel> {
  checkTargetDevice(req.options.targetDevice);
  const plan = planExecution(req.options, usableCpus());
  const log = req.logger.child({ model: req.modelName, version: req.version });
  if (plan.ignoredKeys.length > 0) log.warn({ keys: plan.ignoredKeys }, 'plugin_config keys not used by the onnxruntime CPU engine are ignored');
  const file = path.join(req.dir, req.files[0]!);
  const source = given ?? await modelSource(file, req);

  const { loaded, reason } = plan.execution === 'inline'
    ? await loadInline(source, plan, { decidedBy: `${EXECUTION_KEY}=inline` })
    : await loadWithWorkers(source, plan, log);
  log.info(
    { execution: loaded.executionMode, streams: loaded.streams, intraOpThreads: loaded.intraOpThreads, nireq: loaded.nireq, ...reason },
    loaded.executionMode === 'inline'
      ? 'ONNX model version runs inline on the event-loop thread'
      : `ONNX model version runs in ${loaded.streams} worker thread(s)`,
  );
  return loaded;
}

interface LoadOutcome {
  readonly loaded: OnnxModel;
  /** Why this execution mode was chosen, for the load log line. */
  readonly reason: Record<string, unknown>;
}

async function loadInline(source: ModelSource, plan: ExecutionPlan, reason: Record<string, unknown>, checked = false): Promise<LoadOutcome> {
  const { file } = source;
  const intraOpThreads = plan.inlineIntraOpThreads;
  let session: ort.InferenceSession;
  try {
    ort.env.logLevel = 'error';
    const options = sessionOptions(intraOpThreads);
    session = await (source.bytes ? ort.InferenceSession.create(source.bytes, options) : ort.InferenceSession.create(file, options));
  } catch (err) {
    throw loadError(file, err, source.reshaped);
  }
  let specs: { inputs: TensorSpec[]; outputs: TensorSpec[] };
  try {
    specs = specsOf(session.inputMetadata, session.outputMetadata, file);
    if (source.reshaped && !checked) await trialRun(session, specs.inputs);
  } catch (err) {
    await session.release();
    throw err;
  }
  const nireq = plan.nireq ?? INLINE_AUTO_NIREQ;
  const loaded = new OnnxModel({ ...specs, executionMode: 'inline', streams: 1, nireq, intraOpThreads, backend: new InlineBackend(session) });
  return { loaded, reason };
}

async function loadWithWorkers(source: ModelSource, plan: ExecutionPlan, log: Logger): Promise<LoadOutcome> {
  const { file } = source;
  const init = {
    file,
    ...(source.bytes && { model: source.bytes }),
    options: sessionOptions(plan.workerIntraOpThreads),
    // The first worker measures the model off the event-loop thread, so a heavy model never blocks it.
    // A reshaped model gets at least the first (untimed) run: it shows whether the new shape works.
    warmup: plan.execution === 'auto'
      ? { maxRuns: WARMUP_RUNS, thresholdMs: INLINE_THRESHOLD_MS }
      : source.reshaped ? { maxRuns: 0, thresholdMs: INLINE_THRESHOLD_MS } : undefined,
  };
  let first: Awaited<ReturnType<typeof SessionWorker.start>>;
  try {
    first = await SessionWorker.start(init, log);
  } catch (err) {
    throw loadError(file, err, source.reshaped);
  }
  let specs: { inputs: TensorSpec[]; outputs: TensorSpec[] };
  try {
    specs = specsOf(first.ready.inputs, first.ready.outputs, file);
    if (source.reshaped && first.warmup?.error !== undefined) {
      throw servingError('RESHAPE_ERROR', `the model fails with the new input shapes: ${first.warmup.error}`);
    }
  } catch (err) {
    await first.worker.close();
    throw err;
  }

  const choice = chooseMode(plan, first.warmup);
  if (choice.mode === 'inline') {
    await first.worker.close();
    return loadInline(source, plan, choice.reason, true);
  }

  let pool: WorkerPool;
  try {
    pool = await WorkerPool.start(first.worker, init, plan.workerStreams, log);
  } catch (err) {
    throw loadError(file, err);
  }
  const nireq = plan.nireq ?? plan.workerStreams;
  const loaded = new OnnxModel({
    ...specs, executionMode: 'worker', streams: plan.workerStreams, nireq, intraOpThreads: plan.workerIntraOpThreads,
    backend: new WorkerBackend(pool),
  });
  return { loaded, reason: choice.reason };
}

/**
 * Inline only when a run is measured to be cheaper than a worker hop. A measurement on zero
 * inputs says nothing when an input has a dynamic dimension other than the batch (an image
 * model's height and width: 1×1 pixels run in microseconds, 640×640 in hundreds of
 * milliseconds), so such models go to workers, as do models the warm-up could not run.
 * A dynamic batch is measured at 1; cost then grows with the batch a client sends.
 */
function chooseMode(plan: ExecutionPlan, warmup: WarmupResult | undefined): { mode: ExecutionMode; reason: Record<string, unknown> } {
  if (plan.execution !== 'auto') return { mode: plan.execution, reason: { decidedBy: `${EXECUTION_KEY}=${plan.execution}` } };
  if (warmup?.dynamicInputs) {
    return { mode: 'worker', reason: { decidedBy: 'inputs with dynamic non-batch dimensions: cost depends on each request', inputs: warmup.dynamicInputs } };
  }
  if (warmup?.fastestMs === undefined) {
    return { mode: 'worker', reason: { decidedBy: 'warm-up on zero inputs failed, workers are the safe choice', warmupError: warmup?.error } };
  }
  const mode = warmup.fastestMs < INLINE_THRESHOLD_MS ? 'inline' : 'worker';
  return { mode, reason: { decidedBy: 'warm-up', warmupMs: warmup.fastestMs, thresholdMs: INLINE_THRESHOLD_MS } };
}

function specsOf(
  inputs: readonly ort.InferenceSession.ValueMetadata[],
  outputs: readonly ort.InferenceSession.ValueMetadata[],
  file: string,
): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  try {
    return { inputs: inputs.map(specFromMetadata), outputs: outputs.map(specFromMetadata) };
  } catch (err) {
    throw servingError('INTERNAL_ERROR', `cannot serve ONNX model ${file}: ${(err as Error).message}`);
  }
}

/**
 * One run on zero inputs: a new shape onnxruntime accepts when creating the session can still
 * fail in a node (a Reshape to constant dims); OVMS finds that when it reshapes, and so do we.
 * Inputs with a dynamic dimension past the batch are not tried (their cost depends on each request).
 */
async function trialRun(session: ort.InferenceSession, inputs: readonly TensorSpec[]): Promise<void> {
  if (inputs.some((s) => s.shape.some((d, i) => i > 0 && d < 0))) return;
  try {
    await session.run(zeroInputs(inputs), { logSeverityLevel: 4 });
  } catch (err) {
    throw servingError('RESHAPE_ERROR', `the model fails with the new input shapes: ${(err as Error).message}`);
  }
}

/** onnxruntime's own reason is kept: it says whether the file is missing, corrupt or unsupported. */
function loadError(file: string, err: unknown, reshaped = false): ServingError {
  if (err instanceof ServingError) return err;
  const reason = err instanceof WorkerInitError || err instanceof Error ? err.message : String(err);
  if (reshaped) {
    const e = servingError('RESHAPE_ERROR', `onnxruntime cannot create a session for ${file} with the new input shapes: ${reason}`);
    (e as { cause?: unknown }).cause = err;
    return e;
  }
  const e = servingError('INTERNAL_ERROR', `cannot load ONNX model ${file}: ${reason}`);
  (e as { cause?: unknown }).cause = err;
  return e;
}
