/** The validated server configuration: built once from CLI flags and config.json (src/config/). */

export type VersionPolicy =
  | { readonly kind: 'all' }
  | { readonly kind: 'latest'; readonly numVersions: number }
  | { readonly kind: 'specific'; readonly versions: readonly number[] };

/** `auto`, or a fixed shape; per input name when a map was given (`undefined` key = anonymous). */
export type ShapeSetting = 'auto' | readonly number[];

export interface ModelConfig {
  readonly name: string;
  readonly basePath: string;
  /** undefined = the model's own batch size; 'auto' = reload on a request with another batch. */
  readonly batchSize?: number | 'auto';
  /** Anonymous shape (single-input models) or per-input shapes. */
  readonly shape?: ShapeSetting | Readonly<Record<string, ShapeSetting>>;
  /** Raw layout setting, interpreted by the shapes/layout work (issue 5). */
  readonly layout?: string | Readonly<Record<string, string>>;
  readonly versionPolicy: VersionPolicy;
  readonly nireq: number;
  readonly targetDevice: string;
  readonly pluginConfig: Readonly<Record<string, string>>;
  readonly stateful: boolean;
}

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export interface ServerConfig {
  readonly port: number;
  readonly restPort: number;
  readonly grpcBindAddress: string;
  readonly restBindAddress: string;
  readonly grpcWorkers: number;
  readonly restWorkers: number;
  readonly logLevel: LogLevel;
  readonly logPath?: string;
  readonly filePollWaitSeconds: number;
  /** Multi-model mode: models come from this file (and its reloads). */
  readonly configPath?: string;
  /** Single-model mode: the one model given by --model_name/--model_path. */
  readonly model?: ModelConfig;
}

/** What a config.json yields: the valid model entries and a list of skipped ones with reasons. */
export interface ModelListConfig {
  readonly models: readonly ModelConfig[];
  readonly rejected: readonly { readonly name?: string; readonly index: number; readonly reason: string }[];
}
