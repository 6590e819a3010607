/**
 * Pipeline definition validation (SPEC §7.4), in process: each OVMS status for a broken graph, and
 * the metadata a valid one gets. Models are described by their metadata only (validation never runs
 * them); custom nodes by the info their library would return.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DType } from '../src/core/dtype.js';
import type { Servable } from '../src/core/servable.js';
import type { TensorSpec } from '../src/core/tensor.js';
import { parsePipelineConfig } from '../src/pipeline/definition.js';
import { PipelineError, type PipelineStatusName } from '../src/pipeline/status.js';
import { specsFromLibraryInfo, validatePipeline, type ModelLookup, type ValidatedPipeline } from '../src/pipeline/validate.js';

const spec = (name: string, shape: number[], dtype: DType = 'FP32'): TensorSpec => ({ name, dtype, shape });

interface FakeModel {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  versions?: number[];
  dynamic?: boolean;
}

/** dummy: b [1,10] → a; add: input1, input2 → sum; ints: INT32 in/out; wide: b [1,20] → a. */
const defaultModels: Record<string, FakeModel> = {
  dummy: { inputs: [spec('b', [1, 10])], outputs: [spec('a', [1, 10])], versions: [1, 2] },
  add: { inputs: [spec('input1', [1, 10]), spec('input2', [1, 10])], outputs: [spec('sum', [1, 10])] },
  ints: { inputs: [spec('b', [1, 10], 'INT32')], outputs: [spec('a', [1, 10], 'INT32')] },
  wide: { inputs: [spec('b', [1, 20])], outputs: [spec('a', [1, 20])] },
  any: { inputs: [spec('x', [-1, -1])], outputs: [spec('y', [-1, -1])] },
  any3: { inputs: [spec('x', [-1, -1, -1])], outputs: [spec('y', [-1, -1, -1])] },
  auto: { inputs: [spec('b', [1, 10])], outputs: [spec('a', [1, 10])], dynamic: true },
  rec: { inputs: [spec('x', [-1, 3, 48, -1])], outputs: [spec('p', [-1, -1, 10])] },
};

function lookup(models: Record<string, FakeModel> = defaultModels): ModelLookup {
  return {
    availableVersion(name, version) {
      const m = models[name];
      if (!m || (version !== undefined && !(m.versions ?? [1]).includes(version))) return undefined;
      return { name, version: version ?? 1, inputs: m.inputs, outputs: m.outputs, infer: () => Promise.reject(new Error('not run')) } as Servable;
    },
    usesDynamicParameters: (name) => models[name]?.dynamic === true,
  };
}

/** Custom node metadata by library name. */
const libraries: Record<string, { inputs: TensorSpec[]; outputs: TensorSpec[] }> = {
  splitter: { inputs: [spec('x', [1, 10])], outputs: [spec('items', [-1, 1, 10])] },
  split3: { inputs: [spec('x', [1, 10])], outputs: [spec('items', [3, 1, 10])] },
  flat: { inputs: [spec('x', [1, 10])], outputs: [spec('items', [-1])] },
  crops: { inputs: [spec('image', [1, -1, -1, 3], 'UINT8')], outputs: [spec('images', [-1, 1, 3, 48, -1])] },
  byte_image: { inputs: [spec('image', [1, -1, -1, 3], 'UINT8')], outputs: [spec('out', [1, 10])] },
  other_image: { inputs: [spec('image', [1, 224, 224, 3], 'UINT8')], outputs: [spec('out', [1, 10])] },
};

function validate(raw: object, models = lookup()): ValidatedPipeline {
  const config = parsePipelineConfig({ name: 'p', ...raw });
  return validatePipeline(config, models, (node) => {
    const lib = libraries[node.libraryName!];
    if (!lib) throw new Error(`test has no library ${node.libraryName}`);
    return lib;
  });
}

function rejects(raw: object, status: PipelineStatusName, text: RegExp | string, models = lookup()): void {
  assert.throws(() => validate(raw, models), (err: unknown) => {
    assert.ok(err instanceof PipelineError, String(err));
    assert.equal(err.pipelineStatus, status, err.message);
    if (typeof text === 'string') assert.equal(err.message, text);
    else assert.match(err.message, text);
    return true;
  });
}

