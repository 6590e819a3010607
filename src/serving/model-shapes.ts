/**
 * Turns a model's `shape`, `batch_size`, `layout`, `mean`, `scale` and `color_format` settings into
 * what the runtime loads with (fixed input shapes, layout transposes, normalisation), and decides
 * when a request needs the version reloaded with its own shapes (`auto`, SPEC §5).
 *
 * Shapes in the config are in the model's own layout (OVMS reshapes the network, and the layout
 * is applied in front of it); a request's shapes are in the client's layout and are translated.
 */
import type { ColorFormat, ModelConfig, NormalizationSetting, ShapeSetting } from '../config/types.js';
import { parseLayoutSpec } from '../config/model-settings.js';
import { servingError } from '../core/errors.js';
import type { TensorMap, TensorSpec } from '../core/tensor.js';
import type { LayoutChange, Normalization, RuntimeOptions } from '../runtime/engine.js';

export interface ShapePlan {
  /** Runtime settings from the config (without any `auto` reshape). */
  readonly runtime: Pick<RuntimeOptions, 'inputShapes' | 'layouts' | 'normalization'>;
  /** The model's own inputs, before any setting (symbolic dims -1). */
  readonly native: readonly TensorSpec[];
  /** Inputs whose whole shape follows requests (`shape: auto`). */
  readonly autoInputs: ReadonlySet<string>;
  /** dim 0 of every input follows requests (`batch_size: auto`). */
  readonly autoBatch: boolean;
  /** Client-side layout letters of inputs whose layout was configured. */
  readonly clientLayouts: Readonly<Record<string, string>>;
  /** Channel order binary images are decoded into, per input. */
  readonly colorFormats: Readonly<Record<string, ColorFormat>>;
}

const isMap = <T>(v: T | Readonly<Record<string, T>> | undefined, single: (x: unknown) => boolean): v is Readonly<Record<string, T>> =>
  v !== undefined && !single(v) && typeof v === 'object';

/** Throws errors whose message becomes the version's load failure. */
export function planShapes(config: ModelConfig, native: { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] }): ShapePlan {
  const inputs = native.inputs;
  const byName = new Map(inputs.map((s) => [s.name, s]));
  const inputShapes: Record<string, readonly number[]> = {};
  const autoInputs = new Set<string>();

  const shape = config.shape;
  if (shape === 'auto') {
    for (const s of inputs) autoInputs.add(s.name);
  } else if (Array.isArray(shape)) {
    if (inputs.length !== 1) throw servingError('ANONYMOUS_FIXED_SHAPE_NOT_ALLOWED');
    inputShapes[inputs[0]!.name] = shape as readonly number[];
  } else if (shape !== undefined) {
    for (const [name, setting] of Object.entries(shape as Readonly<Record<string, ShapeSetting>>)) {
      if (!byName.has(name)) throw servingError('CONFIG_SHAPE_IS_NOT_IN_MODEL', `input ${name}; the model's inputs are ${[...byName.keys()].join(', ')}`);
      if (setting === 'auto') autoInputs.add(name);
      else inputShapes[name] = setting;
    }
  }
  const autoBatch = config.batchSize === 'auto' && autoInputs.size === 0;
  if (typeof config.batchSize === 'number' && shape === undefined) {
    for (const s of inputs) if (s.shape.length > 0) inputShapes[s.name] = [config.batchSize, ...s.shape.slice(1).map(() => -1)];
  }

  const layouts: Record<string, LayoutChange> = {};
  const clientLayouts: Record<string, string> = {};
  const modelLayouts: Record<string, string> = {};
  const outputNames = new Set(native.outputs.map((o) => o.name));
  const layoutEntries: [string, string][] = typeof config.layout === 'string'
    ? (inputs.length === 1 ? [[inputs[0]!.name, config.layout]] : throwAnonymousLayout())
    : Object.entries(config.layout ?? {});
  for (const [name, text] of layoutEntries) {
    const spec = byName.get(name) ?? native.outputs.find((o) => o.name === name);
    if (!spec || (!byName.has(name) && !outputNames.has(name))) {
      throw servingError('CONFIG_LAYOUT_IS_NOT_IN_MODEL', `tensor ${name}`);
    }
    const parsed = parseLayoutSpec(text);
    let model = parsed.model;
    // OVMS 2021.4's plain "NHWC": clients send NHWC; the model is NCHW unless its shape shows NHWC.
    if (parsed.legacy) model = looksNhwc(spec.shape) ? 'NHWC' : 'NCHW';
    if (!model.includes('.') && model.length !== spec.shape.length) {
      throw new Error(`layout ${text} has ${model.length} dimensions; ${name} has ${spec.shape.length}`);
    }
    if (byName.has(name)) {
      clientLayouts[name] = parsed.client;
      modelLayouts[name] = model;
    }
    if (parsed.client !== model) layouts[name] = { client: parsed.client, model };
  }

  const normalization: Record<string, Normalization> = {};
  const means = perInput(config.mean, inputs);
  const scales = perInput(config.scale, inputs);
  for (const s of inputs) {
    const mean = means[s.name];
    const scale = scales[s.name];
    if (mean === undefined && scale === undefined) continue;
    const m = toList(mean ?? 0);
    const sc = toList(scale ?? 1);
    const channels = Math.max(m.length, sc.length);
    const channelAxis = channels > 1 ? channelAxisOf(modelLayouts[s.name], s.shape, channels) : undefined;
    normalization[s.name] = { mean: m, scale: sc, ...(channelAxis !== undefined && { channelAxis }) };
  }

  const colorFormats: Record<string, ColorFormat> = {};
  for (const s of inputs) {
    const c = config.colorFormat;
    const format = typeof c === 'string' ? c : c?.[s.name];
    if (format) colorFormats[s.name] = format;
  }
  if (isMap(config.colorFormat, (v) => typeof v === 'string')) {
    for (const name of Object.keys(config.colorFormat)) {
      if (!byName.has(name)) throw new Error(`color_format is set for ${name}, which is not an input of the model`);
    }
  }

  return {
    runtime: {
      ...(Object.keys(inputShapes).length > 0 && { inputShapes }),
      ...(Object.keys(layouts).length > 0 && { layouts }),
      ...(Object.keys(normalization).length > 0 && { normalization }),
    },
    native: inputs,
    autoInputs,
    autoBatch,
    clientLayouts,
    colorFormats,
  };
}

