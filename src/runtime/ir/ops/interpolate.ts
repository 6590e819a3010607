/**
 * Interpolate (opset1, 4, 11) → ONNX Resize (opset 18, which takes `axes`). OpenVINO's
 * "linear" (a triangle filter) equals ONNX linear when antialias is off; "simple" nearest
 * rounding is floor, which is exact for the integer upscales it is used for.
 */
import type { AttributeValue } from '../../onnx/model-builder.js';
import type { OpContext, OpTable } from './context.js';

const COORDINATE_MODES = new Set(['half_pixel', 'pytorch_half_pixel', 'asymmetric', 'align_corners']);
const NEAREST_MODES: Readonly<Record<string, string>> = {
  round_prefer_floor: 'round_prefer_floor', round_prefer_ceil: 'round_prefer_ceil', floor: 'floor', ceil: 'ceil', simple: 'floor',
};

interface ResizePlan {
  readonly mode: string;
  readonly coordinate: string;
  readonly nearest: string;
  readonly antialias: boolean;
  readonly cubeCoeff: number;
  readonly axes: readonly number[];
  readonly sizes?: string;
  readonly scales?: string;
}

function resize(ctx: OpContext, plan: ResizePlan): void {
  const g = ctx.graph;
  const rank = ctx.inputDims(0).length;
  let x = ctx.input(0);
  const padsBegin = ctx.has('pads_begin') ? ctx.ints('pads_begin') : [];
  const padsEnd = ctx.has('pads_end') ? ctx.ints('pads_end') : [];
  if ([...padsBegin, ...padsEnd].some((p) => p !== 0)) {
    const full = (p: number[]): number[] => Array.from({ length: rank }, (_v, i) => p[i] ?? 0);
    x = g.op('Pad', [x, g.int64s([...full(padsBegin), ...full(padsEnd)])], { mode: 'constant' });
  }
  const onnxMode = plan.mode === 'nearest' ? 'nearest' : plan.mode === 'cubic' ? 'cubic' : 'linear';
  if (!COORDINATE_MODES.has(plan.coordinate)) ctx.fail(`coordinate_transformation_mode="${plan.coordinate}" is not supported`);
  const attrs: Record<string, AttributeValue> = {
    mode: onnxMode,
    coordinate_transformation_mode: plan.coordinate,
    axes: plan.axes.map((a) => (a < 0 ? a + rank : a)),
  };
  if (onnxMode === 'nearest') attrs.nearest_mode = NEAREST_MODES[plan.nearest] ?? ctx.fail(`nearest_mode="${plan.nearest}" is not supported`);
  if (onnxMode === 'cubic') attrs.cubic_coeff_a = { float: plan.cubeCoeff };
  if (plan.antialias) {
    if (onnxMode === 'nearest') ctx.fail('antialias with nearest mode is not supported');
    attrs.antialias = 1;
  }
  const inputs = plan.sizes !== undefined ? [x, '', '', plan.sizes] : [x, '', plan.scales!];
  g.op('Resize', inputs, attrs, ctx.output(0));
}

function floatScales(ctx: OpContext, i: number): string {
  return ctx.inputType(i) === 'FP32' ? ctx.input(i) : ctx.graph.op('Cast', [ctx.input(i)], { to: 1 });
}

function checkMode(ctx: OpContext, allowed: readonly string[]): string {
  const mode = ctx.str('mode').toLowerCase();
  if (!allowed.includes(mode)) ctx.fail(`mode="${mode}" is not supported`);
  return mode;
}

export const interpolateOps: OpTable = {
  Interpolate: {
    versions: ['opset1', 'opset4', 'opset11'],
    convert(ctx) {
      const rank = ctx.inputDims(0).length;
      const allAxes = Array.from({ length: rank }, (_v, i) => i);
      if (ctx.layer.version === 'opset1') {
        const mode = checkMode(ctx, ['nearest', 'linear', 'cubic', 'linear_onnx']);
        const axes = ctx.ints('axes');
        const zeroPads = [...(ctx.has('pads_begin') ? ctx.ints('pads_begin') : []), ...(ctx.has('pads_end') ? ctx.ints('pads_end') : [])].every((p) => p === 0);
        // As OpenVINO converts Interpolate-1 to Interpolate-4.
        let coordinate = 'asymmetric';
        if (ctx.bool('align_corners', false)) coordinate = 'align_corners';
        else if ((mode === 'linear' || mode === 'linear_onnx') && zeroPads && !(rank === 4 && axes.join() === '2,3')) coordinate = 'half_pixel';
        return resize(ctx, {
          mode, coordinate, nearest: 'simple', antialias: ctx.bool('antialias', false), cubeCoeff: -0.75, axes, sizes: ctx.int64Input(1),
        });
      }
      const mode = checkMode(ctx, ctx.layer.version === 'opset4' ? ['nearest', 'linear', 'linear_onnx', 'cubic'] : ['nearest', 'linear', 'linear_onnx', 'cubic']);
      const bySizes = ctx.str('shape_calculation_mode').toLowerCase() === 'sizes';
      const axesInput = ctx.layer.version === 'opset4' ? 3 : 2;
      const axes = ctx.inputCount > axesInput ? ctx.requireConst(axesInput, 'axes') : allAxes;
      const common = {
        mode,
        coordinate: ctx.str('coordinate_transformation_mode', 'half_pixel').toLowerCase(),
        nearest: ctx.str('nearest_mode', 'round_prefer_floor').toLowerCase(),
        antialias: ctx.bool('antialias', false),
        cubeCoeff: ctx.float('cube_coeff', -0.75),
        axes,
      };
      if (ctx.layer.version === 'opset4') {
        return resize(ctx, bySizes ? { ...common, sizes: ctx.int64Input(1) } : { ...common, scales: floatScales(ctx, 2) });
      }
      resize(ctx, bySizes ? { ...common, sizes: ctx.int64Input(1) } : { ...common, scales: floatScales(ctx, 1) });
    },
  },
};
