/**
 * One encoded image feeding two model nodes of a pipeline, both run in worker threads: the
 * decoded pixels are read by each node (and may be a pipeline output), so no node may take the
 * memory away from the others (a worker runtime transfers memory it owns outright).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { startServer, type RunningServer } from './helpers/server.js';
import { identityModel, tempDir, writeRepository } from './helpers/models.js';
import { modelNode, pipeline, src } from './helpers/pipelines.js';

describe('pipeline: a decoded image fanned out to two worker-run nodes', () => {
  let server: RunningServer;
  const dir = tempDir();
  let png: Buffer;

  before(async () => {
    // 6×5 RGB (W×H) with distinct pixels, so a zeroed or detached tensor cannot pass for the image.
    const rgb = Buffer.alloc(6 * 5 * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37) % 251;
    png = await sharp(rgb, { raw: { width: 6, height: 5, channels: 3 } }).png().toBuffer();
    writeRepository(dir.path, { left: { 1: identityModel('FP32', [1, 5, 6, 3]) }, right: { 1: identityModel('FP32', [1, 5, 6, 3]) } });
    const worker = { plugin_config: { TSMS_EXECUTION: 'worker' } };
    const config = path.join(dir.path, 'config.json');
    writeFileSync(config, JSON.stringify({
      model_config_list: ['left', 'right'].map((name) => ({ config: { name, base_path: path.join(dir.path, name), ...worker } })),
      pipeline_config_list: [
        pipeline('fanout', ['image'], [
          modelNode('l', 'left', { in: src('request', 'image') }, [['out', 'l_out']]),
          modelNode('r', 'right', { in: src('request', 'image') }, [['out', 'r_out']]),
        ], { l: src('l', 'l_out'), r: src('r', 'r_out'), image: src('request', 'image') }),
      ],
    }));
    server = await startServer({ args: ['--config_path', config] });
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
    dir.remove();
  });

  test('both nodes and the pass-through output see the same decoded pixels', async () => {
    const expected = [...(await sharp(png).removeAlpha().raw().toBuffer())];
    // OVMS decodes to BGR: swap each pixel's channels back for the comparison.
    const bgr = expected.map((_, i) => expected[i - (i % 3) + 2 - (i % 3)]!);
    for (let round = 0; round < 3; round++) {
      const res = await fetch(`${server.restUrl}/v1/models/fanout:predict`, {
        method: 'POST', body: JSON.stringify({ inputs: { image: [{ b64: png.toString('base64') }] } }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, `${res.status} ${text}`);
      const outputs = (JSON.parse(text) as { outputs: Record<string, number[][][][]> }).outputs;
      for (const name of ['l', 'r', 'image']) assert.deepEqual(outputs[name]!.flat(3), bgr, `output ${name}`);
    }
  });
});
