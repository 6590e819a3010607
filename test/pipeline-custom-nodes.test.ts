/**
 * The custom nodes shipped in custom-nodes/ (image crop, detection decoder, CTC decoder), called
 * through their library contract as the server calls them, and a face detection pipeline built from
 * them on ../shared/models (UltraFace finds the 10 faces of people1.jpeg, MODELS.md §3).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Tensor } from '../src/core/tensor.js';
import type { CustomNodeLibrary, CustomNodeParams } from '../src/pipeline/custom-node-api.js';
import * as imageCrop from '../custom-nodes/image-crop.js';
import * as detectionDecoder from '../custom-nodes/detection-decoder.js';
import * as ctcDecoder from '../custom-nodes/ctc-decoder.js';
import { repoRoot, sharedDir, sharedModels, startServer, type RunningServer } from './helpers/server.js';
import { tempDir } from './helpers/models.js';
import { TfsClient, dimsOf, floatsOf, shapeProto } from './helpers/tfs-grpc.js';
import { customNode, modelNode, pipeline, src } from './helpers/pipelines.js';

type Outputs = Record<string, Tensor | Tensor[]>;

/** initialize → execute, as the server does. */
async function run(lib: CustomNodeLibrary<any>, params: CustomNodeParams, inputs: Record<string, Tensor>): Promise<Outputs> {
  const state = await lib.initialize!(params);
  const signal = new AbortController().signal;
  return (await lib.execute(inputs, params, state, { pipelineName: 'p', nodeName: 'n', signal })) as Outputs;
}

const u8 = (shape: number[], values: number[]): Tensor => ({ dtype: 'UINT8', shape, data: Uint8Array.from(values) });
const f32 = (shape: number[], values: number[]): Tensor => ({ dtype: 'FP32', shape, data: Float32Array.from(values) });
const valuesOf = (t: Tensor | Tensor[] | undefined) => [...((t as Tensor).data as Float32Array)];
const close = (actual: number[], expected: number[], eps = 1e-5) =>
  assert.ok(actual.length === expected.length && actual.every((v, i) => Math.abs(v - expected[i]!) <= eps), `${actual} != ${expected}`);

