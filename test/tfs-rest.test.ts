/**
 * TensorFlow Serving REST API end to end (SPEC §6.3): the real server process on generated ONNX
 * models, talked to with fetch (and node:http where fetch would tidy the request up).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseLossless } from 'lossless-json';
import { startServer, type RunningServer } from './helpers/server.js';
import { addTwoInputsModel, dummyModel, identityModel, tempDir, twoOutputsModel, writeRepository } from './helpers/models.js';
import { buildOnnxModel } from '../src/runtime/onnx/model-builder.js';
import type { DType } from '../src/core/dtype.js';

const identityDTypes: DType[] = ['FP32', 'FP64', 'FP16', 'INT8', 'UINT8', 'INT16', 'UINT16', 'INT32', 'UINT32', 'INT64', 'UINT64', 'BOOL', 'STRING'];

/** STRING identity whose output name ends in "_bytes": TFS's marker for binary outputs. */
function bytesIdentityModel(): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'in', dtype: 'STRING', shape: ['batch'] }],
    outputs: [{ name: 'out_bytes', dtype: 'STRING', shape: ['batch'] }],
    nodes: [{ op: 'Identity', inputs: ['in'], outputs: ['out_bytes'] }],
  });
}

/** Outputs of different batch sizes: y = x [batch,4] and s = Shape(x) [2]. */
function mixedBatchModel(): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'x', dtype: 'FP32', shape: ['batch', 4] }],
    outputs: [
      { name: 'y', dtype: 'FP32', shape: ['batch', 4] },
      { name: 's', dtype: 'INT64', shape: [2] },
    ],
    nodes: [
      { op: 'Identity', inputs: ['x'], outputs: ['y'] },
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
    ],
  });
}

interface Reply {
  status: number;
  contentType: string | null;
  text: string;
  json(): any;
}

const ten = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const tenPlusOne = ten.map((v) => v + 1);

