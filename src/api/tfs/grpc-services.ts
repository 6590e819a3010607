/** The TensorFlow Serving gRPC API: both services, ready to add to a grpc-js Server. */
import type { Server } from '@grpc/grpc-js';
import { predictionServiceDefinition, predictionServiceImplementation, type TfsServiceDeps } from './grpc-prediction-service.js';
import { modelServiceDefinition, modelServiceImplementation } from './grpc-model-service.js';

export type { TfsServiceDeps };

export function addTfsGrpcServices(server: Server, deps: TfsServiceDeps): void {
  server.addService(predictionServiceDefinition, predictionServiceImplementation(deps));
  server.addService(modelServiceDefinition, modelServiceImplementation(deps));
}
