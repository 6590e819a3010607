/**
 * The TensorFlow Serving gRPC API end to end: the real server process on generated models, a real
 * @grpc/grpc-js client built from proto/ with proto-loader (independent of the server's codec).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import type { DType } from '../src/core/dtype.js';
import { addTwoInputsModel, dummyModel, identityModel, tempDir, twoOutputsModel, writeRepository } from './helpers/models.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { bytesOf, dimsOf, expectGrpcError, floatsOf, protoRoot, shapeProto, TfsClient, type Json } from './helpers/tfs-grpc.js';

const PREDICT = '/tensorflow.serving.PredictionService/Predict';

/** Identity models for every served element type, with a TypedArray maker and the TF typed field. */
const dtypes: { dtype: DType; tf: number; field: string; make: (n: number[]) => ArrayBufferView; values: Json[] }[] = [
  { dtype: 'FP32', tf: 1, field: 'float_val', make: (v) => new Float32Array(v), values: [1.5, -2, 3, 4, 5.25, 6] },
  { dtype: 'FP64', tf: 2, field: 'double_val', make: (v) => new Float64Array(v), values: [1e-300, -2, 3, 4, 5, Math.PI] },
  { dtype: 'INT32', tf: 3, field: 'int_val', make: (v) => new Int32Array(v), values: [-2147483648, 2147483647, 0, 1, -1, 7] },
  { dtype: 'UINT8', tf: 4, field: 'int_val', make: (v) => new Uint8Array(v), values: [0, 255, 1, 2, 3, 128] },
  { dtype: 'INT16', tf: 5, field: 'int_val', make: (v) => new Int16Array(v), values: [-32768, 32767, 0, 1, -1, 9] },
  { dtype: 'INT8', tf: 6, field: 'int_val', make: (v) => new Int8Array(v), values: [-128, 127, 0, 1, -1, 5] },
  {
    dtype: 'INT64', tf: 9, field: 'int64_val', make: (v) => new BigInt64Array(v.map(BigInt)),
    values: [-(2 ** 53) + 1, 2 ** 53 - 1, 0, 1, -1, 2 ** 40],
  },
  { dtype: 'BOOL', tf: 10, field: 'bool_val', make: (v) => new Uint8Array(v), values: [1, 0, 1, 1, 0, 0] },
  { dtype: 'UINT16', tf: 17, field: 'int_val', make: (v) => new Uint16Array(v), values: [0, 65535, 1, 2, 3, 4] },
  { dtype: 'FP16', tf: 19, field: 'half_val', make: (v) => new Uint16Array(v), values: [0x3c00, 0xc000, 0x0000, 0x7bff, 0x3800, 0x4200] },
  { dtype: 'UINT32', tf: 22, field: 'uint32_val', make: (v) => new Uint32Array(v), values: [0, 4294967295, 1, 2, 3, 4] },
  {
    dtype: 'UINT64', tf: 23, field: 'uint64_val', make: (v) => new BigUint64Array(v.map(BigInt)),
    values: [0, 2 ** 53 - 1, 1, 2, 3, 2 ** 33],
  },
];

const identityName = (d: DType) => `identity_${d.toLowerCase()}`;

/** Response tensor_content read back as the elements of `make`'s typed array, as numbers. */
function contentValues(tensor: Json, make: (n: number[]) => ArrayBufferView): number[] {
  const copy = new Uint8Array(tensor.tensor_content ?? Buffer.alloc(0));
  const Ctor = make([]).constructor as new (b: ArrayBuffer) => ArrayLike<number | bigint>;
  return Array.from(new Ctor(copy.buffer), Number);
}

