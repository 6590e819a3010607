/**
 * The OpenVINO IR format in process, with the real onnxruntime: the OVMS test IRs answer like
 * their ONNX twins, face-detection-retail-0004 (IR) matches the reference ONNX conversion, and
 * broken or unsupported IR fails the load with a message naming the layer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import sharp from 'sharp';
import type { Tensor } from '../src/core/tensor.js';
import type { LoadedModel, RuntimeOptions } from '../src/runtime/engine.js';
import { irFormat } from '../src/runtime/ir/ir-format.js';
import { onnxFormat } from '../src/runtime/onnx/onnx-format.js';
import { modelFormats } from '../src/runtime/formats.js';
import { IrWriter } from './helpers/ir-models.js';
import { tempDir } from './helpers/models.js';
import { sharedDir, sharedModels } from './helpers/server.js';

const needsShared = { skip: existsSync(sharedModels) ? false : 'needs ../shared/models (missing)' };
const logger = pino({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
const root = tempDir('tsms-ir-');
const open: LoadedModel[] = [];
after(async () => {
  await Promise.all(open.map((m) => m.close()));
  root.remove();
});

async function load(format: typeof irFormat, dir: string, files: string[], options: Partial<RuntimeOptions> = {}): Promise<LoadedModel> {
  const model = await format.load({
    modelName: 'm', version: 1, dir, files,
    options: { nireq: 0, targetDevice: 'CPU', pluginConfig: {}, ...options },
    logger,
  });
  open.push(model);
  return model;
}

const f32 = (shape: number[], values: ArrayLike<number>): Tensor => ({ dtype: 'FP32', shape, data: Float32Array.from(values) });
const range10 = Array.from({ length: 10 }, (_v, i) => i);

describe('pick', () => {
  test('the first .xml and the first .bin, whatever their names; IR comes before ONNX', () => {
    assert.deepEqual(irFormat.pick(['weights.bin', 'net.xml', 'mapping_config.json']), ['net.xml', 'weights.bin']);
    assert.deepEqual(irFormat.pick(['b.xml', 'a.xml', 'z.bin', 'y.bin', 'model.onnx']), ['a.xml', 'y.bin']);
    assert.equal(irFormat.pick(['model.xml', 'model.onnx']), undefined);
    assert.equal(irFormat.pick(['model.bin']), undefined);
    assert.deepEqual(modelFormats.map((f) => f.name).slice(0, 2), ['ir', 'onnx']);
  });
});

describe('OVMS test models', needsShared, () => {
  test('dummy IR (no port names, legacy meta_data/rt_info) answers like dummy_onnx: b + 1', async () => {
    const ir = await load(irFormat, path.join(sharedModels, 'dummy/1'), ['dummy.xml', 'dummy.bin']);
    const ref = await load(onnxFormat, path.join(sharedModels, 'dummy_onnx/1'), ['model.onnx']);
    assert.deepEqual(ir.inputs, [{ name: 'b', dtype: 'FP32', shape: [1, 10] }]);
    assert.deepEqual(ir.outputs, [{ name: 'a', dtype: 'FP32', shape: [1, 10] }]);
    const input = new Map([['b', f32([1, 10], range10)]]);
    const got = (await ir.run(input, ['a'])).get('a')!;
    const want = (await ref.run(new Map([['b', f32([1, 10], range10)]]), ['a'])).get('a')!;
    assert.deepEqual(got.shape, [1, 10]);
    assert.deepEqual([...(got.data as Float32Array)], range10.map((v) => v + 1));
    assert.deepEqual([...(got.data as Float32Array)], [...(want.data as Float32Array)]);
  });

  test('add_two_inputs IR (empty .bin) answers like add_two_inputs_onnx', async () => {
    const ir = await load(irFormat, path.join(sharedModels, 'add_two_inputs/1'), ['add.xml', 'add.bin']);
    const ref = await load(onnxFormat, path.join(sharedModels, 'add_two_inputs_onnx/1'), ['model.onnx']);
    assert.deepEqual(ir.inputs.map((i) => i.name), ['input1', 'input2']);
    assert.deepEqual(ir.outputs.map((o) => o.name), ['sum']);
    const feeds = () => new Map([['input1', f32([1, 10], range10)], ['input2', f32([1, 10], range10.map(() => 0.5))]]);
    const got = [...((await ir.run(feeds(), ['sum'])).get('sum')!.data as Float32Array)];
    const want = [...((await ref.run(feeds(), ['sum'])).get('sum')!.data as Float32Array)];
    assert.deepEqual(got, range10.map((v) => v + 0.5));
    assert.deepEqual(got, want);
  });
});

/** OVMS face_detection.py preprocessing: BGR, resized with fill, raw 0–255, NCHW. */
async function faceInput(file: string, w: number, h: number): Promise<Float32Array> {
  const { data } = await sharp(file).resize(w, h, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = data[i * 3 + (2 - c)]!;
  return out;
}

/** Rows before the -1 terminator whose confidence is above `min`. */
function detections(t: Tensor, min: number): number[][] {
  const d = t.data as Float32Array;
  const rows: number[][] = [];
  for (let r = 0; r < t.shape[2]!; r++) {
    const row = [...d.subarray(r * 7, r * 7 + 7)];
    if (row[0] === -1) break;
    if (row[2]! > min) rows.push(row);
  }
  return rows;
}

function iou(a: number[], b: number[]): number {
  const w = Math.max(0, Math.min(a[5]!, b[5]!) - Math.max(a[3]!, b[3]!));
  const h = Math.max(0, Math.min(a[6]!, b[6]!) - Math.max(a[4]!, b[4]!));
  const inter = w * h;
  const area = (r: number[]) => (r[5]! - r[3]!) * (r[6]! - r[4]!);
  return inter / (area(a) + area(b) - inter);
}

describe('face-detection-retail-0004 (IR) against the reference ONNX conversion', needsShared, () => {
  const irDir = path.join(sharedModels, 'face-detection-retail-0004/1');
  const irFiles = ['face-detection-retail-0004.xml', 'face-detection-retail-0004.bin'];
  const people1 = path.join(sharedDir, 'images/people1.jpeg');
  let reference: number[][] = [];

  before(async () => {
    const ref = await load(onnxFormat, path.join(sharedModels, 'face-detection-retail-0004-onnx/1'), ['model.onnx']);
    const out = await ref.run(new Map([['data', f32([1, 3, 300, 300], await faceInput(people1, 300, 300))]]), ['detection_out']);
    reference = detections(out.get('detection_out')!, 0.01);
  });

  test('300×300: the same detection_out rows (conf > 0.01) within 1e-4', async (t) => {
    const ir = await load(irFormat, irDir, irFiles);
    assert.deepEqual(ir.inputs, [{ name: 'data', dtype: 'FP32', shape: [1, 3, 300, 300] }]);
    assert.deepEqual(ir.outputs, [{ name: 'detection_out', dtype: 'FP32', shape: [1, 1, 200, 7] }]);
    const out = (await ir.run(new Map([['data', f32([1, 3, 300, 300], await faceInput(people1, 300, 300))]]), ['detection_out'])).get('detection_out')!;
    assert.deepEqual(out.shape, [1, 1, 200, 7]);
    const rows = detections(out, 0.01);
    assert.ok(reference.length >= 10, `reference found ${reference.length} rows`);
    assert.equal(rows.length, reference.length);
    let maxDiff = 0;
    rows.forEach((row, r) => row.forEach((v, k) => { maxDiff = Math.max(maxDiff, Math.abs(v - reference[r]![k]!)); }));
    t.diagnostic(`${rows.length} rows above 0.01, max abs difference ${maxDiff}`);
    assert.ok(maxDiff < 1e-4, `max abs difference ${maxDiff}`);
    assert.equal(rows.filter((r) => r[2]! > 0.5).length, 10);
    assert.deepEqual(new Set(rows.map((r) => r[1])), new Set([1]));
  });

  test('600×400 (inputShapes at load): priors follow the input size and the same 10 faces are found', async () => {
    const ir = await load(irFormat, irDir, irFiles, { inputShapes: { data: [1, 3, 400, 600] } });
    assert.deepEqual(ir.inputs, [{ name: 'data', dtype: 'FP32', shape: [1, 3, 400, 600] }]);
    assert.deepEqual(ir.outputs[0]!.shape, [1, 1, 200, 7]);
    const out = (await ir.run(new Map([['data', f32([1, 3, 400, 600], await faceInput(people1, 600, 400))]]), ['detection_out'])).get('detection_out')!;
    const faces = detections(out, 0.5);
    const refFaces = reference.filter((r) => r[2]! > 0.5);
    assert.equal(faces.length, 10);
    // Each face matches a distinct reference face (coordinates are normalised, so sizes compare directly).
    const matched = new Set<number>();
    for (const face of faces) {
      const best = refFaces.map((r, i) => ({ i, v: iou(face, r) })).filter((m) => !matched.has(m.i)).sort((a, b) => b.v - a.v)[0]!;
      assert.ok(best.v > 0.5, `a face at ${face.slice(3).map((v) => v.toFixed(3))} matches no reference face (best IoU ${best.v})`);
      matched.add(best.i);
    }
  });
});

describe('import errors and IR features', () => {
  test('an unknown operation fails the load naming the operation, its opset and the layer', async () => {
    const w = new IrWriter();
    const x = w.param('x', [1, 4]);
    w.result(w.op1('FancyNewOp', [x], [1, 4], {}, 'opset42', { name: 'my/fancy_layer' }));
    const dir = w.write(path.join(root.path, 'unknown/1'));
    await assert.rejects(load(irFormat, dir, ['model.xml', 'model.bin']), (err: Error) => {
      assert.match(err.message, /unsupported operation FancyNewOp \(opset42\) in layer "my\/fancy_layer" \(id 1\)/);
      assert.match(err.message, /model\.xml/);
      return true;
    });
  });

  test('a known operation from an opset the importer does not know is refused the same way', async () => {
    const w = new IrWriter();
    const x = w.param('x', [1, 4]);
    w.result(w.op1('SoftMax', [x], [1, 4], { axis: 1 }, 'opset99', { name: 'sm' }));
    const dir = w.write(path.join(root.path, 'opset/1'));
    await assert.rejects(load(irFormat, dir, ['model.xml', 'model.bin']), /unsupported operation SoftMax \(opset99\) in layer "sm"/);
  });

  test('malformed XML, a Const beyond the .bin and a missing Result are clear load errors', async () => {
    const bad = path.join(root.path, 'bad/1');
    mkdirSync(bad, { recursive: true });
    writeFileSync(path.join(bad, 'm.xml'), '<net version="11"><layers><layer></net>');
    writeFileSync(path.join(bad, 'm.bin'), Buffer.alloc(0));
    await assert.rejects(load(irFormat, bad, ['m.xml', 'm.bin']), /not well-formed XML/);

    const w = new IrWriter();
    const x = w.param('x', [1, 4]);
    w.result(w.op1('Add', [x, w.constant([1, 2, 3, 4], [1, 4])], [1, 4]));
    const dir = w.write(path.join(root.path, 'short/1'));
    writeFileSync(path.join(dir, 'model.bin'), Buffer.alloc(8));
    await assert.rejects(load(irFormat, dir, ['model.xml', 'model.bin']), /reads bytes 0\.\.16 but the \.bin has only 8 bytes/);

    const v = new IrWriter();
    v.param('x', [1, 4]);
    await assert.rejects(load(irFormat, v.write(path.join(root.path, 'noresult/1')), ['model.xml', 'model.bin']), /no Result layer/);
  });

  test('FP16 weights (Const f16 → Convert) and dynamic dimensions load and run at any size', async () => {
    const w = new IrWriter();
    const x = w.param('x', ['?', 4], 'f32', 'x');
    const weights = w.op1('Convert', [w.constant([0.5, -1.25, 2, 1000], [1, 4], 'f16')], [1, 4], { destination_type: 'f32' });
    w.result(w.op1('Multiply', [x, weights], [-1, 4], { auto_broadcast: 'numpy' }, 'opset1', { names: 'y' }));
    const model = await load(irFormat, w.write(path.join(root.path, 'fp16/1')), ['model.xml', 'model.bin']);
    assert.deepEqual(model.inputs, [{ name: 'x', dtype: 'FP32', shape: [-1, 4] }]);
    assert.deepEqual(model.outputs, [{ name: 'y', dtype: 'FP32', shape: [-1, 4] }]);
    for (const batch of [1, 3]) {
      const out = (await model.run(new Map([['x', f32([batch, 4], Array(batch * 4).fill(2))]]), ['y'])).get('y')!;
      assert.deepEqual(out.shape, [batch, 4]);
      assert.deepEqual([...(out.data as Float32Array)], Array(batch).fill([1, -2.5, 4, 2000]).flat());
    }
  });

  test('ports with several names: the model tensor takes the first name in sorted order, as OpenVINO\'s get_any_name', async () => {
    const w = new IrWriter();
    const x = w.param('input_layer', [1, 2], 'f32', 'zeta,alpha');
    w.result(w.op1('ReLU', [x], [1, 2], {}, 'opset1', { names: 'out\\,1,out2' }));
    const model = await load(irFormat, w.write(path.join(root.path, 'names/1')), ['model.xml', 'model.bin']);
    assert.deepEqual(model.inputs.map((i) => i.name), ['alpha']);
    assert.deepEqual(model.outputs.map((o) => o.name), ['out,1']);
  });
});