describe('custom node: image crop', () => {
  // 2×3 RGB picture, pixel (y, x) = [10y + x, 100 + 10y + x, 200 + x].
  const picture = u8([1, 2, 3, 3], [0, 100, 200, 1, 101, 201, 2, 102, 202, 10, 110, 200, 11, 111, 201, 12, 112, 202]);

  test('full mode, no resize: channels reordered, normalised, NCHW', async () => {
    const out = await run(imageCrop, { mode: 'full', input_color: 'RGB', output_color: 'BGR', scale: '1', mean: '0,100,200', std: '1,2,4' }, { image: picture });
    const t = out['image'] as Tensor;
    assert.deepEqual(t.shape, [1, 3, 2, 3]);
    // Channel 0 is the input's blue (200 + x) - 0; channel 1 green (100 + ...) - 100, / 2; channel 2 red - 200, / 4.
    close(valuesOf(t), [200, 201, 202, 200, 201, 202, 0, 0.5, 1, 5, 5.5, 6, -50, -49.75, -49.5, -47.5, -47.25, -47]);
  });

  test('NHWC output keeps the pixel order', async () => {
    const out = await run(imageCrop, { mode: 'full', output_layout: 'NHWC', scale: '1' }, { image: picture });
    assert.deepEqual((out['image'] as Tensor).shape, [1, 2, 3, 3]);
    close(valuesOf(out['image']), [...(picture.data as Uint8Array)]);
  });

  test('bilinear resize with aligned pixel centres, rounded like an 8-bit resize', async () => {
    const line = u8([1, 1, 2, 1], [0, 255]);
    const out = await run(imageCrop, { mode: 'full', channels: '1', target_height: '1', target_width: '4', scale: '1' }, { image: line });
    close(valuesOf(out['image']), [0, 64, 191, 255]);
  });

  test('longest side limit and rounding to a multiple (detector input)', async () => {
    const big = u8([1, 50, 100, 3], new Array(50 * 100 * 3).fill(255));
    const out = await run(imageCrop, { mode: 'full', max_side: '64', size_multiple: '32' }, { image: big });
    assert.deepEqual((out['image'] as Tensor).shape, [1, 3, 32, 64]);
    close(valuesOf(out['image']).slice(0, 3), [1, 1, 1]);
  });

  test('boxes mode: crops resized to a height, padded to the widest, with their pixel rectangles', async () => {
    const img = u8([1, 4, 8, 1], Array.from({ length: 32 }, (_, i) => i));
    const boxes = f32([2, 4], [0, 0, 0.5, 0.5, 0.25, 0.5, 0.5, 1]); // 4×2 px and 2×2 px
    const out = await run(imageCrop, { channels: '1', target_height: '2', scale: '1', pad_value: '-1' }, { image: img, boxes });
    const images = out['images'] as Tensor;
    assert.deepEqual(images.shape, [2, 1, 1, 2, 4]);
    close(valuesOf(images), [0, 1, 2, 3, 8, 9, 10, 11, 18, 19, -1, -1, 26, 27, -1, -1]);
    assert.deepEqual((out['coordinates'] as Tensor).shape, [2, 1, 4]);
    close(valuesOf(out['coordinates']), [0, 0, 4, 2, 2, 2, 4, 4]);
  });

  test('boxes mode without padding returns one tensor per crop, each at its own width', async () => {
    const img = u8([1, 4, 8, 1], Array.from({ length: 32 }, (_, i) => i));
    const boxes = f32([2, 4], [0, 0, 8, 2, 2, 2, 4, 4]);
    const out = await run(imageCrop, { channels: '1', target_height: '2', scale: '1', pad_to_widest: 'false', boxes_normalized: 'false' }, { image: img, boxes });
    const crops = out['images'] as Tensor[];
    assert.ok(Array.isArray(crops));
    assert.deepEqual(crops.map((c) => c.shape), [[1, 1, 2, 8], [1, 1, 2, 2]]);
    close(valuesOf(crops[1]), [18, 19, 26, 27]);
  });

  test('no boxes: empty outputs (a demultiplexer then aborts the request)', async () => {
    const out = await run(imageCrop, { target_height: '48' }, { image: picture, boxes: f32([0, 4], []) });
    assert.equal((out['images'] as Tensor).shape[0], 0);
    assert.deepEqual((out['coordinates'] as Tensor).shape, [0, 1, 4]);
  });

  test('metadata follows the params', () => {
    const s = imageCrop.initialize({ target_height: '48' });
    assert.deepEqual(imageCrop.getInputsInfo({}, s), [
      { name: 'image', dtype: 'UINT8', shape: [1, -1, -1, 3] },
      { name: 'boxes', dtype: 'FP32', shape: [-1, 4] },
    ]);
    assert.deepEqual(imageCrop.getOutputsInfo({}, s).map((o) => o.shape), [[-1, 1, 3, 48, -1], [-1, 1, 4]]);
    const full = imageCrop.initialize({ mode: 'full', target_height: '240', target_width: '320' });
    assert.deepEqual(imageCrop.getOutputsInfo({}, full), [{ name: 'image', dtype: 'FP32', shape: [1, 3, 240, 320] }]);
  });

  test('bad params fail initialize; bad inputs fail execute with a reason', async () => {
    assert.throws(() => imageCrop.initialize({ mode: 'zoom' }), /param mode: "zoom" is not one of boxes, full/);
    assert.throws(() => imageCrop.initialize({ std: '0' }), /param std: values must not be 0/);
    assert.throws(() => imageCrop.initialize({ mean: '1,2' }), /param mean: expected 3 values, got 2/);
    await assert.rejects(run(imageCrop, { mode: 'full' }, { image: u8([1, 2, 2, 4], new Array(16).fill(0)) }), /input image must have shape \[1, H, W, 3\]; got \[1, 2, 2, 4\]/);
    await assert.rejects(run(imageCrop, {}, { image: picture, boxes: f32([1, 4], [0, 0, NaN, 1]) }), /box 0 has a coordinate that is not a finite number/);
  });
});

