/**
 * Fuzzing the REST decoders of a real server process: TFS predict bodies (row/column,
 * named/no-name), KServe v2 infer bodies (JSON and the binary data extension), encoded images
 * (b64 and BYTES) and the URL router, with generated requests (valid and hostile) and byte-level
 * mutations of valid ones. Every answer must be a correct result or a 4xx with a JSON error (OVMS's
 * two defined 500s aside); requests built to be valid must succeed with the right values; after
 * each batch the server must still serve a valid request and have logged no unexpected error.
 * The seed is printed on failure (TSMS_FUZZ_SEED replays it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fc from 'fast-check';
import sharp from 'sharp';
import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import { dtypeInfo, fromKserve, type DType } from '../src/core/dtype.js';
import { assertClientErrorHttp, fuzz, fuzzSeed, mutatedBytes, mutatedJson, replayHint } from './helpers/fuzz.js';
import { assertStillServesRest, FUZZ_MODELS, HOSTILE_NAMES, IMAGE_MODEL, serverErrors, startFuzzServer, type FuzzModel, type FuzzServer } from './helpers/fuzz-server.js';
import { elementsOf, modelArb, nameArb, prefixedBytes, rawOf, tensorNameArb, validInputs, type ValidTensor } from './helpers/fuzz-arbitraries.js';
import { splitPrefixed, type Elements } from './helpers/tensor-oracle.js';

type Json = any;
type Leaf = number | bigint | boolean | string;

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** node:http rather than fetch: the path goes out exactly as written (no dot-segment tidying). */
function request(port: number, method: string, path: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body && { 'content-length': String(body.length) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---- JSON with exact integers -----------------------------------------------------------------

/** JSON text where bigints are written as their digits (JSON.stringify refuses them). */
function jsonText(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  if (v instanceof Uint8Array) return JSON.stringify(new TextDecoder().decode(v));
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(',')}}`;
  return JSON.stringify(v);
}

/** TFS and KServe print non-finite floats bare (NaN, Infinity); quote them so a JSON parser reads them. */
function quoteNonFinite(text: string): string {
  return text.replace(/([[,:]\s*)(-?Infinity|NaN)(?=\s*[\]},])/g, '$1"$2"');
}

/** Parses a response body keeping every digit of every number. */
function parseExact(body: Buffer): Json {
  return parseLossless(quoteNonFinite(body.toString('utf8')));
}

/** Half-precision bits → number (written here rather than imported, to stay independent of the server). */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Element values as a JSON API shows them. */
function leavesOf(e: Elements): Leaf[] {
  if (e.dtype === 'STRING') return e.strings.map((s) => new TextDecoder().decode(s));
  const copy = Uint8Array.from(e.bytes).buffer;
  if (e.dtype === 'BOOL') return [...new Uint8Array(copy)].map((b) => b !== 0);
  if (e.dtype === 'FP16') return [...new Uint16Array(copy)].map(halfToNumber);
  const Ctor = dtypeInfo(e.dtype).array!;
  return [...(new (Ctor as Float64ArrayConstructor)(copy) as unknown as Iterable<number | bigint>)];
}

function flatten(v: unknown): unknown[] {
  return Array.isArray(v) ? v.flatMap(flatten) : [v];
}

/** A response leaf (lossless) as the value kind `like` has. */
function leafValue(v: unknown, like: Leaf): Leaf {
  if (isLosslessNumber(v)) return typeof like === 'bigint' ? BigInt(v.toString()) : Number(v.toString());
  if (typeof v === 'string' && typeof like === 'number') return Number(v); // quoted NaN / Infinity
  return v as Leaf;
}

/**
 * Element-wise equality of response leaves with the expected values of `dtype`. FP32 and FP16 are
 * printed in their short form (the shortest decimal that reads back as the same value), so they
 * are compared after rounding to their precision; NaN equals NaN.
 */
function sameLeaves(actual: readonly unknown[], expected: readonly Leaf[], dtype: DType): boolean {
  if (actual.length !== expected.length) return false;
  return expected.every((e, i) => {
    let a = leafValue(actual[i], e);
    if (typeof a === 'number' && typeof e === 'number') {
      if (Number.isNaN(a) && Number.isNaN(e)) return true;
      if (dtype === 'FP32') a = Math.fround(a);
      // Within half an FP16 step of the exact half value (2^-25 absolute for subnormals).
      if (dtype === 'FP16') return a === e || Math.abs(a - e) <= Math.max(Math.abs(e) * 2 ** -11, 2 ** -25);
    }
    return a === e;
  });
}

/** A flat list as nested arrays of `shape`. */
function nest(values: readonly unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  const [d, ...rest] = shape;
  const per = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: d! }, (_, i) => nest(values.slice(i * per, (i + 1) * per), rest));
}

/** A value of a JSON body: numbers as numbers, 64-bit integers as bigints, strings as UTF-8 text. */
function jsonValues(t: ValidTensor): unknown[] {
  if (t.dtype === 'FP16') return (t.values as number[]).map(halfToNumber);
  return [...t.values];
}

/** Valid inputs whose every value JSON can carry (finite floats; FP16 from finite bit patterns). */
function jsonSafe(inputs: readonly ValidTensor[]): boolean {
  return inputs.every((t) => jsonValues(t).every((v) => typeof v !== 'number' || Number.isFinite(v)));
}

// ---- arbitraries --------------------------------------------------------------------------------

type Format = 'row-named' | 'row-noname' | 'column-named' | 'column-noname';

function tfsBody(model: FuzzModel, inputs: readonly ValidTensor[], format: Format): string {
  const batch = inputs[0]!.shape[0]!;
  switch (format) {
    case 'column-named':
      return jsonText({ inputs: Object.fromEntries(inputs.map((t) => [t.name, nest(jsonValues(t), t.shape)])) });
    case 'column-noname':
      return jsonText({ inputs: nest(jsonValues(inputs[0]!), inputs[0]!.shape) });
    case 'row-noname':
      return jsonText({ instances: nest(jsonValues(inputs[0]!), inputs[0]!.shape) });
    case 'row-named': {
      const items = Array.from({ length: batch }, (_, i) => Object.fromEntries(inputs.map((t) => {
        const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
        return [t.name, nest(jsonValues(t).slice(i * per, (i + 1) * per), t.shape.slice(1))];
      })));
      void model;
      return jsonText({ instances: items });
    }
  }
}

/** Valid TFS REST bodies for any model, in every format it takes. */
const validTfsRest = modelArb.chain((model) => fc.tuple(
  fc.constant(model),
  validInputs(model).filter(jsonSafe),
  fc.constantFrom<Format>(...(model.inputs.length === 1 ? ['row-named', 'row-noname', 'column-named', 'column-noname'] as const : ['row-named', 'column-named'] as const)),
));

/** JSON-ish values: nested arrays of numbers, strings, booleans, nulls, b64 objects and odd objects. */
const { jsonish } = fc.letrec<{ jsonish: unknown }>((tie) => ({
  jsonish: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.double(),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 6 }),
    fc.record({ b64: fc.oneof(fc.base64String({ maxLength: 12 }), fc.string({ maxLength: 6 })) }),
    fc.array(tie('jsonish'), { maxLength: 4 }),
    fc.dictionary(tensorNameArb, tie('jsonish'), { maxKeys: 2 }),
  ),
}));

const hostileTfsRestBody = fc.oneof(
  fc.record({ instances: jsonish }),
  fc.record({ inputs: jsonish }),
  fc.record({ inputs: fc.dictionary(tensorNameArb, jsonish, { maxKeys: 3 }) }),
  fc.record({ instances: fc.array(fc.dictionary(tensorNameArb, jsonish, { maxKeys: 2 }), { maxLength: 3 }) }),
  fc.record({ instances: jsonish, inputs: jsonish, signature_name: fc.string() }, { requiredKeys: [] }),
  jsonish,
).map((v) => jsonText(v));

/** Valid KServe JSON bodies; some inputs and outputs binary. */
const validKserveRest = modelArb.chain((model) => fc.record({
  model: fc.constant(model),
  inputs: validInputs(model).filter(jsonSafe),
  binaryIn: fc.array(fc.boolean(), { minLength: model.inputs.length, maxLength: model.inputs.length }),
  nested: fc.boolean(),
  outputs: fc.option(fc.subarray([...model.outputs], { minLength: 1 }).chain((names) => fc.tuple(...names.map((n) => fc.tuple(fc.constant(n), fc.boolean())))), { nil: undefined }),
  binaryOut: fc.boolean(),
  id: fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
}));

interface KserveBody {
  readonly body: Uint8Array;
  readonly headerLength: number | undefined;
}

function kserveBody(v: { inputs: readonly ValidTensor[]; binaryIn: readonly boolean[]; nested: boolean; outputs: readonly [string, boolean][] | undefined; binaryOut: boolean; id: string | undefined }): KserveBody {
  const raws: Uint8Array[] = [];
  const header = {
    ...(v.id !== undefined && { id: v.id }),
    ...(v.binaryOut && { parameters: { binary_data_output: true } }),
    inputs: v.inputs.map((t, i) => {
      const base = { name: t.name, shape: t.shape, datatype: dtypeInfo(t.dtype).kserve };
      if (v.binaryIn[i]) {
        const raw = rawOf(t);
        raws.push(raw);
        return { ...base, parameters: { binary_data_size: raw.length } };
      }
      const values = jsonValues(t);
      return { ...base, data: v.nested ? nest(values, t.shape) : values };
    }),
    ...(v.outputs && { outputs: v.outputs.map(([name, binary]) => ({ name, parameters: { binary_data: binary } })) }),
  };
  const json = Buffer.from(jsonText(header));
  if (raws.length === 0) return { body: json, headerLength: undefined };
  return { body: Buffer.concat([json, ...raws]), headerLength: json.length };
}

const hostileKserveRest = fc.record({
  id: fc.option(jsonish, { nil: undefined }),
  parameters: fc.option(fc.oneof(jsonish, fc.record({ binary_data_output: jsonish })), { nil: undefined }),
  inputs: fc.oneof(jsonish, fc.array(fc.record({
    name: fc.oneof(tensorNameArb, jsonish),
    shape: fc.oneof(fc.array(fc.oneof(fc.integer({ min: -2, max: 4 }), fc.constantFrom(2 ** 31, 2 ** 53, 2 ** 64, 1.5)), { maxLength: 5 }), jsonish),
    datatype: fc.oneof(fc.constantFrom('FP32', 'INT64', 'BYTES', 'BOOL', 'FP16', 'UINT8', 'BF16'), jsonish),
    data: jsonish,
    parameters: fc.oneof(fc.record({ binary_data_size: fc.oneof(fc.integer({ min: -1, max: 64 }), jsonish) }), jsonish),
  }, { requiredKeys: [] }), { maxLength: 3 })),
  outputs: fc.option(fc.oneof(jsonish, fc.array(fc.record({ name: fc.oneof(tensorNameArb, jsonish), parameters: jsonish }, { requiredKeys: [] }), { maxLength: 2 })), { nil: undefined }),
}, { requiredKeys: [] }).chain((header) => fc.tuple(
  fc.constant(Buffer.from(jsonText(header))),
  fc.uint8Array({ maxLength: 64 }),
  fc.oneof(fc.constant(undefined), fc.constant('exact'), fc.constantFrom('-1', '99999999', 'abc', '', ' 12', '1e3', '0x10', '18446744073709551616')),
)).map(([json, tail, headerLength]) => ({
  body: headerLength === undefined ? json : Buffer.concat([json, tail]),
  headerLength: headerLength === 'exact' ? String(json.length) : headerLength,
}));

/** encodeURIComponent, with lone surrogates sent as the bytes a careless client would send. */
function encodeSegment(s: string): string {
  return [...s].map((ch) => {
    try {
      return encodeURIComponent(ch);
    } catch {
      return '%ED%A0%80';
    }
  }).join('');
}

// ---- the test -----------------------------------------------------------------------------------

describe(`fuzz: REST decoders of a running server (seed ${fuzzSeed})`, () => {
  let fs: FuzzServer;
  const port = () => fs.server.restPort;

  before(async () => {
    fs = await startFuzzServer();
  });
  after(async () => {
    const code = await fs?.stop();
    assert.equal(code, 0, 'the server exits cleanly after the fuzzing');
  });

  async function assertStillServes(): Promise<void> {
    await assertStillServesRest(fs.server);
    const r = await request(port(), 'POST', '/v2/models/dummy/infer', Buffer.from(JSON.stringify({ inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }] })));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body.toString()).outputs[0].data, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(serverErrors(fs.server), [], 'no request may reach the log as an unexpected error');
  }

  // ---- TFS REST ----

  /** Checks a TFS predict answer; with `valid`, success with the model's values is required. */
  async function checkTfsPredict(model: string, body: Uint8Array, valid: { model: FuzzModel; inputs: readonly ValidTensor[]; format: Format } | undefined): Promise<void> {
    const r = await request(port(), 'POST', `/v1/models/${encodeSegment(model)}:predict`, body);
    const context = `POST ${model}:predict ${Buffer.from(body).toString('utf8').slice(0, 500)}`;
    if (r.status !== 200) {
      assert.equal(valid, undefined, `a valid request failed with ${r.status} ${r.body.toString().slice(0, 300)}\n  ${context}\n  ${replayHint()}`);
      assertClientErrorHttp(r.status, r.body.toString(), context);
      return;
    }
    assert.equal(r.headers['content-type'], 'application/json');
    const doc = parseExact(r.body);
    if (!valid) {
      // An accepted hostile body: the answer is still well-formed.
      assert.ok('predictions' in doc || 'outputs' in doc, `200 without predictions/outputs: ${r.body.toString().slice(0, 300)}`);
      return;
    }
    const expected = valid.model.compute(new Map(valid.inputs.map((t) => [t.name, elementsOf(t)])));
    const row = valid.format.startsWith('row');
    const single = valid.model.outputs.length === 1;
    for (const name of valid.model.outputs) {
      let got: unknown;
      if (row) got = single ? doc.predictions : (doc.predictions as Json[]).map((item) => item[name]);
      else got = single ? doc.outputs : doc.outputs[name];
      assert.ok(sameLeaves(flatten(got), leavesOf(expected.get(name)!), expected.get(name)!.dtype),
        `output ${name}: got ${JSON.stringify(flatten(got).map(String))}, expected ${JSON.stringify(leavesOf(expected.get(name)!).map(String))}\n  ${context}\n  ${replayHint()}`);
    }
  }

  test('TFS REST predict: generated bodies in all four formats and hostile JSON', async () => {
    const cases = fc.oneof(
      validTfsRest.map(([model, inputs, format]) => ({ model: model.name, body: tfsBody(model, inputs, format), valid: { model, inputs, format } })),
      fc.tuple(nameArb, hostileTfsRestBody).map(([model, body]) => ({ model, body, valid: undefined })),
    );
    await fuzz('tfs-rest-generated', fc.asyncProperty(cases, async ({ model, body, valid }) => {
      await checkTfsPredict(model, Buffer.from(body), valid);
    }), 300);
    await assertStillServes();
  });

  test('TFS REST predict: mutated bodies', async () => {
    const bases = fc.sample(validTfsRest, { numRuns: 12, seed: fuzzSeed }).map(([model, inputs, format]) => ({ model: model.name, text: tfsBody(model, inputs, format) }));
    await fuzz('tfs-rest-mutated', fc.asyncProperty(fc.constantFrom(...bases).chain((b) => fc.tuple(fc.constant(b.model), mutatedJson([b.text]))), async ([model, body]) => {
      await checkTfsPredict(model, body, undefined);
    }), 300);
    await assertStillServes();
  });

  // ---- KServe REST ----

  async function checkKserveInfer(model: string, kb: { body: Uint8Array; headerLength: string | number | undefined }, valid: Parameters<typeof kserveBody>[0] & { model: FuzzModel } | undefined): Promise<void> {
    const headers: Record<string, string> = kb.headerLength === undefined ? {} : { 'inference-header-content-length': String(kb.headerLength) };
    const r = await request(port(), 'POST', `/v2/models/${encodeSegment(model)}/infer`, kb.body, headers);
    const context = `POST ${model}/infer ${JSON.stringify(headers)} ${Buffer.from(kb.body).toString('utf8').slice(0, 500)}`;
    if (r.status !== 200) {
      assert.equal(valid, undefined, `a valid request failed with ${r.status} ${r.body.toString().slice(0, 300)}\n  ${context}\n  ${replayHint()}`);
      assertClientErrorHttp(r.status, r.body.toString(), context);
      return;
    }
    const headerLength = r.headers['inference-header-content-length'];
    const jsonEnd = headerLength === undefined ? r.body.length : Number(headerLength);
    assert.ok(Number.isSafeInteger(jsonEnd) && jsonEnd <= r.body.length, `bad Inference-Header-Content-Length ${headerLength}`);
    const doc = parseExact(r.body.subarray(0, jsonEnd));
    assert.ok(Array.isArray(doc.outputs), `200 without outputs: ${r.body.subarray(0, 300).toString()}`);
    if (!valid) return;
    assert.equal(doc.model_name, valid.model.name);
    if (valid.id !== undefined) assert.equal(doc.id, valid.id);
    const expected = valid.model.compute(new Map(valid.inputs.map((t) => [t.name, elementsOf(t)])));
    const asked = valid.outputs?.map(([n]) => n) ?? valid.model.outputs;
    assert.deepEqual((doc.outputs as Json[]).map((o) => o.name), asked, 'outputs in the order asked for');
    let at = jsonEnd;
    for (const o of doc.outputs as Json[]) {
      const exp = expected.get(o.name)!;
      const binarySize = o.parameters?.binary_data_size;
      let got: unknown[];
      if (binarySize !== undefined) {
        const n = Number(binarySize.toString());
        const raw = r.body.subarray(at, at + n);
        at += n;
        const dtype = fromKserve(o.datatype) as DType;
        got = leavesOf(dtype === 'STRING' ? { dtype, strings: splitPrefixed(raw) ?? [] } : { dtype, bytes: raw });
      } else {
        got = flatten(o.data);
      }
      const want: boolean = valid.outputs?.find(([n]) => n === o.name)?.[1] ?? valid.binaryOut;
      assert.equal(binarySize !== undefined, want, `output ${o.name} binary as asked`);
      assert.ok(sameLeaves(got, leavesOf(exp), exp.dtype), `output ${o.name}: got ${JSON.stringify(got.map(String))}, expected ${JSON.stringify(leavesOf(exp).map(String))}\n  ${context}\n  ${replayHint()}`);
    }
    assert.equal(at, r.body.length, 'the binary outputs fill the body');
  }

  test('KServe REST infer: generated JSON and binary-extension bodies, valid and hostile', async () => {
    const cases = fc.oneof(
      validKserveRest.map((v) => ({ model: v.model.name, kb: kserveBody(v), valid: v })),
      fc.tuple(nameArb, hostileKserveRest).map(([model, kb]) => ({ model, kb, valid: undefined })),
    );
    await fuzz('kserve-rest-generated', fc.asyncProperty(cases, async ({ model, kb, valid }) => {
      await checkKserveInfer(model, kb, valid);
    }), 300);
    await assertStillServes();
  });

  test('KServe REST infer: mutated JSON and binary bodies', async () => {
    const bases = fc.sample(validKserveRest, { numRuns: 12, seed: fuzzSeed }).map((v) => ({ model: v.model.name, kb: kserveBody(v) }));
    const cases = fc.constantFrom(...bases).chain((b) => fc.tuple(
      fc.constant(b.model),
      mutatedBytes([b.kb.body], { jsonTokens: true, maxOps: 3 }),
      fc.oneof(fc.constant(b.kb.headerLength), fc.integer({ min: -2, max: b.kb.body.length + 2 })),
    ));
    await fuzz('kserve-rest-mutated', fc.asyncProperty(cases, async ([model, body, headerLength]) => {
      await checkKserveInfer(model, { body, headerLength }, undefined);
    }), 300);
    await assertStillServes();
  });

  // ---- images ----

  test('encoded images: mutated PNG/JPEG through TFS b64 and KServe BYTES; intact ones decode exactly', async () => {
    const { height, width } = IMAGE_MODEL;
    const pixels = Buffer.from(Array.from({ length: height * width * 3 }, (_, i) => (i * 37) % 256));
    const rgb = sharp(pixels, { raw: { width, height, channels: 3 } });
    const images = [
      await rgb.clone().png().toBuffer(),
      await rgb.clone().png({ compressionLevel: 0 }).toBuffer(),
      await rgb.clone().jpeg({ quality: 100 }).toBuffer(),
      await sharp(pixels, { raw: { width: 2, height: 6, channels: 3 } }).png().toBuffer(),
      await sharp(Buffer.alloc(16, 200), { raw: { width: 4, height: 4, channels: 1 } }).png().toBuffer(),
      await sharp(Buffer.alloc(64, 90), { raw: { width: 4, height: 4, channels: 4 } }).png().toBuffer(),
    ];
    // What the model must give for an intact image: sharp's decode, resized to the input's W×H, in BGR order (OVMS's default).
    const expectedFor = async (img: Buffer): Promise<number[]> => {
      const { data } = await sharp(img).resize(width, height, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
      const out: number[] = [];
      for (let i = 0; i < data.length; i += 3) out.push(data[i + 2]!, data[i + 1]!, data[i]!);
      return out;
    };
    for (const img of images.slice(0, 4)) {
      const r = await request(port(), 'POST', `/v1/models/${IMAGE_MODEL.name}:predict`, Buffer.from(JSON.stringify({ instances: [{ in: { b64: img.toString('base64') } }] })));
      assert.equal(r.status, 200, `${r.body.toString()} for ${img.toString('base64')}`);
      assert.deepEqual(flatten(JSON.parse(r.body.toString()).predictions), await expectedFor(img));
    }

    const cases = fc.tuple(fc.boolean(), fc.oneof(mutatedBytes(images, { maxOps: 3 }), fc.constantFrom(...images)), fc.integer({ min: 1, max: 2 }));
    await fuzz('images', fc.asyncProperty(cases, async ([viaKserve, img, copies]) => {
      const r = viaKserve
        ? await (async () => {
          const raw = prefixedBytes(Array.from({ length: copies }, () => img));
          const json = Buffer.from(JSON.stringify({ inputs: [{ name: 'in', shape: [copies], datatype: 'BYTES', parameters: { binary_data_size: raw.length } }] }));
          return request(port(), 'POST', `/v2/models/${IMAGE_MODEL.name}/infer`, Buffer.concat([json, raw]), { 'inference-header-content-length': String(json.length) });
        })()
        : await request(port(), 'POST', `/v1/models/${IMAGE_MODEL.name}:predict`,
          Buffer.from(JSON.stringify({ instances: Array.from({ length: copies }, () => ({ in: { b64: Buffer.from(img).toString('base64') } })) })));
      const context = `${viaKserve ? 'KServe' : 'TFS'} image ×${copies}: ${Buffer.from(img).toString('base64').slice(0, 200)}`;
      if (r.status !== 200) return assertClientErrorHttp(r.status, r.body.toString(), context);
      const doc = JSON.parse(quoteNonFinite(r.body.toString()));
      const values = flatten(viaKserve ? doc.outputs[0].data : doc.predictions) as number[];
      assert.equal(values.length, copies * height * width * 3, context);
      assert.ok(values.every((v) => Number.isInteger(v) && v >= 0 && v <= 255), `pixels out of 0..255: ${context}`);
    }), 150);
    await assertStillServes();
  });

  // ---- URLs ----

  test('URLs and methods: every path answers a 2xx/4xx with a JSON error, never a 5xx', async () => {
    const segment = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('v1', 'v2', 'models', 'versions', 'labels', 'metadata', 'ready', 'infer', 'health', 'live',
        'repository', 'index', 'load', 'config', 'reload', 'metrics', '1', '0', '-1', '99999999999999999999', 'latest', '', '.', '..',
        ...FUZZ_MODELS.slice(0, 4).map((m) => m.name)) },
      { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_NAMES).map(encodeSegment) },
      { weight: 1, arbitrary: fc.constantFrom('%2e%2e', '%2E%2E%2F', '%00', '%ZZ', '%', '%c0%ae', '%ff', '..%2f..%2fetc', '~', '%20') },
      { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map(encodeSegment) },
    );
    const suffix = fc.constantFrom('', '', ':predict', ':classify', ':regress', ':explain', '/', '?x=1', '#f', ':predict/extra');
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH');
    const body = fc.option(fc.oneof(hostileTfsRestBody, fc.constant('{"instances":[[1,2,3,4,5,6,7,8,9,10]]}')), { nil: undefined });
    await fuzz('urls', fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 7 }), suffix, method, body, async (segments, end, m, b) => {
      const path = `/${segments.join('/')}${end}`;
      // `unload` is left out of the segments: it would take the fuzzing's own models away.
      const r = await request(port(), m, path, b === undefined || m === 'GET' || m === 'HEAD' ? undefined : Buffer.from(b));
      if (r.status >= 200 && r.status < 300) return;
      assertClientErrorHttp(r.status, m === 'HEAD' ? '' : r.body.toString(), `${m} ${path}`);
    }), 300);
    await assertStillServes();
  });
});


