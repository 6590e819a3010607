/**
 * config.json (SPEC §2): the closed schema (any violation rejects the whole file with a message naming
 * the JSON pointer), and per-entry checks (a bad model entry is skipped, the others load).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigFileError, loadModelListConfig, parseModelListConfig } from '../src/config/config-file.js';
import type { ModelListConfig } from '../src/config/types.js';

const PREFIX = 'Configuration file is not in valid configuration format: ';

function parse(doc: unknown): ModelListConfig {
  return parseModelListConfig(JSON.stringify(doc), { configDir: '/cfg' });
}

/** The JSON_INVALID message (without its prefix) for a document. */
function invalid(doc: unknown): string {
  try {
    parse(doc);
  } catch (err) {
    assert.ok(err instanceof ConfigFileError, String(err));
    assert.equal(err.kind, 'JSON_INVALID');
    assert.ok(err.message.startsWith(PREFIX), err.message);
    return err.message.slice(PREFIX.length);
  }
  assert.fail(`accepted: ${JSON.stringify(doc)}`);
}

const model = (config: Record<string, unknown>) => ({ config: { name: 'm', base_path: '/models/m', ...config } });
const withModel = (config: Record<string, unknown>) => ({ model_config_list: [model(config)] });

const dlNode = (extra: Record<string, unknown> = {}) => ({
  name: 'classify', type: 'DL model', model_name: 'm',
  inputs: [{ b: { node_name: 'request', data_item: 'in' } }],
  outputs: [{ data_item: 'a', alias: 'out' }],
  ...extra,
});
const customNode = (extra: Record<string, unknown> = {}) => ({
  name: 'prep', type: 'custom', library_name: 'lib',
  inputs: [{ image: { node_name: 'request', data_item: 'in' } }],
  outputs: [{ data_item: 'image', alias: 'prepared' }],
  ...extra,
});
const pipeline = (extra: Record<string, unknown> = {}, nodes: unknown[] = [dlNode()]) => ({
  name: 'p', inputs: ['in'], nodes,
  outputs: [{ result: { node_name: 'classify', data_item: 'out' } }],
  ...extra,
});
const withPipeline = (p: unknown, libs: unknown[] = []) => ({
  model_config_list: [model({})], pipeline_config_list: [p], custom_node_library_config_list: libs,
});

/** SPEC §2.4: multi-model + DAG + custom node + metrics (monitoring is 2022.2+; tsms accepts it). */
const specExample = {
  model_config_list: [
    { config: { name: 'resnet', base_path: '/models/resnet', batch_size: '1', plugin_config: { CPU_THROUGHPUT_STREAMS: 'CPU_THROUGHPUT_AUTO' }, nireq: 4 } },
    { config: { name: 'face_detection_auto', base_path: '/models/face_detection', shape: 'auto' } },
    { config: { name: 'face_detection_fixed', base_path: '/models/face_detection', shape: { data: '(1,3,600,600)' } } },
    { config: { name: 'multi_ver', base_path: 's3://bucket/models/pvb', model_version_policy: { specific: { versions: [1, 3] } }, target_device: 'CPU' } },
    { config: { name: 'summator', base_path: '/models/summator', stateful: true, max_sequence_number: 100, idle_sequence_cleanup: true } },
    { config: { name: 'dummy', base_path: '/models/dummy', layout: 'NHWC' } },
  ],
  custom_node_library_config_list: [
    { name: 'image_transformation', base_path: '/libs/libcustom_node_image_transformation.so' },
  ],
  pipeline_config_list: [
    {
      name: 'resnet_pipeline',
      inputs: ['image'],
      demultiply_count: 0,
      nodes: [
        {
          name: 'prep', library_name: 'image_transformation', type: 'custom',
          params: { target_image_width: '224', target_image_height: '224' },
          inputs: [{ image: { node_name: 'request', data_item: 'image' } }],
          outputs: [{ data_item: 'image', alias: 'prepared' }],
        },
        {
          name: 'classify', model_name: 'resnet', type: 'DL model', version: 1,
          inputs: [{ 0: { node_name: 'prep', data_item: 'prepared' } }],
          outputs: [{ data_item: '1463', alias: 'probs' }],
        },
      ],
      outputs: [{ probabilities: { node_name: 'classify', data_item: 'probs' } }],
    },
  ],
  monitoring: { metrics: { enable: true, metrics_list: ['ovms_requests_success', 'ovms_infer_req_queue_size'] } },
};

