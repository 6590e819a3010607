/**
 * Pipelines in the real server, on generated ONNX models, over real sockets: a pipeline is called
 * exactly like a model (TFS gRPC and REST, KServe REST, status, metadata, /v1/config), custom nodes
 * demultiplex 0, 1 and many items, a failing node fails only its request, invalid definitions are
 * reported while the rest serves, and config reloads add and retire pipelines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, type RunningServer } from './helpers/server.js';
import { addTwoInputsModel, dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { TfsClient, bytesOf, dimsOf, expectGrpcError, floatsOf, shapeProto, type Json } from './helpers/tfs-grpc.js';
import { customNode, modelNode, pipeline, src, testLibraries, writeTestLibraries } from './helpers/pipelines.js';

const ten = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const plus = (v: number[], k: number) => v.map((x) => x + k);

function grpcInput(values: number[], shape = [1, 10]): Json {
  return { dtype: 1, tensor_shape: shapeProto(shape), tensor_content: bytesOf(Float32Array.from(values)) };
}

describe('pipelines in the server', () => {
  let server: RunningServer;
  let client: TfsClient;
  let dir: { path: string; remove(): void };
  let configPath: string;
  let libs: string;
  let baseConfig: Record<string, unknown>;

  const rest = async (method: string, urlPath: string, body?: unknown) => {
    const res = await fetch(`${server.restUrl}${urlPath}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) };
  };
  const predict = (name: string, inputs: Record<string, Json>) => client.predict({ model_spec: { name }, inputs });

  before(async () => {
    dir = tempDir();
    const models = path.join(dir.path, 'models');
    writeRepository(models, { dummy: { 1: dummyModel() }, add: { 1: addTwoInputsModel() } });
    libs = path.join(dir.path, 'libs');
    mkdirSync(libs);
    baseConfig = {
      model_config_list: ['dummy', 'add'].map((name) => ({ config: { name, base_path: path.join(models, name) } })),
      custom_node_library_config_list: writeTestLibraries(libs),
      pipeline_config_list: [
        pipeline('chain', ['b'], [
          modelNode('first', 'dummy', { b: src('request', 'b') }, [['a', 'a1']]),
          modelNode('second', 'dummy', { b: src('first', 'a1') }, [['a', 'a2']]),
        ], { out: src('second', 'a2') }),
        pipeline('fanin', ['x'], [
          modelNode('left', 'dummy', { b: src('request', 'x') }, [['a', 'l']]),
          modelNode('right', 'dummy', { b: src('request', 'x') }, [['a', 'r']]),
          modelNode('sum', 'add', { input1: src('left', 'l'), input2: src('right', 'r') }, [['sum', 's']]),
        ], { total: src('sum', 's'), left: src('left', 'l') }),
        pipeline('demux', ['x'], [
          customNode('split', 'splitter', { x: src('request', 'x') }, [['items', 'item']], { demultiply_count: 0 }),
          modelNode('inc', 'dummy', { b: src('split', 'item') }, [['a', 'y']]),
        ], { ys: src('inc', 'y') }),
        pipeline('fail', ['x'], [
          customNode('check', 'failing', { x: src('request', 'x') }, [['y', 'checked']], { params: { limit: '0' } }),
          modelNode('inc', 'dummy', { b: src('check', 'checked') }, [['a', 'y']]),
        ], { y: src('inc', 'y') }),
        pipeline('wrong_output', ['x'], [
          customNode('liar', 'wrong_output', { x: src('request', 'x') }, [['y', 'y']]),
        ], { y: src('liar', 'y') }),
        pipeline('cycle', ['x'], [
          modelNode('a', 'add', { input1: src('request', 'x'), input2: src('b', 'y') }, [['sum', 's']]),
          modelNode('b', 'dummy', { b: src('a', 's') }, [['a', 'y']]),
        ], { y: src('b', 'y') }),
        pipeline('unknown_model', ['x'], [modelNode('m', 'nope', { b: src('request', 'x') }, [['a', 'y']])], { y: src('m', 'y') }),
        pipeline('broken_library', ['x'], [customNode('c', 'broken', { x: src('request', 'x') }, [['y', 'y']])], { y: src('c', 'y') }),
        pipeline('bad_params', ['x'], [customNode('c', 'failing', { x: src('request', 'x') }, [['y', 'y']], { params: { limit: 'lots' } })], { y: src('c', 'y') }),
        pipeline('dummy', ['b'], [modelNode('m', 'dummy', { b: src('request', 'b') }, [['a', 'y']])], { y: src('m', 'y') }),
      ],
    };
    configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify(baseConfig));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '0'] });
    client = new TfsClient(server.grpcAddress);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    dir?.remove();
  });

  test('gRPC Predict runs a chain of models', async () => {
    const res = await predict('chain', { b: grpcInput(ten) });
    assert.deepEqual(Object.keys(res.outputs), ['out']);
    assert.deepEqual(dimsOf(res.outputs.out), [1, 10]);
    assert.deepEqual(floatsOf(res.outputs.out), plus(ten, 2));
  });

  test('REST predict (column and row format) runs it too, whatever version the URL names', async () => {
    const column = await rest('POST', '/v1/models/chain:predict', { inputs: { b: [ten] } });
    assert.equal(column.status, 200, column.text);
    assert.deepEqual(column.json(), { outputs: [plus(ten, 2)] });
    const row = await rest('POST', '/v1/models/chain/versions/3:predict', { instances: [{ b: ten }] });
    assert.deepEqual(row.json(), { predictions: [plus(ten, 2)] });
  });

  test('fan-out and fan-in: two branches feed one model', async () => {
    const res = await predict('fanin', { x: grpcInput(ten) });
    assert.deepEqual(floatsOf(res.outputs.total), ten.map((v) => 2 * v + 2));
    assert.deepEqual(floatsOf(res.outputs.left), plus(ten, 1));
  });

  test('metadata and status report the pipeline as version 1', async () => {
    const meta = await rest('GET', '/v1/models/chain/metadata');
    assert.equal(meta.status, 200, meta.text);
    const body = meta.json();
    assert.deepEqual(body.modelSpec, { name: 'chain', signatureName: '', version: '1' });
    const sig = body.metadata.signature_def.signatureDef.serving_default;
    assert.deepEqual(Object.keys(sig.inputs), ['b']);
    assert.equal(sig.inputs.b.dtype, 'DT_FLOAT');
    assert.deepEqual(sig.inputs.b.tensorShape.dim.map((d: Json) => d.size), ['1', '10']);
    assert.deepEqual(Object.keys(sig.outputs), ['out']);

    const grpcMeta = await client.getModelMetadata({ model_spec: { name: 'demux' }, metadata_field: ['signature_def'] });
    assert.equal(Number(grpcMeta.model_spec.version.value), 1);

    const expected = { model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: 'OK' } }] };
    assert.deepEqual((await rest('GET', '/v1/models/chain')).json(), expected);
    assert.deepEqual((await rest('GET', '/v1/models/chain/versions/5')).json(), expected);
    const grpcStatus = await client.getModelStatus({ model_spec: { name: 'fanin' } });
    assert.deepEqual(grpcStatus.model_version_status.map((s: Json) => [Number(s.version), s.state]), [[1, 30]]);
  });

  test('KServe REST: ready, metadata and infer with a pipeline name', async () => {
    assert.equal((await rest('GET', '/v2/models/chain/ready')).status, 200);
    const meta = await rest('GET', '/v2/models/chain');
    assert.equal(meta.status, 200, meta.text);
    assert.deepEqual(meta.json().inputs, [{ name: 'b', datatype: 'FP32', shape: [1, 10] }]);
    const infer = await rest('POST', '/v2/models/chain/infer', { inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: ten }] });
    assert.equal(infer.status, 200, infer.text);
    const out = infer.json();
    assert.equal(out.model_name, 'chain');
    assert.equal(out.model_version, '1');
    assert.deepEqual(out.outputs.map((o: Json) => [o.name, o.shape, o.data]), [['out', [1, 10], plus(ten, 2)]]);
  });

  for (const n of [1, 2, 6]) {
    test(`demultiplexing ${n} item(s): each goes through the model, gathered in order`, async () => {
      const x = [n, ...ten.slice(1)];
      const res = await predict('demux', { x: grpcInput(x) });
      assert.deepEqual(dimsOf(res.outputs.ys), [n, 1, 10]);
      const expected: number[] = [];
      for (let i = 0; i < n; i++) expected.push(...plus(x, i + 1));
      assert.deepEqual(floatsOf(res.outputs.ys), expected);
    });
  }

  test('demultiplexing 0 items aborts: gRPC ABORTED, REST 204', async () => {
    const message = 'Pipeline execution aborted due to no content from custom node - node: split';
    await expectGrpcError(predict('demux', { x: grpcInput([0, ...ten.slice(1)]) }), 10, message);
    const r = await rest('POST', '/v1/models/demux:predict', { inputs: { x: [[0, ...ten.slice(1)]] } });
    assert.equal(r.status, 204);
  });

  test('a failing custom node fails its request only, naming the node and the reason', async () => {
    const message = 'Custom node failed during execution - node: check: value -1 is below the limit 0';
    await expectGrpcError(predict('fail', { x: grpcInput([-1, ...ten.slice(1)]) }), 2, message);
    const r = await rest('POST', '/v1/models/fail:predict', { inputs: { x: [[-1, ...ten.slice(1)]] } });
    assert.equal(r.status, 500);
    assert.deepEqual(r.json(), { error: message });
    // The same pipeline and the others keep serving.
    assert.deepEqual(floatsOf((await predict('fail', { x: grpcInput(ten) })).outputs.y), plus(ten, 1));
    assert.deepEqual(floatsOf((await predict('chain', { b: grpcInput(ten) })).outputs.out), plus(ten, 2));
  });

  test('a custom node returning the wrong dtype is caught', async () => {
    await expectGrpcError(predict('wrong_output', { x: grpcInput(ten) }), 2,
      'Custom node has produced tensor with unspecified precision - node: liar; output: y; expected: FP32; actual: INT32');
  });

  test('request inputs are validated against the pipeline inputs with the model texts', async () => {
    await expectGrpcError(predict('chain', { b: grpcInput([1, 2, 3], [1, 3]) }), 3, 'Invalid input shape - Expected: (1,10); Actual: (1,3)');
    await expectGrpcError(predict('chain', { x: grpcInput(ten) }), 3, 'Missing input with specific name - Required input: b');
    await expectGrpcError(predict('chain', { b: grpcInput(ten), c: grpcInput(ten) }), 3, 'Invalid number of inputs - Expected: 1; Actual: 2');
  });

  test('invalid pipelines report LOADING / FAILED_PRECONDITION and refuse requests; the rest serves', async () => {
    const failed = { model_version_status: [{ version: '1', state: 'LOADING', status: { error_code: 'FAILED_PRECONDITION', error_message: 'FAILED_PRECONDITION' } }] };
    for (const name of ['cycle', 'unknown_model', 'broken_library', 'bad_params']) {
      assert.deepEqual((await rest('GET', `/v1/models/${name}`)).json(), failed, name);
      await expectGrpcError(predict(name, { x: grpcInput(ten) }), 14, 'Pipeline is not loaded yet');
    }
    const r = await rest('POST', '/v1/models/cycle:predict', { inputs: { x: [ten] } });
    assert.equal(r.status, 503);
    assert.deepEqual(r.json(), { error: 'Pipeline is not loaded yet' });
    assert.equal((await rest('GET', '/v2/models/cycle/ready')).status, 400);
    const out = server.output();
    assert.match(out, /Pipeline definition contains a cycle/);
    assert.match(out, /Pipeline definition has reference to missing model - node: m; model: nope/);
    assert.match(out, /Pipeline refers to incorrect library - node: c; library: broken: missing exported function\(s\): execute/);
    assert.match(out, /Failure during custom node library initialization - node: c; library: failing: limit must be a number/);
  });

  test('a pipeline named like a model is refused; the model keeps the name', async () => {
    assert.deepEqual(floatsOf((await predict('dummy', { b: grpcInput(ten) })).outputs.a), plus(ten, 1));
    assert.match(server.output(), /Pipeline: dummy cannot be loaded: Pipeline has the same name as model/);
  });

  test('/v1/config lists pipelines with their status', async () => {
    const r = await rest('GET', '/v1/config');
    assert.equal(r.status, 200);
    const all = r.json();
    assert.deepEqual(all.chain, { model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: 'OK' } }] });
    assert.equal(all.cycle.model_version_status[0].status.error_code, 'FAILED_PRECONDITION');
    assert.ok(all.dummy.model_version_status[0].state === 'AVAILABLE');
  });

  test('concurrent requests on several pipelines each get their own answer', async () => {
    const jobs = Array.from({ length: 32 }, async (_, k) => {
      const base = ten.map((v) => v * (k + 1));
      if (k % 3 === 0) {
        const res = await predict('chain', { b: grpcInput(base) });
        assert.deepEqual(floatsOf(res.outputs.out), plus(base, 2), `chain ${k}`);
      } else if (k % 3 === 1) {
        const res = await predict('fanin', { x: grpcInput(base) });
        assert.deepEqual(floatsOf(res.outputs.total), base.map((v) => 2 * v + 2), `fanin ${k}`);
      } else {
        const n = 1 + (k % 4);
        const x = [n, ...base.slice(1)];
        const res = await predict('demux', { x: grpcInput(x) });
        const expected: number[] = [];
        for (let i = 0; i < n; i++) expected.push(...plus(x, i + 1));
        assert.deepEqual(floatsOf(res.outputs.ys), expected, `demux ${k}`);
      }
    });
    await Promise.all(jobs);
  });

  test('a config reload adds, changes and retires pipelines', async () => {
    const pipelines = (baseConfig['pipeline_config_list'] as Json[]).filter((p) => p.name !== 'fanin').map((p) =>
      p.name === 'chain'
        ? pipeline('chain', ['b'], [modelNode('only', 'dummy', { b: src('request', 'b') }, [['a', 'a1']])], { out: src('only', 'a1') })
        : p);
    pipelines.push(pipeline('added', ['x'], [modelNode('m', 'dummy', { b: src('request', 'x') }, [['a', 'y']])], { y: src('m', 'y') }));
    writeFileSync(configPath, JSON.stringify({ ...baseConfig, pipeline_config_list: pipelines }));
    const reload = await rest('POST', '/v1/config/reload');
    // The invalid pipelines still in the file make the reload report a failure; everything valid applied.
    assert.equal(reload.status, 500, reload.text);
    assert.deepEqual(floatsOf((await predict('added', { x: grpcInput(ten) })).outputs.y), plus(ten, 1));
    assert.deepEqual(floatsOf((await predict('chain', { b: grpcInput(ten) })).outputs.out), plus(ten, 1));
    assert.deepEqual((await rest('GET', '/v1/models/fanin')).json(),
      { model_version_status: [{ version: '1', state: 'END', status: { error_code: 'OK', error_message: 'OK' } }] });
    await expectGrpcError(predict('fanin', { x: grpcInput(ten) }), 5, 'Pipeline is retired');
  });

  test('an edited custom node library is loaded again on reload; requests use the new code', async () => {
    writeFileSync(path.join(libs, 'failing.mjs'), testLibraries['failing.mjs']!.replace("'value ' + v + ' is below the limit '", "'too small: ' + v + ' < '"));
    const reload = await rest('POST', '/v1/config/reload');
    assert.ok([200, 201, 500].includes(reload.status), reload.text);
    await expectGrpcError(predict('fail', { x: grpcInput([-3, ...ten.slice(1)]) }), 2, 'Custom node failed during execution - node: check: too small: -3 < 0');
    assert.deepEqual(floatsOf((await predict('fail', { x: grpcInput(ten) })).outputs.y), plus(ten, 1));
  });
});
