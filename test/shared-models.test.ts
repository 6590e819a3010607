/**
 * The real models from ../shared/models served end to end: the server process, real sockets,
 * the right answers (zebra is class 340, people1.jpeg has 10 faces).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, sharedDir, sharedModels, type RunningServer } from './helpers/server.js';
import { tempDir } from './helpers/models.js';
import { argmax, imagenetInput, ultrafaceFaces, ultrafaceInput } from './helpers/images.js';
import { TfsClient, bytesOf, floatsOf, shapeProto, dimsOf } from './helpers/tfs-grpc.js';

const skip = existsSync(sharedModels) ? false : `needs ../shared/models (missing: ${sharedModels})`;

/** Nests a flat array into the given shape, as a REST client sends an ndarray. */
function nest(flat: ArrayLike<number>, shape: readonly number[], offset = 0): unknown {
  if (shape.length === 1) return Array.from({ length: shape[0]! }, (_, i) => flat[offset + i]);
  const stride = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0]! }, (_, i) => nest(flat, shape.slice(1), offset + i * stride));
}

function flatten(v: unknown, out: number[] = []): number[] {
  if (Array.isArray(v)) for (const x of v) flatten(x, out);
  else out.push(v as number);
  return out;
}

describe('real models from ../shared/models', { skip }, () => {
  let server: RunningServer;
  let dir: { path: string; remove(): void };
  let grpc: TfsClient;

  before(async () => {
    dir = tempDir();
    const models = {
      dummy: 'dummy_onnx',
      add: 'add_two_inputs_onnx',
      mobilenet: 'mobilenetv2-12-int8',
      ultraface: 'ultraface-rfb-320',
    };
    const config = {
      model_config_list: Object.entries(models).map(([name, folder]) => ({ config: { name, base_path: path.join(sharedModels, folder) } })),
    };
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify(config));
    server = await startServer({ args: ['--config_path', configPath] });
    grpc = new TfsClient(server.grpcAddress);
  });

  after(async () => {
    grpc?.close();
    await server?.stop();
    dir?.remove();
  });

  test('dummy_onnx adds 1 over REST', async () => {
    const res = await fetch(`${server.restUrl}/v1/models/dummy:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]] }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { predictions: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] });
  });

  test('add_two_inputs_onnx sums two named inputs over REST', async () => {
    const input1 = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]];
    const input2 = [[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]];
    const res = await fetch(`${server.restUrl}/v1/models/add:predict`, { method: 'POST', body: JSON.stringify({ inputs: { input1, input2 } }) });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { outputs: [[0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5]] });
  });

  test('mobilenetv2-12-int8 classifies zebra.jpeg as zebra (340) over REST JSON', async () => {
    const input = await imagenetInput(path.join(sharedDir, 'images/zebra.jpeg'));
    const res = await fetch(`${server.restUrl}/v1/models/mobilenet:predict`, {
      method: 'POST',
      body: JSON.stringify({ inputs: { input: nest(input, [1, 3, 224, 224]) } }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { outputs: number[][] };
    assert.equal(body.outputs.length, 1);
    assert.equal(body.outputs[0]!.length, 1000);
    assert.equal(argmax(body.outputs[0]!), 340);
  });

  test('ultraface-rfb-320 finds the 10 faces of people1.jpeg over REST', async () => {
    const input = await ultrafaceInput(path.join(sharedDir, 'images/people1.jpeg'));
    const res = await fetch(`${server.restUrl}/v1/models/ultraface:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: nest(input, [1, 3, 240, 320]) }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { predictions: { scores: number[][]; boxes: number[][] }[] };
    assert.equal(body.predictions.length, 1);
    const faces = ultrafaceFaces(flatten(body.predictions[0]!.scores), flatten(body.predictions[0]!.boxes));
    assert.equal(faces.length, 10);
  });

  test('model status lists version 1 AVAILABLE for every model', async () => {
    for (const name of ['dummy', 'add', 'mobilenet', 'ultraface']) {
      const res = await fetch(`${server.restUrl}/v1/models/${name}`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: 'OK' } }],
      });
    }
  });

  test('mobilenetv2-12-int8 classifies zebra.jpeg as zebra (340) over gRPC tensor_content', async () => {
    const input = await imagenetInput(path.join(sharedDir, 'images/zebra.jpeg'));
    const res = await grpc.predict({
      model_spec: { name: 'mobilenet' },
      inputs: { input: { dtype: 1, tensor_shape: shapeProto([1, 3, 224, 224]), tensor_content: bytesOf(input) } },
    });
    assert.deepEqual(dimsOf(res.outputs.output), [1, 1000]);
    assert.equal(argmax(floatsOf(res.outputs.output)), 340);
  });

  test('ultraface-rfb-320 finds the 10 faces of people1.jpeg over gRPC, both outputs', async () => {
    const input = await ultrafaceInput(path.join(sharedDir, 'images/people1.jpeg'));
    const res = await grpc.predict({
      model_spec: { name: 'ultraface' },
      inputs: { input: { dtype: 1, tensor_shape: shapeProto([1, 3, 240, 320]), tensor_content: bytesOf(input) } },
    });
    assert.deepEqual(dimsOf(res.outputs.scores), [1, 4420, 2]);
    assert.deepEqual(dimsOf(res.outputs.boxes), [1, 4420, 4]);
    assert.equal(ultrafaceFaces(floatsOf(res.outputs.scores), floatsOf(res.outputs.boxes)).length, 10);
  });

  test('dummy_onnx over gRPC with typed float_val, as TensorFlow Serving accepts it', async () => {
    const res = await grpc.predict({
      model_spec: { name: 'dummy' },
      inputs: { b: { dtype: 1, tensor_shape: shapeProto([1, 10]), float_val: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] } },
    });
    assert.deepEqual(floatsOf(res.outputs.a), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