describe('config.json: valid files', () => {
  it('SPEC §2.4 full example', () => {
    const c = parse(specExample);
    assert.deepEqual(c.rejected, []);
    assert.deepEqual(c.models.map((m) => m.name), ['resnet', 'face_detection_auto', 'face_detection_fixed', 'multi_ver', 'summator', 'dummy']);
    const [resnet, auto, fixed, multi, summator, dummy] = c.models;
    assert.deepEqual(resnet, {
      name: 'resnet', basePath: '/models/resnet', versionPolicy: { kind: 'latest', numVersions: 1 }, nireq: 4,
      targetDevice: 'CPU', pluginConfig: { CPU_THROUGHPUT_STREAMS: 'CPU_THROUGHPUT_AUTO' }, stateful: false, batchSize: 1,
    });
    assert.equal(auto!.shape, 'auto');
    assert.deepEqual(fixed!.shape, { data: [1, 3, 600, 600] });
    assert.equal(multi!.basePath, 's3://bucket/models/pvb');
    assert.deepEqual(multi!.versionPolicy, { kind: 'specific', versions: [1, 3] });
    assert.equal(summator!.stateful, true);
    assert.equal(summator!.maxSequenceNumber, 100);
    assert.equal(summator!.idleSequenceCleanup, true);
    assert.equal(dummy!.layout, 'NHWC');
    assert.equal(c.pipelines?.length, 1);
    assert.deepEqual(c.pipelines?.[0], specExample.pipeline_config_list[0]);
    assert.deepEqual(c.customNodeLibraries, specExample.custom_node_library_config_list);
    assert.deepEqual(c.metrics, { enable: true, list: ['ovms_requests_success', 'ovms_infer_req_queue_size'] });
    assert.equal(c.configDir, '/cfg');
  });

  it('empty model_config_list; optional lists default to empty; no metrics', () => {
    const c = parse({ model_config_list: [] });
    assert.deepEqual(c.models, []);
    assert.deepEqual(c.rejected, []);
    assert.deepEqual(c.pipelines, []);
    assert.deepEqual(c.customNodeLibraries, []);
    assert.deepEqual(c.customLoaders, []);
    assert.equal(c.metrics, undefined);
  });

  it('monitoring without metrics_list', () => {
    assert.deepEqual(parse({ model_config_list: [], monitoring: { metrics: { enable: false } } }).metrics, { enable: false });
  });

  it('every model key of SPEC §2.2 with the right type', () => {
    const c = parse(withModel({
      batch_size: 'auto', model_version_policy: { all: {} }, layout: { in: 'NCHW' }, nireq: 0, target_device: 'GPU',
      plugin_config: { A: 1, B: 'x', C: 2.5 }, stateful: true, idle_sequence_cleanup: false, low_latency_transformation: true,
      max_sequence_number: 0, allow_cache: true, custom_loader_options: { loader_name: 'l', extra: 'v' },
    }));
    assert.deepEqual(c.rejected, []);
    assert.deepEqual(c.models[0], {
      name: 'm', basePath: '/models/m', versionPolicy: { kind: 'all' }, nireq: 0, targetDevice: 'GPU',
      pluginConfig: { A: '1', B: 'x', C: '2.5' }, stateful: true, batchSize: 'auto', layout: { in: 'NCHW' },
      idleSequenceCleanup: false, maxSequenceNumber: 0, lowLatencyTransformation: true, allowCache: true,
      customLoaderOptions: { loader_name: 'l', extra: 'v' },
    });
  });

  it('custom_loader_config_list entries are kept raw', () => {
    const loaders = [{ config: { loader_name: 'l', library_path: '/libs/l.so', loader_config_file: 'c.json' } }];
    assert.deepEqual(parse({ model_config_list: [], custom_loader_config_list: loaders }).customLoaders, loaders);
  });

  it('demultiply_count 0 and 1 accepted on pipelines and nodes', () => {
    for (const count of [0, 1, 10000]) {
      assert.equal(parse(withPipeline(pipeline({ demultiply_count: count }))).pipelines?.length, 1);
      assert.equal(parse(withPipeline(pipeline({}, [dlNode({ demultiply_count: count })]))).pipelines?.length, 1);
    }
  });

  it('custom node with params and gather_from_node', () => {
    const p = pipeline({}, [customNode({ params: { a: '1' }, demultiply_count: 0 }), dlNode({ gather_from_node: 'prep', version: 2 })]);
    assert.equal(parse(withPipeline(p, [{ name: 'lib', base_path: '/l.so' }])).pipelines?.length, 1);
  });

  it('a UTF-8 byte order mark is tolerated', () => {
    assert.equal(parseModelListConfig(`\ufeff${JSON.stringify(withModel({}))}`).models.length, 1);
  });
});

