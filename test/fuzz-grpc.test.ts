/**
 * Fuzzing the gRPC decoders of a real server process: TFS Predict (PredictRequest and its
 * TensorProtos) and KServe ModelInfer, with generated requests (valid and hostile) and with
 * byte-level mutations of valid ones. Every answer must be a correct result or an
 * INVALID_ARGUMENT-class error; requests built to be valid must succeed with the right values;
 * after each batch the server must still answer a valid request; and nothing may reach the log
 * as an unexpected error. The seed is printed on failure (TSMS_FUZZ_SEED replays it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dtypeInfo, fromKserve } from '../src/core/dtype.js';
import { TfsClient, protoRoot, type Json } from './helpers/tfs-grpc.js';
import { KserveClient, kserveRoot } from './helpers/kserve-grpc.js';
import { assertClientErrorGrpc, fuzz, fuzzSeed, hexHead, mutatedBytes } from './helpers/fuzz.js';
import { assertStillServesRest, modelByName, serverErrors, startFuzzServer, type FuzzServer } from './helpers/fuzz-server.js';
import { kserveInferCase, rawOf, tfsPredictCase, tfsTensor, validInputs, type ValidTensor } from './helpers/fuzz-arbitraries.js';
import { decodeInferRequest, decodePredictRequest, OVERLONG_TAG } from './helpers/fuzz-protos.js';
import { describeElements, kserveElements, sameElements, splitPrefixed, tfsElements, type Elements } from './helpers/tensor-oracle.js';

const PredictRequest = protoRoot.lookupType('tensorflow.serving.PredictRequest');
const PredictResponse = protoRoot.lookupType('tensorflow.serving.PredictResponse');
const InferRequest = kserveRoot.lookupType('inference.ModelInferRequest');
const InferResponse = kserveRoot.lookupType('inference.ModelInferResponse');
const toObject = { longs: String, arrays: true, objects: true, defaults: false } as const;

const PREDICT = '/tensorflow.serving.PredictionService/Predict';

describe(`fuzz: gRPC decoders of a running server (seed ${fuzzSeed})`, () => {
  let fs: FuzzServer;
  let tfs: TfsClient;
  let kserve: KserveClient;

  before(async () => {
    fs = await startFuzzServer();
    tfs = new TfsClient(fs.server.grpcAddress);
    kserve = new KserveClient(fs.server.grpcAddress);
  });
  after(async () => {
    tfs?.close();
    kserve?.close();
    const code = await fs?.stop();
    assert.equal(code, 0, 'the server exits cleanly after the fuzzing');
  });

  async function assertStillServes(): Promise<void> {
    await assertStillServesRest(fs.server);
    const res = PredictResponse.toObject(PredictResponse.decode(await tfs.rawCall(PREDICT, PredictRequest.encode(PredictRequest.fromObject({
      model_spec: { name: 'dummy' },
      inputs: { b: { dtype: 1, tensor_shape: { dim: [{ size: 1 }, { size: 10 }] }, float_val: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] } },
    })).finish())), toObject);
    assert.deepEqual([...new Float32Array(new Uint8Array(res.outputs.a.tensor_content).buffer)], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(serverErrors(fs.server), [], 'no request may reach the log as an unexpected error');
  }

  // ---- TFS Predict ----

  /** Checks the answer to PredictRequest `bytes`; `validByConstruction` requests must succeed. */
  async function checkPredict(bytes: Uint8Array, validByConstruction: boolean): Promise<void> {
    let reply: Buffer;
    try {
      reply = await tfs.rawCall(PREDICT, bytes);
    } catch (err) {
      if (validByConstruction) assert.fail(`a valid request failed: ${(err as Error).message}\n  request: ${describeRequest(PredictRequest, bytes)}`);
      assertClientErrorGrpc(err, describeRequest(PredictRequest, bytes));
      return;
    }
    checkPredictResult(bytes, reply);
  }

  /** An accepted request: protobufjs must read it too, and the outputs must be what the model computes. */
  function checkPredictResult(bytes: Uint8Array, reply: Buffer): void {
    const decoded = decodePredictRequest(bytes);
    if (!decoded.ok && decoded.reason === OVERLONG_TAG) return; // known divergence, see fuzz-protos.ts
    assert.ok(decoded.ok, `the server accepted a request protobufjs cannot read (${decoded.ok ? '' : decoded.reason}): ${hexHead(bytes)}`);
    const request: Json = decoded.value;
    const response = PredictResponse.toObject(PredictResponse.decode(reply), toObject);
    const model = modelByName.get(response.model_spec?.name);
    assert.ok(model, `response names a model the request could not reach: ${JSON.stringify(response.model_spec)}`);
    assert.equal(request.model_spec?.name, model.name);
    const inputs = new Map<string, Elements>();
    for (const spec of model.inputs) {
      const tp = request.inputs?.[spec.name];
      assert.ok(tp, `accepted without input ${spec.name}: ${hexHead(bytes)}`);
      const e = tfsElements(tp);
      assert.ok(e && e.dtype === spec.dtype, `accepted input ${spec.name} of dtype ${tp.dtype} for ${spec.dtype}`);
      inputs.set(spec.name, e);
    }
    const expected = model.compute(inputs);
    const filter: string[] = request.output_filter ?? [];
    const names = filter.length > 0 ? [...new Set(filter)] : model.outputs;
    assert.deepEqual(Object.keys(response.outputs ?? {}).sort(), [...names].sort(), 'the outputs asked for, and only those');
    const firstInput = request.inputs[model.inputs[0]!.name];
    for (const name of names) {
      const out = response.outputs[name];
      const actual = tfsElements(out);
      assert.ok(actual && sameElements(actual, expected.get(name)!),
        `output ${name}: got ${describeElements(actual)}, expected ${describeElements(expected.get(name))}\n  request: ${hexHead(bytes)}`);
      assert.deepEqual((out.tensor_shape?.dim ?? []).map((d: Json) => Number(d.size ?? 0)),
        (firstInput.tensor_shape?.dim ?? []).map((d: Json) => Number(d.size ?? 0)), `output ${name} has the input's shape`);
    }
  }

  test('TFS Predict: generated requests (valid ones must succeed with the right values)', async () => {
    await fuzz('tfs-predict-generated', fc.asyncProperty(tfsPredictCase, async ({ request, valid }) => {
      await checkPredict(PredictRequest.encode(PredictRequest.fromObject(request)).finish(), valid);
    }), 300);
    await assertStillServes();
  });

  test('TFS Predict: mutated bytes of valid requests', async () => {
    const bases = fc.sample(fc.constantFrom(...modelByName.values()).chain((m) => validInputs(m).map((inputs) => ({ m, inputs }))), { numRuns: 12, seed: fuzzSeed })
      .map(({ m, inputs }) => PredictRequest.encode(PredictRequest.fromObject({
        model_spec: { name: m.name, version: { value: 1 } },
        inputs: Object.fromEntries(inputs.map((t) => [t.name, tfsTensor(t)])),
      })).finish());
    await fuzz('tfs-predict-mutated', fc.asyncProperty(mutatedBytes(bases, { maxOps: 3 }), async (bytes) => {
      await checkPredict(bytes, false);
    }), 300);
    await assertStillServes();
  });

  // ---- KServe ModelInfer ----

  async function checkInfer(bytes: Uint8Array, validByConstruction: boolean): Promise<void> {
    let reply: Buffer;
    try {
      reply = await kserve.rawCall('ModelInfer', bytes);
    } catch (err) {
      if (validByConstruction) assert.fail(`a valid request failed: ${(err as Error).message}\n  request: ${describeRequest(InferRequest, bytes)}`);
      assertClientErrorGrpc(err, describeRequest(InferRequest, bytes));
      return;
    }
    const decoded = decodeInferRequest(bytes);
    if (!decoded.ok && decoded.reason === OVERLONG_TAG) return; // known divergence, see fuzz-protos.ts
    assert.ok(decoded.ok, `the server accepted a request protobufjs cannot read (${decoded.ok ? '' : decoded.reason}): ${hexHead(bytes)}`);
    const request: Json = decoded.value;
    const response = InferResponse.toObject(InferResponse.decode(reply), toObject);
    const model = modelByName.get(response.model_name);
    assert.ok(model && request.model_name === model.name, `answered for ${response.model_name}, asked ${request.model_name}`);
    assert.equal(response.id ?? '', request.id ?? '', 'the request id is echoed');
    const raw: Uint8Array[] = request.raw_input_contents ?? [];
    const inputs = new Map<string, Elements>();
    const shapes = new Map<string, number[]>();
    (request.inputs ?? []).forEach((input: Json, i: number) => {
      const e = kserveElements(input, raw.length > 0 ? raw[i] : undefined);
      if (e) inputs.set(input.name, e);
      shapes.set(input.name, (input.shape ?? []).map(Number));
    });
    for (const spec of model.inputs) {
      assert.ok(inputs.get(spec.name)?.dtype === spec.dtype, `accepted without a valid ${spec.name}: ${hexHead(bytes)}`);
    }
    const expected = model.compute(inputs);
    const asked: string[] = (request.outputs ?? []).map((o: Json) => o.name);
    const names = asked.length > 0 ? asked : model.outputs;
    const outputs: Json[] = response.outputs ?? [];
    assert.deepEqual(outputs.map((o) => o.name).sort(), [...new Set(names)].sort(), 'the outputs asked for, and only those');
    const rawOut: Uint8Array[] = response.raw_output_contents ?? [];
    assert.equal(rawOut.length, outputs.length, 'one raw buffer per output');
    outputs.forEach((o, i) => {
      const dtype = fromKserve(o.datatype);
      assert.ok(dtype, `output datatype ${o.datatype}`);
      const actual: Elements = dtype === 'STRING' ? { dtype, strings: splitPrefixed(rawOut[i]!) ?? [] } : { dtype, bytes: rawOut[i]! };
      assert.ok(sameElements(actual, expected.get(o.name)!),
        `output ${o.name}: got ${describeElements(actual)}, expected ${describeElements(expected.get(o.name))}\n  request: ${hexHead(bytes)}`);
      assert.deepEqual((o.shape ?? []).map(Number), shapes.get(model.inputs[0]!.name), `output ${o.name} has the input's shape`);
    });
  }

  test('KServe ModelInfer: generated requests (valid ones must succeed with the right values)', async () => {
    await fuzz('kserve-infer-generated', fc.asyncProperty(kserveInferCase, async ({ request, valid }) => {
      await checkInfer(InferRequest.encode(InferRequest.fromObject(request)).finish(), valid);
    }), 300);
    await assertStillServes();
  });

  test('KServe ModelInfer: mutated bytes of valid requests', async () => {
    const bases = fc.sample(fc.constantFrom(...modelByName.values()).chain((m) => fc.tuple(fc.constant(m), validInputs(m), fc.boolean())), { numRuns: 12, seed: fuzzSeed })
      .map(([m, inputs, raw]) => InferRequest.encode(InferRequest.fromObject(inferRequestOf(m.name, inputs, raw))).finish());
    await fuzz('kserve-infer-mutated', fc.asyncProperty(mutatedBytes(bases, { maxOps: 3 }), async (bytes) => {
      await checkInfer(bytes, false);
    }), 300);
    await assertStillServes();
  });

  test('other RPCs with random bytes: metadata, status and readiness answer or refuse cleanly', async () => {
    const methods: [(bytes: Uint8Array) => Promise<Buffer>, string][] = [
      [(b) => tfs.rawCall('/tensorflow.serving.PredictionService/GetModelMetadata', b), 'GetModelMetadata'],
      [(b) => tfs.rawCall('/tensorflow.serving.ModelService/GetModelStatus', b), 'GetModelStatus'],
      [(b) => kserve.rawCall('ModelMetadata', b), 'ModelMetadata'],
      [(b) => kserve.rawCall('ModelReady', b), 'ModelReady'],
    ];
    const specBytes = [
      protoRoot.lookupType('tensorflow.serving.GetModelMetadataRequest').encode({ model_spec: { name: 'dummy' }, metadata_field: ['signature_def'] }).finish(),
      protoRoot.lookupType('tensorflow.serving.GetModelStatusRequest').encode({ model_spec: { name: 'dummy', version: { value: 1 } } }).finish(),
      kserveRoot.lookupType('inference.ModelMetadataRequest').encode({ name: 'dummy', version: '1' }).finish(),
    ];
    await fuzz('grpc-other-rpcs', fc.asyncProperty(fc.constantFrom(...methods), fc.oneof(mutatedBytes(specBytes), fc.uint8Array({ maxLength: 40 })), async ([call, name], bytes) => {
      try {
        await call(bytes);
      } catch (err) {
        assertClientErrorGrpc(err, `${name} ${hexHead(bytes)}`);
      }
    }), 200);
    await assertStillServes();
  });
});

