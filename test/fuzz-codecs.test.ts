/**
 * In-process fuzzing of the decoders that are plain functions, with many more cases than a
 * server round trip allows: the TFS PredictRequest walker and TensorProto decoder, the KServe
 * ModelInferRequest walker, the TFS REST body parser, the KServe REST body parser (JSON and
 * binary), config.json parsing and image decoding. Each may only fail with its documented error
 * type and an INVALID_ARGUMENT-class code, and what it returns must be self-consistent (element
 * count = shape product) and equal to what an independent decoder (protobufjs) reads. The seed is
 * printed on failure (TSMS_FUZZ_SEED replays it).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import sharp from 'sharp';
import { ServingError, httpStatusOf } from '../src/core/errors.js';
import { dtypeInfo } from '../src/core/dtype.js';
import { isStringData, tensorBytes, type Tensor, type TensorMap, type TensorSpec } from '../src/core/tensor.js';
import { dataTypeName } from '../src/api/tfs/grpc-protos.js';
import { decodeInputs, parsePredictRequest } from '../src/api/tfs/predict-codec.js';
import { parsePredictBody } from '../src/api/tfs/rest-request.js';
import { decodeInferInputs, parseInferRequest } from '../src/api/kserve/infer-codec.js';
import { parseInferBody } from '../src/api/kserve/rest-infer.js';
import { ConfigFileError, parseModelListConfig } from '../src/config/config-file.js';
import { decodeImage, ImageError } from '../src/image/decode.js';
import { decodeBinaryInputs } from '../src/image/binary-inputs.js';
import { protoRoot } from './helpers/tfs-grpc.js';
import { kserveRoot } from './helpers/kserve-grpc.js';
import { fuzz, fuzzSeed, hexHead, mutatedBytes, mutatedJson, replayHint } from './helpers/fuzz.js';
import { FUZZ_MODELS } from './helpers/fuzz-server.js';
import { decodeInferRequest, decodePredictRequest, OVERLONG_TAG } from './helpers/fuzz-protos.js';
import { hostileKserveInput, hostileTfsTensor, kserveInferCase, rawOf, tfsPredictCase, tfsTensor, validInputs } from './helpers/fuzz-arbitraries.js';
import { describeElements, kserveElements, sameElements, tfsElements, type Elements } from './helpers/tensor-oracle.js';

const PredictRequest = protoRoot.lookupType('tensorflow.serving.PredictRequest');
const InferRequest = kserveRoot.lookupType('inference.ModelInferRequest');

/** Specs of every test model's inputs, looked up by model name (unknown names: the dummy's). */
const specsOf = (name: string): TensorSpec[] =>
  (FUZZ_MODELS.find((m) => m.name === name) ?? FUZZ_MODELS[0]!).inputs.map((i) => ({ name: i.name, dtype: i.dtype, shape: i.shape }));
const specSets: TensorSpec[][] = FUZZ_MODELS.map((m) => specsOf(m.name));

/** Runs `fn`; a throw must be a ServingError answered with a 4xx (or OVMS's two defined 500s). */
function expectDecodedOrClientError<T>(fn: () => T, context: () => string): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ServingError)) assert.fail(`threw ${String(err)} instead of a ServingError\n  input: ${context()}\n  ${replayHint()}\n${(err as Error).stack ?? ''}`);
    const status = httpStatusOf(err);
    const ovms500 = err.status === 'REST_INPUT_NOT_PREALLOCATED' || err.status === 'REST_PROTO_TO_STRING_ERROR';
    assert.ok((status >= 400 && status < 500) || ovms500, `${err.code} (${status}) "${err.message}"\n  input: ${context()}\n  ${replayHint()}`);
    return undefined;
  }
}