describe('TFS REST API', () => {
  let server: RunningServer;
  let dir: { path: string; remove(): void };

  async function send(method: string, urlPath: string, body?: unknown): Promise<Reply> {
    const res = await fetch(`${server.restUrl}${urlPath}`, {
      method,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type'), text, json: () => JSON.parse(text) };
  }
  const predict = (model: string, body: unknown) => send('POST', `/v1/models/${model}:predict`, body);

  /** A request fetch would normalise (dot segments, bad escapes), sent as written. */
  function rawRequest(method: string, urlPath: string, headers: http.OutgoingHttpHeaders = {}, body?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.restPort, method, path: urlPath, headers, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, contentType: res.headers['content-type'] ?? null, text, json: () => JSON.parse(text) }));
      });
      req.on('error', reject);
      if (body === undefined) req.end();
      else req.write(body);
    });
  }

  async function expectError(reply: Promise<Reply>, status: number, message: string | RegExp) {
    const r = await reply;
    assert.equal(r.status, status, r.text);
    assert.equal(r.contentType, 'application/json');
    const body = r.json();
    assert.deepEqual(Object.keys(body), ['error']);
    if (typeof message === 'string') assert.equal(body.error, message);
    else assert.match(body.error, message);
  }

  before(async () => {
    dir = tempDir();
    const layout: Record<string, Record<number, Uint8Array>> = {
      dummy: { 1: dummyModel() },
      add: { 1: addTwoInputsModel() },
      two: { 1: twoOutputsModel() },
      bytes: { 1: bytesIdentityModel() },
      mixed: { 1: mixedBatchModel() },
    };
    for (const dtype of identityDTypes) layout[`id_${dtype.toLowerCase()}`] = { 1: identityModel(dtype) };
    writeRepository(path.join(dir.path, 'models'), layout);
    const config = {
      model_config_list: Object.keys(layout).map((name) => ({ config: { name, base_path: path.join(dir.path, 'models', name) } })),
    };
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify(config));
    server = await startServer({ args: ['--config_path', configPath] });
  });

  after(async () => {
    await server?.stop();
    dir?.remove();
  });

  describe('predict: the four body formats', () => {
    test('dummy (one input, one output): row named/no-name → predictions, column named/no-name → outputs', async () => {
      const rowNamed = await predict('dummy', { instances: [{ b: ten }] });
      assert.equal(rowNamed.status, 200, rowNamed.text);
      assert.equal(rowNamed.contentType, 'application/json');
      assert.deepEqual(rowNamed.json(), { predictions: [tenPlusOne] });
      assert.deepEqual((await predict('dummy', { instances: [ten] })).json(), { predictions: [tenPlusOne] });
      assert.deepEqual((await predict('dummy', { inputs: { b: [ten] } })).json(), { outputs: [tenPlusOne] });
      assert.deepEqual((await predict('dummy', { signature_name: 'serving_default', inputs: [ten] })).json(), { outputs: [tenPlusOne] });
    });

    test('whole-number floats are written with ".0", like TFS', async () => {
      const r = await predict('dummy', { instances: [ten] });
      assert.equal(r.text, '{"predictions":[[1.0,2.0,3.0,4.0,5.0,6.0,7.0,8.0,9.0,10.0]]}');
    });

    test('two outputs, batch 2: row → one object per item, column → object of arrays', async () => {
      const x = [[1, 2, 3, 4], [5, 6, 7, 8.5]];
      const perItem = {
        predictions: [
          { doubled: [2, 4, 6, 8], negated: [-1, -2, -3, -4] },
          { doubled: [10, 12, 14, 17], negated: [-5, -6, -7, -8.5] },
        ],
      };
      const columns = { outputs: { doubled: [[2, 4, 6, 8], [10, 12, 14, 17]], negated: [[-1, -2, -3, -4], [-5, -6, -7, -8.5]] } };
      assert.deepEqual((await predict('two', { instances: x.map((row) => ({ x: row })) })).json(), perItem);
      assert.deepEqual((await predict('two', { instances: x })).json(), perItem);
      assert.deepEqual((await predict('two', { inputs: { x } })).json(), columns);
      assert.deepEqual((await predict('two', { inputs: x })).json(), columns);
    });

    test('two inputs, named formats; versions and labels in the URL', async () => {
      const body = { inputs: { input1: [ten], input2: [ten] } };
      const sum = { outputs: [ten.map((v) => 2 * v)] };
      assert.deepEqual((await predict('add', body)).json(), sum);
      assert.deepEqual((await predict('add', { instances: [{ input1: ten, input2: ten }] })).json(), { predictions: sum.outputs });
      assert.deepEqual((await send('POST', '/v1/models/add/versions/1:predict', body)).json(), sum);
      assert.deepEqual((await send('POST', '/v1/models/add/labels/stable:predict', body)).json(), sum);
      assert.deepEqual((await send('POST', '/v1/models/ad%64:predict', body)).json(), sum);
    });

    test('outputs with different batch sizes: row → 500 "Response parsing to JSON error", column works', async () => {
      await expectError(predict('mixed', { instances: [[1, 2, 3, 4]] }), 500, /^Response parsing to JSON error - outputs differ in batch size/);
      assert.deepEqual((await predict('mixed', { inputs: [[1, 2, 3, 4]] })).json(), { outputs: { y: [[1, 2, 3, 4]], s: [1, 4] } });
    });
  });

  describe('predict: every dtype through identity models', () => {
    const roundTrip = async (dtype: DType, values: string): Promise<string> => {
      const r = await predict(`id_${dtype.toLowerCase()}`, `{"inputs": {"in": ${values}}}`);
      assert.equal(r.status, 200, r.text);
      return r.text;
    };

    test('integers of every width, at their limits', async () => {
      const cases: [DType, string][] = [
        ['INT8', '[[-128,127,0]]'],
        ['UINT8', '[[0,255,7]]'],
        ['INT16', '[[-32768,32767,1]]'],
        ['UINT16', '[[0,65535,1]]'],
        ['INT32', '[[-2147483648,2147483647,0],[1,2,3]]'],
        ['UINT32', '[[0,4294967295,1]]'],
        ['INT64', '[[9223372036854775807,-9223372036854775808,9007199254740993]]'],
        ['UINT64', '[[0,18446744073709551615,9007199254740993]]'],
      ];
      for (const [dtype, values] of cases) assert.equal(await roundTrip(dtype, values), `{"outputs":${values}}`, dtype);
      // The 64-bit values really are exact (a JSON.parse client would round them; lossless readers do not).
      const parsed = parseLossless(await roundTrip('INT64', '[[9223372036854775807,-1,9007199254740993]]'), null, (s) => BigInt(s)) as { outputs: bigint[][] };
      assert.deepEqual(parsed.outputs, [[9223372036854775807n, -1n, 9007199254740993n]]);
    });

    test('floats: FP32 and FP16 in their short form, FP64 exact, NaN/Infinity bare', async () => {
      assert.equal(await roundTrip('FP32', '[[0.1,1,-2.5],[1e-7,3.4e38,0.333333343]]'), '{"outputs":[[0.1,1.0,-2.5],[1e-7,3.4e+38,0.333333343]]}');
      assert.equal(await roundTrip('FP64', '[[0.1,1e300,-2.5]]'), '{"outputs":[[0.1,1e+300,-2.5]]}');
      // FP16 rounds on the way in (70000 is past the half range) and prints its shortest form:
      // 65504 (the largest half) reads back from 65500, as numpy prints it too.
      assert.equal(await roundTrip('FP16', '[[0.1,65504,70000],[1.5,-0.333,0]]'), '{"outputs":[[0.1,65500.0,Infinity],[1.5,-0.333,0.0]]}');
      // 3.5e38 overflows float32: written back the way TFS writes it.
      assert.equal(await roundTrip('FP32', '[[3.5e38,-3.5e38,0]]'), '{"outputs":[[Infinity,-Infinity,0.0]]}');
    });

    test('BOOL as JSON booleans', async () => {
      assert.equal(await roundTrip('BOOL', '[[true,false,true]]'), '{"outputs":[[true,false,true]]}');
    });

    test('STRING as UTF-8 strings and {"b64": ...} objects; "_bytes" outputs come back as b64', async () => {
      const hello = Buffer.from('héllo wörld').toString('base64');
      assert.equal(await roundTrip('STRING', `[["a","é\\"q",""],[{"b64":"${hello}"},"x","y"]]`), '{"outputs":[["a","é\\"q",""],["héllo wörld","x","y"]]}');
      const r = await predict('bytes', { instances: [{ in: { b64: hello } }, { in: 'plain' }] });
      assert.deepEqual(r.json(), { predictions: [{ b64: hello }, { b64: Buffer.from('plain').toString('base64') }] });
    });

    test('values that do not fit the input type are 400 with the value named', async () => {
      await expectError(predict('id_int8', { inputs: { in: [[128, 0, 0]] } }), 400,
        'Could not parse input content. Not valid ndarray detected - input in: 128 is out of range for INT8 [-128, 127]');
      await expectError(predict('id_int32', { instances: [[1.5, 0, 0]] }), 400,
        'Could not parse instance content. Not valid ndarray detected - input in: 1.5 is not an integer (INT32 input)');
      await expectError(predict('id_uint64', { inputs: [[-1, 0, 0]] }), 400, /-1 is out of range for UINT64/);
      await expectError(predict('id_bool', { inputs: [[1, 0, 1]] }), 400, /1 is not a boolean/);
      await expectError(predict('id_fp32', { inputs: [['x', 0, 0]] }), 400, /"x" is not a number \(FP32 input\)/);
      await expectError(predict('id_string', { inputs: [[{ b64: '!!' }, 'a', 'b']] }), 400,
        'Could not parse input content. Not valid ndarray detected - input in: the "b64" value is not valid base64');
      await expectError(predict('id_string', { instances: [[{ b64: '!!' }, 'a', 'b']] }), 400,
        'Could not parse instance content. Not valid ndarray detected - input in: the "b64" value is not valid base64');
    });
  });

  describe('predict: OVMS error texts and codes (SPEC §6.1, §6.3)', () => {
    const cases: [string, string, unknown, number, string | RegExp][] = [
      ['invalid JSON', 'dummy', '{"instances": [[1,2', 412, 'The file is not valid json'],
      ['body not an object', 'dummy', [1, 2], 400, 'Request body should be JSON object'],
      ['both instances and inputs', 'dummy', { instances: [ten], inputs: [ten] }, 400, 'Invalid JSON structure. Could not detect row or column format'],
      ['neither instances nor inputs', 'dummy', { signature_name: 'serving_default' }, 400, 'Invalid JSON structure. Could not detect row or column format'],
      ['instances not an array', 'dummy', { instances: { b: ten } }, 400, 'Invalid JSON structure. Nonamed instance is not an array.'],
      ['empty instances', 'dummy', { instances: [] }, 400, 'Invalid JSON structure. Missing instances in row format'],
      ['named instance then something else', 'dummy', { instances: [{ b: ten }, ten] }, 400, 'Invalid JSON structure. One of named instances is not a JSON object.'],
      ['instances neither named nor no-name', 'dummy', { instances: [null] }, 400, 'Could not detect neither named or nonamed format'],
      ['inputs not an object', 'dummy', { inputs: 'x' }, 400, 'Invalid JSON structure. One of inputs is not a JSON object.'],
      ['empty inputs', 'dummy', { inputs: {} }, 400, 'Invalid JSON structure. Missing inputs in column format'],
      ['ragged row', 'dummy', { instances: [ten, [1, 2]] }, 400, /^Could not parse instance content\. Not valid ndarray detected - input b: array of 2 elements at depth 2 where 10 were expected/],
      ['ragged column', 'dummy', { inputs: { b: [ten, [1, 2]] } }, 400, /^Could not parse input content\. Not valid ndarray detected - input b: array of 2 elements/],
      ['empty array', 'dummy', { inputs: { b: [[]] } }, 400, 'Could not parse input content. Not valid ndarray detected - input b: empty arrays are not valid tensors'],
      ['batch sizes differ', 'add', { instances: [{ input1: ten, input2: ten }, { input1: ten }] }, 400, 'Invalid JSON structure. Request inputs have different batch sizes'],
      ['no-name row on a 2-input model', 'add', { instances: [ten] }, 500, /^Internal allocation error/],
      ['no-name column on a 2-input model', 'add', { inputs: [ten] }, 500, /^Internal allocation error/],
      ['wrong input name', 'dummy', { inputs: { x: [ten] } }, 400, 'Missing input with specific name - Required input: b'],
      ['extra input', 'dummy', { inputs: { b: [ten], x: [ten] } }, 400, 'Invalid number of inputs - Expected: 1; Actual: 2'],
      ['wrong shape', 'dummy', { inputs: { b: [[1, 2, 3]] } }, 400, 'Invalid input shape - Expected: (1,10); Actual: (1,3)'],
      ['wrong batch', 'dummy', { instances: [ten, ten] }, 400, 'Invalid input batch size - Expected: 1; Actual: 2'],
      ['wrong rank', 'dummy', { inputs: { b: ten } }, 400, 'Invalid number of shape dimensions - Expected: (1,10); Actual: (10)'],
      ['unknown model', 'nosuch', { instances: [ten] }, 404, 'Model with requested name is not found'],
    ];
    for (const [name, model, body, status, message] of cases) {
      test(name, () => expectError(predict(model, body), status, message));
    }

    test('unknown version is 404 "Model with requested version is not found"', async () => {
      await expectError(send('POST', '/v1/models/dummy/versions/7:predict', { instances: [ten] }), 404, 'Model with requested version is not found');
      await expectError(send('POST', '/v1/models/dummy/versions/99999999999999999999999:predict', { instances: [ten] }), 404, 'Model with requested version is not found');
    });

    test(':classify and :regress are 501 with a clear message', async () => {
      await expectError(send('POST', '/v1/models/dummy:classify', { examples: [] }), 501,
        'Not implemented - the TensorFlow Serving :classify API is not supported; use :predict');
      await expectError(send('POST', '/v1/models/dummy/versions/1:regress', { examples: [] }), 501, /:regress API is not supported/);
    });

    // '/' is the web console unless --disable_console (then 400 as here: test/console-routes.test.ts).
    test('URLs that match nothing are 400 "Invalid request URL"', async () => {
      for (const p of ['/v1/models/dummy:explain', '/v1/models/dummy/extra', '/v1/models/dummy/', '/v1/nothing', '/v1/models/dummy/versions/x', '/v1/models/dummy/versions/-1:predict']) {
        await expectError(send('GET', p), 400, 'Invalid request URL');
      }
    });

    test('hostile names: NUL, encoded slash, bad escapes → 400; dot segments → 404', async () => {
      await expectError(rawRequest('GET', '/v1/models/%00dummy'), 400, 'Invalid request URL');
      await expectError(rawRequest('GET', '/v1/models/..%2F..%2Fetc'), 400, 'Invalid request URL');
      await expectError(rawRequest('GET', '/v1/models/dummy%ZZ'), 400, 'Invalid request URL');
      await expectError(rawRequest('GET', '/v1/models/..'), 404, 'Model with requested name is not found');
      await expectError(rawRequest('GET', '/v1/models/../metadata'), 404, 'Model with requested name is not found');
    });

    test('other methods on known URLs are 406 "Unsupported method"', async () => {
      await expectError(send('GET', '/v1/models/dummy:predict'), 406, 'Unsupported method');
      await expectError(send('POST', '/v1/models/dummy', {}), 406, 'Unsupported method');
      await expectError(send('DELETE', '/v1/models/dummy/metadata'), 406, 'Unsupported method');
      await expectError(send('PUT', '/v1/models/dummy/versions/1:predict', {}), 406, 'Unsupported method');
    });
  });

  describe('model status and metadata', () => {
    const available = { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: 'OK' } };

    test('GET /v1/models/{name}[/versions/{n}] is GetModelStatusResponse JSON', async () => {
      const all = await send('GET', '/v1/models/dummy');
      assert.equal(all.status, 200);
      assert.equal(all.contentType, 'application/json');
      assert.deepEqual(all.json(), { model_version_status: [available] });
      // Same layout as OVMS prints (protobuf JSON, one-space indentation).
      assert.equal(all.text, JSON.stringify({ model_version_status: [available] }, null, 1));
      assert.deepEqual((await send('GET', '/v1/models/dummy/versions/1')).json(), { model_version_status: [available] });
      await expectError(send('GET', '/v1/models/dummy/versions/2'), 404, 'Model with requested version is not found');
      await expectError(send('GET', '/v1/models/nosuch'), 404, 'Model with requested name is not found');
    });

    test('GET …/metadata is GetModelMetadataResponse JSON with the SignatureDefMap', async () => {
      const dim = (size: number) => ({ size: String(size), name: '' });
      const info = (name: string, dtype: string, shape: number[]) => ({ dtype, tensorShape: { dim: shape.map(dim), unknownRank: false }, name });
      const r = await send('GET', '/v1/models/dummy/metadata');
      assert.equal(r.status, 200);
      const body = r.json();
      assert.deepEqual(body.modelSpec, { name: 'dummy', signatureName: '', version: '1' });
      assert.deepEqual(Object.keys(body.metadata), ['signature_def']);
      const sigMap = body.metadata.signature_def;
      assert.equal(sigMap['@type'], 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
      assert.deepEqual(Object.keys(sigMap.signatureDef), ['serving_default']);
      const sig = sigMap.signatureDef.serving_default;
      assert.deepEqual(sig.inputs, { b: info('b', 'DT_FLOAT', [1, 10]) });
      assert.deepEqual(sig.outputs, { a: info('a', 'DT_FLOAT', [1, 10]) });
      assert.equal(sig.methodName, 'tensorflow/serving/predict');

      const two = (await send('GET', '/v1/models/two/versions/1/metadata')).json().metadata.signature_def.signatureDef.serving_default;
      assert.deepEqual(two.inputs, { x: info('x', 'DT_FLOAT', [-1, 4]) });
      assert.deepEqual(two.outputs, { doubled: info('doubled', 'DT_FLOAT', [-1, 4]), negated: info('negated', 'DT_FLOAT', [-1, 4]) });
      const types = await Promise.all(identityDTypes.map(async (d) =>
        (await send('GET', `/v1/models/id_${d.toLowerCase()}/metadata`)).json().metadata.signature_def.signatureDef.serving_default.inputs.in.dtype));
      assert.deepEqual(types, ['DT_FLOAT', 'DT_DOUBLE', 'DT_HALF', 'DT_INT8', 'DT_UINT8', 'DT_INT16', 'DT_UINT16', 'DT_INT32', 'DT_UINT32', 'DT_INT64', 'DT_UINT64', 'DT_BOOL', 'DT_STRING']);

      await expectError(send('GET', '/v1/models/dummy/versions/3/metadata'), 404, 'Model with requested version is not found');
      await expectError(send('GET', '/v1/models/nosuch/metadata'), 404, 'Model with requested name is not found');
    });
  });

  describe('request sizes', () => {
    test('a 2 MB JSON body is read and answered in full', async () => {
      const rows = 80000;
      const x = Array.from({ length: rows }, (_, i) => [i * 0.001, -i - 1, i + 0.5]);
      const body = JSON.stringify({ instances: x });
      assert.ok(body.length > 2_000_000, `body is ${body.length} bytes`);
      const r = await predict('id_fp32', body);
      assert.equal(r.status, 200, r.text.slice(0, 200));
      const out = r.json().predictions as number[][];
      assert.equal(out.length, rows);
      for (const i of [0, 1, 4567, rows - 1]) assert.deepEqual(out[i]!.map(Math.fround), x[i]!.map(Math.fround));
    });

    test('a body over the 1 GiB limit gets 413 without being read, and the server keeps serving', async () => {
      const r = await rawRequest('POST', '/v1/models/dummy:predict', { 'content-length': 2 ** 31 }, '{"instances": [');
      assert.equal(r.status, 413);
      assert.deepEqual(r.json(), { error: 'Request body too large - the limit is 1073741824 bytes' });
      const ok = await predict('dummy', { instances: [ten] });
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.json(), { predictions: [tenPlusOne] });
    });
  });
});
