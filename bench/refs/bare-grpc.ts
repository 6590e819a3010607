/**
 * Bare gRPC limit: a grpc-js server with identity (de)serializers that answers every Predict /
 * ModelInfer call with the same pre-encoded response bytes, without decoding or inference.
 * Same message-size limits as a model server needs (12 MB tensors). Run as its own process:
 *   node dist/bench/refs/bare-grpc.js '{"port":N,"responseFile":"..."}'   → prints "READY"
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';

interface Params {
  readonly port: number;
  readonly responseFile: string;
}

const params = JSON.parse(process.argv[2]!) as Params;
const response = readFileSync(params.responseFile);
const identity = (b: Buffer) => b;

const unary = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});
const service = {
  Predict: unary('/tensorflow.serving.PredictionService/Predict'),
  ModelInfer: unary('/inference.GRPCInferenceService/ModelInfer'),
};
const reply: grpc.handleUnaryCall<Buffer, Buffer> = (_call, callback) => callback(null, response);

const server = new grpc.Server({ 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
server.addService(service, { Predict: reply, ModelInfer: reply });
server.bindAsync(`127.0.0.1:${params.port}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write('READY\n');
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
