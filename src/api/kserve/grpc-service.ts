/**
 * inference.GRPCInferenceService (KServe v2 / Open Inference Protocol, SPEC §6.4) over grpc-js,
 * on the same server and port as the TensorFlow Serving services.
 *
 * Identity (de)serializers as for TFS: handlers decode the bytes themselves, so malformed
 * messages get INVALID_ARGUMENT with a reason, and ModelInfer runs on the hand-written codec.
 * Model repository RPCs (RepositoryIndex/ModelLoad/ModelUnload) are served when the model manager
 * is given; RPCs not declared in the proto answer UNIMPLEMENTED (grpc-js does that).
 */
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ServingError } from '../../core/errors.js';
import type { InferOptions, ServableRegistry } from '../../core/servable.js';
import type { ServingMetrics } from '../../metrics/serving-metrics.js';
import { arrivalTime, trackCall, trackInference } from '../../metrics/track.js';
import { modelReady, readinessOf, serverReadiness, type Lifecycle } from '../../serving/readiness.js';
import { loadModel, repositoryIndex, unloadModel, type RepositoryHost } from '../../serving/repository-control.js';
import { unary } from '../grpc/unary.js';
import { withServable } from '../with-servable.js';
import { decodeMessage, encodeMessage, rawMethod } from '../tfs/grpc-raw.js';
import { parseModelVersion } from './errors.js';
import { decodeInferInputs, encodeInferResponseParts, parseInferRequest } from './infer-codec.js';
import type { MessageParts } from '../tfs/proto-wire.js';
import { modelMetadata, serverMetadata } from './metadata.js';
import { ks } from './protos.js';

const SERVICE = 'inference.GRPCInferenceService';

const methods = [
  'ServerLive', 'ServerReady', 'ModelReady', 'ServerMetadata', 'ModelMetadata', 'ModelInfer',
  'RepositoryIndex', 'RepositoryModelLoad', 'RepositoryModelUnload',
] as const;

export const kserveServiceDefinition: ServiceDefinition = Object.fromEntries(methods.map((m) => [m, rawMethod(SERVICE, m)]));

export interface KserveGrpcDeps {
  readonly registry: ServableRegistry;
  readonly logger: Logger;
  /** The model manager: repository RPCs need it; without it they answer UNIMPLEMENTED. */
  readonly host?: RepositoryHost;
  readonly metrics?: ServingMetrics;
  readonly lifecycle?: Lifecycle;
}

interface NameVersion {
  name: string;
  version: string;
}

export function kserveServiceImplementation(deps: KserveGrpcDeps): UntypedServiceImplementation {
  const { registry, logger, host, metrics, lifecycle } = deps;
  const readiness = host ?? readinessOf(registry);
  const inferMetrics = metrics?.endpoint('KServe', 'gRPC', 'ModelInfer');
  const metadataMetrics = metrics?.endpoint('KServe', 'gRPC', 'ModelMetadata');
  const readyMetrics = metrics?.endpoint('KServe', 'gRPC', 'ModelReady');
  const handle = (method: string, handler: (body: Buffer, signal: AbortSignal, deadline: number | undefined) => Promise<MessageParts>) => unary<Buffer, MessageParts>(method, logger, handler);
  const needHost = (): RepositoryHost => {
    if (!host) throw new ServingError('UNIMPLEMENTED', 'The model repository extension is not available on this server');
    return host;
  };

  return {
    ServerLive: handle('ServerLive', async (body) => {
      decodeMessage(ks.ServerLiveRequest, body);
      return encodeMessage(ks.ServerLiveResponse, { live: true });
    }),

    ServerReady: handle('ServerReady', async (body) => {
      decodeMessage(ks.ServerReadyRequest, body);
      const ready = !lifecycle?.stopping && serverReadiness(readiness).ready;
      return encodeMessage(ks.ServerReadyResponse, { ready });
    }),

    ModelReady: handle('ModelReady', async (body) => {
      const req = decodeMessage(ks.ModelReadyRequest, body) as unknown as NameVersion;
      const version = parseModelVersion(req.version);
      // Unknown names are not counted (no series), as in OVMS; the rest is counted by name.
      registry.getStatus(req.name);
      const ready = await trackCall(readyMetrics?.ofName(req.name), () => modelReady(registry, req.name, version));
      return encodeMessage(ks.ModelReadyResponse, { ready });
    }),

    ServerMetadata: handle('ServerMetadata', async (body) => {
      decodeMessage(ks.ServerMetadataRequest, body);
      return encodeMessage(ks.ServerMetadataResponse, { ...serverMetadata() });
    }),

    ModelMetadata: handle('ModelMetadata', async (body, signal) => {
      const req = decodeMessage(ks.ModelMetadataRequest, body) as unknown as NameVersion;
      // Metadata does not wait for a version that is still loading.
      const servable = await registry.getServable(req.name, parseModelVersion(req.version), { signal });
      const meta = await trackCall(metadataMetrics?.of(servable), () => modelMetadata(registry, servable));
      return encodeMessage(ks.ModelMetadataResponse, { ...meta });
    }),

    // Not async: with the version ready, the request goes to the runtime without a promise hop.
    ModelInfer: handle('ModelInfer', (body, signal, deadline) => {
      const started = arrivalTime(inferMetrics);
      const req = parseInferRequest(body);
      const version = parseModelVersion(req.modelVersion);
      return withServable(registry, req.modelName, version, signal, (servable) => trackInference(inferMetrics?.of(servable), started, (observe) => {
        const inputs = decodeInferInputs(req, servable.inputs);
        const requested = req.outputs.length > 0 ? req.outputs : undefined;
        const options: InferOptions = { signal, deadline, observe, outputs: requested };
        return servable.infer(inputs, options).then((outputs) => {
          const order = requested ? dedupe(requested) : [...outputs.keys()];
          return encodeInferResponseParts(outputs, order, {
            modelName: servable.name, modelVersion: String(servable.version), id: req.id, request: req,
          });
        });
      }));
    }),

    RepositoryIndex: handle('RepositoryIndex', async (body) => {
      const req = decodeMessage(ks.RepositoryIndexRequest, body) as unknown as { ready: boolean };
      return encodeMessage(ks.RepositoryIndexResponse, { models: repositoryIndex(needHost(), req.ready) });
    }),

    RepositoryModelLoad: handle('RepositoryModelLoad', async (body) => {
      const req = decodeMessage(ks.RepositoryModelLoadRequest, body) as unknown as { model_name: string };
      await loadModel(needHost(), req.model_name);
      return encodeMessage(ks.RepositoryModelLoadResponse, {});
    }),

    RepositoryModelUnload: handle('RepositoryModelUnload', async (body) => {
      const req = decodeMessage(ks.RepositoryModelUnloadRequest, body) as unknown as { model_name: string };
      await unloadModel(needHost(), req.model_name);
      return encodeMessage(ks.RepositoryModelUnloadResponse, {});
    }),
  };
}

function dedupe(names: readonly string[]): string[] {
  return [...new Set(names)];
}
