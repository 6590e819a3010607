/**
 * tensorflow.serving.ModelService over grpc-js: GetModelStatus (SPEC §4.4) and
 * HandleReloadConfigRequest, which OVMS accepts and answers OK without doing anything.
 */
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { trackCall } from '../../metrics/track.js';
import { unary } from '../grpc/unary.js';
import { int64ToNumber, messages } from './grpc-protos.js';
import { decodeMessage, encodeMessage, rawMethod } from './grpc-raw.js';
import type { TfsServiceDeps } from './grpc-prediction-service.js';

const SERVICE = 'tensorflow.serving.ModelService';

export const modelServiceDefinition: ServiceDefinition = {
  GetModelStatus: rawMethod(SERVICE, 'GetModelStatus'),
  HandleReloadConfigRequest: rawMethod(SERVICE, 'HandleReloadConfigRequest'),
};

interface StatusRequest {
  model_spec: { name: string; version: { value: unknown } | null } | null;
}

export function modelServiceImplementation({ registry, logger, metrics }: TfsServiceDeps): UntypedServiceImplementation {
  const statusMetrics = metrics?.endpoint('TensorFlowServing', 'gRPC', 'GetModelStatus');
  return {
    GetModelStatus: unary<Buffer, Buffer>('GetModelStatus', logger, async (body) => {
      const request = decodeMessage(messages.GetModelStatusRequest, body) as unknown as StatusRequest;
      // No model_spec reads as an empty name: "Model with requested name is not found", as on OVMS.
      const spec = request.model_spec;
      const version = spec?.version ? int64ToNumber(spec.version.value) : 0;
      const name = spec?.name ?? '';
      const statuses = registry.getStatus(name, version);
      return trackCall(statusMetrics?.ofName(name), () => encodeMessage(messages.GetModelStatusResponse, {
        model_version_status: statuses.map((s) => ({
          version: s.version,
          state: s.state,
          status: { error_code: s.errorCode, error_message: s.errorMessage },
        })),
      }));
    }),

    HandleReloadConfigRequest: unary<Buffer, Buffer>('HandleReloadConfigRequest', logger, async (body) => {
      decodeMessage(messages.ReloadConfigRequest, body);
      logger.info('Requested HandleReloadConfigRequest - the server reloads its configuration by itself, so this has no extra effect');
      return encodeMessage(messages.ReloadConfigResponse, {});
    }),
  };
}
