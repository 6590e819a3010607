/**
 * A TensorFlow Serving gRPC client in a few lines: sends a Predict to tsms (or OVMS, or TF Serving)
 * and prints the outputs. It uses only the public TFS protos kept in proto/.
 *
 *   node dist/examples/grpc-predict.js [address=localhost:9000] [model=dummy]
 *
 * Every model input gets a tensor of its metadata shape (dynamic dims as 1) filled with 0, 1, 2, ...
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const protoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');
const definition = protoLoader.loadSync(['tensorflow_serving/apis/prediction_service.proto'], {
  includeDirs: [protoDir], keepCase: true, longs: Number, enums: String, defaults: true,
});
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const tfs = (grpc.loadPackageDefinition(definition) as any).tensorflow.serving;

const [address = 'localhost:9000', model = 'dummy'] = process.argv.slice(2);
const client = new tfs.PredictionService(address, grpc.credentials.createInsecure());
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const call = (method: string, request: object): Promise<any> =>
  new Promise((resolve, reject) => client[method](request, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res))));

// 1. Ask the model what it takes (GetModelMetadata, signature_def packed in a google.protobuf.Any).
const meta = await call('GetModelMetadata', { model_spec: { name: model }, metadata_field: ['signature_def'] });
const types = new protobuf.Root();
types.resolvePath = (_origin, target) => path.join(protoDir, target);
types.loadSync('tensorflow_serving/apis/get_model_metadata.proto', { keepCase: true });
const SignatureDefMap = types.lookupType('tensorflow.serving.SignatureDefMap');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const signature = (SignatureDefMap.toObject(SignatureDefMap.decode(meta.metadata.signature_def.value), { longs: Number }) as any)
  .signature_def.serving_default;

// 2. Build FP32 inputs of the right shapes and send a Predict.
const inputs: Record<string, object> = {};
for (const [name, info] of Object.entries<{ tensor_shape: { dim: { size: number }[] } }>(signature.inputs)) {
  const dims = info.tensor_shape.dim.map((d) => (d.size > 0 ? d.size : 1));
  const values = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => i);
  inputs[name] = { dtype: 'DT_FLOAT', tensor_shape: { dim: dims.map((size) => ({ size })) }, tensor_content: Buffer.from(values.buffer) };
}
const response = await call('Predict', { model_spec: { name: model }, inputs });

// 3. Print each output's shape and first values.
for (const [name, t] of Object.entries<{ tensor_shape: { dim: { size: number }[] }; tensor_content: Buffer }>(response.outputs)) {
  const bytes = new Uint8Array(t.tensor_content);
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  console.log(`${name} ${JSON.stringify(t.tensor_shape.dim.map((d) => d.size))}: ${Array.from(values.slice(0, 10)).join(', ')}`);
}
client.close();
