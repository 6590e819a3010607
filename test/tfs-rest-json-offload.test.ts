/**
 * Large TFS REST Predict bodies decoded in the JSON-decode worker threads (json-decode-pool.ts):
 * the same tensors and the same errors as the inline parser, one answer per client under
 * concurrency, and a dead worker never costs a request or the server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodePredictBody, parsePredictBody, type PredictRequest } from '../src/api/tfs/rest-request.js';
import { JsonDecodePool, OFFLOAD_MIN_BYTES } from '../src/api/tfs/json-decode-pool.js';
import { parsePredictBodyFast } from '../src/api/tfs/rest-fast-json.js';
import { ServingError, httpStatusOf } from '../src/core/errors.js';
import type { DType } from '../src/core/dtype.js';
import type { TensorSpec } from '../src/core/tensor.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { identityModel, tempDir, writeServedRepository } from './helpers/models.js';
import { seededRandom } from '../scripts/lib/seeded-random.js';

/** Number texts the scanner must read exactly as JSON.parse does. */
const EDGE_NUMBERS = [
  '0', '-0', '-0.0', '0e0', '0E-5', '-0.000', '1', '-1', '42', '123456789', '9007199254740993', '123456789012345678901234567890',
  '0.1', '-2.5e-3', '1e-7', '1E+2', '1e22', '1e23', '123.456e-30', '0.30000000000000004', '0.12345678901234567',
  '3.4028234663852886e38', '-3.4028234663852886e38', '1.401298464324817e-45', '1.1754943508222875e-38',
  '0.100000001490116119384765625', '1.00000005960464477539062500001', '16777217', '2.7182818284590452353602874713527',
  // Digit runs around the scanner's 8-digit steps.
  '12345678', '123456789', '1234567.8', '12345678.12345678', '87654321.7', '0.00000000000000000001', '99999999999999999999',
  '-9999999.99999999', '10000000000000000', '4294967295.000000001', '0.123456781234567812345678',
];

/** `count` number texts: the edge cases, then floats printed the ways clients print them. */
function numberTexts(count: number, seed: number, edges = true): string[] {
  const next = seededRandom(seed);
  const texts: string[] = [];
  for (let i = 0; texts.length < count; i++) {
    if (edges && i < EDGE_NUMBERS.length) {
      texts.push(EDGE_NUMBERS[i]!);
      continue;
    }
    const x = (next() - 0.5) * 10 ** Math.floor(next() * 8 - 4);
    switch (i % 5) {
      case 0: texts.push(JSON.stringify(x)); break; // up to 17 digits
      case 1: texts.push(Math.fround(x).toPrecision(17)); break; // a float32 with 17 digits (numpy tolist)
      case 2: texts.push(x.toExponential(6)); break;
      case 3: texts.push(String(Math.round(x * 1000))); break;
      default: texts.push(JSON.stringify(Math.fround(x)));
    }
  }
  return texts;
}

/** Nests the texts into arrays of `shape` as JSON text. */
function nest(texts: readonly string[], shape: readonly number[]): string {
  let at = 0;
  const level = (d: number): string => {
    if (d === shape.length) return texts[at++]!;
    const parts: string[] = [];
    for (let i = 0; i < shape[d]!; i++) parts.push(level(d + 1));
    return `[${parts.join(',')}]`;
  };
  return level(0);
}

/** What JSON.parse reads, stored in the input's typed array. */
function expectedData(texts: readonly string[], dtype: DType): Float32Array | Float64Array {
  const values = texts.map((t) => JSON.parse(t) as number);
  return dtype === 'FP32' ? Float32Array.from(values) : Float64Array.from(values);
}

