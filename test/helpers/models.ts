/**
 * Test models the project generates itself, so the core suite runs without ../shared.
 */
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildOnnxModel } from '../../src/runtime/onnx/model-builder.js';
import type { DType } from '../../src/core/dtype.js';

/** a = b + 1, b and a FP32 [1,10] (the OVMS dummy). */
export function dummyModel(addValue = 1, shape: readonly (number | string)[] = [1, 10]): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'b', dtype: 'FP32', shape }],
    outputs: [{ name: 'a', dtype: 'FP32', shape }],
    initializers: [{ name: 'one', dtype: 'FP32', shape: [1], values: [addValue] }],
    nodes: [{ op: 'Add', inputs: ['b', 'one'], outputs: ['a'] }],
  });
}

/** sum = input1 + input2, FP32 [1,10]. */
export function addTwoInputsModel(): Uint8Array {
  return buildOnnxModel({
    inputs: [
      { name: 'input1', dtype: 'FP32', shape: [1, 10] },
      { name: 'input2', dtype: 'FP32', shape: [1, 10] },
    ],
    outputs: [{ name: 'sum', dtype: 'FP32', shape: [1, 10] }],
    nodes: [{ op: 'Add', inputs: ['input1', 'input2'], outputs: ['sum'] }],
  });
}

/** out = Identity(in) for one dtype; shape [batch, 3] with a symbolic batch. */
export function identityModel(dtype: DType, shape: readonly (number | string)[] = ['batch', 3]): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'in', dtype, shape }],
    outputs: [{ name: 'out', dtype, shape }],
    nodes: [{ op: 'Identity', inputs: ['in'], outputs: ['out'] }],
  });
}

/** Two outputs from one input: doubled = x*2, negated = -x. FP32 [batch,4]. */
export function twoOutputsModel(): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'x', dtype: 'FP32', shape: ['batch', 4] }],
    outputs: [
      { name: 'doubled', dtype: 'FP32', shape: ['batch', 4] },
      { name: 'negated', dtype: 'FP32', shape: ['batch', 4] },
    ],
    initializers: [{ name: 'two', dtype: 'FP32', shape: [1], values: [2] }],
    nodes: [
      { op: 'Mul', inputs: ['x', 'two'], outputs: ['doubled'] },
      { op: 'Neg', inputs: ['x'], outputs: ['negated'] },
    ],
  });
}

export interface RepoLayout {
  /** model name → version → model.onnx bytes */
  readonly [model: string]: Readonly<Record<number, Uint8Array>>;
}

/** Writes `<root>/<model>/<version>/model.onnx` for each entry; returns root. */
export function writeRepository(root: string, layout: RepoLayout): string {
  for (const [model, versions] of Object.entries(layout)) {
    for (const [version, bytes] of Object.entries(versions)) {
      const dir = path.join(root, model, String(version));
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'model.onnx'), bytes);
    }
  }
  return root;
}

/**
 * writeRepository, plus `<root>/config.json` serving every model of `layout` from its folder;
 * returns the config's path (for `--config_path`).
 */
export function writeServedRepository(root: string, layout: RepoLayout): string {
  writeRepository(root, layout);
  const configPath = path.join(root, 'config.json');
  const models = Object.keys(layout).map((name) => ({ config: { name, base_path: path.join(root, name) } }));
  writeFileSync(configPath, JSON.stringify({ model_config_list: models }));
  return configPath;
}

export function tempDir(prefix = 'tsms-test-'): { path: string; remove(): void } {
  const p = mkdtempSync(path.join(tmpdir(), prefix));
  return { path: p, remove: () => rmSync(p, { recursive: true, force: true }) };
}

/**
 * A deliberately slow model for in-flight and shutdown tests: y = x·W repeated `repeats` times on
 * [size,size] matrices (about 2·size³·repeats FLOPs), then reduced to one row so responses stay small.
 * The input is `x` FP32 [size,size]; the output `y` FP32 [1,size].
 */
export function slowModel(size = 384, repeats = 24): Uint8Array {
  const w = new Float32Array(size * size);
  // Scaled identity keeps values finite and the result predictable: y = x summed over rows.
  for (let i = 0; i < size; i++) w[i * size + i] = 1;
  const nodes = [];
  let prev = 'x';
  for (let r = 0; r < repeats; r++) {
    nodes.push({ op: 'MatMul', inputs: [prev, 'w'], outputs: [`m${r}`] });
    prev = `m${r}`;
  }
  nodes.push({ op: 'ReduceSum', inputs: [prev, 'axes'], outputs: ['y'], attributes: { keepdims: 1 } });
  return buildOnnxModel({
    inputs: [{ name: 'x', dtype: 'FP32', shape: [size, size] }],
    outputs: [{ name: 'y', dtype: 'FP32', shape: [1, size] }],
    initializers: [
      { name: 'w', dtype: 'FP32', shape: [size, size], values: new Uint8Array(w.buffer) },
      { name: 'axes', dtype: 'INT64', shape: [1], values: [0] },
    ],
    nodes,
  });
}
