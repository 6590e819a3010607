// PLACEHOLDER (replaced by the serving work).
import type { Logger } from 'pino';
import type { Servable, ServableRegistry, VersionStatus } from '../core/servable.js';
import type { ServerConfig } from '../config/types.js';
import type { ModelFormat } from '../runtime/engine.js';
import { servingError } from '../core/errors.js';

export interface ModelManagerOptions {
  readonly logger: Logger;
  readonly formats: readonly ModelFormat[];
}

export class ModelManager implements ServableRegistry {
  constructor(private readonly opts: ModelManagerOptions) {}
  async start(_config: ServerConfig): Promise<void> {}
  async stop(): Promise<void> {}
  async getServable(_name: string): Promise<Servable> {
    throw servingError('MODEL_NAME_MISSING');
  }
  getStatus(_name: string): VersionStatus[] {
    throw servingError('MODEL_NAME_MISSING');
  }
  names(): string[] {
    return [];
  }
}