describe('config.json: not JSON / unreadable', () => {
  it('syntax error → JSON_INVALID', () => {
    assert.throws(() => parseModelListConfig('{"model_config_list": [}'), (err: unknown) => {
      assert.ok(err instanceof ConfigFileError);
      assert.equal(err.kind, 'JSON_INVALID');
      assert.match(err.message, /^Configuration file is not a valid JSON file: /);
      return true;
    });
  });

  it('document not an object', () => {
    assert.equal(invalid([]), '(top level): must be object, not array');
  });

  it('missing file → CONFIG_FILE_INVALID', async () => {
    await assert.rejects(loadModelListConfig('/no/such/config.json'), (err: unknown) => {
      assert.ok(err instanceof ConfigFileError);
      assert.equal(err.kind, 'CONFIG_FILE_INVALID');
      assert.equal(err.message, 'Config file not found or cannot open.');
      return true;
    });
  });
});

describe('config.json: unknown keys at every level invalidate the file', () => {
  const cases: readonly [string, unknown, string][] = [
    ['top level', { model_config_list: [], extra: 1 }, '(top level): unknown field "extra"'],
    ['mediapipe_config_list (2023.0+, not supported)', { model_config_list: [], mediapipe_config_list: [] }, '(top level): unknown field "mediapipe_config_list"'],
    ['model entry', { model_config_list: [{ config: { name: 'm', base_path: '/m' }, version: 1 }] }, '/model_config_list/0: unknown field "version"'],
    ['model config (typo)', { model_config_list: [{ config: { name: 'm', base_path: '/m', nam: 'x' } }] }, '/model_config_list/0/config: unknown field "nam"'],
    ['pipeline', withPipeline(pipeline({ illegal: 'key' })), '/pipeline_config_list/0: unknown field "illegal"'],
    ['pipeline version', withPipeline(pipeline({ version: -1 })), '/pipeline_config_list/0: unknown field "version"'],
    ['node', withPipeline(pipeline({}, [dlNode({ illegal: 'key' })])), '/pipeline_config_list/0/nodes/0: unknown field "illegal"'],
    ['node input source', withPipeline(pipeline({}, [dlNode({ inputs: [{ b: { node_name: 'request', data_item: 'in', x: 1 } }] })])),
      '/pipeline_config_list/0/nodes/0/inputs/0/b: unknown field "x"'],
    ['node output alias', withPipeline(pipeline({}, [dlNode({ outputs: [{ data_item: 'a', alias: 'o', x: 1 }] })])),
      '/pipeline_config_list/0/nodes/0/outputs/0: unknown field "x"'],
    ['pipeline output source', withPipeline(pipeline({ outputs: [{ r: { node_name: 'n', data_item: 'd', x: 1 } }] })),
      '/pipeline_config_list/0/outputs/0/r: unknown field "x"'],
    ['custom node library', withPipeline(pipeline(), [{ name: 'l', base_path: '/l.so', x: 1 }]), '/custom_node_library_config_list/0: unknown field "x"'],
    ['custom loader entry', { model_config_list: [], custom_loader_config_list: [{ config: { loader_name: 'l', library_path: '/l' }, x: 1 }] },
      '/custom_loader_config_list/0: unknown field "x"'],
    ['custom loader config', { model_config_list: [], custom_loader_config_list: [{ config: { loader_name: 'l', library_path: '/l', x: 1 } }] },
      '/custom_loader_config_list/0/config: unknown field "x"'],
    ['monitoring', { model_config_list: [], monitoring: { metrics: { enable: true }, tracing: {} } }, '/monitoring: unknown field "tracing"'],
    ['monitoring.metrics', { model_config_list: [], monitoring: { metrics: { enable: true, port: 1 } } }, '/monitoring/metrics: unknown field "port"'],
  ];
  for (const [what, doc, message] of cases) {
    it(what, () => assert.equal(invalid(doc), message));
  }
});

