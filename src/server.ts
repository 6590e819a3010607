/**
 * Wires one server: the model manager, then the gRPC and REST front ends on top of it.
 * Models load before any port opens (as OVMS does), so a client never sees a half-started server.
 */
import type { Logger } from 'pino';
import type { ServerConfig } from './config/types.js';
import { ModelManager } from './serving/model-manager.js';
import { modelFormats } from './runtime/formats.js';
import { startGrpcServer } from './api/grpc/server.js';
import { startHttpServer } from './api/http/server.js';

export interface RunningTsms {
  readonly manager: ModelManager;
  /** Stop accepting, let in-flight requests finish, unload models. */
  shutdown(): Promise<void>;
}

export async function startTsms(config: ServerConfig, logger: Logger): Promise<RunningTsms> {
  const manager = new ModelManager({ logger, formats: modelFormats });
  await manager.start(config);

  const grpc = await startGrpcServer({ address: config.grpcBindAddress, port: config.port, registry: manager, logger });
  logger.info(`Server started on port ${config.port}`);

  const http = config.restPort > 0
    ? await startHttpServer({ address: config.restBindAddress, port: config.restPort, registry: manager, logger })
    : undefined;
  if (http) logger.info(`Started REST server at ${config.restBindAddress}:${config.restPort}`);

  let stopping: Promise<void> | undefined;
  return {
    manager,
    shutdown() {
      stopping ??= (async () => {
        logger.info('Shutting down');
        await Promise.all([grpc.close(), http?.close()]);
        await manager.stop();
      })();
      return stopping;
    },
  };
}
