/**
 * Shape, batch size and layout settings end to end (SPEC §5): the real server on generated
 * models, gRPC Predict/GetModelMetadata and REST status. Fixed shapes rewrite the ONNX inputs
 * before the session exists; `auto` reloads the version with a request's shapes without failing
 * requests; `layout` makes the server transpose so NHWC clients can use an NCHW model.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { buildOnnxModel } from '../src/runtime/onnx/model-builder.js';
import { addTwoInputsModel, tempDir, writeRepository } from './helpers/models.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { bytesOf, dimsOf, expectGrpcError, floatsOf, shapeProto, TfsClient, type Json } from './helpers/tfs-grpc.js';

/** y = x + 1 on x FP32 `shape` (OVMS's increment_1x3x4x5 test model by default). */
function incrementModel(shape: readonly (number | string)[] = [1, 3, 4, 5]): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'x', dtype: 'FP32', shape }],
    outputs: [{ name: 'y', dtype: 'FP32', shape }],
    initializers: [{ name: 'one', dtype: 'FP32', shape: [1], values: [1] }],
    nodes: [{ op: 'Add', inputs: ['x', 'one'], outputs: ['y'] }],
  });
}

/** y = Reshape(x, [1, 6]): onnxruntime accepts a new batch when creating the session, the run cannot. */
function flattenModel(): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'x', dtype: 'FP32', shape: [1, 2, 3] }],
    outputs: [{ name: 'y', dtype: 'FP32', shape: [1, 6] }],
    initializers: [{ name: 'shape', dtype: 'INT64', shape: [2], values: [1, 6] }],
    nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
  });
}

const iota = (n: number, start = 0) => Float32Array.from({ length: n }, (_, i) => start + i);
const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** NCHW → NHWC copy of a [n,c,h,w] tensor. */
function toNhwc(data: Float32Array, [n, c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n!; b++) for (let ch = 0; ch < c!; ch++) for (let y = 0; y < h!; y++) for (let x = 0; x < w!; x++) {
    out[((b * h! + y) * w! + x) * c! + ch] = data[((b * c! + ch) * h! + y) * w! + x]!;
  }
  return out;
}

function request(model: string, input: string, shape: readonly number[], data: Float32Array): Json {
  return { model_spec: { name: model }, inputs: { [input]: { dtype: 1, tensor_shape: shapeProto(shape), tensor_content: bytesOf(data) } } };
}

