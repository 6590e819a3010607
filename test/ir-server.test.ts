/**
 * OpenVINO IR through the real server process over REST: the OVMS `dummy` IR answers predict, and
 * an IR with an unknown operation leaves its version failed with the reason in the server log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { IrWriter } from './helpers/ir-models.js';
import { tempDir } from './helpers/models.js';
import sharp from 'sharp';
import { type RunningServer, sharedDir, sharedModels, startServer } from './helpers/server.js';

const haveShared = existsSync(sharedModels);
const ten = Array.from({ length: 10 }, (_v, i) => i);

describe('IR models served over REST', () => {
  const dir = tempDir('tsms-ir-server-');
  let server: RunningServer;

  before(async () => {
    // A dummy-like IR written here, so the test runs without ../shared too.
    const w = new IrWriter();
    const b = w.param('b', [1, 10]);
    w.result(w.op1('Add', [b, w.constant([1], [1, 1])], [1, 10], { auto_broadcast: 'numpy' }, 'opset1', { name: 'a' }));
    w.write(path.join(dir.path, 'written/1'), 'anything', 10);

    const bad = new IrWriter();
    const x = bad.param('x', [1, 4]);
    bad.result(bad.op1('FancyNewOp', [x], [1, 4], {}, 'opset42', { name: 'fancy_layer' }));
    bad.write(path.join(dir.path, 'broken/1'));

    const models = [
      { name: 'written', base_path: path.join(dir.path, 'written') },
      { name: 'broken', base_path: path.join(dir.path, 'broken') },
      ...(haveShared ? [{ name: 'dummy', base_path: path.join(sharedModels, 'dummy') }] : []),
    ];
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({ model_config_list: models.map((config) => ({ config })) }));
    server = await startServer({ args: ['--config_path', configPath] });
  });

  after(async () => {
    await server?.stop();
    dir.remove();
  });

  const predict = async (model: string, body: unknown) => {
    const res = await fetch(`${server.restUrl}/v1/models/${model}:predict`, { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as unknown };
  };

  test('the OVMS dummy IR: {"instances": [[0..9]]} → [[1..10]]', { skip: haveShared ? false : 'needs ../shared/models (missing)' }, async () => {
    const res = await predict('dummy', { instances: [ten] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { predictions: [ten.map((v) => v + 1)] });
  });

  test('an IR written with other file names is found and served', async () => {
    const res = await predict('written', { inputs: { b: [ten] } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { outputs: [ten.map((v) => v + 1)] });
  });

  test('an unknown operation: the version stays LOADING with UNKNOWN, and the log names op, opset and layer', async () => {
    await server.waitForOutput(/unsupported operation FancyNewOp \(opset42\) in layer \\?"fancy_layer/, 20000);
    const res = await fetch(`${server.restUrl}/v1/models/broken`);
    const status = (await res.json()) as { model_version_status: { version: string; state: string; status: { error_code: string } }[] };
    assert.equal(status.model_version_status.length, 1);
    assert.equal(status.model_version_status[0]!.state, 'LOADING');
    assert.equal(status.model_version_status[0]!.status.error_code, 'UNKNOWN');
    const failed = await predict('broken', { instances: [[1, 2, 3, 4]] });
    assert.notEqual(failed.status, 200);
  });
});

describe('the OVMS quickstart: face-detection-retail-0004 (IR) with --shape auto', { skip: haveShared ? false : 'needs ../shared/models (missing)' }, () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer({ args: ['--model_name', 'face-detection', '--model_path', path.join(sharedModels, 'face-detection-retail-0004'), '--shape', 'auto'] });
  });

  after(async () => {
    await server?.stop();
  });

  test('people1.jpeg at 600×400: the model reshapes and finds the 10 faces', async () => {
    const [w, h] = [600, 400];
    const { data } = await sharp(path.join(sharedDir, 'images/people1.jpeg')).resize(w, h, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    // [3][H][W], BGR, raw 0–255 (face_detection.py's preprocessing).
    const image = [2, 1, 0].map((c) => Array.from({ length: h }, (_r, y) => Array.from({ length: w }, (_v, x) => data[(y * w + x) * 3 + c]!)));
    const res = await fetch(`${server.restUrl}/v1/models/face-detection:predict`, { method: 'POST', body: JSON.stringify({ instances: [image] }) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { predictions: number[][][][] };
    const rows = body.predictions[0]![0]!;
    assert.equal(rows.length, 200);
    const faces = rows.filter((r) => r[0] !== -1 && r[2]! > 0.5);
    assert.equal(faces.length, 10);
    for (const f of faces) {
      assert.equal(f[1], 1);
      assert.ok(f[3]! >= -0.05 && f[5]! <= 1.05 && f[3]! < f[5]! && f[4]! < f[6]!, `box ${f.slice(3)}`);
    }
    const meta = (await (await fetch(`${server.restUrl}/v1/models/face-detection/metadata`)).json()) as {
      metadata: { signature_def: { signatureDef: { serving_default: { inputs: { data: { tensorShape: { dim: { size: string }[] } } } } } } };
    };
    assert.deepEqual(meta.metadata.signature_def.signatureDef.serving_default.inputs.data.tensorShape.dim.map((d) => Number(d.size)), [1, 3, 400, 600]);
  });
});
