/**
 * The gRPC listener on --port: one grpc-js Server carrying the TensorFlow Serving services and
 * KServe v2's inference.GRPCInferenceService on the same port, sized for large tensors as OVMS is.
 */
import { Server, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ServableRegistry } from '../../core/servable.js';
import type { ServingMetrics } from '../../metrics/serving-metrics.js';
import type { Lifecycle } from '../../serving/readiness.js';
import type { RepositoryHost } from '../../serving/repository-control.js';
import { kserveServiceDefinition, kserveServiceImplementation } from '../kserve/grpc-service.js';
import { tfsGrpcServices } from '../tfs/grpc-services.js';
import { predictPayloadOffset } from '../tfs/predict-codec.js';
import { inferPayloadOffset } from '../kserve/infer-codec.js';
import { BodyBuffers } from '../body-buffers.js';
import { DirectCalls, type DirectMethod } from './direct-calls.js';
import type { AdaptedUnaryCall } from './unary.js';
import { DEFAULT_MAX_REQUEST_BYTES } from '../../core/limits.js';
import type { ApiKey, TlsMaterial } from '../security.js';
import { apiKeyInterceptor, OPEN_METHODS } from './auth.js';
import { defaultHttp2Tuning, tuneHttp2 } from './http2-tuning.js';
import { grpcServerCredentials } from './tls.js';

export interface GrpcServerOptions {
  readonly address: string;
  readonly port: number;
  readonly registry: ServableRegistry;
  readonly logger: Logger;
  /** The model manager, for KServe readiness and the repository RPCs (optional in tests). */
  readonly host?: RepositoryHost;
  /** Present when --metrics_enable: the services record OVMS's metrics into it. */
  readonly metrics?: ServingMetrics;
  /** Tells readiness the server is shutting down. */
  readonly lifecycle?: Lifecycle;
  /** How long close() lets in-flight calls finish before cutting connections. */
  readonly shutdownGraceMs?: number;
  /** --max_request_size: larger messages are refused with RESOURCE_EXHAUSTED (default 1 GiB). */
  readonly maxMessageBytes?: number;
  /** TLS on the port (mTLS when it has a CA); plaintext when absent. */
  readonly tls?: TlsMaterial;
  /** When set, every method but ServerLive needs `authorization: Bearer <key>` metadata. */
  readonly apiKey?: ApiKey;
}

/** OVMS sends messages up to 1 GiB; what it accepts is --max_request_size here. */
const MAX_SEND_MESSAGE_BYTES = 1024 * 1024 * 1024;
const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export async function startGrpcServer(opts: GrpcServerOptions): Promise<{ close(): Promise<void> }> {
  const { address, port, registry, logger, host, metrics, lifecycle } = opts;
  const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const server = new Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': MAX_SEND_MESSAGE_BYTES,
    ...(opts.apiKey && { interceptors: [apiKeyInterceptor(opts.apiKey)] }),
  });
  const direct = new DirectCalls({ logger, maxMessageBytes, buffers: new BodyBuffers(), ...(opts.apiKey && { apiKey: opts.apiKey }) });
  tuneHttp2(server, defaultHttp2Tuning, logger, (stream, headers) => direct.take(stream, headers));
  const services: [ServiceDefinition, UntypedServiceImplementation][] = [
    ...tfsGrpcServices({ registry, logger, ...(metrics && { metrics }) }),
    [kserveServiceDefinition, kserveServiceImplementation({
      registry, logger, ...(host && { host }), ...(metrics && { metrics }), ...(lifecycle && { lifecycle }),
    })],
  ];
  for (const [definition, implementation] of services) {
    server.addService(definition, implementation);
    addDirectMethods(direct, definition, implementation);
  }

  try {
    await new Promise<number>((resolve, reject) => {
      server.bindAsync(hostPort(address, port), grpcServerCredentials(opts.tls), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  } catch (err) {
    server.forceShutdown();
    throw new Error(`Failed to start GRPC server at ${address}:${port}`, { cause: err });
  }

  const graceMs = opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= new Promise<void>((resolve) => {
        // tryShutdown stops accepting and waits for running calls; past the grace period, cut them.
        const timer = setTimeout(() => {
          logger.warn('gRPC calls still running at shutdown; closing their connections');
          server.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}

/** Large requests of these methods are placed so that their first tensor's bytes are aligned. */
const PAYLOAD_OFFSETS: Readonly<Record<string, DirectMethod['payloadOffset']>> = {
  '/tensorflow.serving.PredictionService/Predict': predictPayloadOffset,
  '/inference.GRPCInferenceService/ModelInfer': inferPayloadOffset,
};

/** Every method grpc-js serves is offered to the direct path too (all are unary with raw bytes). */
function addDirectMethods(direct: DirectCalls, definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
  for (const [name, method] of Object.entries(definition)) {
    const adapted = implementation[name] as Partial<AdaptedUnaryCall<Buffer, Buffer>> | undefined;
    if (method.requestStream || method.responseStream || typeof adapted?.handler !== 'function') continue;
    const payloadOffset = PAYLOAD_OFFSETS[method.path];
    direct.add(method.path, {
      name, handler: adapted.handler, open: OPEN_METHODS.has(method.path), ...(payloadOffset && { payloadOffset }),
    });
  }
}

/** grpc-js target for an address: IPv6 literals need brackets. */
function hostPort(address: string, port: number): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]:${port}` : `${address}:${port}`;
}