describe('config.json: missing required keys', () => {
  const cases: readonly [string, unknown, string][] = [
    ['model_config_list', {}, '(top level): missing required field "model_config_list"'],
    ['config', { model_config_list: [{}] }, '/model_config_list/0: missing required field "config"'],
    ['name', { model_config_list: [{ config: { base_path: '/m' } }] }, '/model_config_list/0/config: missing required field "name"'],
    ['base_path', { model_config_list: [{ config: { name: 'm' } }] }, '/model_config_list/0/config: missing required field "base_path"'],
    ['pipeline name', withPipeline({ ...pipeline(), name: undefined }), '/pipeline_config_list/0: missing required field "name"'],
    ['pipeline nodes', withPipeline({ ...pipeline(), nodes: undefined }), '/pipeline_config_list/0: missing required field "nodes"'],
    ['pipeline inputs', withPipeline({ ...pipeline(), inputs: undefined }), '/pipeline_config_list/0: missing required field "inputs"'],
    ['pipeline outputs', withPipeline({ ...pipeline(), outputs: undefined }), '/pipeline_config_list/0: missing required field "outputs"'],
    ['node name', withPipeline(pipeline({}, [{ ...dlNode(), name: undefined }])), '/pipeline_config_list/0/nodes/0: missing required field "name"'],
    ['node type', withPipeline(pipeline({}, [{ ...dlNode(), type: undefined }])), '/pipeline_config_list/0/nodes/0: missing required field "type"'],
    ['node inputs', withPipeline(pipeline({}, [{ ...dlNode(), inputs: undefined }])), '/pipeline_config_list/0/nodes/0: missing required field "inputs"'],
    ['node outputs', withPipeline(pipeline({}, [{ ...dlNode(), outputs: undefined }])), '/pipeline_config_list/0/nodes/0: missing required field "outputs"'],
    ['source data_item', withPipeline(pipeline({}, [dlNode({ inputs: [{ b: { node_name: 'request' } }] })])),
      '/pipeline_config_list/0/nodes/0/inputs/0/b: missing required field "data_item"'],
    ['output alias', withPipeline(pipeline({}, [dlNode({ outputs: [{ data_item: 'a' }] })])), '/pipeline_config_list/0/nodes/0/outputs/0: missing required field "alias"'],
    ['library name', withPipeline(pipeline(), [{ base_path: '/l.so' }]), '/custom_node_library_config_list/0: missing required field "name"'],
    ['library base_path', withPipeline(pipeline(), [{ name: 'l' }]), '/custom_node_library_config_list/0: missing required field "base_path"'],
    ['loader library_path', { model_config_list: [], custom_loader_config_list: [{ config: { loader_name: 'l' } }] },
      '/custom_loader_config_list/0/config: missing required field "library_path"'],
    ['custom_loader_options loader_name', withModel({ custom_loader_options: { x: 'y' } }), '/model_config_list/0/config/custom_loader_options: missing required field "loader_name"'],
    ['monitoring.metrics', { model_config_list: [], monitoring: {} }, '/monitoring: missing required field "metrics"'],
    ['metrics.enable', { model_config_list: [], monitoring: { metrics: {} } }, '/monitoring/metrics: missing required field "enable"'],
  ];
  for (const [what, doc, message] of cases) {
    it(what, () => assert.equal(invalid(JSON.parse(JSON.stringify(doc))), message));
  }
});

