// PLACEHOLDER (replaced by the TFS gRPC work).
import type { Logger } from 'pino';
import type { ServableRegistry } from '../../core/servable.js';

export interface GrpcServerOptions {
  readonly address: string;
  readonly port: number;
  readonly registry: ServableRegistry;
  readonly logger: Logger;
}

export async function startGrpcServer(_opts: GrpcServerOptions): Promise<{ close(): Promise<void> }> {
  return { async close() {} };
}
