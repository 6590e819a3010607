/**
 * KServe v2 REST end to end: health, metadata, readiness, inference in JSON and with the binary
 * data extension in both directions (raw bytes checked), and the error answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, identityModel, tempDir, twoOutputsModel, writeRepository } from './helpers/models.js';
import { bytesOf, prefixed } from './helpers/kserve-grpc.js';

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
  json(): any;
}

const ten = Array.from({ length: 10 }, (_, i) => i);

describe('KServe v2 REST API', () => {
  let server: RunningServer;
  const dir = tempDir();

  before(async () => {
    writeRepository(dir.path, {
      dummy: { 1: dummyModel(1) },
      two: { 1: twoOutputsModel() },
      str: { 1: identityModel('STRING') },
      i64: { 1: identityModel('INT64') },
      half: { 1: identityModel('FP16') },
      bool: { 1: identityModel('BOOL') },
    });
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({
      model_config_list: ['dummy', 'two', 'str', 'i64', 'half', 'bool'].map((name) => ({ config: { name, base_path: path.join(dir.path, name) } })),
    }));
    server = await startServer({ args: ['--config_path', configPath] });
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });

  async function send(method: string, urlPath: string, body?: string | Uint8Array, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await fetch(`${server.restUrl}${urlPath}`, { method, body: body as BodyInit | undefined, headers });
    const buf = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body: buf, text: buf.toString('utf8'), json: () => JSON.parse(buf.toString('utf8')) };
  }
  const infer = (model: string, body: unknown) => send('POST', `/v2/models/${model}/infer`, JSON.stringify(body));

  test('health: live and ready answer 200 with an empty body', async () => {
    const live = await send('GET', '/v2/health/live');
    assert.equal(live.status, 200);
    assert.equal(live.text, '');
    const ready = await send('GET', '/v2/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.text, '');
  });

  test('GET /v2 is the server metadata', async () => {
    const res = await send('GET', '/v2');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const meta = res.json();
    assert.equal(meta.name, 'tsms');
    assert.deepEqual(meta.extensions, ['binary_tensor_data', 'model_repository']);
  });

  test('model metadata and model readiness, with and without a version', async () => {
    const meta = await send('GET', '/v2/models/dummy');
    assert.equal(meta.status, 200);
    assert.deepEqual(meta.json(), {
      name: 'dummy', versions: ['1'], platform: 'onnxruntime_onnx',
      inputs: [{ name: 'b', datatype: 'FP32', shape: [1, 10] }],
      outputs: [{ name: 'a', datatype: 'FP32', shape: [1, 10] }],
    });
    assert.deepEqual((await send('GET', '/v2/models/dummy/versions/1')).json().name, 'dummy');
    assert.equal((await send('GET', '/v2/models/dummy/ready')).status, 200);
    assert.equal((await send('GET', '/v2/models/dummy/versions/1/ready')).status, 200);

    const unknown = await send('GET', '/v2/models/nope/ready');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json(), { error: 'Model with requested name is not found' });
    const noVersion = await send('GET', '/v2/models/dummy/versions/3');
    assert.equal(noVersion.status, 404);
    assert.deepEqual(noVersion.json(), { error: 'Model with requested version is not found' });
    const badVersion = await send('GET', '/v2/models/dummy/versions/x1/ready');
    assert.equal(badVersion.status, 400);
    assert.deepEqual(badVersion.json(), { error: 'invalid model version format in request' });
  });

  test('JSON inference: nested or flat data, id and parameters echoed, outputs selected', async () => {
    const nested = await infer('dummy', { id: 'abc', inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: [ten] }] });
    assert.equal(nested.status, 200);
    assert.deepEqual(nested.json(), {
      model_name: 'dummy', model_version: '1', id: 'abc',
      outputs: [{ name: 'a', datatype: 'FP32', shape: [1, 10], data: ten.map((v) => v + 1) }],
    });
    const flat = await infer('dummy', { parameters: { note: 'x' }, inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: ten.map((v) => v / 10) }] });
    const body = flat.json();
    assert.deepEqual(body.parameters, { note: 'x' });
    assert.equal(body.id, undefined);
    assert.deepEqual(body.outputs[0].data, ten.map((v) => Math.fround(v / 10 + 1)).map((v) => Number(v.toPrecision(6))));

    const two = await infer('two', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }], outputs: [{ name: 'negated' }] });
    assert.deepEqual(two.json().outputs, [{ name: 'negated', datatype: 'FP32', shape: [1, 4], data: [-1, -2, -3, -4] }]);
  });

  test('JSON inference with INT64 beyond 2^53, BOOL, BYTES and FP16 data', async () => {
    const i64 = await send('POST', '/v2/models/i64/infer', '{"inputs":[{"name":"in","shape":[1,3],"datatype":"INT64","data":[9007199254740993,-9223372036854775808,1]}]}');
    assert.equal(i64.status, 200);
    assert.match(i64.text, /"data":\[9007199254740993,-9223372036854775808,1\]/);
    const b = await infer('bool', { inputs: [{ name: 'in', shape: [1, 3], datatype: 'BOOL', data: [true, false, true] }] });
    assert.deepEqual(b.json().outputs[0].data, [true, false, true]);
    const s = await infer('str', { inputs: [{ name: 'in', shape: [1, 3], datatype: 'BYTES', data: ['a', '', 'zß'] }] });
    assert.deepEqual(s.json().outputs[0], { name: 'out', datatype: 'BYTES', shape: [1, 3], data: ['a', '', 'zß'] });
    const h = await infer('half', { inputs: [{ name: 'in', shape: [1, 3], datatype: 'FP16', data: [1, -2.5, 0.1] }] });
    assert.deepEqual(h.json().outputs[0].data, [1, -2.5, 0.1]);
  });

  test('binary data extension, request side: raw FP32 after the JSON header', async () => {
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', parameters: { binary_data_size: 40 } }] }));
    const raw = bytesOf(Float32Array.from(ten));
    const res = await send('POST', '/v2/models/dummy/infer', Buffer.concat([header, raw]), {
      'Inference-Header-Content-Length': String(header.length), 'Content-Type': 'application/octet-stream',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('inference-header-content-length'), null);
    assert.deepEqual(res.json().outputs[0].data, ten.map((v) => v + 1));
  });

  test('binary data extension, both ways: binary_data_output and per-output binary_data, raw bytes checked', async () => {
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
      outputs: [{ name: 'doubled', parameters: { binary_data: true } }, { name: 'negated', parameters: { binary_data: false } }],
    }));
    const x = Float32Array.from([0.5, 1, -3, 8]);
    const res = await send('POST', '/v2/models/two/infer', Buffer.concat([header, bytesOf(x)]), { 'Inference-Header-Content-Length': String(header.length) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const jsonLength = Number(res.headers.get('inference-header-content-length'));
    const json = JSON.parse(res.body.subarray(0, jsonLength).toString('utf8'));
    assert.deepEqual(json.outputs, [
      { name: 'doubled', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } },
      { name: 'negated', datatype: 'FP32', shape: [1, 4], data: [-0.5, -1, 3, -8] },
    ]);
    assert.equal(res.body.length, jsonLength + 16);
    assert.deepEqual(res.body.subarray(jsonLength), bytesOf(Float32Array.from([1, 2, -6, 16])));

    // Every output binary: request parameter binary_data_output.
    const all = await infer('dummy', { parameters: { binary_data_output: true }, inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: ten }] });
    const len = Number(all.headers.get('inference-header-content-length'));
    const allJson = JSON.parse(all.body.subarray(0, len).toString('utf8'));
    assert.equal(allJson.parameters, undefined, 'the binary extension\'s own parameter is not echoed');
    assert.deepEqual(allJson.outputs, [{ name: 'a', datatype: 'FP32', shape: [1, 10], parameters: { binary_data_size: 40 } }]);
    assert.deepEqual(all.body.subarray(len), bytesOf(Float32Array.from(ten.map((v) => v + 1))));
  });

  test('binary data extension with BYTES (4-byte length prefixes) and FP16, both ways', async () => {
    const strings = prefixed(['hello', '', 'binary data']);
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'in', shape: [1, 3], datatype: 'BYTES', parameters: { binary_data_size: strings.length } }],
      parameters: { binary_data_output: true },
    }));
    const res = await send('POST', '/v2/models/str/infer', Buffer.concat([header, strings]), { 'Inference-Header-Content-Length': String(header.length) });
    assert.equal(res.status, 200, res.text);
    const len = Number(res.headers.get('inference-header-content-length'));
    assert.deepEqual(JSON.parse(res.body.subarray(0, len).toString()).outputs[0].parameters, { binary_data_size: strings.length });
    assert.deepEqual(res.body.subarray(len), strings);

    const half = Uint16Array.from([0x3c00, 0x3555, 0xfc00]);
    const h2 = Buffer.from(JSON.stringify({
      inputs: [{ name: 'in', shape: [1, 3], datatype: 'FP16', parameters: { binary_data_size: 6 } }],
      outputs: [{ name: 'out', parameters: { binary_data: true } }],
    }));
    // Header of odd length: the FP16 data starts misaligned and must still be read right.
    const padded = Buffer.concat([h2, Buffer.from(' ')]);
    const r2 = await send('POST', '/v2/models/half/infer', Buffer.concat([padded, bytesOf(half)]), { 'Inference-Header-Content-Length': String(padded.length) });
    assert.equal(r2.status, 200, r2.text);
    const l2 = Number(r2.headers.get('inference-header-content-length'));
    assert.deepEqual(r2.body.subarray(l2), bytesOf(half));
  });

  test('errors: codes and texts', async () => {
    const base = { name: 'b', shape: [1, 10], datatype: 'FP32' };
    const cases: [Promise<Reply>, number, string | RegExp][] = [
      [send('POST', '/v2/models/dummy/infer', '{"inputs": ['), 412, 'The file is not valid json'],
      [send('POST', '/v2/models/dummy/infer', '[1]'), 400, 'Request body should be JSON object'],
      [infer('dummy', { inputs: [{ ...base, data: ten.slice(0, 9) }] }), 400, 'Invalid number of values in tensor proto container - Expected: 10; Actual: 9'],
      [infer('dummy', { inputs: [{ ...base, shape: [1, 9], data: ten.slice(0, 9) }] }), 400, 'Invalid input shape - Expected: (1,10); Actual: (1,9)'],
      [infer('dummy', { inputs: [{ ...base, datatype: 'INT32', data: ten }] }), 400, 'Invalid input precision - Expected: FP32; Actual: I32'],
      [infer('dummy', { inputs: [{ ...base, data: ['a', ...ten.slice(1)] }] }), 400, 'Could not parse input content. Not valid ndarray detected - input b: "a" is not a number (FP32 data)'],
      [infer('dummy', { inputs: [] }), 400, '"inputs" must be a non-empty array of input tensors'],
      [infer('dummy', { inputs: [{ ...base }] }), 400, 'input b has neither "data" nor a binary_data_size parameter'],
      [infer('nope', { inputs: [{ ...base, data: ten }] }), 404, 'Model with requested name is not found'],
      [send('POST', '/v2/models/dummy/versions/2/infer', '{}'), 404, 'Model with requested version is not found'],
      [send('POST', '/v2/models/dummy/versions/latest/infer', '{}'), 400, 'invalid model version format in request'],
      [send('GET', '/v2/models/dummy/infer'), 406, 'Unsupported method'],
      [send('POST', '/v2/health/live'), 406, 'Unsupported method'],
      [send('DELETE', '/v2/models/dummy'), 406, 'Unsupported method'],
      [send('GET', '/v2/modelz'), 400, 'Invalid request URL'],
      [send('POST', '/v2/models/dummy/infer', Buffer.from('{"inputs":[]}'), { 'Inference-Header-Content-Length': '99' }), 400, /^Invalid Inference-Header-Content-Length/],
    ];
    for (const [reply, status, text] of cases) {
      const r = await reply;
      assert.equal(r.status, status, r.text);
      assert.equal(r.headers.get('content-type'), 'application/json');
      const error = r.json().error as string;
      if (typeof text === 'string') assert.equal(error, text);
      else assert.match(error, text);
    }

    // Binary sizes that do not add up.
    const header = Buffer.from(JSON.stringify({ inputs: [{ ...base, parameters: { binary_data_size: 40 } }] }));
    const short = await send('POST', '/v2/models/dummy/infer', Buffer.concat([header, Buffer.alloc(8)]), { 'Inference-Header-Content-Length': String(header.length) });
    assert.equal(short.status, 400);
    assert.match(short.json().error, /binary_data_size 40 runs past the end of the body/);
    const long = await send('POST', '/v2/models/dummy/infer', Buffer.concat([header, Buffer.alloc(48)]), { 'Inference-Header-Content-Length': String(header.length) });
    assert.equal(long.status, 400);
    assert.match(long.json().error, /8 bytes after the JSON header belong to no input/);
    const wrongSize = Buffer.from(JSON.stringify({ inputs: [{ ...base, parameters: { binary_data_size: 36 } }] }));
    const ws = await send('POST', '/v2/models/dummy/infer', Buffer.concat([wrongSize, Buffer.alloc(36)]), { 'Inference-Header-Content-Length': String(wrongSize.length) });
    assert.equal(ws.status, 400);
    assert.equal(ws.json().error, 'Invalid content size of tensor proto - Expected: 40 bytes; Actual: 36 bytes');
  });

  test('a huge declared shape with tiny data is refused without allocating it', async () => {
    const r = await infer('str', { inputs: [{ name: 'in', shape: [1, 2 ** 31], datatype: 'BYTES', data: ['a'] }] });
    assert.equal(r.status, 400);
    assert.equal(r.json().error, 'Invalid input shape - Expected: (-1,3); Actual: (1,2147483648)');
  });

  test('a raw HTTP/1.1 client keeps its connection across binary responses', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      for (let i = 0; i < 3; i++) {
        const body = JSON.stringify({ parameters: { binary_data_output: true }, inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: ten }] });
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port: server.restPort, method: 'POST', path: '/v2/models/dummy/infer', agent }, (res) => {
            sockets.add(res.socket);
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          });
          req.on('error', reject);
          req.end(body);
        });
        assert.equal(status, 200);
      }
      assert.equal(sockets.size, 1);
    } finally {
      agent.destroy();
    }
  });
});