describe('config.json: wrong types and ranges', () => {
  const cases: readonly [string, unknown, string][] = [
    ['model_config_list object', { model_config_list: {} }, '/model_config_list: must be array, not object'],
    ['name number', { model_config_list: [{ config: { name: 0, base_path: '/m' } }] }, '/model_config_list/0/config/name: must be string, not integer'],
    ['base_path number', withModel({ base_path: 2 }), '/model_config_list/0/config/base_path: must be string, not integer'],
    ['nireq string', withModel({ nireq: '4' }), '/model_config_list/0/config/nireq: must be integer, not string'],
    ['nireq fraction', withModel({ nireq: 1.5 }), '/model_config_list/0/config/nireq: must be integer, not number'],
    ['negative nireq', withModel({ nireq: -1 }), '/model_config_list/0/config/nireq: must be >= 0, not -1'],
    ['negative max_sequence_number', withModel({ stateful: true, max_sequence_number: -1 }), '/model_config_list/0/config/max_sequence_number: must be >= 0, not -1'],
    ['negative batch_size', withModel({ batch_size: -1 }), '/model_config_list/0/config/batch_size: must be >= 0, not -1'],
    ['batch_size boolean', withModel({ batch_size: true }), '/model_config_list/0/config/batch_size: must be integer or string, not boolean'],
    ['stateful string', withModel({ stateful: 'true' }), '/model_config_list/0/config/stateful: must be boolean, not string'],
    ['shape number', withModel({ shape: 1 }), '/model_config_list/0/config/shape: must be object or string, not integer'],
    ['layout array', withModel({ layout: ['NCHW'] }), '/model_config_list/0/config/layout: must be object or string, not array'],
    ['plugin_config array', withModel({ plugin_config: [] }), '/model_config_list/0/config/plugin_config: must be object, not array'],
    ['model_version_policy string', withModel({ model_version_policy: 'all' }), '/model_config_list/0/config/model_version_policy: must be object, not string'],
    ['target_device null', withModel({ target_device: null }), '/model_config_list/0/config/target_device: must be string, not null'],
    ['pipeline name number', withPipeline(pipeline({ name: 0 })), '/pipeline_config_list/0/name: must be string, not integer'],
    ['pipeline inputs not strings', withPipeline(pipeline({ inputs: [1] })), '/pipeline_config_list/0/inputs/0: must be string, not integer'],
    ['node type outside enum', withPipeline(pipeline({}, [dlNode({ type: 'illegalType' })])),
      '/pipeline_config_list/0/nodes/0/type: must be one of "DL model", "custom", not "illegalType"'],
    ['node version 0', withPipeline(pipeline({}, [dlNode({ version: 0 })])), '/pipeline_config_list/0/nodes/0/version: must be >= 1, not 0'],
    ['node version -1', withPipeline(pipeline({}, [dlNode({ version: -1 })])), '/pipeline_config_list/0/nodes/0/version: must be >= 1, not -1'],
    ['params non-string value', withPipeline(pipeline({}, [customNode({ params: { a: 1 } })])), '/pipeline_config_list/0/nodes/0/params/a: must be string, not integer'],
    ['negative demultiply_count', withPipeline(pipeline({ demultiply_count: -1 })), '/pipeline_config_list/0/demultiply_count: must be >= 0, not -1'],
    ['node demultiply_count above 10000', withPipeline(pipeline({}, [dlNode({ demultiply_count: 10001 })])),
      '/pipeline_config_list/0/nodes/0/demultiply_count: must be <= 10000, not 10001'],
    ['node input with two sources', withPipeline(pipeline({}, [dlNode({ inputs: [{ a: { node_name: 'request', data_item: 'x' }, b: { node_name: 'request', data_item: 'y' } }] })])),
      '/pipeline_config_list/0/nodes/0/inputs/0: must be an object with exactly one key'],
    ['pipeline output with no key', withPipeline(pipeline({ outputs: [{}] })), '/pipeline_config_list/0/outputs/0: must be an object with exactly one key'],
    ['metrics_list not strings', { model_config_list: [], monitoring: { metrics: { enable: true, metrics_list: [1] } } },
      '/monitoring/metrics/metrics_list/0: must be string, not integer'],
  ];
  for (const [what, doc, message] of cases) {
    it(what, () => assert.equal(invalid(doc), message));
  }
});