function bytesOf(a: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

const SHAPE = [4, 3, 32, 64]; // 24,576 elements: ~0.5 MB of JSON, above OFFLOAD_MIN_BYTES
const ELEMENTS = SHAPE.reduce((a, b) => a * b, 1);
const specOf = (dtype: DType): TensorSpec[] => [{ name: 'in', dtype, shape: [-1, 3, 32, 64] }];

interface Case {
  readonly body: Buffer;
  readonly texts: string[];
}

function makeCase(seed: number, format: 'row' | 'column', extra = ''): Case {
  const texts = numberTexts(ELEMENTS, seed);
  const key = format === 'row' ? 'instances' : 'inputs';
  return { body: Buffer.from(`{${extra}"${key}": ${nest(texts, SHAPE)}}`), texts };
}

function assertDecoded(r: PredictRequest, c: Case, dtype: DType, format: 'row' | 'column'): void {
  assert.equal(r.format, format);
  assert.deepEqual([...r.inputs.keys()], ['in']);
  const t = r.inputs.get('in')!;
  assert.equal(t.dtype, dtype);
  assert.deepEqual(t.shape, SHAPE);
  const data = t.data as Float32Array | Float64Array;
  assert.equal(data.constructor, dtype === 'FP32' ? Float32Array : Float64Array);
  // Byte equality: -0 and every last bit must match JSON.parse's value.
  assert.deepEqual(bytesOf(data), bytesOf(expectedData(c.texts, dtype)));
}

function errorOf(run: () => unknown): ServingError {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ServingError, `expected a ServingError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the body to be refused');
}

async function asyncErrorOf(run: () => Promise<unknown>): Promise<ServingError> {
  try {
    await run();
  } catch (err) {
    assert.ok(err instanceof ServingError, `expected a ServingError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the body to be refused');
}

/** Large bodies the fast scan hands to the general parser, each refused by it. */
function refusedBodies(): { what: string; body: Buffer }[] {
  const texts = numberTexts(ELEMENTS, 7);
  const at = (i: number, text: string) => texts.map((t, j) => (j === i ? text : t));
  const rowsOf = (ts: string[]) => Buffer.from(`{"instances": ${nest(ts, SHAPE)}}`);
  const whole = nest(texts, SHAPE);
  return [
    { what: 'a null deep inside', body: rowsOf(at(ELEMENTS - 5, 'null')) },
    { what: 'a string element', body: rowsOf(at(1000, '"x"')) },
    { what: 'a ragged array', body: Buffer.from(`{"instances": ${whole.slice(0, -2)},[1]]}`) },
    { what: 'truncated JSON', body: Buffer.from(`{"instances": ${whole.slice(0, -10)}`) },
    { what: 'both instances and inputs', body: Buffer.from(`{"instances": ${whole}, "inputs": [1]}`) },
    { what: 'an unknown key only', body: Buffer.from(`{"instancez": ${whole}}`) },
  ];
}

/** Random JSON numbers: 1-30 digits, a point anywhere, optional exponents and signs. */
function randomNumberTexts(count: number, seed: number): string[] {
  const next = seededRandom(seed);
  const digits = (n: number, first = '0123456789') => {
    let t = first[Math.floor(next() * first.length)]!;
    for (let i = 1; i < n; i++) t += String(Math.floor(next() * 10));
    return t;
  };
  const texts: string[] = [];
  while (texts.length < count) {
    const intLen = 1 + Math.floor(next() * 20);
    let t = intLen === 1 ? digits(1) : digits(intLen, '123456789');
    if (next() < 0.7) t += `.${digits(1 + Math.floor(next() * 25))}`;
    if (next() < 0.3) t += `${next() < 0.5 ? 'e' : 'E'}${['', '+', '-'][Math.floor(next() * 3)]}${Math.floor(next() * 60)}`;
    texts.push(next() < 0.4 ? `-${t}` : t);
  }
  return texts;
}

describe('the fast scan reads any number as JSON.parse does', () => {
  for (const dtype of ['FP32', 'FP64'] as const) {
    test(`${dtype}: 200,000 random number texts, bit for bit`, () => {
      for (let seed = 1; seed <= 4; seed++) {
        const texts = randomNumberTexts(50_000, seed * 31);
        const body = Buffer.from(`{"inputs": [${texts.join(',')}]}`);
        const r = parsePredictBodyFast(body, [{ name: 'in', dtype, shape: [-1] }]);
        assert.ok(r, 'the fast path takes the body');
        assert.deepEqual(bytesOf(r.tensor.data as Float32Array), bytesOf(expectedData(texts, dtype)));
      }
    });
  }
});

describe('decodePredictBody through the worker pool', () => {
  const pool = new JsonDecodePool();
  after(() => pool.close());

  for (const dtype of ['FP32', 'FP64'] as const) {
    for (const format of ['row', 'column'] as const) {
      test(`${dtype} ${format}: the values JSON.parse gives, bit for bit`, async () => {
        const c = makeCase(dtype === 'FP32' ? 1 : 2, format);
        assert.ok(c.body.byteLength >= OFFLOAD_MIN_BYTES);
        const r = await decodePredictBody(c.body, specOf(dtype), pool);
        assert.ok(pool.started >= 1, 'the body went through a worker');
        assertDecoded(r, c, dtype, format);
        assert.deepEqual(r, parsePredictBody(c.body, specOf(dtype)));
      });
    }
  }

  test('the decoded array owns its whole buffer (it can move to another thread as it is)', async () => {
    const c = makeCase(3, 'row');
    const data = (await decodePredictBody(c.body, specOf('FP32'), pool)).inputs.get('in')!.data as Float32Array;
    assert.equal(data.byteOffset, 0);
    assert.equal(data.byteLength, data.buffer.byteLength);
  });

  test('whitespace, signature_name and a named-format body give the inline parser\'s result', async () => {
    const texts = numberTexts(ELEMENTS, 4);
    // Written back by JSON.stringify, which prints -0 as 0: the reference is what it wrote.
    const values = JSON.parse(JSON.stringify(JSON.parse(nest(texts, SHAPE)))) as unknown;
    const bodies = [
      Buffer.from(JSON.stringify({ signature_name: 'serving_default', instances: values }, null, 2)),
      Buffer.from(JSON.stringify({ inputs: values }, null, '\t').replaceAll('\n', '\r\n')),
      Buffer.from(JSON.stringify({ instances: (values as unknown[]).map((v) => ({ in: v })) })), // not fast: named
    ];
    for (const body of bodies) {
      assert.ok(body.byteLength >= OFFLOAD_MIN_BYTES);
      const r = await decodePredictBody(body, specOf('FP32'), pool);
      assert.deepEqual(r, parsePredictBody(body, specOf('FP32')));
      const reread = Float32Array.from((values as unknown[]).flat(Infinity) as number[]);
      assert.deepEqual(bytesOf(r.inputs.get('in')!.data as Float32Array), bytesOf(reread));
    }
  });

  test('a body the fast path refuses gets the same error as before', async () => {
    for (const { what, body } of refusedBodies()) {
      assert.ok(body.byteLength >= OFFLOAD_MIN_BYTES, what);
      const inline = errorOf(() => parsePredictBody(body, specOf('FP32')));
      const offloaded = await asyncErrorOf(() => decodePredictBody(body, specOf('FP32'), pool));
      assert.equal(offloaded.message, inline.message, what);
      assert.equal(offloaded.status, inline.status, what);
      assert.equal(offloaded.code, inline.code, what);
      assert.equal(offloaded.http, inline.http, what);
    }
  });

  test('many bodies at once each get their own tensor; released memory serves later bodies only', async () => {
    let previous: Float32Array[] = [];
    for (let round = 0; round < 3; round++) {
      const cases = Array.from({ length: 12 }, (_, i) => ({ dtype: i % 3 === 0 ? 'FP64' as const : 'FP32' as const, format: i % 2 === 0 ? 'row' as const : 'column' as const, c: makeCase(100 + round * 20 + i, i % 2 === 0 ? 'row' : 'column') }));
      const results = await Promise.all(cases.map(({ dtype, c }) => decodePredictBody(c.body, specOf(dtype), pool)));
      results.forEach((r, i) => assertDecoded(r, cases[i]!.c, cases[i]!.dtype, cases[i]!.format));
      if (round > 0) {
        // The last round's released arrays went back to the workers (detached here) to take these bodies.
        assert.ok(previous.some((a) => a.byteLength === 0), 'released memory was reused');
      }
      for (const r of results) pool.release(r.inputs);
      previous = results.map((r) => r.inputs.get('in')!.data as Float32Array);
    }
    assert.ok(pool.started <= 2, `at most min(2, cores) workers, started ${pool.started}`);
  });

  test('memory of tensors not from the pool, or not released, is left alone', async () => {
    const c = makeCase(150, 'row');
    const inline = parsePredictBody(c.body, specOf('FP32'));
    pool.release(inline.inputs);
    const kept = await decodePredictBody(c.body, specOf('FP32'), pool); // never released, like a failed request
    for (let i = 0; i < 4; i++) {
      const next = await decodePredictBody(makeCase(151 + i, 'row').body, specOf('FP32'), pool);
      pool.release(next.inputs);
    }
    assertDecoded(inline, c, 'FP32', 'row');
    assertDecoded(kept, c, 'FP32', 'row');
  });

  test('a small body stays on the calling thread', async () => {
    const fresh = new JsonDecodePool();
    try {
      const body = Buffer.from('{"instances": [[1.5, 2, -0]]}');
      const r = await decodePredictBody(body, [{ name: 'in', dtype: 'FP32', shape: [-1, 3] }], fresh);
      assert.deepEqual(Array.from(r.inputs.get('in')!.data as Float32Array), [1.5, 2, -0]);
      assert.equal(fresh.started, 0);
    } finally {
      await fresh.close();
    }
  });
});

describe('JSON decode workers that die', () => {
  let dir: { path: string; remove(): void };
  before(() => {
    dir = tempDir('tsms-json-offload-');
    writeFileSync(path.join(dir.path, 'exit-worker.mjs'), "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(3));\n");
    writeFileSync(path.join(dir.path, 'throw-worker.mjs'), "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => { throw new Error('boom'); });\n");
  });
  after(() => dir?.remove());

  for (const script of ['exit-worker.mjs', 'throw-worker.mjs']) {
    test(`${script}: every request still gets its tensor (parsed inline); the worker is replaced, 3 times at most`, async () => {
      const pool = new JsonDecodePool({ size: 1, workerUrl: pathToFileURL(path.join(dir.path, script)) });
      try {
        for (let i = 0; i < 3; i++) {
          const c = makeCase(200 + i, 'row');
          assertDecoded(await decodePredictBody(c.body, specOf('FP32'), pool), c, 'FP32', 'row');
          assert.equal(pool.started, i + 1);
        }
        // Three workers died before answering anything: no more are started, bodies are parsed inline.
        const [a, b] = [makeCase(210, 'column'), makeCase(211, 'column')];
        const both = await Promise.all([a, b].map((c) => decodePredictBody(c.body, specOf('FP64'), pool)));
        assertDecoded(both[0]!, a, 'FP64', 'column');
        assertDecoded(both[1]!, b, 'FP64', 'column');
        assert.equal(pool.started, 3);
      } finally {
        await pool.close();
      }
    });
  }

  test('a closed pool decodes inline', async () => {
    const pool = new JsonDecodePool();
    const c = makeCase(300, 'row');
    assertDecoded(await decodePredictBody(c.body, specOf('FP32'), pool), c, 'FP32', 'row');
    await pool.close();
    assertDecoded(await decodePredictBody(c.body, specOf('FP32'), pool), c, 'FP32', 'row');
  });
});

describe('TFS REST Predict of large JSON bodies, end to end', () => {
  let server: RunningServer;
  let dir: { path: string; remove(): void };
  const modelShape = ['batch', 3, 32, 64];

  before(async () => {
    dir = tempDir();
    const configPath = writeServedRepository(dir.path, { id32: { 1: identityModel('FP32', modelShape) }, id64: { 1: identityModel('FP64', modelShape) } });
    server = await startServer({ args: ['--config_path', configPath] });
  });

  after(async () => {
    await server?.stop();
    dir?.remove();
  });

  async function predict(model: string, body: Buffer): Promise<{ status: number; json: any }> {
    const res = await fetch(`${server.restUrl}/v1/models/${model}:predict`, { method: 'POST', body: new Uint8Array(body) });
    const text = await res.text();
    return { status: res.status, json: JSON.parse(text) };
  }

  /** The reply's numbers (TFS prints float32 with its shortest digits) against the request's. */
  function assertEcho(json: any, c: Case, dtype: DType, format: 'row' | 'column'): void {
    const key = format === 'row' ? 'predictions' : 'outputs';
    assert.deepEqual(Object.keys(json), [key]);
    const flat = (json[key] as unknown[]).flat(Infinity) as number[];
    const got = dtype === 'FP32' ? Float32Array.from(flat) : Float64Array.from(flat);
    assert.deepEqual(bytesOf(got), bytesOf(expectedData(c.texts, dtype)));
  }

  /** Request values that print back as plain JSON (no infinities): no edge cases past float32's range. */
  function echoCase(seed: number, format: 'row' | 'column'): Case {
    const texts = numberTexts(ELEMENTS, seed, false);
    const key = format === 'row' ? 'instances' : 'inputs';
    return { body: Buffer.from(`{"${key}": ${nest(texts, SHAPE)}}`), texts };
  }

  test('a large body is decoded in a worker thread of the server', async () => {
    // Linux: the server's threads are /proc/<pid>/task; a JSON-decode worker starts with the first large body.
    const threads = () => readdirSync(`/proc/${server.proc.pid}/task`).length;
    const before = threads();
    const c = echoCase(10, 'row');
    assert.equal((await predict('id32', c.body)).status, 200);
    assert.ok(threads() > before, `threads before ${before}, after ${threads()}`);
  });

  for (const [model, dtype] of [['id32', 'FP32'], ['id64', 'FP64']] as const) {
    for (const format of ['row', 'column'] as const) {
      test(`${model} ${format}: the model sees exactly the numbers sent`, async () => {
        const c = echoCase(dtype === 'FP32' ? 11 : 12, format);
        assert.ok(c.body.byteLength >= OFFLOAD_MIN_BYTES);
        const r = await predict(model, c.body);
        assert.equal(r.status, 200);
        assertEcho(r.json, c, dtype, format);
      });
    }
  }

  test('edge numbers reach an FP64 model as JSON.parse reads them', async () => {
    const c = makeCase(13, 'row');
    const r = await predict('id64', c.body);
    assert.equal(r.status, 200);
    assertEcho(r.json, c, 'FP64', 'row');
  });

  test('bodies the fast path refuses get the inline parser\'s status and text', async () => {
    for (const { what, body } of refusedBodies()) {
      const inline = errorOf(() => parsePredictBody(body, [{ name: 'in', dtype: 'FP32', shape: [-1, 3, 32, 64] }]));
      const r = await predict('id32', body);
      assert.equal(r.status, httpStatusOf(inline), what);
      assert.deepEqual(r.json, { error: inline.message }, what);
    }
  });

  test('8 clients at once, 3 rounds: each gets its own numbers back', async () => {
    for (let round = 0; round < 3; round++) {
      const jobs = Array.from({ length: 8 }, (_, i) => {
        const dtype: DType = i % 4 === 3 ? 'FP64' : 'FP32';
        const format = i % 2 === 0 ? 'row' as const : 'column' as const;
        return { dtype, format, c: echoCase(1000 + round * 10 + i, format) };
      });
      const replies = await Promise.all(jobs.map((j) => predict(j.dtype === 'FP32' ? 'id32' : 'id64', j.c.body)));
      replies.forEach((r, i) => {
        assert.equal(r.status, 200);
        assertEcho(r.json, jobs[i]!.c, jobs[i]!.dtype, jobs[i]!.format);
      });
    }
  });

  test('the server is still up and stops cleanly', async () => {
    const res = await fetch(`${server.restUrl}/v1/models/id32`);
    assert.equal(res.status, 200);
    await res.text();
    assert.equal(await server.stop(), 0);
    assert.doesNotMatch(server.output(), /JSON decode worker/);
  });
});
