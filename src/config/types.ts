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
  /** Stateful models only (defaults: true, 500, false); undefined when not given. */
  readonly idleSequenceCleanup?: boolean;
  readonly maxSequenceNumber?: number;
  readonly lowLatencyTransformation?: boolean;
  /** config.json `allow_cache` (2022.x): force the model cache even with auto shape/batch. */
  readonly allowCache?: boolean;
  /** config.json `custom_loader_options` (raw; contains `loader_name`). */
  readonly customLoaderOptions?: Readonly<Record<string, string>>;
  // tsms extensions to OVMS's closed schema (docs/configuration.md, issue 5):
  /** Channel order binary images are decoded into: one for all inputs or per input (default BGR, as OVMS/OpenCV). */
  readonly colorFormat?: ColorFormat | Readonly<Record<string, ColorFormat>>;
  /** `(x - mean) / scale` applied inside the model to an input: one value, one per channel, or per input. */
  readonly mean?: NormalizationSetting | Readonly<Record<string, NormalizationSetting>>;
  readonly scale?: NormalizationSetting | Readonly<Record<string, NormalizationSetting>>;
  /** Server-side joining of concurrent requests along the batch dimension. */
  readonly dynamicBatching?: DynamicBatchingConfig;
}

export type ColorFormat = 'RGB' | 'BGR';
/** One value for every channel, or one per channel. */
export type NormalizationSetting = number | readonly number[];

export interface DynamicBatchingConfig {
  /** Largest batch one joined run may have. */
  readonly maxBatchSize: number;
  /** How long the first request of a batch may wait for others, in microseconds. */
  readonly maxQueueDelayUs: number;
  /** Batch sizes worth running at once as soon as they are reached (ascending). */
  readonly preferredBatchSizes: readonly number[];
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
  /** Stateful sequence cleaner interval; 0 disables (default 5). */
  readonly sequenceCleanerPollWaitMinutes?: number;
  /** --cpu_extension: a custom-op shared library (checked to exist). */
  readonly cpuExtension?: string;
  /** --grpc_channel_arguments `k=v,k2=v2`; values that parse as integers are numbers. */
  readonly grpcChannelArguments?: Readonly<Record<string, string | number>>;
  /** --metrics_enable (2022.2+); requires a REST port. */
  readonly metricsEnable?: boolean;
  /** --metrics_list (comma separated names); only with --metrics_enable. */
  readonly metricsList?: readonly string[];
  /** --cache_dir: model cache folder. */
  readonly cacheDir?: string;
  /** --disable_console (tsms only): no web console on the REST port. */
  readonly disableConsole?: boolean;
  /** --max_request_size: largest gRPC message / REST body accepted, in bytes (default 1 GiB). */
  readonly maxRequestSize?: number;
  /** --grpc_tls_cert/--grpc_tls_key[/--grpc_tls_ca]: TLS (mTLS with a CA) on the gRPC port. */
  readonly grpcTls?: TlsFiles;
  /** --rest_tls_cert/--rest_tls_key[/--rest_tls_ca]: HTTPS (mTLS with a CA) on the REST port. */
  readonly restTls?: TlsFiles;
  /** --api_key_file: every endpoint but liveness and the console's static files requires `Authorization: Bearer <key from file>`. */
  readonly apiKeyFile?: string;
}

/** PEM files for one listener. With `ca`, clients must present a certificate signed by it. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
}

/** What a config.json yields: the valid model entries and a list of skipped ones with reasons. */
export interface ModelListConfig {
  readonly models: readonly ModelConfig[];
  /** Skipped model entries; `status` is OVMS's status name (e.g. SHAPE_WRONG_FORMAT, MODEL_NAME_OCCUPIED). */
  readonly rejected: readonly { readonly name?: string; readonly index: number; readonly reason: string; readonly status?: string }[];
  /** Non-fatal notes on accepted entries (OVMS logs these as warnings). */
  readonly warnings?: readonly { readonly name?: string; readonly index: number; readonly message: string }[];
  /** Absolute folder of the config file: relative paths in it are resolved against this. */
  readonly configDir?: string;
  /** `pipeline_config_list` entries, schema-validated but otherwise raw. */
  readonly pipelines?: readonly unknown[];
  /** `custom_node_library_config_list` entries (`{name, base_path}`), raw. */
  readonly customNodeLibraries?: readonly unknown[];
  /** `custom_loader_config_list` entries, raw. */
  readonly customLoaders?: readonly unknown[];
  /** `monitoring.metrics` (2022.2+). */
  readonly metrics?: { readonly enable: boolean; readonly list?: readonly string[] };
}
