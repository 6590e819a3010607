/** Convolutions and pooling. */
import type { AttributeValue } from '../../onnx/model-builder.js';
import type { OpContext, OpTable } from './context.js';

/** OpenVINO auto_pad → ONNX auto_pad plus explicit pads when there are any. */
function padding(ctx: OpContext, spatial: number): Record<string, AttributeValue> {
  const mode = ctx.str('auto_pad', 'explicit').toLowerCase();
  switch (mode) {
    case 'explicit': case 'notset': {
      const begin = ctx.ints('pads_begin', Array<number>(spatial).fill(0));
      const end = ctx.ints('pads_end', Array<number>(spatial).fill(0));
      if (begin.length !== spatial || end.length !== spatial) ctx.fail(`pads_begin/pads_end must have ${spatial} values`);
      return { pads: [...begin, ...end] };
    }
    case 'valid': return { auto_pad: 'VALID' };
    case 'same_upper': return { auto_pad: 'SAME_UPPER' };
    case 'same_lower': return { auto_pad: 'SAME_LOWER' };
    default: return ctx.fail(`auto_pad="${mode}" is not supported`);
  }
}

function spatialRank(ctx: OpContext): number {
  const rank = ctx.inputDims(0).length;
  if (rank < 3) ctx.fail(`input of rank ${rank} is not supported (N, C and at least one spatial axis are needed)`);
  return rank - 2;
}

/**
 * The weights of a grouped convolution, [G, O/G, I/G, k...] in the IR, as ONNX's [O, I/G, k...]
 * (or [I, O/G, k...] for the transposed form). A constant is only given new dims: same bytes.
 */
function groupedWeights(ctx: OpContext, transposed: boolean): { weights: string; groups: number } {
  const dims = ctx.inputDims(1);
  if (dims.length < 4 || dims.slice(0, 3).some((d) => d < 0)) ctx.fail('grouped convolution weights need static [G, out, in, k...] dims');
  const [g, a, b] = dims as [number, number, number];
  const target = transposed ? [g * a, b, ...dims.slice(3)] : [g * a, b, ...dims.slice(3)];
  const weights = ctx.graph.op('Reshape', [ctx.input(1), ctx.graph.int64s(target)]);
  return { weights, groups: g };
}

function convolution(ctx: OpContext, grouped: boolean): void {
  const spatial = spatialRank(ctx);
  const { weights, groups } = grouped ? groupedWeights(ctx, false) : { weights: ctx.input(1), groups: 1 };
  ctx.graph.op('Conv', [ctx.input(0), weights], {
    strides: ctx.ints('strides'),
    dilations: ctx.ints('dilations', Array<number>(spatial).fill(1)),
    group: groups,
    ...padding(ctx, spatial),
  }, ctx.output(0));
}

function backpropData(ctx: OpContext, grouped: boolean): void {
  const spatial = spatialRank(ctx);
  const { weights, groups } = grouped ? groupedWeights(ctx, true) : { weights: ctx.input(1), groups: 1 };
  const attrs: Record<string, AttributeValue> = {
    strides: ctx.ints('strides'),
    dilations: ctx.ints('dilations', Array<number>(spatial).fill(1)),
    group: groups,
    output_padding: ctx.ints('output_padding', Array<number>(spatial).fill(0)),
    ...padding(ctx, spatial),
  };
  if (ctx.inputCount > 2) {
    // An explicit output size: ONNX computes the pads from it.
    attrs.output_shape = ctx.requireConst(2, 'output_shape');
    delete attrs.pads;
    if (!('auto_pad' in attrs)) attrs.auto_pad = 'SAME_UPPER';
  }
  ctx.graph.op('ConvTranspose', [ctx.input(0), weights], attrs, ctx.output(0));
}

function rounding(ctx: OpContext): number {
  const r = ctx.str('rounding_type', 'floor').toLowerCase();
  if (r === 'floor') return 0;
  if (r === 'ceil' || r === 'ceil_torch') return 1;
  return ctx.fail(`rounding_type="${r}" is not supported`);
}

export const convOps: OpTable = {
  Convolution: { convert: (ctx) => convolution(ctx, false) },
  GroupConvolution: { convert: (ctx) => convolution(ctx, true) },
  ConvolutionBackpropData: { convert: (ctx) => backpropData(ctx, false) },
  GroupConvolutionBackpropData: { convert: (ctx) => backpropData(ctx, true) },
  MaxPool: {
    versions: ['opset1', 'opset8', 'opset14'],
    convert(ctx) {
      const spatial = spatialRank(ctx);
      const attrs: Record<string, AttributeValue> = {
        kernel_shape: ctx.ints('kernel'),
        strides: ctx.ints('strides'),
        ceil_mode: rounding(ctx),
        ...padding(ctx, spatial),
      };
      if (ctx.has('dilations')) attrs.dilations = ctx.ints('dilations');
      const wantIndices = ctx.layer.outputs.length > 1 && ctx.outputUsed(1);
      if (!wantIndices) return void ctx.graph.op('MaxPool', [ctx.input(0)], attrs, ctx.output(0));
      // ONNX indices count over the whole tensor (N, C included), as OpenVINO's axis=0 does.
      if (ctx.int('axis', 0) !== 0) ctx.fail('MaxPool indices with axis != 0 are not supported');
      const [, idx] = ctx.graph.node('MaxPool', [ctx.input(0)], [ctx.output(0), ctx.graph.fresh('indices')], attrs);
      const type = ctx.str('index_element_type', 'i64');
      ctx.graph.op('Cast', [idx!], { to: type === 'i32' ? 6 : 7 }, ctx.output(1));
    },
  },
  AvgPool: {
    versions: ['opset1', 'opset14'],
    convert(ctx) {
      const spatial = spatialRank(ctx);
      ctx.graph.op('AveragePool', [ctx.input(0)], {
        kernel_shape: ctx.ints('kernel'),
        strides: ctx.ints('strides'),
        ceil_mode: rounding(ctx),
        count_include_pad: ctx.bool('exclude-pad', false) ? 0 : 1,
        ...padding(ctx, spatial),
      }, ctx.output(0));
    },
  },
};