describe('TensorFlow Serving gRPC API', () => {
  let server: RunningServer;
  let client: TfsClient;
  const repo = tempDir();

  before(async () => {
    const layout: Record<string, Record<number, Uint8Array>> = {
      dummy: { 1: dummyModel() },
      versioned: { 1: dummyModel(1), 2: dummyModel(2) },
      add_two_inputs: { 1: addTwoInputsModel() },
      two_outputs: { 1: twoOutputsModel() },
      identity_string: { 1: identityModel('STRING') },
    };
    for (const d of dtypes) layout[identityName(d.dtype)] = { 1: identityModel(d.dtype) };
    writeRepository(repo.path, layout);
    const config = {
      model_config_list: Object.keys(layout).map((name) => ({
        config: {
          name,
          base_path: path.join(repo.path, name),
          ...(name === 'versioned' ? { model_version_policy: { all: {} } } : {}),
        },
      })),
    };
    const configPath = path.join(repo.path, 'config.json');
    writeFileSync(configPath, JSON.stringify(config));
    server = await startServer({ args: ['--config_path', configPath], noRest: true, timeoutMs: 60000 });
    client = new TfsClient(server.grpcAddress);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    repo.remove();
  });

  const dummyInput = (values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) => ({
    dtype: 1, tensor_shape: shapeProto([1, 10]), tensor_content: bytesOf(new Float32Array(values)),
  });
  const predictDummy = (input: Json, spec: Json = { name: 'dummy' }) => client.predict({ model_spec: spec, inputs: { b: input } });

  describe('Predict', () => {
    it('dummy via tensor_content', async () => {
      const res = await predictDummy(dummyInput());
      assert.deepEqual(Object.keys(res.outputs), ['a']);
      assert.equal(res.outputs.a.dtype, 1);
      assert.deepEqual(dimsOf(res.outputs.a), [1, 10]);
      assert.deepEqual(floatsOf(res.outputs.a), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      // TFS fills the response model_spec (OVMS 2021.4 leaves it empty).
      assert.equal(res.model_spec.name, 'dummy');
      assert.equal(Number(res.model_spec.version.value), 1);
      assert.equal(res.model_spec.signature_name, 'serving_default');
    });

    it('dummy via float_val', async () => {
      const res = await predictDummy({ dtype: 1, tensor_shape: shapeProto([1, 10]), float_val: [0.5, 1, 2, 3, 4, 5, 6, 7, 8, -1] });
      assert.deepEqual(floatsOf(res.outputs.a), [1.5, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
    });

    it('add_two_inputs', async () => {
      const a = Array.from({ length: 10 }, (_, i) => i);
      const b = Array.from({ length: 10 }, (_, i) => i * 10 + 0.5);
      const res = await client.predict({
        model_spec: { name: 'add_two_inputs' },
        inputs: {
          input1: { dtype: 1, tensor_shape: shapeProto([1, 10]), tensor_content: bytesOf(new Float32Array(a)) },
          input2: { dtype: 1, tensor_shape: shapeProto([1, 10]), float_val: b },
        },
      });
      assert.deepEqual(floatsOf(res.outputs.sum), a.map((x, i) => x + b[i]!));
    });

    for (const d of dtypes) {
      it(`${d.dtype} identity via tensor_content and via ${d.field}`, async () => {
        const spec = { name: identityName(d.dtype) };
        const viaContent = await client.predict({
          model_spec: spec,
          inputs: { in: { dtype: d.tf, tensor_shape: shapeProto([2, 3]), tensor_content: bytesOf(d.make(d.values)) } },
        });
        const typedValues = d.field === 'int64_val' || d.field === 'uint64_val' ? d.values.map(String) : d.values;
        const viaField = await client.predict({
          model_spec: spec,
          inputs: { in: { dtype: d.tf, tensor_shape: shapeProto([2, 3]), [d.field]: typedValues } },
        });
        for (const res of [viaContent, viaField]) {
          const out = res.outputs.out;
          assert.equal(out.dtype, d.tf);
          assert.deepEqual(dimsOf(out), [2, 3]);
          assert.deepEqual(contentValues(out, d.make), d.values.map(Number));
        }
      });
    }

    it('STRING identity via string_val', async () => {
      const values = ['héllo', '', 'wörld'];
      const res = await client.predict({
        model_spec: { name: 'identity_string' },
        inputs: { in: { dtype: 7, tensor_shape: shapeProto([1, 3]), string_val: values.map((v) => Buffer.from(v)) } },
      });
      const out = res.outputs.out;
      assert.equal(out.dtype, 7);
      assert.deepEqual(dimsOf(out), [1, 3]);
      assert.deepEqual(out.string_val.map((b: Buffer) => b.toString('utf8')), values);
      assert.equal(out.tensor_content, undefined);
    });

    it('output_filter returns only the named outputs', async () => {
      const x = { dtype: 1, tensor_shape: shapeProto([1, 4]), float_val: [1, -2, 3, 0.5] };
      const all = await client.predict({ model_spec: { name: 'two_outputs' }, inputs: { x } });
      assert.deepEqual(Object.keys(all.outputs).sort(), ['doubled', 'negated']);
      assert.deepEqual(floatsOf(all.outputs.doubled), [2, -4, 6, 1]);
      const one = await client.predict({ model_spec: { name: 'two_outputs' }, inputs: { x }, output_filter: ['negated'] });
      assert.deepEqual(Object.keys(one.outputs), ['negated']);
      assert.deepEqual(floatsOf(one.outputs.negated), [-1, 2, -3, -0.5]);
      await expectGrpcError(
        client.predict({ model_spec: { name: 'two_outputs' }, inputs: { x }, output_filter: ['nope'] }),
        status.INVALID_ARGUMENT, /^Invalid output name - .*nope/);
    });

    it('version by number, default and missing', async () => {
      const v1 = await predictDummy(dummyInput(), { name: 'versioned', version: { value: 1 } });
      assert.deepEqual(floatsOf(v1.outputs.a), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(Number(v1.model_spec.version.value), 1);
      const v2 = await predictDummy(dummyInput(), { name: 'versioned', version: { value: 2 } });
      assert.deepEqual(floatsOf(v2.outputs.a), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      const byDefault = await predictDummy(dummyInput(), { name: 'versioned' });
      assert.equal(Number(byDefault.model_spec.version.value), 2);
      assert.deepEqual(floatsOf(byDefault.outputs.a), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      const zero = await predictDummy(dummyInput(), { name: 'versioned', version: { value: 0 } });
      assert.equal(Number(zero.model_spec.version.value), 2);
      await expectGrpcError(predictDummy(dummyInput(), { name: 'versioned', version: { value: 3 } }),
        status.NOT_FOUND, 'Model with requested version is not found');
      await expectGrpcError(predictDummy(dummyInput(), { name: 'versioned', version: { value: -1 } }),
        status.NOT_FOUND, 'Model with requested version is not found');
    });

    it('a 12 MB tensor in and out (1 GiB message limit, tuned HTTP/2 windows)', async () => {
      const rows = 1024 * 1024;
      const values = new Float32Array(rows * 3);
      for (let i = 0; i < values.length; i++) values[i] = i % 1000;
      const res = await client.predict({
        model_spec: { name: 'identity_fp32' },
        inputs: { in: { dtype: 1, tensor_shape: shapeProto([rows, 3]), tensor_content: bytesOf(values) } },
      });
      const out = res.outputs.out;
      assert.deepEqual(dimsOf(out), [rows, 3]);
      assert.equal(out.tensor_content.length, values.byteLength);
      assert.ok(Buffer.from(out.tensor_content).equals(bytesOf(values)));
    });

    it('calls cancelled in flight do not disturb the server', async () => {
      const big = bytesOf(new Float32Array(512 * 1024 * 3));
      const request = {
        model_spec: { name: 'identity_fp32' },
        inputs: { in: { dtype: 1, tensor_shape: shapeProto([512 * 1024, 3]), tensor_content: big } },
      };
      const outcomes = await Promise.all([0, 1, 5, 20].map((delayMs) => new Promise<number>((resolve) => {
        const call = client.prediction.Predict!(request, (err: { code: number } | null) => resolve(err ? err.code : status.OK));
        setTimeout(() => call.cancel(), delayMs);
      })));
      for (const code of outcomes) assert.ok(code === status.CANCELLED || code === status.OK, `code ${code}`);
      const res = await predictDummy(dummyInput());
      assert.deepEqual(floatsOf(res.outputs.a), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('200 concurrent Predicts all get their own answer', async () => {
      const calls = Array.from({ length: 200 }, (_, k) => {
        const values = Array.from({ length: 10 }, (_, i) => k * 100 + i);
        return predictDummy(dummyInput(values)).then((res) => ({ k, got: floatsOf(res.outputs.a), want: values.map((v) => v + 1) }));
      });
      const results = await Promise.all(calls);
      assert.equal(results.length, 200);
      for (const r of results) assert.deepEqual(r.got, r.want, `request ${r.k}`);
    });
  });

  describe('Predict errors (SPEC §6.1, §6.2)', () => {
    const INVALID = status.INVALID_ARGUMENT;

    it('unknown model', async () => {
      await expectGrpcError(predictDummy(dummyInput(), { name: 'nope' }), status.NOT_FOUND, 'Model with requested name is not found');
    });
    it('missing model_spec', async () => {
      await expectGrpcError(client.predict({ inputs: { b: dummyInput() } }), INVALID, 'model_spec missing in request');
    });
    it('wrong input name', async () => {
      await expectGrpcError(client.predict({ model_spec: { name: 'dummy' }, inputs: { x: dummyInput() } }),
        INVALID, 'Missing input with specific name - Required input: b');
    });
    it('wrong input count', async () => {
      await expectGrpcError(client.predict({ model_spec: { name: 'dummy' }, inputs: { b: dummyInput(), c: dummyInput() } }),
        INVALID, 'Invalid number of inputs - Expected: 1; Actual: 2');
    });
    it('wrong rank', async () => {
      await expectGrpcError(predictDummy({ dtype: 1, tensor_shape: shapeProto([1, 10, 1]), tensor_content: bytesOf(new Float32Array(10)) }),
        INVALID, 'Invalid number of shape dimensions - Expected: (1,10); Actual: (1,10,1)');
    });
    it('wrong batch', async () => {
      await expectGrpcError(predictDummy({ dtype: 1, tensor_shape: shapeProto([2, 10]), tensor_content: bytesOf(new Float32Array(20)) }),
        INVALID, 'Invalid input batch size - Expected: 1; Actual: 2');
    });
    it('wrong shape', async () => {
      await expectGrpcError(predictDummy({ dtype: 1, tensor_shape: shapeProto([1, 11]), tensor_content: bytesOf(new Float32Array(11)) }),
        INVALID, 'Invalid input shape - Expected: (1,10); Actual: (1,11)');
    });
    it('wrong precision', async () => {
      await expectGrpcError(predictDummy({ dtype: 3, tensor_shape: shapeProto([1, 10]), tensor_content: bytesOf(new Int32Array(10)) }),
        INVALID, 'Invalid input precision - Expected: FP32; Actual: I32');
    });
    it('unknown element type', async () => {
      await expectGrpcError(predictDummy({ dtype: 14, tensor_shape: shapeProto([1, 10]), tensor_content: Buffer.alloc(20) }),
        INVALID, 'Invalid input precision - Expected: FP32; Actual: DT_BFLOAT16');
    });
    it('content size', async () => {
      await expectGrpcError(predictDummy({ dtype: 1, tensor_shape: shapeProto([1, 10]), tensor_content: Buffer.alloc(36) }),
        INVALID, 'Invalid content size of tensor proto - Expected: 40 bytes; Actual: 36 bytes');
    });
    it('value count', async () => {
      await expectGrpcError(predictDummy({ dtype: 1, tensor_shape: shapeProto([1, 10]), float_val: [1, 2, 3, 4, 5, 6, 7, 8, 9] }),
        INVALID, 'Invalid number of values in tensor proto container - Expected: 10; Actual: 9');
    });
    it('negative dimension', async () => {
      await expectGrpcError(predictDummy({ dtype: 1, tensor_shape: shapeProto([1, -10]), tensor_content: Buffer.alloc(40) }),
        INVALID, 'Invalid input shape - Negative dimension size is not acceptable: (1,-10)');
    });
    it('huge dims with tiny data', async () => {
      await expectGrpcError(predictDummy({ dtype: 1, tensor_shape: shapeProto([2 ** 20, 2 ** 20, 2 ** 20]), float_val: [1] }),
        INVALID, `Invalid input shape - Tensor element count overflows: (${2 ** 20},${2 ** 20},${2 ** 20})`);
    });
    it('unimplemented methods', async () => {
      await expectGrpcError(client.classify({ model_spec: { name: 'dummy' } }), status.UNIMPLEMENTED,
        'Not implemented - Classify is not supported by this server; use Predict');
      await expectGrpcError(client.regress({ model_spec: { name: 'dummy' } }), status.UNIMPLEMENTED,
        'Not implemented - Regress is not supported by this server; use Predict');
      await expectGrpcError(client.multiInference({ tasks: [] }), status.UNIMPLEMENTED,
        'Not implemented - MultiInference is not supported by this server; use Predict');
    });
    it('a malformed body is INVALID_ARGUMENT and the server keeps serving', async () => {
      await expectGrpcError(client.rawCall(PREDICT, Buffer.from([0x0a, 0x05, 0x0a, 0x03, 0x64])), INVALID,
        /^Malformed PredictRequest: .*runs past the end of the message/);
      await expectGrpcError(client.rawCall(PREDICT, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), INVALID,
        /^Malformed PredictRequest: varint longer than 10 bytes/);
      await expectGrpcError(client.rawCall('/tensorflow.serving.PredictionService/GetModelMetadata', Buffer.from([0x0a, 0x09, 0x01])),
        INVALID, /^Malformed GetModelMetadataRequest: /);
      await expectGrpcError(client.rawCall('/tensorflow.serving.ModelService/GetModelStatus', Buffer.from([0x0a])),
        INVALID, /^Malformed GetModelStatusRequest: /);
      const res = await predictDummy(dummyInput());
      assert.deepEqual(floatsOf(res.outputs.a), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });
  });

  describe('GetModelMetadata', () => {
    const SignatureDefMap = protoRoot.lookupType('tensorflow.serving.SignatureDefMap');
    const signatures = (res: Json) => {
      assert.equal(res.metadata.signature_def.type_url, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
      return SignatureDefMap.toObject(SignatureDefMap.decode(res.metadata.signature_def.value), { longs: Number, defaults: true }) as Json;
    };
    const info = (t: Json) => ({ name: t.name, dtype: t.dtype, dims: t.tensor_shape.dim.map((d: Json) => d.size) });

    it('dummy', async () => {
      const res = await client.getModelMetadata({ model_spec: { name: 'dummy' }, metadata_field: ['signature_def'] });
      assert.equal(res.model_spec.name, 'dummy');
      assert.equal(Number(res.model_spec.version.value), 1);
      const map = signatures(res);
      assert.deepEqual(Object.keys(map.signature_def), ['serving_default']);
      const sig = map.signature_def.serving_default;
      assert.equal(sig.method_name, 'tensorflow/serving/predict');
      assert.deepEqual(Object.keys(sig.inputs), ['b']);
      assert.deepEqual(info(sig.inputs.b), { name: 'b', dtype: 1, dims: [1, 10] });
      assert.deepEqual(info(sig.outputs.a), { name: 'a', dtype: 1, dims: [1, 10] });
    });

    it('dynamic dimensions are -1; versions resolve like Predict', async () => {
      const res = await client.getModelMetadata({ model_spec: { name: 'identity_int64' }, metadata_field: ['signature_def'] });
      const sig = signatures(res).signature_def.serving_default;
      assert.deepEqual(info(sig.inputs.in), { name: 'in', dtype: 9, dims: [-1, 3] });
      assert.deepEqual(info(sig.outputs.out), { name: 'out', dtype: 9, dims: [-1, 3] });
      const v1 = await client.getModelMetadata({ model_spec: { name: 'versioned', version: { value: 1 } }, metadata_field: ['signature_def'] });
      assert.equal(Number(v1.model_spec.version.value), 1);
      const dflt = await client.getModelMetadata({ model_spec: { name: 'versioned' }, metadata_field: ['signature_def'] });
      assert.equal(Number(dflt.model_spec.version.value), 2);
    });

    it('errors', async () => {
      await expectGrpcError(client.getModelMetadata({ metadata_field: ['signature_def'] }), status.INVALID_ARGUMENT, 'model_spec missing in request');
      for (const fields of [[], ['x'], ['signature_def', 'signature_def']]) {
        await expectGrpcError(client.getModelMetadata({ model_spec: { name: 'dummy' }, metadata_field: fields }),
          status.INVALID_ARGUMENT, 'Invalid signature name');
      }
      await expectGrpcError(client.getModelMetadata({ model_spec: { name: 'nope' }, metadata_field: ['signature_def'] }),
        status.NOT_FOUND, 'Model with requested name is not found');
      await expectGrpcError(client.getModelMetadata({ model_spec: { name: 'versioned', version: { value: 9 } }, metadata_field: ['signature_def'] }),
        status.NOT_FOUND, 'Model with requested version is not found');
    });
  });

  describe('ModelService', () => {
    const entries = (res: Json) => res.model_version_status.map((s: Json) => ({
      version: Number(s.version), state: s.state ?? 0, code: s.status?.error_code ?? 0, message: s.status?.error_message,
    }));

    it('GetModelStatus of a single-version model', async () => {
      const res = await client.getModelStatus({ model_spec: { name: 'dummy' } });
      assert.deepEqual(entries(res), [{ version: 1, state: 30, code: 0, message: 'OK' }]);
    });

    it('all versions ascending, or the one asked for', async () => {
      assert.deepEqual(entries(await client.getModelStatus({ model_spec: { name: 'versioned' } })), [
        { version: 1, state: 30, code: 0, message: 'OK' },
        { version: 2, state: 30, code: 0, message: 'OK' },
      ]);
      assert.deepEqual(entries(await client.getModelStatus({ model_spec: { name: 'versioned', version: { value: 2 } } })), [
        { version: 2, state: 30, code: 0, message: 'OK' },
      ]);
    });

    it('NOT_FOUND texts', async () => {
      await expectGrpcError(client.getModelStatus({ model_spec: { name: 'nope' } }), status.NOT_FOUND, 'Model with requested name is not found');
      await expectGrpcError(client.getModelStatus({}), status.NOT_FOUND, 'Model with requested name is not found');
      await expectGrpcError(client.getModelStatus({ model_spec: { name: 'versioned', version: { value: 3 } } }),
        status.NOT_FOUND, 'Model with requested version is not found');
      await expectGrpcError(client.getModelStatus({ model_spec: { name: 'dummy', version: { value: -1 } } }),
        status.NOT_FOUND, 'Model with requested version is not found');
    });

    it('HandleReloadConfigRequest is accepted without effect', async () => {
      const res = await client.reloadConfig({ config: { model_config_list: { config: [{ name: 'other', base_path: '/nowhere' }] } } });
      assert.deepEqual(res, {});
      assert.deepEqual(entries(await client.getModelStatus({ model_spec: { name: 'dummy' } })), [{ version: 1, state: 30, code: 0, message: 'OK' }]);
    });
  });
});