function throwAnonymousLayout(): never {
  throw servingError('ANONYMOUS_FIXED_LAYOUT_NOT_ALLOWED');
}

/** A 4-D shape whose last dim looks like channels (1, 3 or 4) and whose second does not. */
export function looksNhwc(shape: readonly number[]): boolean {
  const isChannels = (d: number | undefined) => d === 1 || d === 3 || d === 4;
  return shape.length === 4 && isChannels(shape[3]) && !isChannels(shape[1]);
}

function perInput(setting: NormalizationSetting | Readonly<Record<string, NormalizationSetting>> | undefined, inputs: readonly TensorSpec[]): Record<string, NormalizationSetting> {
  if (setting === undefined) return {};
  if (typeof setting === 'number' || Array.isArray(setting)) {
    // One value for the model: every FP32 input gets it (the usual case is the one image input).
    return Object.fromEntries(inputs.filter((s) => s.dtype === 'FP32').map((s) => [s.name, setting as NormalizationSetting]));
  }
  const map = setting as Readonly<Record<string, NormalizationSetting>>;
  for (const name of Object.keys(map)) {
    if (!inputs.some((s) => s.name === name)) throw new Error(`mean/scale is set for ${name}, which is not an input of the model`);
  }
  return { ...map };
}

function toList(v: NormalizationSetting): number[] {
  return typeof v === 'number' ? [v] : [...v];
}

/** The channel axis in the model's layout: from its layout letters, else the dim that has `channels` entries (NCHW first). */
function channelAxisOf(modelLayout: string | undefined, shape: readonly number[], channels: number): number | undefined {
  if (modelLayout && modelLayout.includes('C') && !modelLayout.includes('.')) return modelLayout.indexOf('C');
  if (shape.length === 4) {
    if (shape[1] === channels) return 1;
    if (shape[3] === channels) return 3;
  }
  if (shape.length === 3 && shape[0] === channels) return 0;
  return undefined;
}

/**
 * The input shapes (model layout) to reload with when a request's shapes differ from the loaded
 * ones under `auto`, or undefined when no reload is needed. Only requests that would otherwise be
 * valid apart from the dims count: the right dtype and rank, positive dims, and exactly as much
 * data as their shape says (so a hostile shape cannot make the server reshape to something huge).
 * The model's symbolic dims stay symbolic: such a dim never needs a reload.
 */
export function autoReshape(plan: ShapePlan, loaded: readonly TensorSpec[], inputs: TensorMap, layouts: Readonly<Record<string, LayoutChange>>): Record<string, number[]> | undefined {
  if (!plan.autoBatch && plan.autoInputs.size === 0) return undefined;
  const next: Record<string, number[]> = {};
  let differs = false;
  for (const spec of loaded) {
    const tensor = inputs.get(spec.name);
    const native = plan.native.find((n) => n.name === spec.name);
    if (!tensor || !native || tensor.dtype !== spec.dtype || tensor.shape.length !== spec.shape.length) continue;
    if (tensor.shape.some((d) => !Number.isSafeInteger(d) || d <= 0)) continue;
    if (!dataMatches(tensor.shape, tensor.data.length)) continue;
    const layout = layouts[spec.name];
    const toModel = (shape: readonly number[]) => (layout ? [...layout.model].map((l) => shape[layout.client.indexOf(l)]!) : [...shape]);
    const requested = toModel(tensor.shape);
    const current = toModel(spec.shape);
    if (plan.autoInputs.has(spec.name)) {
      const wanted = requested.map((d, i) => (native.shape[i]! < 0 ? -1 : d));
      if (wanted.some((d, i) => d >= 0 && d !== current[i])) differs = true;
      next[spec.name] = wanted;
    } else if (plan.autoBatch && requested.length > 0) {
      const wanted = [native.shape[0]! < 0 ? -1 : requested[0]!, ...requested.slice(1).map(() => -1)];
      if (wanted[0]! >= 0 && wanted[0] !== current[0]) differs = true;
      next[spec.name] = wanted;
    }
  }
  return differs ? next : undefined;
}

function dataMatches(shape: readonly number[], length: number): boolean {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) return false;
  }
  return n === length;
}