/** Every tensor holds exactly shape-product elements of its dtype. */
function assertConsistent(tensors: TensorMap, context: () => string): void {
  for (const [name, t] of tensors) {
    let count = 1;
    for (const d of t.shape) {
      assert.ok(Number.isSafeInteger(d) && d >= 0, `input ${name}: dimension ${d} in ${JSON.stringify(t.shape)}\n  ${context()}`);
      count *= d;
    }
    assert.ok(Number.isSafeInteger(count), `input ${name}: shape product overflows\n  ${context()}`);
    const length = isStringData(t.data) ? t.data.length : t.data.length;
    assert.equal(length, count, `input ${name}: ${length} elements for shape ${JSON.stringify(t.shape)}\n  ${context()}`);
    if (!isStringData(t.data)) assert.equal(t.data.byteLength, count * dtypeInfo(t.dtype).size);
  }
}

function elementsOfTensor(t: Tensor): Elements {
  if (isStringData(t.data)) return { dtype: 'STRING', strings: t.data };
  return { dtype: t.dtype as Exclude<typeof t.dtype, 'STRING'>, bytes: tensorBytes(t.data) };
}

describe(`fuzz in-process: decoders as functions (seed ${fuzzSeed})`, () => {
  test('TFS PredictRequest: generated and mutated messages decode like protobufjs reads them, or fail INVALID_ARGUMENT', async () => {
    const bases = fc.sample(fc.constantFrom(...FUZZ_MODELS).chain((m) => validInputs(m).map((inputs) => ({ m, inputs }))), { numRuns: 20, seed: fuzzSeed })
      .map(({ m, inputs }) => PredictRequest.encode(PredictRequest.fromObject({
        model_spec: { name: m.name, version: { value: 1 } },
        inputs: Object.fromEntries(inputs.map((t) => [t.name, tfsTensor(t)])),
        output_filter: ['x'],
      })).finish());
    const messages = fc.oneof(
      tfsPredictCase.map((c) => PredictRequest.encode(PredictRequest.fromObject(c.request)).finish()),
      mutatedBytes(bases, { maxOps: 4 }),
      fc.uint8Array({ maxLength: 64 }),
    );
    await fuzz('predict-codec', fc.property(messages, fc.constantFrom(...specSets), (bytes, specs) => {
      const context = () => hexHead(bytes);
      const parsed = expectDecodedOrClientError(() => parsePredictRequest(bytes), context);
      if (!parsed) return;
      const tensors = expectDecodedOrClientError(() => decodeInputs(parsed.inputs, specs, dataTypeName), context);
      if (!tensors) return;
      assertConsistent(tensors, context);
      // Whatever the walker accepted, protobufjs must read the same.
      const decoded = decodePredictRequest(bytes);
      if (!decoded.ok && decoded.reason === OVERLONG_TAG) return; // known divergence, see fuzz-protos.ts
      assert.ok(decoded.ok, `accepted what protobufjs cannot read (${decoded.ok ? '' : decoded.reason}): ${context()}`);
      const reference = decoded.value;
      assert.equal(parsed.modelSpec?.name ?? '', reference.model_spec?.name ?? '', `model name\n  ${context()}`);
      for (const [name, t] of tensors) {
        const expected = tfsElements(reference.inputs?.[name]);
        assert.ok(expected && sameElements(elementsOfTensor(t), expected),
          `input ${name}: decoded ${describeElements(elementsOfTensor(t))}, protobufjs reads ${describeElements(expected)}\n  ${context()}`);
      }
    }), 3000);
  });

  test('TFS TensorProto alone: any dtype, dims and data fields', async () => {
    await fuzz('tensor-proto', fc.property(hostileTfsTensor, fc.constantFrom(...specSets), (tp, specs) => {
      const bytes = PredictRequest.encode(PredictRequest.fromObject({ model_spec: { name: 'm' }, inputs: { [specs[0]!.name]: tp } })).finish();
      const context = () => JSON.stringify(tp, (_k, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v)).slice(0, 600);
      const parsed = parsePredictRequest(bytes);
      const tensors = expectDecodedOrClientError(() => decodeInputs(parsed.inputs, specs, dataTypeName), context);
      if (tensors) assertConsistent(tensors, context);
    }), 3000);
  });

  test('KServe ModelInferRequest: generated and mutated messages decode like protobufjs reads them, or fail INVALID_ARGUMENT', async () => {
    const bases = fc.sample(fc.constantFrom(...FUZZ_MODELS).chain((m) => fc.tuple(fc.constant(m), validInputs(m))), { numRuns: 20, seed: fuzzSeed })
      .map(([m, inputs]) => InferRequest.encode(InferRequest.fromObject({
        model_name: m.name, id: 'x', inputs: inputs.map((t) => ({ name: t.name, datatype: dtypeInfo(t.dtype).kserve, shape: t.shape })),
        raw_input_contents: inputs.map(rawOf),
      })).finish());
    const messages = fc.oneof(
      kserveInferCase.map((c) => InferRequest.encode(InferRequest.fromObject(c.request)).finish()),
      fc.array(hostileKserveInput, { maxLength: 3 }).map((inputs) => InferRequest.encode(InferRequest.fromObject({ model_name: 'm', inputs })).finish()),
      mutatedBytes(bases, { maxOps: 4 }),
      fc.uint8Array({ maxLength: 64 }),
    );
    await fuzz('infer-codec', fc.property(messages, fc.constantFrom(...specSets), (bytes, specs) => {
      const context = () => hexHead(bytes);
      const parsed = expectDecodedOrClientError(() => parseInferRequest(bytes), context);
      if (!parsed) return;
      const tensors = expectDecodedOrClientError(() => decodeInferInputs(parsed, specs), context);
      if (!tensors) return;
      assertConsistent(tensors, context);
      const decoded = decodeInferRequest(bytes);
      if (!decoded.ok && decoded.reason === OVERLONG_TAG) return; // known divergence, see fuzz-protos.ts
      assert.ok(decoded.ok, `accepted what protobufjs cannot read (${decoded.ok ? '' : decoded.reason}): ${context()}`);
      const reference = decoded.value;
      assert.equal(parsed.modelName, reference.model_name ?? '');
      const raw: Uint8Array[] = reference.raw_input_contents ?? [];
      (reference.inputs ?? []).forEach((input: any, i: number) => {
        const t = tensors.get(input.name);
        if (!t) return;
        const expected = kserveElements(input, raw.length > 0 ? raw[i] : undefined);
        assert.ok(expected && sameElements(elementsOfTensor(t), expected),
          `input ${input.name}: decoded ${describeElements(elementsOfTensor(t))}, protobufjs reads ${describeElements(expected)}\n  ${context()}`);
      });
    }), 3000);
  });

  test('TFS REST bodies: random JSON and mutated valid bodies', async () => {
    const valid = [
      '{"instances": [[1,2,3,4,5,6,7,8,9,10]]}',
      '{"inputs": {"b": [[1,2,3,4,5,6,7,8,9,10]]}}',
      '{"instances": [{"in": [1, 2, 3]}, {"in": [4, 5, 6]}]}',
      '{"inputs": [[true, false, true]]}',
      '{"instances": [{"input1": [1,2,3,4,5,6,7,8,9,10], "input2": [0,0,0,0,0,0,0,0,0,0]}]}',
      '{"inputs": {"in": [["a", "bc", {"b64": "AAEC"}]]}}',
      '{"instances": [[9223372036854775807, -9223372036854775808, 1]]}',
    ];
    const bodies = fc.oneof(
      mutatedJson(valid, 4),
      fc.jsonValue({ maxDepth: 4 }).map((v) => new TextEncoder().encode(JSON.stringify(v))),
      fc.record({ instances: fc.jsonValue({ maxDepth: 4 }) }).map((v) => new TextEncoder().encode(JSON.stringify(v))),
      fc.record({ inputs: fc.dictionary(fc.constantFrom('b', 'in', 'x'), fc.jsonValue({ maxDepth: 4 })) }).map((v) => new TextEncoder().encode(JSON.stringify(v))),
    );
    await fuzz('rest-request', fc.property(bodies, fc.constantFrom(...specSets), (body, specs) => {
      const context = () => Buffer.from(body).toString('utf8').slice(0, 400);
      const parsed = expectDecodedOrClientError(() => parsePredictBody(body, specs), context);
      if (parsed) assertConsistent(parsed.inputs, context);
    }), 3000);
  });

  test('KServe REST bodies: random and mutated JSON, with and without a binary part', async () => {
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    const header = json({ inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', parameters: { binary_data_size: 40 } }] });
    const bases = [
      json({ inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }] }),
      json({ id: 'x', parameters: { binary_data_output: true }, inputs: [{ name: 'in', shape: [2, 3], datatype: 'BYTES', data: ['a', 'b', 'c', 'd', 'e', 'f'] }], outputs: [{ name: 'out' }] }),
      json({ inputs: [{ name: 'in', shape: [1, 3], datatype: 'INT64', data: [[1, 2, 3]] }] }),
      Buffer.concat([header, Buffer.alloc(40, 1)]),
    ];
    const bodies = fc.oneof(
      fc.tuple(mutatedBytes(bases, { jsonTokens: true, maxOps: 4 }), fc.option(fc.oneof(fc.constant(String(header.length)), fc.integer({ min: -1, max: 200 }).map(String), fc.string({ maxLength: 4 })), { nil: undefined })),
      fc.tuple(fc.jsonValue({ maxDepth: 5 }).map(json), fc.constant(undefined)),
      fc.tuple(fc.record({ inputs: fc.array(fc.dictionary(fc.constantFrom('name', 'shape', 'datatype', 'data', 'parameters'), fc.jsonValue({ maxDepth: 3 })), { maxLength: 3 }) }).map(json), fc.constant(undefined)),
    );
    await fuzz('rest-infer', fc.property(bodies, fc.constantFrom(...specSets), ([body, headerLength], specs) => {
      const context = () => `${headerLength ?? ''} ${Buffer.from(body).toString('utf8').slice(0, 400)}`;
      const parsed = expectDecodedOrClientError(() => parseInferBody(body, headerLength, specs), context);
      if (parsed) assertConsistent(parsed.inputs, context);
    }), 3000);
  });

  test('config.json: random and mutated files are accepted, or refused as a whole with ConfigFileError, never anything else', async () => {
    const entry = fc.record({
      name: fc.oneof(fc.constantFrom('m', 'resnet', '', '..', '../m', 'a/b', 'm\0'), fc.string({ maxLength: 8 })),
      base_path: fc.oneof(fc.constantFrom('/models/m', 'm', '../m', '/models/../etc', 'models/..', 's3://bucket/m', 'gs://b/../x', '', '.', '/'), fc.string({ maxLength: 12 })),
      model_version_policy: fc.oneof(fc.constant({ all: {} }), fc.record({ latest: fc.record({ num_versions: fc.integer({ min: -2, max: 3 }) }) }), fc.record({ specific: fc.record({ versions: fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 3 }) }) }), fc.jsonValue({ maxDepth: 2 })),
      batch_size: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.constantFrom('auto', '4', 'x', '')),
      shape: fc.oneof(fc.constantFrom('auto', '(1,3,224,224)', '(1,3,-1:10)', '(', '(a)', '(1,3))'), fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 8 }), { maxKeys: 2 })),
      layout: fc.oneof(fc.constantFrom('NHWC', 'NCHW:NHWC', 'NHWC:NCHW', 'N?', 'xx'), fc.string({ maxLength: 6 })),
      nireq: fc.oneof(fc.integer({ min: -1, max: 100001 }), fc.constant(2 ** 40)),
      plugin_config: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 4 }), fc.integer())), fc.string({ maxLength: 10 })),
      target_device: fc.constantFrom('CPU', 'GPU', 'AUTO', ''),
      stateful: fc.boolean(),
      max_sequence_number: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constant(2 ** 33)),
    }, { requiredKeys: ['name', 'base_path'] });
    const configs = fc.oneof(
      fc.record({ model_config_list: fc.array(fc.record({ config: entry }), { maxLength: 3 }) }).map((c) => JSON.stringify(c)),
      fc.record({ model_config_list: fc.array(fc.record({ config: entry }), { maxLength: 2 }), pipeline_config_list: fc.jsonValue({ maxDepth: 3 }), monitoring: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: ['model_config_list'] }).map((c) => JSON.stringify(c)),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      mutatedJson([JSON.stringify({ model_config_list: [{ config: { name: 'm', base_path: '/models/m', model_version_policy: { latest: { num_versions: 2 } }, shape: '(1,3)', nireq: 2 } }] })], 4)
        .map((b) => Buffer.from(b).toString('utf8')),
    );
    await fuzz('config-file', fc.property(configs, (text) => {
      let parsed;
      try {
        parsed = parseModelListConfig(text, { configDir: '/cfg' });
      } catch (err) {
        assert.ok(err instanceof ConfigFileError, `threw ${String(err)} for ${text.slice(0, 400)}\n  ${replayHint()}`);
        assert.equal(err.kind, 'JSON_INVALID');
        return;
      }
      for (const m of parsed.models) {
        assert.equal(typeof m.name, 'string');
        assert.notEqual(m.name, '', 'an empty model name is refused');
        // No accepted base path climbs out of where it points (a '..' segment is refused).
        assert.ok(!m.basePath.split(/[\\/]+/).includes('..'), `base_path ${m.basePath} accepted from ${text.slice(0, 300)}`);
      }
      for (const r of parsed.rejected) assert.equal(typeof r.reason, 'string');
    }), 2000);
  });

  test('images: mutated PNG/JPEG bytes decode to consistent pixels or fail with ImageError / INVALID_ARGUMENT', async () => {
    const pixels = Buffer.from(Array.from({ length: 7 * 5 * 3 }, (_, i) => (i * 53) % 256));
    const rgb = sharp(pixels, { raw: { width: 7, height: 5, channels: 3 } });
    const images = [
      await rgb.clone().png().toBuffer(),
      await rgb.clone().jpeg().toBuffer(),
      await rgb.clone().png({ palette: true }).toBuffer(),
      await sharp(Buffer.alloc(20, 77), { raw: { width: 5, height: 4, channels: 1 } }).png().toBuffer(),
    ];
    const spec: TensorSpec = { name: 'in', dtype: 'FP32', shape: [-1, 5, 6, 3] };
    await fuzz('images', fc.asyncProperty(fc.oneof(mutatedBytes(images, { maxOps: 3 }), fc.uint8Array({ maxLength: 64 })), async (bytes) => {
      try {
        const img = await decodeImage(bytes);
        assert.equal(img.data.length, img.width * img.height * img.channels, 'decoded pixel count');
      } catch (err) {
        assert.ok(err instanceof ImageError, `decodeImage threw ${String(err)} for ${hexHead(bytes)}`);
      }
      const input: TensorMap = new Map([['in', { dtype: 'STRING', shape: [1], data: [bytes] }]]);
      try {
        const out = await decodeBinaryInputs([spec], input);
        assertConsistent(out, () => hexHead(bytes));
        assert.deepEqual(out.get('in')!.shape, [1, 5, 6, 3]);
      } catch (err) {
        assert.ok(err instanceof ServingError && err.code === 'INVALID_ARGUMENT', `decodeBinaryInputs threw ${String(err)} for ${hexHead(bytes)}`);
      }
    }), 400);
  });
});
