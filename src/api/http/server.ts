// PLACEHOLDER (replaced by the TFS REST work).
import type { Logger } from 'pino';
import type { ServableRegistry } from '../../core/servable.js';

export interface HttpServerOptions {
  readonly address: string;
  readonly port: number;
  readonly registry: ServableRegistry;
  readonly logger: Logger;
}

export async function startHttpServer(_opts: HttpServerOptions): Promise<{ close(): Promise<void> }> {
  return { async close() {} };
}
