/**
 * JPEG bytes instead of tensors, end to end on the real mobilenetv2-12-int8 from ../shared/models:
 * TFS gRPC string_val and REST {"b64": …}, a batch of images, and NHWC tensors to the NCHW model
 * giving the same answer as NCHW tensors. The model takes RGB, (x/255 - mean)/std, NCHW; the
 * config says so with layout NHWC:NCHW, color_format RGB and mean/scale on the 0–255 range.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { argmax, imagenetInput } from './helpers/images.js';
import { tempDir } from './helpers/models.js';
import { sharedDir, sharedModels, startServer, type RunningServer } from './helpers/server.js';
import { bytesOf, dimsOf, expectGrpcError, floatsOf, shapeProto, TfsClient, type Json } from './helpers/tfs-grpc.js';

const mobilenet = path.join(sharedModels, 'mobilenetv2-12-int8');
const images = path.join(sharedDir, 'images');
const skip = existsSync(mobilenet) && existsSync(images) ? false : 'needs ../shared/models/mobilenetv2-12-int8 and ../shared/images (missing)';

/** ImageNet classes of the sample images (MODELS.md §4). */
const classes: Record<string, number> = { zebra: 340, pelican: 144, golden_retriever: 207, magnetic_compass: 635 };
const jpeg = (name: string) => readFileSync(path.join(images, `${name}.jpeg`));

/** NCHW [n,c,h,w] → NHWC. */
function toNhwc(data: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[(b * h * w + p) * c + ch] = data[(b * c + ch) * h * w + p]!;
  return out;
}

describe('binary image inputs on mobilenetv2-12-int8', { skip }, () => {
  let server: RunningServer;
  let client: TfsClient;
  const dir = tempDir();

  before(async () => {
    const imageSettings = { layout: 'NHWC:NCHW', color_format: 'RGB', mean: [123.675, 116.28, 103.53], scale: [58.395, 57.12, 57.375] };
    const config = {
      model_config_list: [
        { config: { name: 'mobilenet', base_path: mobilenet, ...imageSettings } },
        { config: { name: 'mobilenet_nchw', base_path: mobilenet } },
        { config: { name: 'mobilenet_nhwc', base_path: mobilenet, layout: 'NHWC:NCHW' } },
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
    dir.remove();
  });

  const stringTensor = (buffers: Buffer[]) => ({ dtype: 7, tensor_shape: shapeProto([buffers.length]), string_val: buffers });

  it('gRPC: the JPEG bytes of zebra.jpeg in string_val → class zebra', async () => {
    const res = await client.predict({ model_spec: { name: 'mobilenet' }, inputs: { input: stringTensor([jpeg('zebra')]) } });
    assert.deepEqual(dimsOf(res.outputs.output), [1, 1000]);
    assert.equal(argmax(floatsOf(res.outputs.output)), classes['zebra']);
  });

  it('REST: {"b64": …} of zebra.jpeg → class zebra', async () => {
    const body = { instances: [{ b64: jpeg('zebra').toString('base64') }] };
    const res = await fetch(`${server.restUrl}/v1/models/mobilenet:predict`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    const { predictions } = await res.json() as { predictions: number[][] };
    assert.equal(predictions.length, 1);
    assert.equal(argmax(predictions[0]!), classes['zebra']);
  });

  it('a batch of 4 images in one request (gRPC and REST) → 4 answers in order', async () => {
    const names = Object.keys(classes);
    const res = await client.predict({ model_spec: { name: 'mobilenet' }, inputs: { input: stringTensor(names.map(jpeg)) } });
    assert.deepEqual(dimsOf(res.outputs.output), [4, 1000]);
    const logits = floatsOf(res.outputs.output);
    names.forEach((name, i) => assert.equal(argmax(logits.slice(i * 1000, (i + 1) * 1000)), classes[name], name));

    const body = { instances: names.map((n) => ({ b64: jpeg(n).toString('base64') })) };
    const rest = await fetch(`${server.restUrl}/v1/models/mobilenet:predict`, { method: 'POST', body: JSON.stringify(body) });
    const { predictions } = await rest.json() as { predictions: number[][] };
    assert.deepEqual(predictions.map(argmax), names.map((n) => classes[n]));
  });

  it('metadata reports the NHWC shape clients send', async () => {
    const res = await fetch(`${server.restUrl}/v1/models/mobilenet/metadata`);
    const body = await res.json() as Json;
    const dims = body.metadata.signature_def.signatureDef.serving_default.inputs.input.tensorShape.dim.map((d: Json) => Number(d.size));
    assert.deepEqual(dims, [-1, 224, 224, 3]);
  });

  it('NHWC input to the NCHW model (layout NHWC:NCHW) gives the same result as NCHW input', async () => {
    const nchw = await imagenetInput(path.join(images, 'zebra.jpeg'));
    const nhwc = toNhwc(nchw, 1, 3, 224, 224);
    const a = await client.predict({ model_spec: { name: 'mobilenet_nchw' }, inputs: { input: { dtype: 1, tensor_shape: shapeProto([1, 3, 224, 224]), tensor_content: bytesOf(nchw) } } });
    const b = await client.predict({ model_spec: { name: 'mobilenet_nhwc' }, inputs: { input: { dtype: 1, tensor_shape: shapeProto([1, 224, 224, 3]), tensor_content: bytesOf(nhwc) } } });
    const la = floatsOf(a.outputs.output);
    const lb = floatsOf(b.outputs.output);
    assert.equal(argmax(la), classes['zebra']);
    assert.equal(argmax(lb), classes['zebra']);
    for (let i = 0; i < 1000; i++) assert.ok(Math.abs(la[i]! - lb[i]!) < 1e-4, `logit ${i}: ${la[i]} vs ${lb[i]}`);
  });

  it('a corrupt image answers INVALID_ARGUMENT and the server keeps serving', async () => {
    await expectGrpcError(client.predict({ model_spec: { name: 'mobilenet' }, inputs: { input: stringTensor([Buffer.from('not a jpeg at all')]) } }),
      status.INVALID_ARGUMENT, /^Image parsing failed - /);
    const half = jpeg('zebra').subarray(0, 2000);
    const rest = await fetch(`${server.restUrl}/v1/models/mobilenet:predict`, { method: 'POST', body: JSON.stringify({ instances: [{ b64: half.toString('base64') }] }) });
    assert.equal(rest.status, 400);
    assert.match(((await rest.json()) as Json).error, /^Image parsing failed/);
    const ok = await client.predict({ model_spec: { name: 'mobilenet' }, inputs: { input: stringTensor([jpeg('pelican')]) } });
    assert.equal(argmax(floatsOf(ok.outputs.output)), classes['pelican']);
  });
});
