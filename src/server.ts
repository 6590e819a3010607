/**
 * Wires one server: the model manager, then the gRPC and REST front ends on top of it.
 * Models load before any port opens (as OVMS does), so a client never sees a half-started server.
 */
import type { Logger } from 'pino';
import type { ServerConfig } from './config/types.js';
import { ModelManager } from './serving/model-manager.js';
import { modelFormats } from './runtime/formats.js';
import { createStorageResolver } from './storage/index.js';
import { startGrpcServer } from './api/grpc/server.js';
import { startHttpServer } from './api/http/server.js';
import { loadSecurity } from './api/security.js';
import { createServingMetrics, metricsSettings, validateMetricsSettings } from './metrics/setup.js';

export interface RunningTsms {
  readonly manager: ModelManager;
  /** Stop accepting, let in-flight requests finish, unload models. */
  shutdown(): Promise<void>;
}

export async function startTsms(config: ServerConfig, logger: Logger): Promise<RunningTsms> {
  // Metrics settings are checked before any model loads, so a typo fails fast (OVMS's texts).
  const metricsConfig = await metricsSettings(config);
  validateMetricsSettings(metricsConfig, config);
  // TLS files and the API key are read before models load: a bad file fails the start at once.
  const security = await loadSecurity(config);
  const manager = new ModelManager({ logger, formats: modelFormats, storageFor: createStorageResolver({ cacheDir: config.cacheDir, logger }) });
  await manager.start(config);
  const metrics = createServingMetrics(metricsConfig, manager, logger);
  // Readiness turns false as soon as shutdown begins, while in-flight requests still finish.
  const lifecycle = { stopping: false };

  const grpc = await startGrpcServer({
    address: config.grpcBindAddress, port: config.port, registry: manager, logger, host: manager, metrics, lifecycle,
    ...(config.maxRequestSize !== undefined && { maxMessageBytes: config.maxRequestSize }),
    ...(security.grpcTls && { tls: security.grpcTls }),
    ...(security.apiKey && { apiKey: security.apiKey }),
  });
  logSecurity(logger, 'gRPC', security.grpcTls, security.apiKey !== undefined);
  logger.info(`Server started on port ${config.port}`);

  const http = config.restPort > 0
    ? await startHttpServer({
      address: config.restBindAddress, port: config.restPort, registry: manager, logger, manager, metrics, lifecycle,
      console: !config.disableConsole,
      ...(config.maxRequestSize !== undefined && { maxBodyBytes: config.maxRequestSize }),
      ...(security.restTls && { tls: security.restTls }),
      ...(security.apiKey && { apiKey: security.apiKey }),
    })
    : undefined;
  if (http) logSecurity(logger, 'REST', security.restTls, security.apiKey !== undefined);
  if (http) logger.info(`Started REST server at ${config.restBindAddress}:${config.restPort}`);

  let stopping: Promise<void> | undefined;
  return {
    manager,
    shutdown() {
      stopping ??= (async () => {
        lifecycle.stopping = true;
        logger.info('Shutting down');
        await Promise.all([grpc.close(), http?.close()]);
        await manager.stop();
      })();
      return stopping;
    },
  };
}

/** One line per port saying how it is protected; never the key itself. */
function logSecurity(logger: Logger, api: string, tls: { ca?: Buffer } | undefined, apiKey: boolean): void {
  const transport = !tls ? 'plaintext' : tls.ca ? 'TLS with client certificates (mTLS)' : 'TLS';
  logger.info(`${api} transport: ${transport}; API key ${apiKey ? 'required (except liveness)' : 'not required'}`);
}
