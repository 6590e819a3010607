/**
 * The gRPC listener on --port: one grpc-js Server carrying the TensorFlow Serving services (and
 * later others on the same port), sized for large tensors as OVMS is.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ServableRegistry } from '../../core/servable.js';
import { addTfsGrpcServices } from '../tfs/grpc-services.js';
import { defaultHttp2Tuning, tuneHttp2 } from './http2-tuning.js';

export interface GrpcServerOptions {
  readonly address: string;
  readonly port: number;
  readonly registry: ServableRegistry;
  readonly logger: Logger;
  /** How long close() lets in-flight calls finish before cutting connections. */
  readonly shutdownGraceMs?: number;
}

/** OVMS accepts and sends messages up to 1 GiB. */
const MAX_MESSAGE_BYTES = 1024 * 1024 * 1024;
const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export async function startGrpcServer(opts: GrpcServerOptions): Promise<{ close(): Promise<void> }> {
  const { address, port, registry, logger } = opts;
  const server = new Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  tuneHttp2(server, defaultHttp2Tuning, logger);
  addTfsGrpcServices(server, { registry, logger });

  try {
    await new Promise<number>((resolve, reject) => {
      server.bindAsync(hostPort(address, port), ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
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

/** grpc-js target for an address: IPv6 literals need brackets. */
function hostPort(address: string, port: number): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]:${port}` : `${address}:${port}`;
}