const src = (node: string, item: string) => ({ node_name: node, data_item: item });
const dl = (name: string, model: string, inputs: Record<string, ReturnType<typeof src>>, outputs: [string, string][], extra: object = {}) => ({
  name, type: 'DL model', model_name: model,
  inputs: Object.entries(inputs).map(([k, v]) => ({ [k]: v })),
  outputs: outputs.map(([data_item, alias]) => ({ data_item, alias })),
  ...extra,
});
const custom = (name: string, library: string, inputs: Record<string, ReturnType<typeof src>>, outputs: [string, string][], extra: object = {}) => ({
  name, type: 'custom', library_name: library,
  inputs: Object.entries(inputs).map(([k, v]) => ({ [k]: v })),
  outputs: outputs.map(([data_item, alias]) => ({ data_item, alias })),
  ...extra,
});
const out = (name: string, node: string, item: string) => ({ [name]: src(node, item) });

/** request.in → dummy → dummy → response.out */
const chain = {
  inputs: ['in'],
  nodes: [
    dl('first', 'dummy', { b: src('request', 'in') }, [['a', 'a1']]),
    dl('second', 'dummy', { b: src('first', 'a1') }, [['a', 'a2']]),
  ],
  outputs: [out('out', 'second', 'a2')],
};

describe('pipeline validation: valid definitions', () => {
  test('a chain takes its metadata from the nodes it connects', () => {
    const v = validate(chain);
    assert.deepEqual(v.inputs, [spec('in', [1, 10])]);
    assert.deepEqual(v.outputs, [spec('out', [1, 10])]);
    assert.deepEqual(v.order, ['request', 'first', 'second', 'response']);
    assert.deepEqual([...v.nodes.get('first')!.usedOutputs], [['a1', 'a']]);
    assert.deepEqual(v.nodes.get('request')!.consumers, ['first']);
  });

  test('fan-in from two branches; unused pipeline inputs are not part of the metadata', () => {
    const v = validate({
      inputs: ['x', 'unused'],
      nodes: [
        dl('left', 'dummy', { b: src('request', 'x') }, [['a', 'l']]),
        dl('right', 'dummy', { b: src('request', 'x') }, [['a', 'r']]),
        dl('sum', 'add', { input1: src('left', 'l'), input2: src('right', 'r') }, [['sum', 's']]),
      ],
      outputs: [out('total', 'sum', 's'), out('left', 'left', 'l')],
    });
    assert.deepEqual(v.inputs, [spec('x', [1, 10])]);
    assert.deepEqual(v.outputs.map((o) => o.name), ['total', 'left']);
    assert.deepEqual(v.nodes.get('sum')!.dependencies, ['left', 'right']);
  });

  test('a dynamic demultiplexer gathered at the response adds a leading -1', () => {
    const v = validate({
      inputs: ['x'],
      nodes: [
        custom('split', 'splitter', { x: src('request', 'x') }, [['items', 'item']], { demultiply_count: 0 }),
        dl('model', 'dummy', { b: src('split', 'item') }, [['a', 'y']]),
      ],
      outputs: [out('ys', 'model', 'y')],
    });
    assert.deepEqual(v.outputs, [spec('ys', [-1, 1, 10])]);
    assert.deepEqual(v.nodes.get('model')!.level, ['split']);
    assert.deepEqual(v.nodes.get('response')!.level, ['split']);
  });

  test('a fixed demultiplexer reports its count; gather_from_node closes the level', () => {
    const v = validate({
      inputs: ['x'],
      nodes: [
        custom('split', 'split3', { x: src('request', 'x') }, [['items', 'item']], { demultiply_count: 3 }),
        dl('model', 'dummy', { b: src('split', 'item') }, [['a', 'y']]),
        dl('after', 'any3', { x: src('model', 'y') }, [['y', 'z']], { gather_from_node: 'split' }),
      ],
      outputs: [out('z', 'after', 'z')],
    });
    assert.deepEqual(v.outputs, [spec('z', [-1, -1, -1])]);
    assert.deepEqual(v.nodes.get('after')!.level, []);
    assert.deepEqual(v.nodes.get('model')!.level, ['split']);
  });

  test('the demultiplexed output itself goes to the response with the count in front', () => {
    const v = validate({
      inputs: ['x'],
      nodes: [custom('split', 'split3', { x: src('request', 'x') }, [['items', 'item']], { demultiply_count: 3 })],
      outputs: [out('items', 'split', 'item')],
    });
    assert.deepEqual(v.outputs, [spec('items', [3, 1, 10])]);
  });

  test('pipeline-level demultiply_count adds a dimension to the inputs and outputs', () => {
    const v = validate({ ...chain, demultiply_count: 0 });
    assert.deepEqual(v.inputs, [spec('in', [-1, 1, 10])]);
    assert.deepEqual(v.outputs, [spec('out', [-1, 1, 10])]);
    const fixed = validate({ ...chain, demultiply_count: 4 });
    assert.deepEqual(fixed.inputs, [spec('in', [4, 1, 10])]);
  });

  test('dynamic dimensions match anything; crops feed a dynamic-width model', () => {
    const v = validate({
      inputs: ['image'],
      nodes: [
        custom('crop', 'crops', { image: src('request', 'image') }, [['images', 'line']], { demultiply_count: 0 }),
        dl('rec', 'rec', { x: src('crop', 'line') }, [['p', 'p']]),
      ],
      outputs: [out('p', 'rec', 'p')],
    });
    assert.deepEqual(v.inputs, [spec('image', [1, -1, -1, 3], 'UINT8')]);
    assert.deepEqual(v.outputs, [spec('p', [-1, -1, -1, 10])]);
  });

  test('an input passed straight to the response accepts anything', () => {
    const v = validate({ inputs: ['x'], nodes: [], outputs: [out('y', 'request', 'x')] });
    assert.deepEqual([...v.unspecifiedInputs], ['x']);
    assert.deepEqual(v.outputs.map((o) => o.name), ['y']);
  });

  test('a pinned version that exists', () => {
    const v = validate({ ...chain, nodes: [dl('first', 'dummy', { b: src('request', 'in') }, [['a', 'a1']], { version: 2 }), chain.nodes[1]] });
    assert.equal(v.nodes.get('first')!.config!.modelVersion, 2);
  });
});

