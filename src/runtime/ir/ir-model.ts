/**
 * An imported IR model version: onnxruntime runs the network (through the ONNX runtime path, in
 * its workers or inline), then post stages (DetectionOutput) turn their raw outputs into the
 * outputs the IR declares. Everything else — queueing, threads, nireq — is the ONNX model's.
 */
import { servingError } from '../../core/errors.js';
import type { Tensor, TensorMap, TensorSpec } from '../../core/tensor.js';
import type { LoadedModel } from '../engine.js';
import { type DetectionOutputAttrs, detectionOutput, detectionOutputAttrs, detectionRows } from './post/detection-output.js';
import type { PostStagePlan } from './to-onnx.js';

interface Stage {
  readonly plan: PostStagePlan;
  readonly attrs: DetectionOutputAttrs;
  readonly spec: TensorSpec;
}

export class IrModel implements LoadedModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly #inner: LoadedModel;
  readonly #stages = new Map<string, Stage>();

  constructor(inner: LoadedModel, outputOrder: readonly string[], postStages: readonly PostStagePlan[]) {
    this.#inner = inner;
    this.inputs = inner.inputs;
    const innerSpecs = new Map(inner.outputs.map((s) => [s.name, s]));
    for (const plan of postStages) {
      const attrs = detectionOutputAttrs(plan.attrs);
      this.#stages.set(plan.output, { plan, attrs, spec: detectionSpec(plan, attrs, innerSpecs) });
    }
    this.outputs = outputOrder.map((name) => this.#stages.get(name)?.spec ?? innerSpecs.get(name)
      ?? { name, dtype: 'FP32', shape: [] });
  }

  get executionMode(): LoadedModel['executionMode'] { return this.#inner.executionMode; }
  get streams(): number | undefined { return this.#inner.streams; }
  get nireq(): number | undefined { return this.#inner.nireq; }
  get queued(): number | undefined { return this.#inner.queued; }
  get active(): number | undefined { return this.#inner.active; }

  async run(inputs: TensorMap, outputNames: readonly string[], signal?: AbortSignal): Promise<TensorMap> {
    const wanted = new Set<string>();
    for (const name of outputNames) {
      const stage = this.#stages.get(name);
      if (stage) for (const i of stage.plan.inputs) wanted.add(i);
      else wanted.add(name);
    }
    const raw = await this.#inner.run(inputs, [...wanted], signal);
    const result: TensorMap = new Map();
    for (const name of outputNames) {
      const stage = this.#stages.get(name);
      result.set(name, stage ? runStage(stage, raw) : raw.get(name)!);
    }
    return result;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

function runStage(stage: Stage, raw: TensorMap): Tensor {
  const [loc, conf, priors, armConf, armLoc] = stage.plan.inputs.map((n) => raw.get(n));
  if (!loc || !conf || !priors) throw servingError('INTERNAL_INFERENCE_ERROR', `DetectionOutput "${stage.plan.layerName}" lacks its inputs`);
  try {
    const { data, shape } = detectionOutput(stage.attrs, {
      location: loc.data as Float32Array,
      confidence: conf.data as Float32Array,
      priors: priors.data as Float32Array,
      priorsShape: priors.shape,
      batch: loc.shape[0] ?? 1,
      armConfidence: armConf?.data as Float32Array | undefined,
      armLocation: armLoc?.data as Float32Array | undefined,
    });
    return { dtype: 'FP32', shape, data };
  } catch (err) {
    throw servingError('INTERNAL_INFERENCE_ERROR', `DetectionOutput "${stage.plan.layerName}": ${(err as Error).message}`);
  }
}

/** [1, 1, rows, 7]; rows are known when the batch (and, without keep_top_k, the prior count) is. */
function detectionSpec(plan: PostStagePlan, attrs: DetectionOutputAttrs, inner: ReadonlyMap<string, TensorSpec>): TensorSpec {
  const loc = inner.get(plan.inputs[0]!);
  const conf = inner.get(plan.inputs[1]!);
  const priors = inner.get(plan.inputs[2]!);
  const batch = loc?.shape[0] ?? -1;
  const priorSize = attrs.normalized ? 4 : 5;
  const priorValues = priors?.shape[2] ?? -1;
  const numPriors = priorValues > 0 ? priorValues / priorSize : -1;
  const confPerImage = conf?.shape[1] ?? -1;
  const numClasses = attrs.numClasses ?? (numPriors > 0 && confPerImage > 0 ? confPerImage / numPriors : -1);
  let rows = -1;
  if (batch > 0 && (attrs.keepTopK > 0 || (attrs.topK > 0 && numClasses > 0) || (numPriors > 0 && numClasses > 0))) {
    rows = detectionRows(attrs, batch, numPriors, numClasses);
  }
  return { name: plan.output, dtype: 'FP32', shape: [1, 1, rows, 7] };
}
