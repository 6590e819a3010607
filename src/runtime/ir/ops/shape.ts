/** Shape and data-movement operations. */
import type { DType } from '../../../core/dtype.js';
import { dtypeOfElementType } from '../element-types.js';
import type { OpContext, OpTable } from './context.js';
import { onnxTypeOf } from './elementwise.js';

const INT64_MAX = Number.MAX_SAFE_INTEGER;
const INT64_MIN = Number.MIN_SAFE_INTEGER;

function axisInput(ctx: OpContext, i: number): number {
  const v = ctx.requireConst(i, 'axis');
  if (v.length !== 1) ctx.fail('axis must hold one value');
  return v[0]!;
}

function outputElementType(ctx: OpContext, attr: string, fallback: string): DType {
  const name = ctx.str(attr, fallback);
  return dtypeOfElementType(name) ?? ctx.fail(`${attr}="${name}" is not supported`);
}

/** Bits of an IR mask attribute ("1,0,1"); missing positions are 0. */
function mask(ctx: OpContext, name: string): number[] {
  return ctx.has(name) ? ctx.ints(name) : [];
}

/**
 * StridedSlice as ONNX Unsqueeze (new_axis) → Slice → Squeeze (shrink_axis), with the ellipsis
 * expanded. begin/end/stride must be constants except in the plain case (no new/shrink/ellipsis).
 */
function stridedSlice(ctx: OpContext): void {
  const g = ctx.graph;
  const rank = ctx.inputDims(0).length;
  const beginMask = mask(ctx, 'begin_mask');
  const endMask = mask(ctx, 'end_mask');
  const newMask = mask(ctx, 'new_axis_mask');
  const shrinkMask = mask(ctx, 'shrink_axis_mask');
  const ellipsisMask = mask(ctx, 'ellipsis_mask');
  const begin = ctx.constInput(1);
  const end = ctx.constInput(2);
  const stride = ctx.inputCount > 3 ? ctx.constInput(3) : undefined;
  const hasStrideInput = ctx.inputCount > 3;
  const fancy = [...newMask, ...shrinkMask, ...ellipsisMask].some((b) => b === 1);

  if (!begin || !end || (hasStrideInput && !stride)) {
    if (fancy) ctx.fail('new_axis, shrink_axis and ellipsis masks need constant begin, end and stride');
    // Plain slice with computed bounds: masked positions take the whole axis.
    const n = ctx.inputDims(1)[0];
    if (n === undefined || n < 0) ctx.fail('begin must have a static length');
    const bits = (m: number[]): boolean[] => Array.from({ length: n! }, (_x, i) => m[i] === 1);
    const axes = g.int64s(Array.from({ length: n! }, (_x, i) => i));
    const starts = maskedWith(ctx, ctx.int64Input(1), bits(beginMask), 0);
    const ends = maskedWith(ctx, ctx.int64Input(2), bits(endMask), INT64_MAX);
    const inputs = [ctx.input(0), starts, ends, axes];
    if (hasStrideInput) inputs.push(ctx.int64Input(3));
    g.op('Slice', inputs, undefined, ctx.output(0));
    return;
  }

  const steps = stride ?? begin.map(() => 1);
  const entries = begin.length;
  let consumed = 0;
  for (let i = 0; i < entries; i++) if (newMask[i] !== 1 && ellipsisMask[i] !== 1) consumed++;
  const ellipsisAt = ellipsisMask.findIndex((b) => b === 1);
  const unsqueezeAt: number[] = [];
  const sliceAxes: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const stepsOut: number[] = [];
  const squeezeAt: number[] = [];
  let outAxis = 0; // axis in the tensor after Unsqueeze
  for (let i = 0; i < entries; i++) {
    if (i === ellipsisAt) {
      const span = rank - consumed;
      outAxis += span;
      continue;
    }
    if (newMask[i] === 1) {
      unsqueezeAt.push(outAxis++);
      continue;
    }
    const step = steps[i]!;
    if (step === 0) ctx.fail('stride 0 is not allowed');
    if (shrinkMask[i] === 1) {
      const b = begin[i]!;
      sliceAxes.push(outAxis);
      starts.push(b);
      ends.push(b === -1 ? INT64_MAX : b + 1);
      stepsOut.push(1);
      squeezeAt.push(outAxis);
    } else {
      sliceAxes.push(outAxis);
      starts.push(beginMask[i] === 1 ? (step > 0 ? 0 : INT64_MAX) : begin[i]!);
      ends.push(endMask[i] === 1 ? (step > 0 ? INT64_MAX : INT64_MIN) : end[i]!);
      stepsOut.push(step);
    }
    outAxis++;

  }
  let x = ctx.input(0);
  if (unsqueezeAt.length > 0) x = g.op('Unsqueeze', [x, g.int64s(unsqueezeAt)]);
  if (sliceAxes.length > 0) x = g.op('Slice', [x, g.int64s(starts), g.int64s(ends), g.int64s(sliceAxes), g.int64s(stepsOut)]);
  if (squeezeAt.length > 0) x = g.op('Squeeze', [x, g.int64s(squeezeAt)]);
  g.op('Identity', [x], undefined, ctx.output(0));
}