describe('config.json: DL model vs custom node (oneOf)', () => {
  const at = '/pipeline_config_list/0/nodes/0: ';
  it('custom node with model_name', () => {
    assert.equal(invalid(withPipeline(pipeline({}, [customNode({ model_name: 'm' })]))), `${at}field "model_name" is not allowed in a node of type "custom"`);
  });
  it('custom node without library_name', () => {
    assert.equal(invalid(withPipeline(pipeline({}, [{ ...customNode(), library_name: undefined }]))),
      `${at}missing required field "library_name" (required in a node of type "custom")`);
  });
  it('DL model node with library_name', () => {
    assert.equal(invalid(withPipeline(pipeline({}, [dlNode({ library_name: 'lib' })]))), `${at}field "library_name" is not allowed in a node of type "DL model"`);
  });
  it('DL model node without model_name', () => {
    assert.equal(invalid(withPipeline(pipeline({}, [{ ...dlNode(), model_name: undefined }]))),
      `${at}missing required field "model_name" (required in a node of type "DL model")`);
  });
  it('library_name with a non-string type is a type error', () => {
    assert.equal(invalid(withPipeline(pipeline({}, [customNode({ library_name: 2 })]))), `${at.slice(0, -2)}/library_name: must be string, not integer`);
  });
});

