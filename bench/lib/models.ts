/**
 * The models the bench serves, generated here so it runs without ../shared:
 * - dummy: b[1,10] -> a = b + 1 (tiny, transport-bound)
 * - cnn:   x[N,3,224,224] -> 7x(Conv3x3+Relu) -> GlobalAveragePool -> Gemm 256->1000 (1.06 GFLOP
 *          per image, compute-bound, symbolic batch so it is batchable; node-perf.md's CNN)
 * - big:   x[1,3,1024,1024] -> y = x * 2 (12.6 MB in and out)
 * - mlp:   x[N,512] -> 4x(MatMul 512x512 + Relu) (4 MB of weights, 2.1 MFLOP per row): at batch 1
 *          each run streams every weight for one row, so it is memory-bound and joined rows reuse
 *          the weights — the model the dynamic-batching target is judged on
 * plus, on request, mobilenetv2-12-int8 from ../shared/models.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildOnnxModel, type InitializerSpec, type NodeSpec } from '../../src/runtime/onnx/model-builder.js';
import { gaussian, seededRandom } from './stats.js';

export interface BenchModel {
  readonly name: string;
  /** model.onnx inside `<repo>/<name>/1/`. */
  readonly file: string;
  readonly inputName: string;
  readonly outputName: string;
  /** Shape of one request (batch 1). */
  readonly inputShape: readonly number[];
  readonly input: Float32Array;
  readonly description: string;
}

function floatBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function dummyOnnx(): Uint8Array {
  return buildOnnxModel({
    name: 'dummy',
    inputs: [{ name: 'b', dtype: 'FP32', shape: [1, 10] }],
    outputs: [{ name: 'a', dtype: 'FP32', shape: [1, 10] }],
    initializers: [{ name: 'one', dtype: 'FP32', shape: [1], values: [1] }],
    nodes: [{ op: 'Add', inputs: ['b', 'one'], outputs: ['a'] }],
  });
}

const CNN_CHANNELS = [32, 64, 64, 128, 128, 256, 256];
const CNN_STRIDES = [2, 2, 1, 2, 1, 2, 1];

export function cnnOnnx(seed = 1234): Uint8Array {
  const normal = gaussian(seededRandom(seed));
  const initializers: InitializerSpec[] = [];
  const nodes: NodeSpec[] = [];
  const heWeights = (count: number, fanIn: number) => {
    const std = Math.sqrt(2 / fanIn);
    const w = new Float32Array(count);
    for (let i = 0; i < count; i++) w[i] = normal() * std;
    return floatBytes(w);
  };
  let prev = 'x';
  let inChannels = 3;
  CNN_CHANNELS.forEach((out, i) => {
    initializers.push(
      { name: `w${i}`, dtype: 'FP32', shape: [out, inChannels, 3, 3], values: heWeights(out * inChannels * 9, inChannels * 9) },
      { name: `b${i}`, dtype: 'FP32', shape: [out], values: floatBytes(new Float32Array(out).fill(0.01)) },
    );
    nodes.push(
      { op: 'Conv', inputs: [prev, `w${i}`, `b${i}`], outputs: [`c${i}`], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [CNN_STRIDES[i]!, CNN_STRIDES[i]!] } },
      { op: 'Relu', inputs: [`c${i}`], outputs: [`r${i}`] },
    );
    prev = `r${i}`;
    inChannels = out;
  });
  initializers.push(
    { name: 'fc_w', dtype: 'FP32', shape: [1000, 256], values: heWeights(1000 * 256, 256) },
    { name: 'fc_b', dtype: 'FP32', shape: [1000], values: floatBytes(new Float32Array(1000)) },
  );
  nodes.push(
    { op: 'GlobalAveragePool', inputs: [prev], outputs: ['gap'] },
    { op: 'Flatten', inputs: ['gap'], outputs: ['flat'], attributes: { axis: 1 } },
    { op: 'Gemm', inputs: ['flat', 'fc_w', 'fc_b'], outputs: ['y'], attributes: { transB: 1 } },
  );
  return buildOnnxModel({
    name: 'cnn',
    inputs: [{ name: 'x', dtype: 'FP32', shape: ['N', 3, 224, 224] }],
    outputs: [{ name: 'y', dtype: 'FP32', shape: ['N', 1000] }],
    initializers,
    nodes,
  });
}

export const MLP_WIDTH = 512;
const MLP_LAYERS = 4;