describe('custom node: detection decoder', () => {
  test('db: regions of a probability map become boxes in reading order, grown by unclip', async () => {
    const H = 40, W = 100;
    const map = new Float32Array(H * W).fill(0.05);
    const fill = (x1: number, y1: number, x2: number, y2: number, p: number) => {
      for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) map[y * W + x] = p;
    };
    fill(60, 5, 90, 15, 0.9); // right, top line
    fill(10, 6, 40, 16, 0.95); // left, same line (a little lower)
    fill(10, 25, 70, 35, 0.8); // second line
    fill(80, 30, 82, 32, 0.99); // too small
    fill(50, 20, 55, 23, 0.4); // above threshold 0.3 but below box_threshold 0.6
    const out = await run(detectionDecoder, { format: 'db' }, { probability: { dtype: 'FP32', shape: [1, 1, H, W], data: map } });
    const boxes = out['boxes'] as Tensor;
    assert.deepEqual(boxes.shape, [3, 4]);
    close(valuesOf(out['scores']), [0.95, 0.9, 0.8]);
    // 30×10 px region: unclip distance = 300 * 1.5 / 80 = 5.625 px on every side.
    const d = 5.625;
    close(valuesOf(boxes).slice(0, 4), [(10 - d) / W, (6 - d) / H, (40 + d) / W, (16 + d) / H]);
    close(valuesOf(boxes).slice(4, 8), [(60 - d) / W, 0, (90 + d) / W, (15 + d) / H]);
    assert.ok(valuesOf(boxes)[9]! > 0.45, 'second line below the first');
  });

  test('ssd: rows above the confidence, one label, stopping at image_id -1', async () => {
    const rows = [
      [0, 1, 0.95, 0.1, 0.1, 0.2, 0.2],
      [0, 2, 0.99, 0.3, 0.3, 0.4, 0.4],
      [0, 1, 0.4, 0.5, 0.5, 0.6, 0.6],
      [0, 1, 0.8, 0.7, 0.7, 1.2, 0.9],
      [-1, 0, 0, 0, 0, 0, 0],
      [0, 1, 0.99, 0, 0, 1, 1],
    ];
    const out = await run(detectionDecoder, { format: 'ssd', label: '1' }, { detection: f32([1, 1, 6, 7], rows.flat()) });
    close(valuesOf(out['scores']), [0.95, 0.8]);
    close(valuesOf(out['boxes']), [0.1, 0.1, 0.2, 0.2, 0.7, 0.7, 1, 0.9]);
  });

  test('boxes_scores: threshold, then non-maximum suppression', async () => {
    const boxes = [0, 0, 0.5, 0.5, 0.02, 0.02, 0.52, 0.52, 0.6, 0.6, 0.9, 0.9, 0.1, 0.6, 0.3, 0.9];
    const scores = [0.1, 0.9, 0.2, 0.8, 0.05, 0.95, 0.5, 0.5];
    const out = await run(detectionDecoder, { format: 'boxes_scores' }, { boxes: f32([1, 4, 4], boxes), scores: f32([1, 4, 2], scores) });
    close(valuesOf(out['scores']), [0.95, 0.9]);
    close(valuesOf(out['boxes']), [0.6, 0.6, 0.9, 0.9, 0, 0, 0.5, 0.5]);
  });
});