describe('config.json: a bad model entry is skipped, the others load', () => {
  function oneRejected(config: Record<string, unknown>): { reason: string; status?: string } {
    const c = parse({ model_config_list: [model({ name: 'good' }), model({ name: 'bad', ...config })] });
    assert.deepEqual(c.models.map((m) => m.name), ['good']);
    assert.equal(c.rejected.length, 1);
    assert.equal(c.rejected[0]!.index, 1);
    assert.equal(c.rejected[0]!.name, 'bad');
    return c.rejected[0]!;
  }

  it('shape in wrong format', () => {
    for (const shape of ['(1,3,a)', '1,3', '(1,-1)', 'AUTO', { in: '(x)' }, { in: [1, -2] }, { in: [1.5] }, { in: true }]) {
      const r = oneRejected({ shape });
      assert.equal(r.status, 'SHAPE_WRONG_FORMAT', JSON.stringify(shape));
      assert.match(r.reason, /^The provided shape is in wrong format - /);
    }
  });

  it('shape strings with spaces, empty tuple and array maps are fine', () => {
    const c = parse({ model_config_list: [model({ shape: ' ( 1 , 10 ) ' }), model({ name: 'n', shape: { a: [1, 10], b: 'auto' } })] });
    assert.deepEqual(c.models.map((m) => m.shape), [[1, 10], { a: [1, 10], b: 'auto' }]);
  });

  it('a "__proto__" key stays an ordinary key', () => {
    const text = '{"model_config_list": [{"config": {"name": "m", "base_path": "/m", "shape": {"__proto__": "(1,2)"}, "plugin_config": {"__proto__": 1}}}]}';
    const m = parseModelListConfig(text).models[0]!;
    assert.deepEqual(Object.entries(m.shape as object), [['__proto__', [1, 2]]]);
    assert.equal(Object.getPrototypeOf(m.shape), Object.prototype);
    assert.deepEqual(Object.entries(m.pluginConfig), [['__proto__', '1']]);
  });

  it('the anonymous input name in a shape map is ignored with a warning', () => {
    const c = parse(withModel({ shape: { ANONYMOUS_INPUT_NAME: '(1,2)', data: '(1,3)' } }));
    assert.deepEqual(c.models[0]!.shape, { data: [1, 3] });
    assert.deepEqual(c.warnings, [{ index: 0, name: 'm', message: 'Provided shape name: ANONYMOUS_INPUT_NAME is forbidden and will be omitted' }]);
  });

  it('stateful-only parameters on a non-stateful model', () => {
    for (const [key, value] of [['low_latency_transformation', true], ['idle_sequence_cleanup', true], ['max_sequence_number', 10]] as const) {
      const r = oneRejected({ [key]: value });
      assert.equal(r.status, 'INVALID_NON_STATEFUL_MODEL_PARAMETER');
      assert.equal(r.reason, `Stateful model config parameter used for non stateful model - ${key}`);
      assert.equal(oneRejected({ stateful: false, [key]: value }).status, 'INVALID_NON_STATEFUL_MODEL_PARAMETER');
    }
  });

  it('max_sequence_number above uint32', () => {
    const r = oneRejected({ stateful: true, max_sequence_number: 2 ** 32 });
    assert.equal(r.status, 'INVALID_MAX_SEQUENCE_NUMBER');
    assert.match(r.reason, /^Sequence max number parameter too high/);
  });

  it('nireq above 100000', () => {
    assert.deepEqual(oneRejected({ nireq: 100001 }), {
      index: 1, name: 'bad', status: 'INVALID_NIREQ', reason: 'Nireq parameter too high - Exceeded allowed nireq value',
    });
    assert.equal(parse(withModel({ nireq: 100000 })).models[0]!.nireq, 100000);
  });

  it('plugin_config with a non-string, non-number value', () => {
    const r = oneRejected({ plugin_config: { A: true } });
    assert.equal(r.status, 'PLUGIN_CONFIG_WRONG_FORMAT');
    assert.equal(r.reason, 'Plugin config is in wrong format - "A": true must be a string or a number');
  });

  it('layout map with a non-string value', () => {
    assert.equal(oneRejected({ layout: { in: 1 } }).status, 'LAYOUT_WRONG_FORMAT');
  });

  it('model_version_policy in wrong format or with an unsupported key', () => {
    assert.equal(oneRejected({ model_version_policy: { all: {}, latest: { num_versions: 1 } } }).status, 'MODEL_VERSION_POLICY_WRONG_FORMAT');
    assert.equal(oneRejected({ model_version_policy: { latest: { num_versions: 0 } } }).status, 'MODEL_VERSION_POLICY_WRONG_FORMAT');
    assert.equal(oneRejected({ model_version_policy: { latest: { num_versions: [2, 3] } } }).status, 'MODEL_VERSION_POLICY_WRONG_FORMAT');
    assert.equal(oneRejected({ model_version_policy: { specific: { versions: 1 } } }).status, 'MODEL_VERSION_POLICY_WRONG_FORMAT');
    assert.equal(oneRejected({ model_version_policy: {} }).status, 'MODEL_VERSION_POLICY_WRONG_FORMAT');
    const r = oneRejected({ model_version_policy: { newest: {} } });
    assert.equal(r.status, 'MODEL_VERSION_POLICY_UNSUPPORTED_KEY');
    assert.match(r.reason, /^Model version policy contains unsupported key - "newest"/);
  });

  it('non-positive specific versions are dropped with a warning', () => {
    const c = parse(withModel({ model_version_policy: { specific: { versions: [0, 1, -3, 3, 1] } } }));
    assert.deepEqual(c.models[0]!.versionPolicy, { kind: 'specific', versions: [1, 3] });
    assert.equal(c.warnings?.length, 2);
    assert.match(c.warnings![0]!.message, /invalid version 0\. Version should be a number greater than 0\./);
  });

  it('.. in base_path is forbidden', () => {
    for (const basePath of ['../models/m', '/models/../etc', 'models/..', 's3://bucket/../x']) {
      assert.deepEqual(oneRejected({ base_path: basePath }), {
        index: 1, name: 'bad', status: 'PATH_INVALID', reason: `Path ${basePath} escape with .. is forbidden.`,
      });
    }
    // Dots inside a name are not a `..` segment.
    assert.equal(parse(withModel({ base_path: '/models/m..v2' })).models[0]!.basePath, '/models/m..v2');
  });

  it('empty name and empty base_path', () => {
    const c = parse({ model_config_list: [model({ name: 'good' }), model({ name: '' })] });
    assert.deepEqual(c.models.map((m) => m.name), ['good']);
    assert.deepEqual(c.rejected, [{ index: 1, name: '', status: 'MODEL_CONFIG_INVALID', reason: 'Model config is invalid - model name is empty' }]);
    assert.equal(oneRejected({ base_path: '' }).status, 'PATH_INVALID');
  });

  it('duplicate names: the first valid definition wins', () => {
    const c = parse({ model_config_list: [model({ base_path: '/a' }), model({ base_path: '/b' }), model({ base_path: '/c' })] });
    assert.deepEqual(c.models.map((m) => m.basePath), ['/a']);
    assert.deepEqual(c.rejected, [1, 2].map((index) => ({
      index, name: 'm', status: 'MODEL_NAME_OCCUPIED', reason: 'Duplicated model names: m defined in config file. Only first definition will be loaded.',
    })));
  });

  it('a rejected entry does not claim its name', () => {
    const c = parse({ model_config_list: [model({ base_path: '/a', nireq: 100001 }), model({ base_path: '/b' })] });
    assert.deepEqual(c.models.map((m) => m.basePath), ['/b']);
    assert.equal(c.rejected[0]!.status, 'INVALID_NIREQ');
  });
});

