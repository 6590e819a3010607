/** MatMul, reductions, softmax, TopK and friends. */
import type { OpContext, OpConverter, OpTable } from './context.js';

/** x with its last two axes swapped (a 1-D operand is left as it is, as OpenVINO does). */
function swapLastTwo(ctx: OpContext, i: number): string {
  const rank = ctx.inputDims(i).length;
  if (rank < 2) return ctx.input(i);
  const perm = Array.from({ length: rank }, (_v, k) => k);
  [perm[rank - 2], perm[rank - 1]] = [rank - 1, rank - 2];
  return ctx.graph.op('Transpose', [ctx.input(i)], { perm });
}

/** Reductions take their axes as an input in ONNX opset 18; empty axes reduce nothing, as in OpenVINO. */
function reduce(onnxOp: string): OpConverter {
  return {
    convert(ctx) {
      ctx.graph.op(onnxOp, [ctx.input(0), ctx.int64Input(1)], { keepdims: ctx.bool('keep_dims', false) ? 1 : 0, noop_with_empty_axes: 1 }, ctx.output(0));
    },
  };
}

function softmax(onnxOp: string): OpConverter {
  return { convert: (ctx) => void ctx.graph.op(onnxOp, [ctx.input(0)], { axis: ctx.int('axis', 1) }, ctx.output(0)) };
}

export const mathOps: OpTable = {
  MatMul: {
    convert(ctx) {
      const a = ctx.bool('transpose_a', false) ? swapLastTwo(ctx, 0) : ctx.input(0);
      const b = ctx.bool('transpose_b', false) ? swapLastTwo(ctx, 1) : ctx.input(1);
      ctx.graph.op('MatMul', [a, b], undefined, ctx.output(0));
    },
  },
  Einsum: {
    convert(ctx) {
      const inputs = Array.from({ length: ctx.inputCount }, (_v, i) => ctx.input(i));
      ctx.graph.op('Einsum', inputs, { equation: ctx.str('equation') }, ctx.output(0));
    },
  },
  SoftMax: { versions: ['opset1', 'opset8'], ...softmax('Softmax') },
  LogSoftmax: softmax('LogSoftmax'),
  ReduceMean: reduce('ReduceMean'),
  ReduceSum: reduce('ReduceSum'),
  ReduceMax: reduce('ReduceMax'),
  ReduceMin: reduce('ReduceMin'),
  ReduceProd: reduce('ReduceProd'),
  ReduceL1: reduce('ReduceL1'),
  ReduceL2: reduce('ReduceL2'),
  CumSum: {
    convert(ctx) {
      const g = ctx.graph;
      const axis = ctx.inputCount > 1 ? ctx.int64Input(1) : g.int64s([0]);
      const scalarAxis = g.op('Squeeze', [axis]);
      g.op('CumSum', [ctx.input(0), scalarAxis], {
        exclusive: ctx.bool('exclusive', false) ? 1 : 0,
        reverse: ctx.bool('reverse', false) ? 1 : 0,
      }, ctx.output(0));
    },
  },
  TopK: {
    versions: ['opset1', 'opset3', 'opset11'],
    convert(ctx) {
      const g = ctx.graph;
      const axis = ctx.int('axis');
      const mode = ctx.str('mode').toLowerCase();
      const sort = ctx.str('sort', 'none').toLowerCase();
      if (mode !== 'max' && mode !== 'min') ctx.fail(`mode="${mode}" is not supported`);
      const k = g.op('Reshape', [ctx.int64Input(1), g.int64s([1])]);
      let [values, indices] = g.node('TopK', [ctx.input(0), k], 2, { axis, largest: mode === 'max' ? 1 : 0, sorted: 1 }) as [string, string];
      if (sort === 'index') {
        // Re-order the k results by ascending index.
        const [sortedIdx, order] = g.node('TopK', [indices, k], 2, { axis, largest: 0, sorted: 1 }) as [string, string];
        values = g.op('GatherElements', [values, order], { axis });
        indices = sortedIdx;
      } else if (sort !== 'value' && sort !== 'none') {
        ctx.fail(`sort="${sort}" is not supported`);
      }
      g.op('Identity', [values], undefined, ctx.output(0));
      if (ctx.layer.outputs.length > 1 && ctx.outputUsed(1)) {
        const type = ctx.str('index_element_type', 'i32');
        g.op('Cast', [indices], { to: type === 'i64' ? 7 : 6 }, ctx.output(1));
      }
    },
  },
};
