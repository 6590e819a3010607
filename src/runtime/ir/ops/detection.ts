/**
 * SSD detection heads. PriorBox and PriorBoxClustered are composed from ONNX operations over the
 * feature-map and image sizes the graph computes (ShapeOf → StridedSlice), so the priors follow
 * whatever H×W the model runs at; with a fixed input shape onnxruntime folds them to constants
 * when the session is created. DetectionOutput runs after the network in TypeScript
 * (post/detection-output.ts): NMS with per-class top_k and cross-class keep_top_k, grouped by
 * label as OpenVINO orders its rows, is far clearer there than as ONNX NonMaxSuppression plumbing.
 */
import type { OpContext, OpTable } from './context.js';

/** One prior per cell, in pixels relative to the cell centre: corners (dx ∓ hw, dy ∓ hh). */
interface PriorShape {
  readonly dx: number;
  readonly dy: number;
  readonly hw: number;
  readonly hh: number;
  /** Clamp this prior to [0, 1] (PriorBox's fixed_size priors always are). */
  readonly clip: boolean;
}

interface PriorPlan {
  readonly priors: readonly PriorShape[];
  /** Fixed steps in pixels, or undefined: image size / feature-map size, at run time. */
  readonly step?: { readonly x: number; readonly y: number };
  /** Centre of cell w is (w + offset) · step. */
  readonly offset: number;
  readonly clipAll: boolean;
  readonly variances: readonly number[];
}

/**
 * Builds [2, H·W·S·4]: row 0 the priors (xmin, ymin, xmax, ymax normalised by the image size) in
 * (h, w, s) order, row 1 their variances.
 */
function composePriors(ctx: OpContext, plan: PriorPlan): void {
  const g = ctx.graph;
  const S = plan.priors.length;
  if (S === 0) ctx.fail('no prior sizes are given');
  const sizes = (i: number): { h: string; w: string } => {
    const f = g.op('Cast', [ctx.input(i)], { to: 1 });
    return { h: g.op('Gather', [f, g.scalar('INT64', 0)], { axis: 0 }), w: g.op('Gather', [f, g.scalar('INT64', 1)], { axis: 0 }) };
  };
  const layer = sizes(0);
  const image = sizes(1);
  const zero = g.scalar('FP32', 0);
  const one = g.scalar('FP32', 1);
  const offset = g.scalar('FP32', plan.offset);
  const stepX = plan.step ? g.scalar('FP32', plan.step.x) : g.op('Div', [image.w, layer.w]);
  const stepY = plan.step ? g.scalar('FP32', plan.step.y) : g.op('Div', [image.h, layer.h]);
  const centresX = g.op('Mul', [g.op('Add', [g.op('Range', [zero, layer.w, one]), offset]), stepX]);
  const centresY = g.op('Mul', [g.op('Add', [g.op('Range', [zero, layer.h, one]), offset]), stepY]);
  const cx = g.op('Reshape', [centresX, g.int64s([1, -1, 1, 1])]);
  const cy = g.op('Reshape', [centresY, g.int64s([-1, 1, 1, 1])]);
  const maskX = g.floats([1, 0, 1, 0]);
  const maskY = g.floats([0, 1, 0, 1]);
  const corners = g.floats(plan.priors.flatMap((p) => [p.dx - p.hw, p.dy - p.hh, p.dx + p.hw, p.dy + p.hh]), [1, 1, S, 4], 'prior_corners');
  const numerator = g.op('Add', [g.op('Add', [g.op('Mul', [cx, maskX]), g.op('Mul', [cy, maskY])]), corners]);
  const denominator = g.op('Add', [g.op('Mul', [image.w, maskX]), g.op('Mul', [image.h, maskY])]);
  let boxes = g.op('Div', [numerator, denominator]); // [H, W, S, 4]
  if (plan.clipAll) {
    boxes = g.op('Clip', [boxes, zero, one]);
  } else if (plan.priors.some((p) => p.clip)) {
    const which = g.constant('BOOL', [1, 1, S, 1], plan.priors.map((p) => (p.clip ? 1 : 0)));
    boxes = g.op('Where', [which, g.op('Clip', [boxes, zero, one]), boxes]);
  }
  const flat = g.op('Reshape', [boxes, g.int64s([1, -1])]);
  const v = plan.variances.length === 0 ? [0.1, 0.1, 0.1, 0.1] : plan.variances.length === 1 ? Array<number>(4).fill(plan.variances[0]!) : plan.variances;
  if (v.length !== 4) ctx.fail(`variance must have 0, 1 or 4 values, not ${plan.variances.length}`);
  const variances = g.op('Reshape', [g.op('Expand', [g.floats(v), g.op('Shape', [boxes])]), g.int64s([1, -1])]);
  g.op('Concat', [flat, variances], { axis: 0 }, ctx.output(0));
}

function priorBoxClustered(ctx: OpContext): void {
  const widths = ctx.floats('width');
  const heights = ctx.floats('height');
  if (widths.length !== heights.length) ctx.fail('width and height must have the same number of values');
  const clip = ctx.bool('clip', true);
  const step = ctx.float('step', 0);
  const stepW = ctx.float('step_w', 0) || step;
  const stepH = ctx.float('step_h', 0) || step;
  composePriors(ctx, {
    priors: widths.map((w, i) => ({ dx: 0, dy: 0, hw: w / 2, hh: heights[i]! / 2, clip })),
    step: stepW === 0 && stepH === 0 ? undefined : { x: stepW, y: stepH },
    offset: ctx.float('offset'),
    clipAll: false,
    variances: ctx.has('variance') ? ctx.floats('variance') : [],
  });
}

