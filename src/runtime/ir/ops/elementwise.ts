/** Element-wise operations: activations, arithmetic, comparisons and logic. */
import { type DType, dtypeInfo } from '../../../core/dtype.js';
import type { OpContext, OpConverter, OpTable } from './context.js';

/** IR broadcast rules ONNX shares: "numpy" (the default) and "none" (equal shapes). */
export function checkBroadcast(ctx: OpContext): void {
  const mode = ctx.str('auto_broadcast', 'numpy').toLowerCase();
  if (mode !== 'numpy' && mode !== 'none') ctx.fail(`auto_broadcast="${mode}" is not supported (numpy and none are)`);
}

function unary(onnxOp: string, attrs?: (ctx: OpContext) => Record<string, number | { float: number }>): OpConverter {
  return { convert: (ctx) => void ctx.graph.op(onnxOp, [ctx.input(0)], attrs?.(ctx), ctx.output(0)) };
}

function binary(onnxOp: string): OpConverter {
  return {
    convert(ctx) {
      checkBroadcast(ctx);
      ctx.graph.op(onnxOp, [ctx.input(0), ctx.input(1)], undefined, ctx.output(0));
    },
  };
}

/** A scalar of input 0's element type (ONNX binary operations need equal types). */
function scalarLike(ctx: OpContext, value: number): string {
  return ctx.graph.scalar(ctx.inputType(0), value);
}