describe('config.json: batch_size', () => {
  const batch = (batch_size: unknown) => parse(withModel({ batch_size })).models[0]!;
  it('number, numeric string, auto; 0 = the model\'s own', () => {
    assert.equal(batch(4).batchSize, 4);
    assert.equal(batch('8').batchSize, 8);
    assert.equal(batch('auto').batchSize, 'auto');
    assert.equal(batch(0).batchSize, undefined);
    assert.equal(batch('0').batchSize, undefined);
  });

  it('a non-numeric string warns and keeps the model\'s batch (OVMS)', () => {
    const c = parse(withModel({ batch_size: 'four' }));
    assert.equal(c.models[0]!.batchSize, undefined);
    assert.deepEqual(c.warnings, [{ index: 0, name: 'm', message: 'Wrong batch size parameter provided. Model batch size will be set to default.' }]);
  });

  it('shape wins over batch_size with a warning; an empty shape map does not', () => {
    const c = parse(withModel({ batch_size: 4, shape: '(1,10)' }));
    assert.equal(c.models[0]!.batchSize, undefined);
    assert.deepEqual(c.warnings!.map((w) => w.message), ['Both shape and batch size have been defined. Batch size parameter will be ignored.']);
    assert.equal(parse(withModel({ batch_size: 4, shape: {} })).models[0]!.batchSize, 4);
  });
});

describe('config.json: base_path resolution', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsms-config-'));
    mkdirSync(path.join(dir, 'sub'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('relative to the config file\'s folder; absolute and URLs untouched', async () => {
    const file = path.join(dir, 'sub', 'config.json');
    writeFileSync(file, JSON.stringify({
      model_config_list: [
        model({ name: 'rel', base_path: 'models/rel' }),
        model({ name: 'dot', base_path: './dot' }),
        model({ name: 'abs', base_path: '/opt/models/abs' }),
        model({ name: 's3', base_path: 's3://bucket/models/s3' }),
        model({ name: 'gs', base_path: 'gs://bucket/gs' }),
        model({ name: 'az', base_path: 'az://container/az' }),
        model({ name: 'azfs', base_path: 'azfs://share/azfs' }),
      ],
    }));
    const c = await loadModelListConfig(file);
    assert.equal(c.configDir, path.join(dir, 'sub'));
    assert.deepEqual(Object.fromEntries(c.models.map((m) => [m.name, m.basePath])), {
      rel: path.join(dir, 'sub', 'models/rel'),
      dot: path.join(dir, 'sub', 'dot'),
      abs: '/opt/models/abs',
      s3: 's3://bucket/models/s3',
      gs: 'gs://bucket/gs',
      az: 'az://container/az',
      azfs: 'azfs://share/azfs',
    });
  });

  it('a relative config path is resolved against the current directory first', async () => {
    const file = path.join(dir, 'sub', 'config.json');
    const c = await loadModelListConfig(path.relative(process.cwd(), file));
    assert.equal(c.configDir, path.join(dir, 'sub'));
  });

  it('without a folder, parseModelListConfig resolves against the current directory', () => {
    const c = parseModelListConfig(JSON.stringify(withModel({ base_path: 'models/m' })));
    assert.equal(c.models[0]!.basePath, path.resolve('models/m'));
  });

  it('an invalid file read from disk → JSON_INVALID with the pointer', async () => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ model_config_list: [{ config: { name: 'm', base_path: '/m', nam: 'x' } }] }));
    await assert.rejects(loadModelListConfig(file), {
      name: 'ConfigFileError',
      message: 'Configuration file is not in valid configuration format: /model_config_list/0/config: unknown field "nam"',
    });
  });
});