/** PriorBox's priors per cell, in OpenVINO's order (fixed sizes first, then min/max sizes and aspect ratios). */
function priorBoxShapes(ctx: OpContext): PriorShape[] {
  const minSizes = ctx.has('min_size') ? ctx.floats('min_size') : [];
  const maxSizes = ctx.has('max_size') ? ctx.floats('max_size') : [];
  const fixedSizes = ctx.has('fixed_size') ? ctx.floats('fixed_size') : [];
  const fixedRatios = ctx.has('fixed_ratio') ? ctx.floats('fixed_ratio') : [];
  const densities = ctx.has('density') ? ctx.floats('density') : [];
  const flip = ctx.bool('flip', false);
  const minMaxFirst = ctx.layer.version === 'opset8' ? ctx.bool('min_max_aspect_ratios_order', true) : true;
  if (!ctx.bool('scale_all_sizes', true)) ctx.fail('scale_all_sizes=false (MXNet-style priors) is not supported');

  const ratios = [1];
  for (const ar of ctx.has('aspect_ratio') ? ctx.floats('aspect_ratio') : []) {
    if (ratios.some((r) => Math.abs(r - ar) < 1e-6)) continue;
    ratios.push(ar);
    if (flip) ratios.push(1 / ar);
  }
  const out: PriorShape[] = [];
  const centred = (hw: number, hh: number, clip = false): PriorShape => ({ dx: 0, dy: 0, hw, hh, clip });

  fixedSizes.forEach((size, s) => {
    const fixed = Math.trunc(size);
    const density = Math.trunc(densities[s] ?? 0);
    const shift = density > 0 ? Math.trunc(size / density) : 0;
    // A density × density grid of copies shifted inside the cell, each clipped.
    const grid = (hw: number, hh: number): void => {
      for (let r = 0; r < density; r++) {
        for (let c = 0; c < density; c++) {
          const base = -Math.floor(fixed / 2) + shift / 2;
          out.push({ dx: base + c * shift, dy: base + r * shift, hw, hh, clip: true });
        }
      }
    };
    if (fixedRatios.length > 0) {
      for (const ar of fixedRatios) grid(size * 0.5 * Math.sqrt(ar), size * 0.5 / Math.sqrt(ar));
      return;
    }
    if (densities.length > 0) grid(fixed * 0.5, fixed * 0.5);
    for (const ar of ratios) {
      if (Math.abs(ar - 1) < 1e-6) continue;
      grid(size * 0.5 * Math.sqrt(ar), size * 0.5 / Math.sqrt(ar));
    }
  });

  minSizes.forEach((min, i) => {
    out.push(centred(min * 0.5, min * 0.5));
    const max = i < maxSizes.length ? [centred(Math.sqrt(min * maxSizes[i]!) * 0.5, Math.sqrt(min * maxSizes[i]!) * 0.5)] : [];
    const aspect = ratios.filter((ar) => Math.abs(ar - 1) >= 1e-6).map((ar) => centred(min * 0.5 * Math.sqrt(ar), min * 0.5 / Math.sqrt(ar)));
    out.push(...(minMaxFirst ? [...max, ...aspect] : [...aspect, ...max]));
  });
  return out;
}

function priorBox(ctx: OpContext): void {
  const step = ctx.float('step', 0);
  composePriors(ctx, {
    priors: priorBoxShapes(ctx),
    // Without a step OpenVINO centres priors at (w + 0.5) · image/feature size, whatever the offset.
    step: step === 0 ? undefined : { x: step, y: step },
    offset: step === 0 ? 0.5 : ctx.float('offset'),
    clipAll: ctx.bool('clip', false),
    variances: ctx.has('variance') ? ctx.floats('variance') : [],
  });
}

export const detectionOps: OpTable = {
  PriorBoxClustered: { versions: ['opset1'], convert: priorBoxClustered },
  PriorBox: { versions: ['opset1', 'opset8'], convert: priorBox },
  DetectionOutput: {
    versions: ['opset1', 'opset8'],
    convert(ctx) {
      if (ctx.inputCount !== 3 && ctx.inputCount !== 5) ctx.fail(`has ${ctx.inputCount} inputs (3 or 5 expected)`);
      for (let i = 0; i < ctx.inputCount; i++) {
        if (ctx.inputType(i) !== 'FP32') ctx.fail(`input ${i} is ${ctx.inputType(i)}; only FP32 is supported`);
      }
      const code = ctx.str('code_type', 'caffe.PriorBoxParameter.CORNER');
      if (code !== 'caffe.PriorBoxParameter.CORNER' && code !== 'caffe.PriorBoxParameter.CENTER_SIZE') ctx.fail(`code_type="${code}" is not supported`);
      ctx.postStage({
        kind: 'DetectionOutput',
        inputs: Array.from({ length: ctx.inputCount }, (_v, i) => ctx.input(i)),
        attrs: { ...ctx.layer.data, opset: ctx.layer.version },
      });
    },
  },
};