describe('shapes, batch size and layout', () => {
  let server: RunningServer;
  let client: TfsClient;
  const repo = tempDir();

  before(async () => {
    writeRepository(repo.path, {
      increment: { 1: incrementModel() },
      dynamic: { 1: incrementModel(['n', 3, 'h', 'w']) },
      flatten: { 1: flattenModel() },
      two_inputs: { 1: addTwoInputsModel() },
    });
    const base = (m: string) => path.join(repo.path, m);
    const models = [
      { name: 'inc_nchw', base_path: base('increment') },
      { name: 'inc_nhwc', base_path: base('increment'), layout: 'NHWC:NCHW' },
      { name: 'inc_legacy_nhwc', base_path: base('increment'), layout: 'NHWC' },
      { name: 'inc_both_nhwc', base_path: base('increment'), layout: { x: 'NHWC:NCHW', y: 'NHWC:NCHW' } },
      { name: 'fixed_shape', base_path: base('dynamic'), shape: '(1,3,6,6)' },
      { name: 'named_shape', base_path: base('dynamic'), shape: { x: '(2,3,2,2)' } },
      { name: 'batch_four', base_path: base('dynamic'), batch_size: 4 },
      { name: 'inc_batch_three', base_path: base('increment'), batch_size: '3' },
      { name: 'auto_shape', base_path: base('increment'), shape: 'auto' },
      { name: 'auto_batch', base_path: base('increment'), batch_size: 'auto' },
      { name: 'auto_flatten', base_path: base('flatten'), batch_size: 'auto' },
      { name: 'reshape_fails', base_path: base('flatten'), batch_size: 2 },
      { name: 'anonymous_two', base_path: base('two_inputs'), shape: '(1,10)' },
      { name: 'symbolic', base_path: base('dynamic') },
    ];
    const configPath = path.join(repo.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({ model_config_list: models.map((config) => ({ config })) }));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '0'] });
    client = new TfsClient(server.grpcAddress);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    repo.remove();
  });

  async function metadataShapes(model: string): Promise<{ inputs: Record<string, number[]>; outputs: Record<string, number[]> }> {
    const res = await fetch(`${server.restUrl}/v1/models/${model}/metadata`);
    assert.equal(res.status, 200, `metadata of ${model}`);
    const body = await res.json() as Json;
    const sig = body.metadata.signature_def.signatureDef.serving_default;
    const dims = (m: Json) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, (v as Json).tensorShape.dim.map((d: Json) => Number(d.size))]));
    return { inputs: dims(sig.inputs), outputs: dims(sig.outputs) };
  }

  async function predictY(model: string, shape: readonly number[], data: Float32Array): Promise<{ dims: number[]; values: number[] }> {
    const res = await client.predict(request(model, 'x', shape, data));
    return { dims: dimsOf(res.outputs.y), values: floatsOf(res.outputs.y) };
  }

  describe('fixed shapes and batch size', () => {
    it('shape "(1,3,6,6)" fixes a model with symbolic dims; metadata reports it', async () => {
      assert.deepEqual(await metadataShapes('fixed_shape'), { inputs: { x: [1, 3, 6, 6] }, outputs: { y: [1, 3, 6, 6] } });
      const out = await predictY('fixed_shape', [1, 3, 6, 6], iota(108));
      assert.deepEqual(out.dims, [1, 3, 6, 6]);
      assert.deepEqual(out.values.slice(0, 3), [1, 2, 3]);
    });

    it('other dims on a fixed shape → INVALID_SHAPE; another batch → INVALID_BATCH_SIZE (OVMS texts)', async () => {
      await expectGrpcError(client.predict(request('fixed_shape', 'x', [1, 3, 5, 5], iota(75))), status.INVALID_ARGUMENT,
        'Invalid input shape - Expected: (1,3,6,6); Actual: (1,3,5,5)');
      await expectGrpcError(client.predict(request('fixed_shape', 'x', [2, 3, 6, 6], iota(216))), status.INVALID_ARGUMENT,
        'Invalid input batch size - Expected: 1; Actual: 2');
      await expectGrpcError(client.predict(request('fixed_shape', 'x', [1, 3, 36], iota(108))), status.INVALID_ARGUMENT,
        'Invalid number of shape dimensions - Expected: (1,3,6,6); Actual: (1,3,36)');
    });

    it('a shape map names the input', async () => {
      assert.deepEqual((await metadataShapes('named_shape')).inputs, { x: [2, 3, 2, 2] });
      const out = await predictY('named_shape', [2, 3, 2, 2], iota(24));
      assert.deepEqual(out.values, [...iota(24, 1)]);
    });

    it('batch_size sets dim 0 of every input and keeps the rest', async () => {
      assert.deepEqual((await metadataShapes('batch_four')).inputs, { x: [4, 3, -1, -1] });
      assert.deepEqual((await metadataShapes('inc_batch_three')).inputs, { x: [3, 3, 4, 5] });
      const out = await predictY('inc_batch_three', [3, 3, 4, 5], iota(180));
      assert.deepEqual(out.dims, [3, 3, 4, 5]);
      assert.equal(out.values[179], 180);
      await expectGrpcError(client.predict(request('batch_four', 'x', [3, 3, 2, 2], iota(36))), status.INVALID_ARGUMENT,
        'Invalid input batch size - Expected: 4; Actual: 3');
    });

    it('symbolic dims accept any size without a reload', async () => {
      for (const shape of [[1, 3, 2, 2], [2, 3, 5, 7]]) {
        const out = await predictY('symbolic', shape, iota(count(shape)));
        assert.deepEqual(out.dims, shape);
      }
      assert.doesNotMatch(server.output(), /Reloading model: symbolic/);
    });

    it('a shape the model cannot run fails the load with RESHAPE_ERROR; an anonymous shape on two inputs is refused', async () => {
      for (const [model, text] of [
        ['reshape_fails', 'Model could not be reshaped with requested shape'],
        ['anonymous_two', 'Anonymous fixed shape is invalid for models with multiple inputs'],
      ] as const) {
        const res = await fetch(`${server.restUrl}/v1/models/${model}`);
        const body = await res.json() as Json;
        assert.equal(body.model_version_status[0].state, 'LOADING', model);
        assert.equal(body.model_version_status[0].status.error_code, 'UNKNOWN', model);
        assert.match(server.output(), new RegExp(`${model}[^\\n]*${text}`));
      }
    });
  });

  describe('layout', () => {
    const nchw = iota(60);
    const nhwc = toNhwc(nchw, [1, 3, 4, 5]);

    it('NHWC:NCHW: metadata shows what the client sends; NHWC input gives the NCHW result', async () => {
      assert.deepEqual(await metadataShapes('inc_nhwc'), { inputs: { x: [1, 4, 5, 3] }, outputs: { y: [1, 3, 4, 5] } });
      const reference = await predictY('inc_nchw', [1, 3, 4, 5], nchw);
      const transposed = await predictY('inc_nhwc', [1, 4, 5, 3], nhwc);
      assert.deepEqual(transposed, reference);
      assert.deepEqual(reference.values, [...iota(60, 1)]);
    });

    it('OVMS 2021.4 plain "NHWC" means the same for an NCHW model', async () => {
      assert.deepEqual((await metadataShapes('inc_legacy_nhwc')).inputs, { x: [1, 4, 5, 3] });
      assert.deepEqual(await predictY('inc_legacy_nhwc', [1, 4, 5, 3], nhwc), await predictY('inc_nchw', [1, 3, 4, 5], nchw));
    });

    it('an output layout transposes the result back for the client', async () => {
      assert.deepEqual(await metadataShapes('inc_both_nhwc'), { inputs: { x: [1, 4, 5, 3] }, outputs: { y: [1, 4, 5, 3] } });
      const out = await predictY('inc_both_nhwc', [1, 4, 5, 3], nhwc);
      assert.deepEqual(out.dims, [1, 4, 5, 3]);
      assert.deepEqual(out.values, [...nhwc].map((v) => v + 1));
    });

    it('an NCHW request to an NHWC-configured input is refused with the client-side shape', async () => {
      await expectGrpcError(client.predict(request('inc_nhwc', 'x', [1, 3, 4, 5], nchw)), status.INVALID_ARGUMENT,
        'Invalid input shape - Expected: (1,4,5,3); Actual: (1,3,4,5)');
    });
  });

  describe('auto', () => {
    it('shape auto: a request with other dims reloads the version with them', async () => {
      const same = await predictY('auto_shape', [1, 3, 4, 5], iota(60));
      assert.deepEqual(same.dims, [1, 3, 4, 5]);
      const other = await predictY('auto_shape', [2, 3, 6, 7], iota(252));
      assert.deepEqual(other.dims, [2, 3, 6, 7]);
      assert.deepEqual(other.values, [...iota(252, 1)]);
      assert.deepEqual((await metadataShapes('auto_shape')).inputs, { x: [2, 3, 6, 7] });
      await server.waitForOutput('Reloading model: auto_shape version: 1 with new input shapes: x(2,3,6,7)');
    });

    it('shape auto under concurrent load with changing shapes: no request fails, each gets its own result', async () => {
      const shapes = [[1, 3, 4, 5], [1, 3, 8, 8], [3, 3, 2, 2]];
      const calls = Array.from({ length: 36 }, (_, i) => {
        const shape = shapes[i % shapes.length]!;
        const data = iota(count(shape), i);
        return predictY('auto_shape', shape, data).then((out) => {
          assert.deepEqual(out.dims, shape);
          assert.deepEqual(out.values, [...data].map((v) => v + 1));
        });
      });
      const results = await Promise.allSettled(calls);
      const failed = results.filter((r) => r.status === 'rejected');
      assert.equal(failed.length, 0, `failed: ${failed.map((f) => String((f as PromiseRejectedResult).reason)).join('; ')}`);
    });

    it('batch_size auto: another batch reloads; other dims are still checked', async () => {
      const out = await predictY('auto_batch', [3, 3, 4, 5], iota(180));
      assert.deepEqual(out.dims, [3, 3, 4, 5]);
      assert.deepEqual((await metadataShapes('auto_batch')).inputs, { x: [3, 3, 4, 5] });
      await expectGrpcError(client.predict(request('auto_batch', 'x', [2, 3, 4, 6], iota(144))), status.INVALID_ARGUMENT,
        'Invalid input shape - Expected: (3,3,4,5); Actual: (2,3,4,6)');
    });

    it('a reshape the model cannot take answers RESHAPE_ERROR (412 / FAILED_PRECONDITION); the old shape keeps serving', async () => {
      await expectGrpcError(client.predict(request('auto_flatten', 'x', [2, 2, 3], iota(12))), status.FAILED_PRECONDITION,
        /^Model could not be reshaped with requested shape - /);
      const res = await fetch(`${server.restUrl}/v1/models/auto_flatten:predict`, {
        method: 'POST', body: JSON.stringify({ inputs: { x: [[[1, 2, 3], [4, 5, 6]], [[1, 2, 3], [4, 5, 6]]] } }),
      });
      assert.equal(res.status, 412);
      assert.match(((await res.json()) as Json).error, /^Model could not be reshaped with requested shape/);
      const ok = await client.predict(request('auto_flatten', 'x', [1, 2, 3], iota(6)));
      assert.deepEqual(floatsOf(ok.outputs.y), [0, 1, 2, 3, 4, 5]);
      const statusRes = await (await fetch(`${server.restUrl}/v1/models/auto_flatten`)).json() as Json;
      assert.equal(statusRes.model_version_status[0].state, 'AVAILABLE');
    });
  });
});
