/**
 * Writes the built-in default model repository (models/) that `npm run serve-default` serves:
 * small ONNX models the project builds itself, in the OVMS layout, plus a config.json.
 * Run: npm run models (after npm run build). The output is committed; rerunning is idempotent.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOnnxModel } from '../src/runtime/onnx/model-builder.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models');

const models: Record<string, Uint8Array> = {
  // OVMS's test model: a = b + 1 on FP32 [1,10].
  dummy: buildOnnxModel({
    name: 'dummy',
    docString: 'tsms default model: a = b + 1',
    inputs: [{ name: 'b', dtype: 'FP32', shape: [1, 10] }],
    outputs: [{ name: 'a', dtype: 'FP32', shape: [1, 10] }],
    initializers: [{ name: 'one', dtype: 'FP32', shape: [1], values: [1] }],
    nodes: [{ op: 'Add', inputs: ['b', 'one'], outputs: ['a'] }],
  }),
  // OVMS's second test model: sum = input1 + input2.
  add_two_inputs: buildOnnxModel({
    name: 'add_two_inputs',
    docString: 'tsms default model: sum = input1 + input2',
    inputs: [
      { name: 'input1', dtype: 'FP32', shape: [1, 10] },
      { name: 'input2', dtype: 'FP32', shape: [1, 10] },
    ],
    outputs: [{ name: 'sum', dtype: 'FP32', shape: [1, 10] }],
    nodes: [{ op: 'Add', inputs: ['input1', 'input2'], outputs: ['sum'] }],
  }),
  // A batchable model: any number of rows of 4 features → their softmax.
  softmax: buildOnnxModel({
    name: 'softmax',
    docString: 'tsms default model: probabilities = softmax(logits) over the last axis',
    inputs: [{ name: 'logits', dtype: 'FP32', shape: ['batch', 4] }],
    outputs: [{ name: 'probabilities', dtype: 'FP32', shape: ['batch', 4] }],
    nodes: [{ op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: -1 } }],
  }),
};

for (const [name, bytes] of Object.entries(models)) {
  const dir = path.join(root, name, '1');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.onnx'), bytes);
}

const config = {
  model_config_list: Object.keys(models).map((name) => ({ config: { name, base_path: name } })),
};
writeFileSync(path.join(root, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
console.log(`wrote ${Object.keys(models).length} models and config.json to ${root}`);
