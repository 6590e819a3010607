/**
 * Dynamic batching through the real server: `dynamic_batching` in config.json, concurrent gRPC
 * and REST clients, answers identical to the same model served without batching.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildOnnxModel } from '../src/runtime/onnx/model-builder.js';
import { tempDir, writeRepository } from './helpers/models.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { bytesOf, dimsOf, floatsOf, shapeProto, TfsClient } from './helpers/tfs-grpc.js';

/** y = x·W + b with a symbolic batch: x FP32 [batch, 8] → y [batch, 3]. */
function linearModel(): Uint8Array {
  const w = Float32Array.from({ length: 24 }, (_, i) => ((i * 7) % 11) / 10 - 0.5);
  return buildOnnxModel({
    inputs: [{ name: 'x', dtype: 'FP32', shape: ['batch', 8] }],
    outputs: [{ name: 'y', dtype: 'FP32', shape: ['batch', 3] }],
    initializers: [
      { name: 'w', dtype: 'FP32', shape: [8, 3], values: new Uint8Array(w.buffer) },
      { name: 'b', dtype: 'FP32', shape: [3], values: [0.25, -1, 3] },
    ],
    nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['xw'] }, { op: 'Add', inputs: ['xw', 'b'], outputs: ['y'] }],
  });
}

describe('dynamic batching in the server', () => {
  let server: RunningServer;
  let client: TfsClient;
  const repo = tempDir();

  before(async () => {
    writeRepository(repo.path, { linear: { 1: linearModel() } });
    const base = path.join(repo.path, 'linear');
    const configPath = path.join(repo.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({
      model_config_list: [
        { config: { name: 'plain', base_path: base } },
        { config: { name: 'batched', base_path: base, dynamic_batching: { max_batch_size: 8, max_queue_delay_us: 3000, preferred_batch_sizes: [4, 8] } } },
      ],
    }));
    server = await startServer({ args: ['--config_path', configPath] });
    client = new TfsClient(server.grpcAddress);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    repo.remove();
  });

  const input = (i: number) => Float32Array.from({ length: 8 }, (_, k) => Math.sin(i * 8 + k) * 10);
  const predict = async (model: string, data: Float32Array) => {
    const res = await client.predict({ model_spec: { name: model }, inputs: { x: { dtype: 1, tensor_shape: shapeProto([1, 8]), tensor_content: bytesOf(data) } } });
    assert.deepEqual(dimsOf(res.outputs.y), [1, 3]);
    return floatsOf(res.outputs.y);
  };

  it('logs that batching is on for the configured model', async () => {
    await server.waitForOutput(/"model":"batched"[^\n]*dynamic batching enabled/);
  });

  it('16 concurrent batch-1 gRPC clients get exactly the unbatched answers', async () => {
    const inputs = Array.from({ length: 16 }, (_, i) => input(i));
    const expected = [];
    for (const data of inputs) expected.push(await predict('plain', data));
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(inputs.map((data) => predict('batched', data)));
      assert.deepEqual(got, expected);
    }
  });

  it('REST clients are batched the same way', async () => {
    const inputs = Array.from({ length: 8 }, (_, i) => input(100 + i));
    const rest = (model: string, data: Float32Array) => fetch(`${server.restUrl}/v1/models/${model}:predict`, {
      method: 'POST', body: JSON.stringify({ instances: [[...data]] }),
    }).then(async (r) => ((await r.json()) as { predictions: number[][] }).predictions[0]);
    const expected = [];
    for (const data of inputs) expected.push(await rest('plain', data));
    assert.deepEqual(await Promise.all(inputs.map((d) => rest('batched', d))), expected);
  });
});
