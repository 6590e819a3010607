/**
 * IR operations one by one: small IRs written here are imported and run by the real onnxruntime,
 * and the results are compared with values worked out from the OpenVINO operation specifications.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { importIr } from '../src/runtime/ir/to-onnx.js';
import { IrWriter } from './helpers/ir-models.js';

async function run(w: IrWriter, feeds: Record<string, { dims: number[]; data: number[] }>, options = {}): Promise<Record<string, { dims: readonly number[]; data: number[] }>> {
  const imported = importIr(w.xml(), w.bin(), options);
  const session = await ort.InferenceSession.create(imported.model);
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) inputs[name] = new ort.Tensor('float32', Float32Array.from(f.data), f.dims);
    const out = await session.run(inputs);
    const result: Record<string, { dims: readonly number[]; data: number[] }> = {};
    for (const [name, t] of Object.entries(out)) {
      result[name] = { dims: t.dims, data: Array.from(t.data as ArrayLike<number | bigint>, Number) };
    }
    return result;
  } finally {
    await session.release();
  }
}

function close(actual: readonly number[], expected: readonly number[], eps = 1e-5): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} vs ${expected.length}`);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= eps, `[${i}] ${v} vs ${expected[i]}`));
}

const iota = (n: number, from = 0) => Array.from({ length: n }, (_v, i) => i + from);

describe('IR operations', () => {
  test('Subtract, Divide, Clamp, Sigmoid: sigmoid(clamp((x - 1) / 2, 0, 1))', async () => {
    const w = new IrWriter();
    const x = w.param('x', [1, 6]);
    const sub = w.op1('Subtract', [x, w.constant([1], [1])], [1, 6], { auto_broadcast: 'numpy' });
    const div = w.op1('Divide', [sub, w.constant([2], [1])], [1, 6], { auto_broadcast: 'numpy' });
    const clamp = w.op1('Clamp', [div], [1, 6], { min: 0, max: 1 });
    w.result(w.op1('Sigmoid', [clamp], [1, 6], {}, 'opset1', { names: 'y' }));
    const xs = [-3, 0, 1, 2, 3, 9];
    const out = await run(w, { x: { dims: [1, 6], data: xs } });
    close(out.y!.data, xs.map((v) => 1 / (1 + Math.exp(-Math.min(1, Math.max(0, (v - 1) / 2))))));
  });

  test('GroupConvolution: depthwise 3×3 with padding, weights [G,1,1,3,3]', async () => {
    const w = new IrWriter();
    const x = w.param('x', [1, 2, 3, 3]);
    // channel 0: sum of the 3×3 neighbourhood; channel 1: the centre pixel times 2.
    const weights = w.constant([...Array(9).fill(1), 0, 0, 0, 0, 2, 0, 0, 0, 0], [2, 1, 1, 3, 3]);
    w.result(w.op1('GroupConvolution', [x, weights], [1, 2, 3, 3], { strides: '1, 1', dilations: '1, 1', pads_begin: '1, 1', pads_end: '1, 1', auto_pad: 'explicit' }, 'opset1', { names: 'y' }));
    const data = iota(18, 1);
    const out = await run(w, { x: { dims: [1, 2, 3, 3], data } });
    const c0 = data.slice(0, 9);
    const neighbourhood = (r: number, c: number) => {
      let s = 0;
      for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) {
        const rr = r + dr, cc = c + dc;
        if (rr >= 0 && rr < 3 && cc >= 0 && cc < 3) s += c0[rr * 3 + cc]!;
      }
      return s;
    };
    const expected = [...iota(9).map((i) => neighbourhood(Math.floor(i / 3), i % 3)), ...data.slice(9).map((v) => v * 2)];
    close(out.y!.data, expected);
  });

  test('AvgPool (exclude-pad, ceil rounding) and MaxPool opset8 with its indices output', async () => {
    const w = new IrWriter();
    const x = w.param('x', [1, 1, 3, 3]);
    w.result(w.op1('AvgPool', [x], [1, 1, 2, 2], { kernel: '2,2', strides: '2,2', pads_begin: '0,0', pads_end: '0,0', 'exclude-pad': 'true', rounding_type: 'ceil', auto_pad: 'explicit' }, 'opset1', { names: 'avg' }));
    const [mx, idx] = w.op('MaxPool', [x], [[1, 1, 2, 2], [1, 1, 2, 2]], { kernel: '2,2', strides: '2,2', pads_begin: '0,0', pads_end: '0,0', rounding_type: 'ceil', auto_pad: 'explicit', dilations: '1,1', index_element_type: 'i64', axis: 0 }, 'opset8', { precisions: ['FP32', 'I64'], names: ['max', 'idx'] });
    w.result(mx!);
    w.result(idx!);
    const data = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const out = await run(w, { x: { dims: [1, 1, 3, 3], data } });
    close(out.avg!.data, [(1 + 2 + 4 + 5) / 4, (3 + 6) / 2, (7 + 8) / 2, 9]);
    close(out.max!.data, [5, 6, 8, 9]);
    assert.deepEqual(out.idx!.data, [4, 5, 7, 8]);
  });

  test('Gather, Squeeze, Unsqueeze and MatMul with transpose_b', async () => {
    const w = new IrWriter();
    const x = w.param('x', [1, 4, 3]);
    const picked = w.op1('Gather', [x, w.constant([2, 0], [2], 'i64'), w.constant([1], [], 'i64')], [1, 2, 3], { batch_dims: 0 }, 'opset8');
    const squeezed = w.op1('Squeeze', [picked, w.constant([0], [1], 'i64')], [2, 3]);
    const weights = w.constant([1, 0, 0, 0, 1, 1], [2, 3]); // rows: e0, e1 + e2
    const product = w.op1('MatMul', [squeezed, weights], [2, 2], { transpose_a: 'false', transpose_b: 'true' });
    w.result(w.op1('Unsqueeze', [product, w.constant([0], [1], 'i32')], [1, 2, 2], {}, 'opset1', { names: 'y' }));
    const data = iota(12);
    const out = await run(w, { x: { dims: [1, 4, 3], data } });
    assert.deepEqual(out.y!.dims, [1, 2, 2]);
    // row 2 = [6,7,8], row 0 = [0,1,2]
    close(out.y!.data, [6, 7 + 8, 0, 1 + 2]);
  });

  test('Interpolate opset4 (nearest, sizes, axes 2,3) and opset11 (linear_onnx, scales)', async () => {
    const w = new IrWriter();
    const x = w.param('x', [1, 1, 2, 2]);
    const sizes = w.constant([4, 4], [2], 'i32');
    const scales = w.constant([2, 2], [2]);
    const axes = w.constant([2, 3], [2], 'i64');
    w.result(w.op1('Interpolate', [x, sizes, scales, axes], [1, 1, 4, 4], {
      mode: 'nearest', shape_calculation_mode: 'sizes', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor', antialias: 'false', pads_begin: '0,0,0,0', pads_end: '0,0,0,0', cube_coeff: -0.75,
    }, 'opset4', { names: 'near' }));
    w.result(w.op1('Interpolate', [x, scales, axes], [1, 1, 4, 4], {
      mode: 'linear_onnx', shape_calculation_mode: 'scales', coordinate_transformation_mode: 'align_corners', antialias: 'false', pads_begin: '0,0,0,0', pads_end: '0,0,0,0',
    }, 'opset11', { names: 'lin' }));
    const out = await run(w, { x: { dims: [1, 1, 2, 2], data: [1, 2, 3, 4] } });
    close(out.near!.data, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    // align_corners: positions 0, 1/3, 2/3, 1 between the two source pixels.
    const row = (a: number, b: number) => [0, 1 / 3, 2 / 3, 1].map((t) => a + (b - a) * t);
    const top = row(1, 2);
    const bottom = row(3, 4);
    close(out.lin!.data, [0, 1 / 3, 2 / 3, 1].flatMap((t) => top.map((v, i) => v + (bottom[i]! - v) * t)));
  });

  test('StridedSlice with begin/end masks, new_axis and shrink_axis', async () => {
    const w = new IrWriter();
    const x = w.param('x', [2, 3, 4]);
    // x[1, newaxis, ::-1, 1:3]
    const begin = w.constant([1, 0, 0, 1], [4], 'i64');
    const end = w.constant([2, 0, 0, 3], [4], 'i64');
    const stride = w.constant([1, 1, -1, 1], [4], 'i64');
    w.result(w.op1('StridedSlice', [x, begin, end, stride], [1, 3, 2], {
      begin_mask: '0,0,1,0', end_mask: '0,0,1,0', new_axis_mask: '0,1,0,0', shrink_axis_mask: '1,0,0,0', ellipsis_mask: '',
    }, 'opset1', { names: 'y' }));
    const out = await run(w, { x: { dims: [2, 3, 4], data: iota(24) } });
    assert.deepEqual(out.y!.dims, [1, 3, 2]);
    close(out.y!.data, [21, 22, 17, 18, 13, 14]);
  });

  test('TopK opset11 (max, sort by value, i32 indices) and FakeQuantize', async () => {
    const w = new IrWriter();
    const x = w.param('x', [1, 5]);
    const [values, indices] = w.op('TopK', [x, w.constant([3], [], 'i64')], [[1, 3], [1, 3]], { axis: 1, mode: 'max', sort: 'value', index_element_type: 'i32' }, 'opset11', { precisions: ['FP32', 'I32'], names: ['v', 'i'] });
    w.result(values!);
    w.result(indices!);
    const lo = w.constant([0], [1]);
    const hi = w.constant([4], [1]);
    w.result(w.op1('FakeQuantize', [x, lo, hi, lo, hi], [1, 5], { levels: 5, auto_broadcast: 'numpy' }, 'opset1', { names: 'q' }));
    const out = await run(w, { x: { dims: [1, 5], data: [0.4, 3.7, -2, 2.5, 9] } });
    close(out.v!.data, [9, 3.7, 2.5]);
    assert.deepEqual(out.i!.data, [4, 1, 3]);
    // levels 5 over [0, 4]: steps of 1, half away from zero.
    close(out.q!.data, [0, 4, 0, 3, 4]);
  });

  test('PriorBox (min, max and flipped aspect ratio; step from the image) at any input size', async () => {
    const w = new IrWriter();
    const image = w.param('image', [1, 3, 8, 8]);
    const feature = w.param('feature', [1, 1, 2, 2]);
    const slice = (t: typeof image) => w.op1('StridedSlice', [
      w.op1('ShapeOf', [t], [4], { output_type: 'i64' }, 'opset3', { precision: 'I64' }),
      w.constant([2], [1], 'i64'), w.constant([4], [1], 'i64'), w.constant([1], [1], 'i64'),
    ], [2], { begin_mask: '0', end_mask: '1', new_axis_mask: '', shrink_axis_mask: '', ellipsis_mask: '' }, 'opset1', { precision: 'I64' });
    w.result(w.op1('PriorBox', [slice(feature), slice(image)], [2, 64], {
      min_size: '4', max_size: '9', aspect_ratio: '2', flip: 'true', clip: 'false', step: 0, offset: 0.5, variance: '0.1,0.1,0.2,0.2', scale_all_sizes: 'true',
    }, 'opset1', { names: 'priors' }));

    // Expected from the PriorBox specification: per cell min, sqrt(min·max), ar 2, ar 1/2.
    const expected = (H: number, W: number, IH: number, IW: number): number[] => {
      const boxes: number[] = [];
      for (let h = 0; h < H; h++) for (let c = 0; c < W; c++) {
        const cx = (c + 0.5) * (IW / W);
        const cy = (h + 0.5) * (IH / H);
        const sizes: [number, number][] = [[2, 2], [Math.sqrt(36) / 2, Math.sqrt(36) / 2], [2 * Math.SQRT2, 2 / Math.SQRT2], [2 / Math.SQRT2, 2 * Math.SQRT2]];
        for (const [hw, hh] of sizes) boxes.push((cx - hw) / IW, (cy - hh) / IH, (cx + hw) / IW, (cy + hh) / IH);
      }
      return [...boxes, ...Array(boxes.length / 4).fill([0.1, 0.1, 0.2, 0.2]).flat()];
    };
    const small = await run(w, { image: { dims: [1, 3, 8, 8], data: Array(192).fill(0) }, feature: { dims: [1, 1, 2, 2], data: [0, 0, 0, 0] } });
    assert.deepEqual(small.priors!.dims, [2, 64]);
    close(small.priors!.data, expected(2, 2, 8, 8));
    const large = await run(w, { image: { dims: [1, 3, 12, 16], data: Array(576).fill(0) }, feature: { dims: [1, 1, 3, 4], data: Array(12).fill(0) } }, {
      inputShapes: { image: [1, 3, 12, 16], feature: [1, 1, 3, 4] },
    });
    assert.deepEqual(large.priors!.dims, [2, 3 * 4 * 4 * 4]);
    close(large.priors!.data, expected(3, 4, 12, 16));
  });

  test('Reshape special_zero, Transpose, Concat, SoftMax opset8 with a negative axis, ReduceMean, MVN', async () => {
    const w = new IrWriter();
    const x = w.param('x', [1, 2, 3]);
    const t = w.op1('Transpose', [x, w.constant([0, 2, 1], [3], 'i64')], [1, 3, 2]);
    const r = w.op1('Reshape', [t, w.constant([0, -1], [2], 'i64')], [1, 6], { special_zero: 'true' });
    const c = w.op1('Concat', [r, r], [2, 6], { axis: 0 });
    w.result(w.op1('SoftMax', [c], [2, 6], { axis: -1 }, 'opset8', { names: 'sm' }));
    w.result(w.op1('ReduceMean', [x, w.constant([2], [1], 'i64')], [1, 2, 1], { keep_dims: 'true' }, 'opset1', { names: 'mean' }));
    w.result(w.op1('MVN', [x, w.constant([2], [1], 'i64')], [1, 2, 3], { normalize_variance: 'true', eps: 0, eps_mode: 'inside_sqrt' }, 'opset6', { names: 'mvn' }));
    const data = [1, 2, 3, 4, 5, 6];
    const out = await run(w, { x: { dims: [1, 2, 3], data } });
    const perm = [1, 4, 2, 5, 3, 6];
    const denom = perm.reduce((s, v) => s + Math.exp(v), 0);
    close(out.sm!.data, [...perm, ...perm].map((v) => Math.exp(v) / denom));
    close(out.mean!.data, [2, 5]);
    const sd = Math.sqrt(2 / 3);
    close(out.mvn!.data, [-1 / sd, 0, 1 / sd, -1 / sd, 0, 1 / sd]);
  });
});