/** The batchable memory-bound model (also bench/dynamic-batching.ts's `mlp`). */
export function mlpOnnx(seed = 4321): Uint8Array {
  const normal = gaussian(seededRandom(seed));
  // He-init keeps the activations' scale through the Relus, so the outputs stay far from 0 and the
  // correctness check compares meaningful numbers.
  const std = Math.sqrt(2 / MLP_WIDTH);
  const initializers: InitializerSpec[] = [];
  const nodes: NodeSpec[] = [];
  let prev = 'x';
  for (let i = 0; i < MLP_LAYERS; i++) {
    const w = new Float32Array(MLP_WIDTH * MLP_WIDTH);
    for (let k = 0; k < w.length; k++) w[k] = normal() * std;
    initializers.push({ name: `w${i}`, dtype: 'FP32', shape: [MLP_WIDTH, MLP_WIDTH], values: floatBytes(w) });
    const out = i === MLP_LAYERS - 1 ? 'y' : `r${i}`;
    nodes.push({ op: 'MatMul', inputs: [prev, `w${i}`], outputs: [`m${i}`] }, { op: 'Relu', inputs: [`m${i}`], outputs: [out] });
    prev = out;
  }
  return buildOnnxModel({
    name: 'mlp',
    inputs: [{ name: 'x', dtype: 'FP32', shape: ['N', MLP_WIDTH] }],
    outputs: [{ name: 'y', dtype: 'FP32', shape: ['N', MLP_WIDTH] }],
    initializers,
    nodes,
  });
}

export function bigOnnx(): Uint8Array {
  const shape = [1, 3, 1024, 1024];
  return buildOnnxModel({
    name: 'big',
    inputs: [{ name: 'x', dtype: 'FP32', shape }],
    outputs: [{ name: 'y', dtype: 'FP32', shape }],
    initializers: [{ name: 'two', dtype: 'FP32', shape: [1], values: [2] }],
    nodes: [{ op: 'Mul', inputs: ['x', 'two'], outputs: ['y'] }],
  });
}

function randomInput(count: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rand();
  return out;
}

function writeModel(repo: string, name: string, bytes: Uint8Array): string {
  const dir = path.join(repo, name, '1');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'model.onnx');
  writeFileSync(file, bytes);
  return file;
}

/** Writes the generated models into `<repo>/<name>/1/model.onnx`. */
export function generateModels(repo: string): BenchModel[] {
  return [
    {
      name: 'dummy', file: writeModel(repo, 'dummy', dummyOnnx()), inputName: 'b', outputName: 'a',
      inputShape: [1, 10], input: Float32Array.from({ length: 10 }, (_, i) => i),
      description: 'b[1,10] -> b+1 (tiny, transport-bound)',
    },
    {
      name: 'cnn', file: writeModel(repo, 'cnn', cnnOnnx()), inputName: 'x', outputName: 'y',
      inputShape: [1, 3, 224, 224], input: randomInput(3 * 224 * 224, 7),
      description: '7x Conv3x3+Relu -> GAP -> Gemm 1000, 1.06 GFLOP/img, 150528 floats in',
    },
    {
      name: 'big', file: writeModel(repo, 'big', bigOnnx()), inputName: 'x', outputName: 'y',
      inputShape: [1, 3, 1024, 1024], input: randomInput(3 * 1024 * 1024, 11),
      description: 'x[1,3,1024,1024] -> x*2 (12.6 MB in/out)',
    },
    {
      name: 'mlp', file: writeModel(repo, 'mlp', mlpOnnx()), inputName: 'x', outputName: 'y',
      inputShape: [1, MLP_WIDTH], input: randomInput(MLP_WIDTH, 17),
      description: '4x (MatMul 512x512 + Relu), x[N,512]: memory-bound at batch 1, batchable',
    },
  ];
}

/** mobilenetv2-12-int8 from ../shared/models, copied into the bench repository. */
export function sharedMobilenet(repo: string, sharedModels: string): BenchModel {
  const dir = path.join(repo, 'mobilenet', '1');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'model.onnx');
  copyFileSync(path.join(sharedModels, 'mobilenetv2-12-int8/1/model.onnx'), file);
  return {
    name: 'mobilenet', file, inputName: 'input', outputName: 'output', inputShape: [1, 3, 224, 224],
    input: randomInput(3 * 224 * 224, 13), description: 'mobilenetv2-12-int8 (../shared/models)',
  };
}
