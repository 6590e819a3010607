/**
 * The OCR example pipeline (examples/ocr) end to end on ../shared/models: PP-OCRv4 detection, the
 * shipped custom nodes, recognition per detected line. MODELS.md §6–8 gives the expected reading of
 * ocr-text-lines.png: three lines, the second without its spaces (the model drops them).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { ocrConfig, OCR_PIPELINE } from '../examples/ocr/ocr-pipeline.js';
import { repoRoot, sharedDir, sharedModels, startServer, type RunningServer } from './helpers/server.js';
import { tempDir } from './helpers/models.js';
import { TfsClient, dimsOf, expectGrpcError, floatsOf, shapeProto, type Json } from './helpers/tfs-grpc.js';

const needed = ['ppocr-det', 'ppocr-rec'].map((m) => path.join(sharedModels, m));
const skip = needed.every((p) => existsSync(p)) ? false : `needs ${needed.find((p) => !existsSync(p))} (missing)`;
const image = (name: string) => path.join(sharedDir, 'images', name);
const LINES = ['OpenVINO Model Server', 'HelloWorld2024', 'The quick brown fox jumps over the lazy dog.'];

/** The picture decoded to UINT8 [1, H, W, 3] in BGR order (the pipeline's input, as OVMS's binary inputs decode). */
async function pixels(file: string | Buffer): Promise<{ tensor: Json; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let p = 0; p < data.length; p += 3) [data[p], data[p + 2]] = [data[p + 2]!, data[p]!];
  return {
    tensor: { dtype: 4, tensor_shape: shapeProto([1, info.height, info.width, 3]), tensor_content: data },
    width: info.width,
    height: info.height,
  };
}

describe('OCR pipeline (examples/ocr)', { skip }, () => {
  let server: RunningServer;
  let client: TfsClient;
  let dir: { path: string; remove(): void };

  const read = async (file: string | Buffer) => client.predict({ model_spec: { name: OCR_PIPELINE }, inputs: { image: (await pixels(file)).tensor } });
  const texts = (res: Json) => (res.outputs.texts.string_val as Buffer[]).map((b) => b.toString('utf8'));

  before(async () => {
    dir = tempDir();
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify(ocrConfig({ modelsDir: sharedModels, customNodesDir: path.join(repoRoot, 'dist/custom-nodes') })));
    server = await startServer({ args: ['--config_path', configPath] });
    client = new TfsClient(server.grpcAddress);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    dir?.remove();
  });

  test('reads the three lines of ocr-text-lines.png exactly, top to bottom', async () => {
    const res = await read(image('ocr-text-lines.png'));
    assert.deepEqual(texts(res), LINES);
    assert.deepEqual(dimsOf(res.outputs.texts), [3, 1]);
    assert.deepEqual(dimsOf(res.outputs.scores), [3, 1]);
    for (const s of floatsOf(res.outputs.scores)) assert.ok(s > 0.9, `score ${s}`);
    // Line boxes in pixels of the 960×320 picture: stacked, each a text line's height.
    assert.deepEqual(dimsOf(res.outputs.text_coordinates), [3, 1, 4]);
    const boxes = floatsOf(res.outputs.text_coordinates);
    for (let i = 0; i < 3; i++) {
      const [x1, y1, x2, y2] = boxes.slice(i * 4, i * 4 + 4) as [number, number, number, number];
      assert.ok(x1 >= 0 && x2 <= 960 && y1 >= 0 && y2 <= 320 && x2 - x1 > 200 && y2 - y1 > 25 && y2 - y1 < 60, `box ${i}: ${[x1, y1, x2, y2]}`);
      if (i > 0) assert.ok(y1 > boxes[(i - 1) * 4 + 3]!, 'lines in reading order');
    }
  });

  test('the picture may be sent encoded (binary input: gRPC string_val)', async () => {
    const png = await readFile(image('ocr-text-lines.png'));
    const res = await client.predict({
      model_spec: { name: OCR_PIPELINE },
      inputs: { image: { dtype: 7, tensor_shape: shapeProto([1]), string_val: [png] } },
    });
    assert.deepEqual(texts(res), LINES);
  });

  test('one line: a demultiplexer with a single item', async () => {
    const res = await read(image('ocr-single-line.png'));
    assert.deepEqual(texts(res), ['Invoice 12345']);
  });

  test('no text: the demultiplexer has nothing, the request is aborted (gRPC ABORTED, REST 204)', async () => {
    const blank = await sharp({ create: { width: 256, height: 96, channels: 3, background: '#ffffff' } }).png().toBuffer();
    await expectGrpcError(read(blank), 10, 'Pipeline execution aborted due to no content from custom node - node: crop');
    const r = await fetch(`${server.restUrl}/v1/models/ocr:predict`, {
      method: 'POST',
      body: JSON.stringify({ inputs: { image: [Array.from({ length: 64 }, () => Array.from({ length: 64 }, () => [255, 255, 255]))] } }),
    });
    assert.equal(r.status, 204);
  });

  test('concurrent requests with different pictures', async () => {
    const files = ['ocr-text-lines.png', 'ocr-single-line.png', 'ocr-text-lines.png', 'ocr-single-line.png'];
    const results = await Promise.all(files.map((f) => read(image(f))));
    results.forEach((res, i) => assert.deepEqual(texts(res), files[i] === 'ocr-text-lines.png' ? LINES : ['Invoice 12345']));
  });

  test('the example client prints the recognised lines', async () => {
    const client = path.join(repoRoot, 'dist/examples/ocr/client.js');
    const { stdout } = await promisify(execFile)(process.execPath, [client, image('ocr-text-lines.png'), server.restUrl]);
    assert.equal(stdout, `${LINES.join('\n')}\n`);
  });
});