function inferRequestOf(model: string, inputs: readonly ValidTensor[], raw: boolean): Json {
  const useRaw = raw || inputs.some((t) => t.dtype === 'FP16');
  const field: Record<string, string> = {
    FP32: 'fp32_contents', FP64: 'fp64_contents', INT32: 'int_contents', INT16: 'int_contents', INT8: 'int_contents', UINT8: 'uint_contents',
    UINT16: 'uint_contents', UINT32: 'uint_contents', INT64: 'int64_contents', UINT64: 'uint64_contents', BOOL: 'bool_contents', STRING: 'bytes_contents',
  };
  return {
    model_name: model,
    inputs: inputs.map((t) => ({
      name: t.name, datatype: dtypeInfo(t.dtype).kserve, shape: t.shape,
      ...(!useRaw && { contents: { [field[t.dtype]!]: t.values.map((v) => (typeof v === 'bigint' ? v.toString() : v)) } }),
    })),
    ...(useRaw && { raw_input_contents: inputs.map(rawOf) }),
  };
}

/** A readable form of a request for failure messages (protobufjs JSON when it decodes, else hex). */
function describeRequest(type: typeof PredictRequest, bytes: Uint8Array): string {
  try {
    return JSON.stringify(type.toObject(type.decode(bytes), { longs: String, bytes: String }), null, 0).slice(0, 800);
  } catch {
    return hexHead(bytes);
  }
}