export const elementwiseOps: OpTable = {
  ReLU: unary('Relu'),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Exp: unary('Exp'),
  Log: unary('Log'),
  Sqrt: unary('Sqrt'),
  Abs: unary('Abs'),
  Negative: unary('Neg'),
  Floor: unary('Floor'),
  Ceiling: unary('Ceil'),
  Ceil: unary('Ceil'),
  Erf: unary('Erf'),
  Sign: unary('Sign'),
  Sin: unary('Sin'), Cos: unary('Cos'), Tan: unary('Tan'),
  Asin: unary('Asin'), Acos: unary('Acos'), Atan: unary('Atan'),
  Sinh: unary('Sinh'), Cosh: unary('Cosh'), Asinh: unary('Asinh'), Acosh: unary('Acosh'), Atanh: unary('Atanh'),
  SoftPlus: unary('Softplus'),
  SoftSign: unary('Softsign'),
  HSwish: unary('HardSwish'),
  Mish: unary('Mish'),
  LogicalNot: unary('Not'),
  HSigmoid: unary('HardSigmoid', () => ({ alpha: { float: 1 / 6 }, beta: { float: 0.5 } })),
  Elu: unary('Elu', (ctx) => ({ alpha: { float: ctx.float('alpha') } })),
  Clamp: {
    convert(ctx) {
      const g = ctx.graph;
      const type = ctx.inputType(0);
      // Integer clamps round the bounds inward, as OpenVINO does.
      const isFloat = type === 'FP32' || type === 'FP16' || type === 'FP64';
      const lo = ctx.float('min');
      const hi = ctx.float('max');
      g.op('Clip', [ctx.input(0), g.scalar(type, isFloat ? lo : Math.ceil(lo)), g.scalar(type, isFloat ? hi : Math.floor(hi))], undefined, ctx.output(0));
    },
  },
  PRelu: {
    convert(ctx) {
      const g = ctx.graph;
      let slope = ctx.input(1);
      const dataRank = ctx.inputDims(0).length;
      const slopeDims = ctx.inputDims(1);
      // OpenVINO applies a 1-D slope along the channel axis (1); ONNX broadcasts it from the last axis.
      if (slopeDims.length === 1 && dataRank > 2 && slopeDims[0] !== 1) {
        slope = g.op('Reshape', [slope, g.int64s([-1, ...Array<number>(dataRank - 2).fill(1)])]);
      }
      g.op('PRelu', [ctx.input(0), slope], undefined, ctx.output(0));
    },
  },
  Selu: {
    convert(ctx) {
      const alpha = ctx.requireConst(1, 'alpha')[0]!;
      const lambda = ctx.requireConst(2, 'lambda')[0]!;
      ctx.graph.op('Selu', [ctx.input(0)], { alpha: { float: alpha }, gamma: { float: lambda } }, ctx.output(0));
    },
  },
  Swish: {
    convert(ctx) {
      const g = ctx.graph;
      const x = ctx.input(0);
      const scaled = ctx.inputCount > 1 ? g.op('Mul', [x, ctx.input(1)]) : x;
      g.op('Mul', [x, g.op('Sigmoid', [scaled])], undefined, ctx.output(0));
    },
  },
  Gelu: {
    convert(ctx) {
      const g = ctx.graph;
      const x = ctx.input(0);
      const mode = ctx.str('approximation_mode', 'erf').toLowerCase();
      let inner: string;
      if (mode === 'tanh') {
        // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        const x3 = g.op('Mul', [g.op('Mul', [x, x]), x]);
        const poly = g.op('Add', [x, g.op('Mul', [x3, scalarLike(ctx, 0.044715)])]);
        inner = g.op('Tanh', [g.op('Mul', [poly, scalarLike(ctx, Math.sqrt(2 / Math.PI))])]);
      } else if (mode === 'erf') {
        inner = g.op('Erf', [g.op('Mul', [x, scalarLike(ctx, Math.SQRT1_2)])]);
      } else {
        return ctx.fail(`approximation_mode="${mode}" is not supported`);
      }
      const half = g.op('Mul', [x, scalarLike(ctx, 0.5)]);
      g.op('Mul', [half, g.op('Add', [inner, scalarLike(ctx, 1)])], undefined, ctx.output(0));
    },
  },
  Round: {
    convert(ctx) {
      const g = ctx.graph;
      const mode = ctx.str('mode', 'half_to_even');
      if (mode === 'half_to_even') return void g.op('Round', [ctx.input(0)], undefined, ctx.output(0));
      if (mode !== 'half_away_from_zero') return ctx.fail(`mode="${mode}" is not supported`);
      const x = ctx.input(0);
      const mag = g.op('Floor', [g.op('Add', [g.op('Abs', [x]), scalarLike(ctx, 0.5)])]);
      g.op('Mul', [g.op('Sign', [x]), mag], undefined, ctx.output(0));
    },
  },

  Add: binary('Add'),
  Subtract: binary('Sub'),
  Multiply: binary('Mul'),
  Divide: {
    convert(ctx) {
      checkBroadcast(ctx);
      const type = ctx.inputType(0);
      const integer = !(type === 'FP32' || type === 'FP16' || type === 'FP64');
      const g = ctx.graph;
      if (integer && ctx.bool('m_pythondiv', true)) {
        // Python division floors; ONNX Div on integers truncates. Floor through float64 (exact below 2^53).
        const q = g.op('Div', [g.op('Cast', [ctx.input(0)], { to: 11 }), g.op('Cast', [ctx.input(1)], { to: 11 })]);
        g.op('Cast', [g.op('Floor', [q])], { to: onnxTypeOf(type) }, ctx.output(0));
        return;
      }
      g.op('Div', [ctx.input(0), ctx.input(1)], undefined, ctx.output(0));
    },
  },
  Power: binary('Pow'),
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  SquaredDifference: {
    convert(ctx) {
      checkBroadcast(ctx);
      const d = ctx.graph.op('Sub', [ctx.input(0), ctx.input(1)]);
      ctx.graph.op('Mul', [d, d], undefined, ctx.output(0));
    },
  },
  Mod: {
    convert(ctx) {
      checkBroadcast(ctx);
      // OpenVINO Mod takes the dividend's sign, as C fmod does.
      ctx.graph.op('Mod', [ctx.input(0), ctx.input(1)], { fmod: 1 }, ctx.output(0));
    },
  },
  FloorMod: {
    convert(ctx) {
      checkBroadcast(ctx);
      const type = ctx.inputType(0);
      const isFloat = type === 'FP32' || type === 'FP16' || type === 'FP64';
      const g = ctx.graph;
      if (!isFloat) return void g.op('Mod', [ctx.input(0), ctx.input(1)], { fmod: 0 }, ctx.output(0));
      // x - floor(x / y) · y: the result takes the divisor's sign.
      const a = ctx.input(0);
      const b = ctx.input(1);
      g.op('Sub', [a, g.op('Mul', [g.op('Floor', [g.op('Div', [a, b])]), b])], undefined, ctx.output(0));
    },
  },
  Equal: binary('Equal'),
  NotEqual: {
    convert(ctx) {
      checkBroadcast(ctx);
      ctx.graph.op('Not', [ctx.graph.op('Equal', [ctx.input(0), ctx.input(1)])], undefined, ctx.output(0));
    },
  },
  Less: binary('Less'),
  LessEqual: binary('LessOrEqual'),
  Greater: binary('Greater'),
  GreaterEqual: binary('GreaterOrEqual'),
  LogicalAnd: binary('And'),
  LogicalOr: binary('Or'),
  LogicalXor: binary('Xor'),
  Select: {
    convert(ctx) {
      checkBroadcast(ctx);
      ctx.graph.op('Where', [ctx.input(0), ctx.input(1), ctx.input(2)], undefined, ctx.output(0));
    },
  },
};

/** ONNX TensorProto element type number of a DType (for Cast's `to`). */
export function onnxTypeOf(dtype: DType): number {
  return dtypeInfo(dtype).onnx;
}