describe('pipeline validation: errors (SPEC §7.4)', () => {
  test('reserved node names', () => {
    rejects({ ...chain, nodes: [...chain.nodes, dl('request', 'dummy', { b: src('first', 'a1') }, [])] },
      'PIPELINE_MULTIPLE_ENTRY_NODES', 'Pipeline definition has multiple request nodes - a node may not be named "request"');
    rejects({ ...chain, nodes: [...chain.nodes, dl('response', 'dummy', { b: src('first', 'a1') }, [])] },
      'PIPELINE_MULTIPLE_EXIT_NODES', /^Pipeline definition has multiple response nodes/);
  });

  test('two nodes with one name', () => {
    rejects({ ...chain, nodes: [...chain.nodes, chain.nodes[0]] },
      'PIPELINE_NODE_NAME_DUPLICATE', 'Pipeline definition has multiple nodes with the same name - node: first');
  });

  test('a cycle, and a node feeding itself', () => {
    rejects({
      inputs: ['in'],
      nodes: [
        dl('a', 'add', { input1: src('request', 'in'), input2: src('b', 'y') }, [['sum', 'x']]),
        dl('b', 'dummy', { b: src('a', 'x') }, [['a', 'y']]),
      ],
      outputs: [out('out', 'b', 'y')],
    }, 'PIPELINE_CYCLE_FOUND', /^Pipeline definition contains a cycle - nodes: /);
    rejects({
      inputs: ['in'],
      nodes: [dl('a', 'add', { input1: src('request', 'in'), input2: src('a', 'x') }, [['sum', 'x']])],
      outputs: [out('out', 'a', 'x')],
    }, 'PIPELINE_CYCLE_FOUND', 'Pipeline definition contains a cycle - node: a is connected to itself');
  });

  test('a node whose result never reaches the response', () => {
    rejects({ ...chain, nodes: [...chain.nodes, dl('idle', 'dummy', { b: src('request', 'in') }, [['a', 'x']])] },
      'PIPELINE_CONTAINS_UNCONNECTED_NODES', 'Pipeline definition has unconnected nodes - nodes: idle');
  });

  test('a connection from a node that does not exist', () => {
    rejects({ ...chain, nodes: [chain.nodes[0], dl('second', 'dummy', { b: src('ghost', 'a1') }, [['a', 'a2']])] },
      'PIPELINE_NODE_REFERING_TO_MISSING_NODE', 'Pipeline definition has reference to missing node - node: second refers to node: ghost');
  });

  test('an unknown model, and a pinned version that is not there', () => {
    rejects({ ...chain, nodes: [dl('first', 'nope', { b: src('request', 'in') }, [['a', 'a1']]), chain.nodes[1]] },
      'PIPELINE_NODE_REFERING_TO_MISSING_MODEL', 'Pipeline definition has reference to missing model - node: first; model: nope');
    rejects({ ...chain, nodes: [dl('first', 'dummy', { b: src('request', 'in') }, [['a', 'a1']], { version: 7 }), chain.nodes[1]] },
      'PIPELINE_NODE_REFERING_TO_MISSING_MODEL', 'Pipeline definition has reference to missing model - node: first; model: dummy; version: 7');
  });

  test('a model with auto batch size or shape', () => {
    rejects({ ...chain, nodes: [dl('first', 'auto', { b: src('request', 'in') }, [['a', 'a1']]), chain.nodes[1]] },
      'FORBIDDEN_MODEL_DYNAMIC_PARAMETER', /^Value of provided parameter is forbidden - node: first uses model: auto/);
  });

  test('a data item that is not an output alias, or not a pipeline input', () => {
    rejects({ ...chain, nodes: [chain.nodes[0], dl('second', 'dummy', { b: src('first', 'typo') }, [['a', 'a2']])] },
      'PIPELINE_NODE_REFERING_TO_MISSING_DATA_SOURCE', /^Pipeline definition has reference to missing data source - node: second refers to data item: typo of node: first/);
    rejects({ ...chain, nodes: [dl('first', 'dummy', { b: src('request', 'other') }, [['a', 'a1']]), chain.nodes[1]] },
      'PIPELINE_NODE_REFERING_TO_MISSING_DATA_SOURCE', /pipeline input: other/);
    rejects({ ...chain, outputs: [out('out', 'second', 'nothing')] },
      'PIPELINE_NODE_REFERING_TO_MISSING_DATA_SOURCE', /node: response refers to data item: nothing of node: second/);
  });

  test('an alias of a model output that does not exist', () => {
    rejects({ ...chain, nodes: [dl('first', 'dummy', { b: src('request', 'in') }, [['not_a', 'a1']]), chain.nodes[1]] },
      'PIPELINE_NODE_REFERING_TO_MISSING_MODEL_OUTPUT', 'Pipeline definition has reference to missing model output - node: first has no output: not_a (data item: a1)');
  });

  test('a connection to an input the model does not have', () => {
    rejects({ ...chain, nodes: [dl('first', 'dummy', { b: src('request', 'in'), c: src('request', 'in') }, [['a', 'a1']]), chain.nodes[1]] },
      'PIPELINE_CONNECTION_TO_MISSING_MODEL_INPUT', 'Pipeline definition has connection to non existing model input - node: first has no input: c');
  });

  test('a model input left unconnected', () => {
    rejects({
      inputs: ['in'],
      nodes: [dl('sum', 'add', { input1: src('request', 'in') }, [['sum', 's']])],
      outputs: [out('out', 'sum', 's')],
    }, 'PIPELINE_NOT_ALL_INPUTS_CONNECTED', 'Pipeline definition does not have connections for all inputs of underlying models - node: sum; not connected: input2');
  });

  test('one input connected twice', () => {
    rejects({
      inputs: ['in'],
      nodes: [{
        name: 'first', type: 'DL model', model_name: 'dummy',
        inputs: [{ b: src('request', 'in') }, { b: src('request', 'in') }],
        outputs: [{ data_item: 'a', alias: 'a1' }],
      }],
      outputs: [out('out', 'first', 'a1')],
    }, 'PIPELINE_MODEL_INPUT_CONNECTED_TO_MULTIPLE_DATA_SOURCES', 'Pipeline definition has multiple connections to the same input of underlying model - node: first; input: b');
  });

  test('the response used as a source', () => {
    rejects({ ...chain, nodes: [chain.nodes[0], dl('second', 'dummy', { b: src('response', 'out') }, [['a', 'a2']])] },
      'PIPELINE_EXIT_USED_AS_NODE_DEPENDENCY', 'Pipeline definition has response node used as dependency node - node: second');
  });

  test('shapes that cannot match', () => {
    rejects({ ...chain, nodes: [chain.nodes[0], dl('second', 'wide', { b: src('first', 'a1') }, [['a', 'a2']])] },
      'INVALID_SHAPE', 'Invalid input shape - Shape mismatch between: dependant node: second; input: b; shape: (1,20) vs dependency node: first; output: a; shape: (1,10)');
  });

  test('precisions that differ', () => {
    rejects({ ...chain, nodes: [chain.nodes[0], dl('second', 'ints', { b: src('first', 'a1') }, [['a', 'a2']])] },
      'INVALID_PRECISION', 'Invalid input precision - Precision mismatch between: dependant node: second; input: b; precision: INT32 vs dependency node: first; output: a; precision: FP32');
  });

  test('two nodes wanting different metadata for one pipeline input', () => {
    rejects({
      inputs: ['image'],
      nodes: [
        custom('a', 'byte_image', { image: src('request', 'image') }, [['out', 'o1']]),
        custom('b', 'other_image', { image: src('request', 'image') }, [['out', 'o2']]),
        dl('sum', 'add', { input1: src('a', 'o1'), input2: src('b', 'o2') }, [['sum', 's']]),
      ],
      outputs: [out('s', 'sum', 's')],
    }, 'PIPELINE_INPUTS_AMBIGUOUS_METADATA', /^Multiple nodes connected to the same pipeline input require different tensor metadata - input: image/);
  });

  test('demultiplexing a tensor with too few dimensions', () => {
    rejects({
      inputs: ['x'],
      nodes: [custom('split', 'flat', { x: src('request', 'x') }, [['items', 'item']], { demultiply_count: 0 })],
      outputs: [out('items', 'split', 'item')],
    }, 'PIPELINE_NOT_ENOUGH_SHAPE_DIMENSIONS_TO_DEMULTIPLY', 'Pipeline has not enough shape dimensions to demultiply - node: split; output: items; shape: (-1)');
  });

  test('a fixed demultiply_count that contradicts the output shape', () => {
    rejects({
      inputs: ['x'],
      nodes: [custom('split', 'split3', { x: src('request', 'x') }, [['items', 'item']], { demultiply_count: 2 })],
      outputs: [out('items', 'split', 'item')],
    }, 'PIPELINE_DEMULTIPLY_COUNT_DOES_NOT_MATCH_TENSOR_SHARD_COUNT', /^Demultiplication count does not match tensor first dimension - node: split; demultiply_count: 2/);
  });

  const gatherFrom = (from: string, splitExtra: object = { demultiply_count: 0 }) => ({
    inputs: ['x'],
    nodes: [
      custom('split', 'splitter', { x: src('request', 'x') }, [['items', 'item']], splitExtra),
      dl('model', 'dummy', { b: src('split', 'item') }, [['a', 'y']]),
      dl('after', 'any3', { x: src('model', 'y') }, [['y', 'z']], { gather_from_node: from }),
    ],
    outputs: [out('z', 'after', 'z')],
  });

  test('gathering from a node that does not exist, is no demultiplexer, or is the request', () => {
    rejects(gatherFrom('ghost'), 'PIPELINE_NODE_GATHER_FROM_NOT_EXISTING_NODE', 'Gather node refers to not existing node - node: after; gather_from_node: ghost');
    rejects(gatherFrom('model'), 'PIPELINE_NODE_GATHER_FROM_NOT_DEMULTIPLEXER', 'Gather node refers to node that isn\'t demultiplexer - node: after; gather_from_node: model');
    rejects(gatherFrom('request'), 'PIPELINE_NODE_GATHER_FROM_ENTRY_NODE', 'Gathering from entry node is not allowed - node: after');
  });

  test('gathering from a demultiplexer that is not the innermost one (LIFO)', () => {
    rejects({
      inputs: ['x'],
      nodes: [
        custom('outer', 'splitter', { x: src('request', 'x') }, [['items', 'o']], { demultiply_count: 0 }),
        dl('m1', 'dummy', { b: src('outer', 'o') }, [['a', 'y']]),
        custom('inner', 'splitter', { x: src('m1', 'y') }, [['items', 'i']], { demultiply_count: 0 }),
        dl('m2', 'dummy', { b: src('inner', 'i') }, [['a', 'y']]),
        dl('g', 'any3', { x: src('m2', 'y') }, [['y', 'z']], { gather_from_node: 'outer' }),
      ],
      outputs: [out('z', 'g', 'z')],
    }, 'PIPELINE_WRONG_DEMULTIPLEXER_GATHER_NODES_ORDER', 'Demultiplexer and gather nodes are not in LIFO order - node: g gathers from: outer, but its inputs are at level (outer > inner)');
  });

  test('a node fed from two demultiplexing levels', () => {
    rejects({
      inputs: ['x'],
      nodes: [
        custom('split', 'splitter', { x: src('request', 'x') }, [['items', 'item']], { demultiply_count: 0 }),
        dl('model', 'dummy', { b: src('split', 'item') }, [['a', 'y']]),
        dl('sum', 'add', { input1: src('model', 'y'), input2: src('request', 'x') }, [['sum', 's']]),
      ],
      outputs: [out('s', 'sum', 's')],
    }, 'PIPELINE_WRONG_DEMULTIPLEXER_GATHER_NODES_ORDER', /^Demultiplexer and gather nodes are not in LIFO order - inputs of node: sum come from different demultiplexing levels/);
  });

  test('a gathered input that cannot hold the shards', () => {
    const def = gatherFrom('split');
    rejects({ ...def, nodes: [...def.nodes.slice(0, 2), dl('after', 'wide', { b: src('model', 'y') }, [['a', 'z']], { gather_from_node: 'split' })] },
      'INVALID_SHAPE', 'Invalid input shape - Shape mismatch between: dependant node: after; input: b; shape: (1,20) vs dependency node: model; output: a; shape: (1,10)');
  });
});

