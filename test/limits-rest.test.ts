/**
 * Input limits and attacks on the REST port (issue 10 item 1, peers.md §5d), each against a real
 * server process: the exact status and text, then a valid request that must still be served.
 * Complements test/request-limits-*.test.ts (body size at a small --max_request_size, data
 * nesting, shapes, input counts, traversal names): oversized bodies on the repository routes, deep
 * JSON outside tensor data, a 3-million-element array, Infinity and "NaN" where numbers belong,
 * strings onnxruntime cannot hold, a gzip body, a PNG decompression bomb, names that are only
 * names, and HTTP framing abuse.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { startFuzzServer, type FuzzServer } from './helpers/fuzz-server.js';
import { assertServes, expectHttpError, pngBomb, rawHttp, rawTcp } from './helpers/hostile.js';

const TEN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const DEEP = 50_000;

describe('REST limits: exact answers, and the server goes on serving', () => {
  let fs: FuzzServer;
  let port: number;
  const post = (path: string, body: string | Uint8Array, headers = {}) => rawHttp(port, 'POST', path, body, headers);

  before(async () => {
    fs = await startFuzzServer();
    port = fs.server.restPort;
  });
  after(async () => {
    assert.equal(await fs?.stop(), 0);
  });

  // (test/request-limits-size.test.ts covers predict and infer at a small --max_request_size.)
  test('a declared body over 1 GiB gets 413 on the repository routes too, before any byte is read', async () => {
    for (const path of ['/v2/repository/index', '/v2/repository/models/dummy/load', '/v2/repository/models/dummy/unload']) {
      const r = await rawHttp(port, 'POST', path, '{', { 'content-length': String(2 ** 31) });
      expectHttpError(r, 413, 'Request body too large - the limit is 1073741824 bytes');
      assert.equal(r.headers.connection, 'close', `${path}: the unread body is not drained`);
      await assertServes(fs.server);
    }
  });

  test('a huge declared body on a route that reads none is answered, and the connection closed', async () => {
    const r = await rawHttp(port, 'POST', '/v1/config/reload', '{', { 'content-length': String(2 ** 31) });
    assert.equal(r.status, 200, r.text.slice(0, 200));
    assert.equal(r.headers.connection, 'close');
    await assertServes(fs.server);
  });

  test('deep JSON in members the server ignores is harmless: the request is answered correctly', async () => {
    const deep = `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`;
    const tfs = await post('/v1/models/dummy:predict', `{"instances": [${JSON.stringify(TEN)}], "signature_name": ${deep}}`);
    assert.equal(tfs.status, 200, tfs.text);
    assert.deepEqual(tfs.json(), { predictions: [TEN.map((v) => v + 1)] });
    const input = `{"name": "b", "shape": [1, 10], "datatype": "FP32", "data": ${JSON.stringify(TEN)}, "parameters": {"x": ${deep}}}`;
    const ks = await post('/v2/models/dummy/infer', `{"inputs": [${input}], "outputs": [{"name": "a", "parameters": {"x": ${deep}}}]}`);
    assert.equal(ks.status, 200, ks.text);
    assert.deepEqual(ks.json().outputs[0].data, TEN.map((v) => v + 1));
  });

  // Finds a bug in src/api/kserve/rest-infer.ts (engineer K): request-level "parameters" are echoed
  // with JSON.stringify, which overflows the stack on deep nesting → 500 "Internal server error"
  // (after running the model). Expected: refused with 400 before inference, like deep "data".
  test(`KServe request "parameters" nested ${DEEP} levels deep are refused with 400, not a 500`, async () => {
    const deep = `${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`;
    const r = await post('/v2/models/dummy/infer', `{"parameters": {"x": ${deep}}, "inputs": [{"name": "b", "shape": [1, 10], "datatype": "FP32", "data": ${JSON.stringify(TEN)}}]}`);
    assert.equal(r.status, 400, `expected 400, got ${r.status} ${r.text}`);
    assert.equal(typeof r.json().error, 'string');
    await assertServes(fs.server);
  });

  test('a 3-million-element flat array is refused by its shape or count, with the numbers named', async () => {
    const big = `[${'1,'.repeat(3_000_000)}1]`;
    expectHttpError(await post('/v1/models/id_fp32:predict', `{"instances": [${big}]}`), 400, 'Invalid input shape - Expected: (-1,3); Actual: (1,3000001)');
    expectHttpError(await post('/v2/models/id_fp32/infer', `{"inputs": [{"name": "in", "shape": [1, 3], "datatype": "FP32", "data": ${big}}]}`), 400,
      'Invalid number of values in tensor proto container - Expected: 3; Actual: 3000001');
    await assertServes(fs.server);
  });

  // (test/request-limits-input.test.ts covers NaN as JSON and FP32 overflow to ±Infinity.)
  test('Infinity where an integer belongs, and "NaN" as a string, are refused with the value named', async () => {
    expectHttpError(await post('/v1/models/id_fp32:predict', '{"instances": [[Infinity, 1, 2]]}'), 412, 'The file is not valid json');
    expectHttpError(await post('/v1/models/id_int32:predict', '{"instances": [[1e400, 1, 2]]}'), 400,
      'Could not parse instance content. Not valid ndarray detected - input in: Infinity is not an integer (INT32 input)');
    expectHttpError(await post('/v2/models/id_fp32/infer', '{"inputs": [{"name": "in", "shape": [1, 3], "datatype": "FP32", "data": ["NaN", 1, 2]}]}'), 400,
      'Could not parse input content. Not valid ndarray detected - input in: "NaN" is not a number (FP32 data)');
    await assertServes(fs.server);
  });

  test('strings onnxruntime cannot hold (NUL, invalid UTF-8) are refused with the element named', async () => {
    expectHttpError(await post('/v1/models/id_string:predict', JSON.stringify({ instances: [['a\u0000b', 'c', 'd']] })), 400,
      'Invalid input precision - input in: string element 0 contains a NUL byte, which onnxruntime string tensors cannot hold');
    expectHttpError(await post('/v1/models/id_string:predict', JSON.stringify({ instances: [['c', { b64: Buffer.from([0xff, 0xfe]).toString('base64') }, 'd']] })), 400,
      'Invalid input precision - input in: string element 1 is not valid UTF-8 (ONNX string tensors hold UTF-8 text)');
    await assertServes(fs.server);
  });

  test('a gzip-encoded body is not inflated: no decompression bomb, the bytes are simply not JSON', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20), { level: 9 });
    assert.ok(bomb.length < 100_000);
    expectHttpError(await post('/v1/models/dummy:predict', bomb, { 'content-encoding': 'gzip' }), 412, 'The file is not valid json');
    expectHttpError(await post('/v2/models/dummy/infer', bomb, { 'content-encoding': 'gzip' }), 412, 'The file is not valid json');
    await assertServes(fs.server);
  });

  test('a PNG decompression bomb (10^10 pixels in a few hundred bytes) is refused from its header', async () => {
    const bomb = pngBomb();
    assert.ok(bomb.length < 2000);
    expectHttpError(await post('/v1/models/img:predict', JSON.stringify({ instances: [{ in: { b64: bomb.toString('base64') } }] })), 400,
      'Image parsing failed - Input image exceeds pixel limit');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(bomb.length);
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'in', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: bomb.length + 4 } }] }));
    expectHttpError(await post('/v2/models/img/infer', Buffer.concat([header, len, bomb]), { 'inference-header-content-length': String(header.length) }), 400,
      'Image parsing failed - Input image exceeds pixel limit');
    await assertServes(fs.server);
  });

  // (test/request-limits-names.test.ts covers `..`, encoded slashes, NUL and absolute paths on every REST API.)
  test('names with backslashes, spaces around dots (Triton core#481) and version labels are only names', async () => {
    const body = JSON.stringify({ instances: [TEN] });
    for (const name of ['..%5Cdummy', '%20..', '..%20', '.%2E', 'dummy%5C..%5C..']) {
      expectHttpError(await rawHttp(port, 'POST', `/v1/models/${name}:predict`, body), 404, 'Model with requested name is not found');
      expectHttpError(await rawHttp(port, 'GET', `/v2/models/${name}/ready`), 404, 'Model with requested name is not found');
    }
    expectHttpError(await post('/v2/models/dummy/versions/-1/infer', JSON.stringify({ inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: TEN }] })), 404,
      'Model with requested version is not found');
    // A label is not a path: it is ignored and the default version answers (OVMS).
    const labelled = await post('/v1/models/dummy/labels/..:predict', body);
    assert.equal(labelled.status, 200);
    assert.deepEqual(labelled.json(), { predictions: [TEN.map((v) => v + 1)] });
    await assertServes(fs.server);
  });

  test('HTTP framing: garbage request line, oversized headers, 100,000 one-byte chunks, pipelining, a body shorter than declared', async () => {
    const garbage = await rawTcp(port, 'GARBAGE \x01\x02 HTTP/1.1\r\n\r\n');
    assert.match(garbage, /^HTTP\/1\.1 400 Bad Request\r\n/);
    const bigHeader = await rawTcp(port, `GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
    assert.match(bigHeader, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);

    const body = JSON.stringify({ instances: [TEN] }).padEnd(100_000, ' ');
    let chunked = '';
    for (const ch of body) chunked += `1\r\n${ch}\r\n`;
    const oneByteChunks = await rawTcp(port, ['POST /v1/models/dummy:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', chunked, '0\r\n\r\n'], 20000);
    assert.match(oneByteChunks, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(oneByteChunks.endsWith('{"predictions":[[2.0,3.0,4.0,5.0,6.0,7.0,8.0,9.0,10.0,11.0]]}'));

    const one = JSON.stringify({ instances: [TEN] });
    const request = `POST /v1/models/dummy:predict HTTP/1.1\r\nHost: x\r\nContent-Length: ${one.length}\r\n\r\n${one}`;
    const pipelined = await rawTcp(port, `${request}${request.replace('[1,', '[2,')}GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const answers = pipelined.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 3, pipelined);
    assert.ok(answers[0]!.endsWith('{"predictions":[[2.0,3.0,4.0,5.0,6.0,7.0,8.0,9.0,10.0,11.0]]}'));
    assert.ok(answers[1]!.endsWith('{"predictions":[[3.0,3.0,4.0,5.0,6.0,7.0,8.0,9.0,10.0,11.0]]}'), 'answers come back in request order');
    assert.match(answers[2]!, /^HTTP\/1\.1 200 OK\r\n/);

    // The server waits for the promised bytes; the client gives up and goes away.
    const short = await rawTcp(port, 'POST /v1/models/dummy:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"instances"', 500);
    assert.equal(short, '');
    await assertServes(fs.server);
  });
});
