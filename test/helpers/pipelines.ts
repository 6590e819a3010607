/**
 * Pipeline config pieces and test custom node libraries for the pipeline tests.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export type Source = { node_name: string; data_item: string };
export const src = (node: string, item: string): Source => ({ node_name: node, data_item: item });

export function modelNode(name: string, model: string, inputs: Record<string, Source>, outputs: [string, string][], extra: object = {}): object {
  return {
    name, type: 'DL model', model_name: model,
    inputs: Object.entries(inputs).map(([k, v]) => ({ [k]: v })),
    outputs: outputs.map(([data_item, alias]) => ({ data_item, alias })),
    ...extra,
  };
}

export function customNode(name: string, library: string, inputs: Record<string, Source>, outputs: [string, string][], extra: object = {}): object {
  return {
    name, type: 'custom', library_name: library,
    inputs: Object.entries(inputs).map(([k, v]) => ({ [k]: v })),
    outputs: outputs.map(([data_item, alias]) => ({ data_item, alias })),
    ...extra,
  };
}

export function pipeline(name: string, inputs: string[], nodes: object[], outputs: Record<string, Source>): object {
  return { name, inputs, nodes, outputs: Object.entries(outputs).map(([k, v]) => ({ [k]: v })) };
}

/** Test custom node libraries (ES modules), by file name. */
export const testLibraries: Record<string, string> = {
  // x FP32 [1,10] → items [N,1,10]: N = round(x[0]) (negative = 0), item i = x + i.
  'splitter.mjs': `
export function getInputsInfo() { return [{ name: 'x', dtype: 'FP32', shape: [1, 10] }]; }
export function getOutputsInfo() { return [{ name: 'items', dtype: 'FP32', shape: [0, 1, 10] }]; }
export function execute(inputs) {
  const x = inputs.x.data;
  const n = Math.max(0, Math.round(x[0]));
  const data = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) for (let j = 0; j < 10; j++) data[i * 10 + j] = x[j] + i;
  return { items: { dtype: 'FP32', shape: [n, 1, 10], data } };
}
`,
  // Passes x on; throws when x[0] is below the "limit" param.
  'failing.mjs': `
export function initialize(params) {
  const limit = Number(params.limit ?? '0');
  if (Number.isNaN(limit)) throw new Error('limit must be a number');
  return { limit };
}
export function getInputsInfo() { return [{ name: 'x', dtype: 'FP32', shape: [1, 10] }]; }
export function getOutputsInfo() { return [{ name: 'y', dtype: 'FP32', shape: [1, 10] }]; }
export function execute(inputs, params, state) {
  const v = inputs.x.data[0];
  if (v < state.limit) throw new Error('value ' + v + ' is below the limit ' + state.limit);
  return new Map([['y', inputs.x]]);
}
`,
  // Declares FP32 but returns INT32.
  'wrong-output.mjs': `
export function getInputsInfo() { return [{ name: 'x', dtype: 'FP32', shape: [1, 10] }]; }
export function getOutputsInfo() { return [{ name: 'y', dtype: 'FP32', shape: [1, 10] }]; }
export function execute() { return { y: { dtype: 'INT32', shape: [1, 10], data: new Int32Array(10) } }; }
`,
  // No execute export.
  'broken.mjs': `
export function getInputsInfo() { return []; }
export function getOutputsInfo() { return []; }
`,
};

/** Writes the test libraries into `dir`; returns `custom_node_library_config_list` entries named after the files. */
export function writeTestLibraries(dir: string): { name: string; base_path: string }[] {
  return Object.entries(testLibraries).map(([file, code]) => {
    const p = path.join(dir, file);
    writeFileSync(p, code);
    return { name: file.replace(/\.mjs$/, '').replace(/-/g, '_'), base_path: p };
  });
}