/** `values` with the positions set in `bits` replaced by `fill` (computed slice bounds under a mask). */
function maskedWith(ctx: OpContext, values: string, bits: boolean[], fill: number): string {
  if (!bits.some(Boolean)) return values;
  const g = ctx.graph;
  const cond = g.constant('BOOL', [bits.length], bits.map(Number));
  return g.op('Where', [cond, g.int64s(bits.map(() => fill)), values]);
}

export const shapeOps: OpTable = {
  Reshape: {
    convert(ctx) {
      const specialZero = ctx.bool('special_zero', false);
      const shape = ctx.constInput(1);
      // allowzero=1 keeps a 0 literal; without zeros both readings agree, so the plain form is used.
      const allowZero = !specialZero && (!shape || shape.includes(0));
      ctx.graph.op('Reshape', [ctx.input(0), ctx.int64Input(1)], allowZero ? { allowzero: 1 } : undefined, ctx.output(0));
    },
  },
  Transpose: {
    convert(ctx) {
      const order = ctx.requireConst(1, 'order');
      ctx.graph.op('Transpose', [ctx.input(0)], order.length > 0 ? { perm: order } : undefined, ctx.output(0));
    },
  },
  Squeeze: {
    convert(ctx) {
      const inputs = [ctx.input(0)];
      if (ctx.inputCount > 1) inputs.push(ctx.int64Input(1));
      ctx.graph.op('Squeeze', inputs, undefined, ctx.output(0));
    },
  },
  Unsqueeze: { convert: (ctx) => void ctx.graph.op('Unsqueeze', [ctx.input(0), ctx.int64Input(1)], undefined, ctx.output(0)) },
  Concat: {
    convert(ctx) {
      const inputs = Array.from({ length: ctx.inputCount }, (_x, i) => ctx.input(i));
      ctx.graph.op('Concat', inputs, { axis: ctx.int('axis') }, ctx.output(0));
    },
  },
  ShapeOf: {
    versions: ['opset1', 'opset3'],
    convert(ctx) {
      const type = outputElementType(ctx, 'output_type', 'i64');
      if (type === 'INT64') return void ctx.graph.op('Shape', [ctx.input(0)], undefined, ctx.output(0));
      ctx.graph.op('Cast', [ctx.graph.op('Shape', [ctx.input(0)])], { to: onnxTypeOf(type) }, ctx.output(0));
    },
  },
  StridedSlice: { convert: stridedSlice },
  Slice: {
    versions: ['opset8'],
    convert(ctx) {
      const inputs = [ctx.input(0), ctx.int64Input(1), ctx.int64Input(2)];
      inputs.push(ctx.inputCount > 4 ? ctx.int64Input(4) : '', ctx.int64Input(3));
      ctx.graph.op('Slice', inputs, undefined, ctx.output(0));
    },
  },
  Gather: {
    versions: ['opset1', 'opset7', 'opset8'],
    convert(ctx) {
      if (ctx.int('batch_dims', 0) !== 0) ctx.fail('batch_dims other than 0 is not supported');
      ctx.graph.op('Gather', [ctx.input(0), ctx.input(1)], { axis: axisInput(ctx, 2) }, ctx.output(0));
    },
  },
  GatherElements: { convert: (ctx) => void ctx.graph.op('GatherElements', [ctx.input(0), ctx.input(1)], { axis: ctx.int('axis') }, ctx.output(0)) },
  GatherND: {
    versions: ['opset5', 'opset8'],
    convert(ctx) {
      const indices = ctx.inputType(1) === 'INT64' ? ctx.input(1) : ctx.graph.op('Cast', [ctx.input(1)], { to: 7 });
      ctx.graph.op('GatherND', [ctx.input(0), indices], { batch_dims: ctx.int('batch_dims', 0) }, ctx.output(0));
    },
  },
  Split: {
    convert(ctx) {
      const n = ctx.int('num_splits');
      const outs = Array.from({ length: n }, (_x, i) => (ctx.outputUsed(i) ? ctx.output(i) : ctx.graph.fresh('split')));
      ctx.graph.node('Split', [ctx.input(0)], outs, { axis: axisInput(ctx, 1), num_outputs: n });
    },
  },
  VariadicSplit: {
    convert(ctx) {
      const axis = axisInput(ctx, 1);
      const lengths = ctx.requireConst(2, 'split_lengths');
      const unknown = lengths.indexOf(-1);
      if (unknown >= 0) {
        const dims = ctx.inputDims(0);
        const size = dims[axis < 0 ? axis + dims.length : axis];
        if (size === undefined || size < 0) ctx.fail('split_lengths with -1 need a static size along the axis');
        lengths[unknown] = size! - lengths.reduce((a, b, i) => (i === unknown ? a : a + b), 0);
      }
      const outs = lengths.map((_l, i) => (ctx.outputUsed(i) ? ctx.output(i) : ctx.graph.fresh('split')));
      ctx.graph.node('Split', [ctx.input(0), ctx.graph.int64s(lengths)], outs, { axis });
    },
  },
  Tile: {
    convert(ctx) {
      const g = ctx.graph;
      const rank = ctx.inputDims(0).length;
      const repeats = ctx.requireConst(1, 'repeats');
      let x = ctx.input(0);
      // OpenVINO aligns repeats and data on the right, padding the shorter one with 1s.
      if (repeats.length > rank) x = g.op('Unsqueeze', [x, g.int64s(Array.from({ length: repeats.length - rank }, (_v, i) => i))]);
      const full = repeats.length < rank ? [...Array<number>(rank - repeats.length).fill(1), ...repeats] : repeats;
      g.op('Tile', [x, g.int64s(full)], undefined, ctx.output(0));
    },
  },
  Broadcast: {
    versions: ['opset1', 'opset3'],
    convert(ctx) {
      const g = ctx.graph;
      const mode = ctx.str('mode', 'numpy').toLowerCase();
      if (mode === 'numpy' || mode === 'bidirectional') {
        return void g.op('Expand', [ctx.input(0), ctx.int64Input(1)], undefined, ctx.output(0));
      }
      if (mode !== 'explicit') return ctx.fail(`mode="${mode}" is not supported`);
      const axes = ctx.requireConst(2, 'axes_mapping');
      const outRank = ctx.outputDims(0).length;
      const inDims = ctx.inputDims(0);
      // Place the data's axes where axes_mapping says, 1 elsewhere, then expand.
      const shape = Array<number>(outRank).fill(1);
      axes.forEach((a, i) => { shape[a] = inDims[i]! < 0 ? 0 : inDims[i]!; });
      const reshaped = g.op('Reshape', [ctx.input(0), g.int64s(shape)]);
      g.op('Expand', [reshaped, ctx.int64Input(1)], undefined, ctx.output(0));
    },
  },
  Pad: {
    versions: ['opset1', 'opset12'],
    convert(ctx) {
      const g = ctx.graph;
      const mode = ctx.str('pad_mode', 'constant').toLowerCase();
      if (mode !== 'constant' && mode !== 'edge' && mode !== 'reflect') ctx.fail(`pad_mode="${mode}" is not supported`);
      const pads = g.op('Concat', [ctx.int64Input(1), ctx.int64Input(2)], { axis: 0 });
      const inputs = [ctx.input(0), pads];
      if (mode === 'constant' && ctx.inputCount > 3) inputs.push(ctx.input(3));
      g.op('Pad', inputs, { mode }, ctx.output(0));
    },
  },
  DepthToSpace: {
    convert(ctx) {
      const mode = ctx.str('mode', 'blocks_first');
      if (mode !== 'blocks_first' && mode !== 'depth_first') ctx.fail(`mode="${mode}" is not supported`);
      ctx.graph.op('DepthToSpace', [ctx.input(0)], { blocksize: ctx.int('block_size', 1), mode: mode === 'blocks_first' ? 'DCR' : 'CRD' }, ctx.output(0));
    },
  },
  SpaceToDepth: {
    convert(ctx) {
      const mode = ctx.str('mode', 'blocks_first');
      if (mode !== 'blocks_first') ctx.fail(`mode="${mode}" is not supported (blocks_first is)`);
      ctx.graph.op('SpaceToDepth', [ctx.input(0)], { blocksize: ctx.int('block_size', 1) }, ctx.output(0));
    },
  },
  ShuffleChannels: {
    convert(ctx) {
      const g = ctx.graph;
      const dims = ctx.inputDims(0);
      const rank = dims.length;
      const axisAttr = ctx.int('axis', 1);
      const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
      const group = ctx.int('group', 1);
      const channels = dims[axis];
      if (channels === undefined || channels < 0) return ctx.fail('needs a static size along the shuffled axis');
      // [..., group, C/group, rest] → swap the two → back to the input's shape.
      const split = g.op('Reshape', [ctx.input(0), g.int64s([...Array<number>(axis).fill(0), group, channels / group, -1])]);
      const perm = Array.from({ length: axis + 3 }, (_v, i) => i);
      [perm[axis], perm[axis + 1]] = [axis + 1, axis];
      const swapped = g.op('Transpose', [split], { perm });
      g.op('Reshape', [swapped, g.op('Shape', [ctx.input(0)])], undefined, ctx.output(0));
    },
  },
  Range: {
    versions: ['opset1', 'opset4'],
    convert(ctx) {
      const g = ctx.graph;
      const type = ctx.layer.version === 'opset4' ? outputElementType(ctx, 'output_type', 'f32') : ctx.inputType(0);
      const cast = (i: number): string => {
        const v = ctx.inputType(i) === type ? ctx.input(i) : g.op('Cast', [ctx.input(i)], { to: onnxTypeOf(type) });
        return ctx.inputDims(i).length === 0 ? v : g.op('Squeeze', [v]);
      };
      g.op('Range', [cast(0), cast(1), cast(2)], undefined, ctx.output(0));
    },
  },
  Convert: {
    convert(ctx) {
      const type = outputElementType(ctx, 'destination_type', '');
      ctx.graph.op('Cast', [ctx.input(0)], { to: onnxTypeOf(type) }, ctx.output(0));
    },
  },
  ConvertLike: { convert: (ctx) => void ctx.graph.op('CastLike', [ctx.input(0), ctx.input(1)], undefined, ctx.output(0)) },
  NonZero: {
    convert(ctx) {
      const type = outputElementType(ctx, 'output_type', 'i64');
      const nz = ctx.graph.op('NonZero', [ctx.input(0)]);
      ctx.graph.op('Cast', [nz], { to: onnxTypeOf(type) }, ctx.output(0));
    },
  },
  ScatterNDUpdate: {
    convert(ctx) {
      const indices = ctx.inputType(1) === 'INT64' ? ctx.input(1) : ctx.graph.op('Cast', [ctx.input(1)], { to: 7 });
      ctx.graph.op('ScatterND', [ctx.input(0), indices, ctx.input(2)], undefined, ctx.output(0));
    },
  },
  ScatterElementsUpdate: {
    versions: ['opset3'],
    convert(ctx) {
      ctx.graph.op('ScatterElements', [ctx.input(0), ctx.input(1), ctx.input(2)], { axis: axisInput(ctx, 3) }, ctx.output(0));
    },
  },
};