describe('custom node metadata', () => {
  test('OVMS 0 dims become -1; bad info is the library\'s failure', () => {
    assert.deepEqual(specsFromLibraryInfo('n', 'getInputsInfo', [{ name: 'x', dtype: 'UINT8', shape: [1, 0, -1, 3] }]), [spec('x', [1, -1, -1, 3], 'UINT8')]);
    const bad = (info: unknown, text: RegExp) => assert.throws(() => specsFromLibraryInfo('n', 'getOutputsInfo', info), (e: unknown) => {
      assert.ok(e instanceof PipelineError);
      assert.equal(e.pipelineStatus, 'NODE_LIBRARY_METADATA_FAILED');
      assert.match(e.message, text);
      return true;
    });
    bad('nope', /^Custom node failed on metadata call - node: n; getOutputsInfo: did not return an array$/);
    bad([{ name: 'x', dtype: 'FLOAT', shape: [1] }], /tensor x has unknown dtype FLOAT/);
    bad([{ name: 'x', dtype: 'FP32', shape: [1.5] }], /tensor x has an invalid shape/);
    bad([{ dtype: 'FP32', shape: [1] }], /a tensor has no name/);
    bad([{ name: 'x', dtype: 'FP32', shape: [1] }, { name: 'x', dtype: 'FP32', shape: [1] }], /tensor x is listed twice/);
  });
});