describe('custom node: CTC decoder', () => {
  let dir: { path: string; remove(): void };
  before(() => {
    dir = tempDir();
    writeFileSync(path.join(dir.path, 'keys.txt'), 'a\nb\nc');
  });
  after(() => dir.remove());

  test('greedy CTC: repeats merged, blanks dropped, the last class is a space', async () => {
    // Classes: 0 blank, 1 a, 2 b, 3 c, 4 space. Steps: a a blank a b b space c blank.
    const steps = [1, 1, 0, 1, 2, 2, 4, 3, 0];
    const p = new Float32Array(2 * steps.length * 5).fill(0.01);
    steps.forEach((c, t) => (p[t * 5 + c] = 0.9));
    // Second item: all blank.
    for (let t = 0; t < steps.length; t++) p[(steps.length + t) * 5] = 0.9;
    const out = await run(ctcDecoder, { dictionary: path.join(dir.path, 'keys.txt') }, { probabilities: { dtype: 'FP32', shape: [2, steps.length, 5], data: p } });
    const texts = (out['texts'] as Tensor).data as Uint8Array[];
    assert.deepEqual(texts.map((b) => Buffer.from(b).toString()), ['aab c', '']);
    close(valuesOf(out['scores']), [0.9, 0], 1e-6);
  });

  test('a dictionary that does not fit the model is reported', async () => {
    await assert.rejects(run(ctcDecoder, { dictionary: path.join(dir.path, 'keys.txt') }, { probabilities: f32([1, 1, 7], new Array(7).fill(0)) }),
      /the model gives 7 classes but the dictionary \(with blank and space\) makes 5/);
    await assert.rejects(Promise.resolve().then(() => ctcDecoder.initialize({})), /param dictionary is required/);
  });
});

const faceModel = path.join(sharedModels, 'ultraface-rfb-320');
describe('face detection pipeline on ultraface-rfb-320', { skip: existsSync(faceModel) ? false : `needs ${faceModel} (missing)` }, () => {
  let server: RunningServer;
  let client: TfsClient;
  let dir: { path: string; remove(): void };

  before(async () => {
    dir = tempDir();
    const nodes = path.join(repoRoot, 'dist/custom-nodes');
    const config = {
      model_config_list: [{ config: { name: 'ultraface', base_path: faceModel } }],
      custom_node_library_config_list: [
        { name: 'image_crop', base_path: path.join(nodes, 'image-crop.js') },
        { name: 'detection_decoder', base_path: path.join(nodes, 'detection-decoder.js') },
      ],
      pipeline_config_list: [
        pipeline('faces', ['image'], [
          // UltraFace input: RGB 320×240, (x - 127) / 128.
          customNode('prep', 'image_crop', { image: src('request', 'image') }, [['image', 'input']], {
            params: { mode: 'full', input_color: 'RGB', target_height: '240', target_width: '320', scale: '1', mean: '127', std: '128' },
          }),
          modelNode('detect', 'ultraface', { input: src('prep', 'input') }, [['scores', 'scores'], ['boxes', 'boxes']]),
          customNode('decode', 'detection_decoder', { boxes: src('detect', 'boxes'), scores: src('detect', 'scores') }, [['boxes', 'boxes'], ['scores', 'scores']], {
            params: { format: 'boxes_scores', confidence_threshold: '0.7', nms_threshold: '0.3' },
          }),
          customNode('crop', 'image_crop', { image: src('request', 'image'), boxes: src('decode', 'boxes') }, [['images', 'faces'], ['coordinates', 'where']], {
            demultiply_count: 0, params: { input_color: 'RGB', target_height: '64', target_width: '64' },
          }),
        ], { faces: src('crop', 'faces'), coordinates: src('crop', 'where') }),
      ],
    };
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify(config));
    server = await startServer({ args: ['--config_path', configPath] });
    client = new TfsClient(server.grpcAddress);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    dir?.remove();
  });

  test('finds the 10 faces of people1.jpeg and returns a 64×64 crop of each', async () => {
    const { data, info } = await sharp(path.join(sharedDir, 'images/people1.jpeg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const res = await client.predict({
      model_spec: { name: 'faces' },
      inputs: { image: { dtype: 4, tensor_shape: shapeProto([1, info.height, info.width, 3]), tensor_content: data } },
    });
    assert.deepEqual(dimsOf(res.outputs.faces), [10, 1, 3, 64, 64]);
    assert.deepEqual(dimsOf(res.outputs.coordinates), [10, 1, 4]);
    const boxes = floatsOf(res.outputs.coordinates);
    for (let i = 0; i < 10; i++) {
      const [x1, y1, x2, y2] = boxes.slice(i * 4, i * 4 + 4) as [number, number, number, number];
      assert.ok(x1 >= 0 && y1 >= 0 && x2 <= info.width && y2 <= info.height && x2 - x1 > 20 && y2 - y1 > 20, `face ${i}: ${[x1, y1, x2, y2]}`);
    }
  });
});
