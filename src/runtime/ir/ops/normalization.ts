/** Normalisations and FakeQuantize, composed from ONNX operations where ONNX has no twin. */
import type { OpContext, OpTable } from './context.js';

function scalar(ctx: OpContext, value: number): string {
  return ctx.graph.scalar(ctx.inputType(0), value);
}

/** (x - mean) [/ (sqrt(var + eps) or sqrt(var) + eps)] over `axes`. */
function mvn(ctx: OpContext, axes: string, normalizeVariance: boolean, eps: number, epsInside: boolean): void {
  const g = ctx.graph;
  const x = ctx.input(0);
  const mean = g.op('ReduceMean', [x, axes], { keepdims: 1 });
  const centered = g.op('Sub', [x, mean]);
  if (!normalizeVariance) return void g.op('Identity', [centered], undefined, ctx.output(0));
  const variance = g.op('ReduceMean', [g.op('Mul', [centered, centered]), axes], { keepdims: 1 });
  const std = epsInside
    ? g.op('Sqrt', [g.op('Add', [variance, scalar(ctx, eps)])])
    : g.op('Add', [g.op('Sqrt', [variance]), scalar(ctx, eps)]);
  g.op('Div', [centered, std], undefined, ctx.output(0));
}

export const normalizationOps: OpTable = {
  BatchNormInference: {
    versions: ['opset1', 'opset5'],
    convert(ctx) {
      // opset1 orders the inputs gamma, beta, data, mean, variance; opset5 puts data first.
      const order = ctx.layer.version === 'opset1' ? [2, 0, 1, 3, 4] : [0, 1, 2, 3, 4];
      ctx.graph.op('BatchNormalization', order.map((i) => ctx.input(i)), { epsilon: { float: ctx.float('epsilon') } }, ctx.output(0));
    },
  },
  MVN: {
    versions: ['opset2', 'opset6'],
    convert(ctx) {
      if (ctx.layer.version === 'opset6') {
        const mode = ctx.str('eps_mode', 'inside_sqrt').toLowerCase();
        if (mode !== 'inside_sqrt' && mode !== 'outside_sqrt') ctx.fail(`eps_mode="${mode}" is not supported`);
        return mvn(ctx, ctx.int64Input(1), ctx.bool('normalize_variance'), ctx.float('eps'), mode === 'inside_sqrt');
      }
      const rank = ctx.inputDims(0).length;
      const from = ctx.bool('across_channels', false) ? 1 : 2;
      const axes = ctx.has('reduction_axes') ? ctx.ints('reduction_axes') : Array.from({ length: rank - from }, (_v, i) => i + from);
      mvn(ctx, ctx.graph.int64s(axes), ctx.bool('normalize_variance', true), ctx.float('eps'), false);
    },
  },
  NormalizeL2: {
    convert(ctx) {
      const g = ctx.graph;
      const x = ctx.input(0);
      const eps = ctx.float('eps');
      const mode = ctx.str('eps_mode', 'add').toLowerCase();
      const sum = g.op('ReduceSumSquare', [x, ctx.int64Input(1)], { keepdims: 1, noop_with_empty_axes: 0 });
      let guarded: string;
      if (mode === 'add') guarded = g.op('Add', [sum, scalar(ctx, eps)]);
      else if (mode === 'max') guarded = g.op('Max', [sum, scalar(ctx, eps)]);
      else return ctx.fail(`eps_mode="${mode}" is not supported`);
      g.op('Div', [x, g.op('Sqrt', [guarded])], undefined, ctx.output(0));
    },
  },
  LRN: {
    convert(ctx) {
      const axes = ctx.requireConst(1, 'axes');
      if (axes.length !== 1 || axes[0] !== 1) ctx.fail(`normalisation over axes [${axes.join(',')}] is not supported (only the channel axis [1] is)`);
      ctx.graph.op('LRN', [ctx.input(0)], {
        alpha: { float: ctx.float('alpha') },
        beta: { float: ctx.float('beta') },
        bias: { float: ctx.float('bias', 1) },
        size: ctx.int('size'),
      }, ctx.output(0));
    },
  },
  FakeQuantize: {
    convert(ctx) {
      // q = round((clamp(x, il, ih) - il) / (ih - il) · (L-1)) / (L-1) · (oh - ol) + ol.
      // The clamped value is non-negative, so round-half-away-from-zero (OpenVINO's) is floor(v + 0.5).
      const g = ctx.graph;
      const levels = ctx.int('levels');
      if (levels < 2) ctx.fail(`levels=${levels} must be at least 2`);
      const [x, il, ih, ol, oh] = [0, 1, 2, 3, 4].map((i) => ctx.input(i)) as [string, string, string, string, string];
      const clamped = g.op('Min', [g.op('Max', [x, il]), ih]);
      const steps = scalar(ctx, levels - 1);
      const ratio = g.op('Div', [g.op('Sub', [clamped, il]), g.op('Sub', [ih, il])]);
      const q = g.op('Floor', [g.op('Add', [g.op('Mul', [ratio, steps]), scalar(ctx, 0.5)])]);
      const scaled = g.op('Mul', [g.op('Div', [q, steps]), g.op('Sub', [oh, ol])]);
      g.op('Add', [scaled, ol], undefined, ctx.output(0));
    },
  },
};
