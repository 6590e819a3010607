/** The TensorFlow Serving gRPC API: both services, as (definition, implementation) pairs for a grpc-js Server. */
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { predictionServiceDefinition, predictionServiceImplementation, type TfsServiceDeps } from './grpc-prediction-service.js';
import { modelServiceDefinition, modelServiceImplementation } from './grpc-model-service.js';

export type { TfsServiceDeps };

export function tfsGrpcServices(deps: TfsServiceDeps): [ServiceDefinition, UntypedServiceImplementation][] {
  return [
    [predictionServiceDefinition, predictionServiceImplementation(deps)],
    [modelServiceDefinition, modelServiceImplementation(deps)],
  ];
}
