/**
 * The OVMS command-line options (SPEC §1.1/§1.2): names, value types, defaults and help texts.
 * One table drives both parsing (args.ts) and the help screen (help.ts).
 */
import os from 'node:os';

/**
 * Value kinds, as OVMS declares them to cxxopts: `flag` takes no value, `bool` is a bare flag or
 * `=true|false`, `uint32`/`uint64` are unsigned integers (decimal or 0x hex), `string` anything.
 */
export type OptionKind = 'flag' | 'bool' | 'uint32' | 'uint64' | 'string';

export type OptionGroup = 'general' | 'multi model' | 'single model';

export interface OptionDef {
  readonly name: string;
  readonly short?: string;
  readonly kind: OptionKind;
  readonly group: OptionGroup;
  readonly help: string;
  /** Shown in help as `(default: …)`. */
  readonly defaultText?: string;
}

export const CPU_COUNT = os.availableParallelism();
export const DEFAULT_REST_WORKERS = CPU_COUNT * 4;

export const OPTIONS: readonly OptionDef[] = [
  { name: 'help', short: 'h', kind: 'flag', group: 'general', help: 'Show this help message and exit' },
  { name: 'version', kind: 'flag', group: 'general', help: 'Show binary version' },
  { name: 'port', kind: 'uint64', group: 'general', help: 'gRPC server port', defaultText: '9178' },
  { name: 'grpc_bind_address', kind: 'string', group: 'general', help: 'Network interface address to bind to for the gRPC API', defaultText: '0.0.0.0' },
  { name: 'rest_port', kind: 'uint64', group: 'general', help: 'REST server port, the REST server will not be started if rest_port is blank or set to 0', defaultText: '0' },
  { name: 'rest_bind_address', kind: 'string', group: 'general', help: 'Network interface address to bind to for the REST API', defaultText: '0.0.0.0' },
  { name: 'grpc_workers', kind: 'uint32', group: 'general', help: 'Number of gRPC servers. Increase for multi client, high throughput scenarios', defaultText: '1' },
  { name: 'rest_workers', kind: 'uint32', group: 'general', help: 'Number of worker threads in REST server - has no effect if rest_port is not set. Default value depends on number of CPUs.', defaultText: String(DEFAULT_REST_WORKERS) },
  { name: 'log_level', kind: 'string', group: 'general', help: 'serving log level - one of TRACE, DEBUG, INFO, WARNING, ERROR', defaultText: 'INFO' },
  { name: 'log_path', kind: 'string', group: 'general', help: 'Optional path to the log file' },
  { name: 'grpc_channel_arguments', kind: 'string', group: 'general', help: 'A comma separated list of arguments to be passed to the grpc server. (e.g. grpc.max_connection_age_ms=2000)' },
  { name: 'file_system_poll_wait_seconds', kind: 'uint32', group: 'general', help: 'Time interval between config and model versions changes detection. Zero value disables changes monitoring.', defaultText: '1' },
  { name: 'sequence_cleaner_poll_wait_minutes', kind: 'uint32', group: 'general', help: 'Time interval between two consecutive sequence cleanup scans. Zero value disables sequence cleaner.', defaultText: '5' },
  { name: 'cache_dir', kind: 'string', group: 'general', help: 'Overrides model cache directory. When set, the first model load writes cache files there.' },
  { name: 'cpu_extension', kind: 'string', group: 'general', help: 'A path to a shared library containing custom CPU operator implementations.' },
  { name: 'metrics_enable', kind: 'bool', group: 'general', help: 'Flag enabling metrics endpoint on rest_port.', defaultText: 'false' },
  { name: 'disable_console', kind: 'flag', group: 'general', help: 'Do not serve the web console at / on rest_port (tsms only).' },
  { name: 'metrics_list', kind: 'string', group: 'general', help: 'Comma separated list of metrics. If unset, only default metrics will be enabled.' },
  { name: 'max_request_size', kind: 'uint64', group: 'general', help: 'Largest request accepted, in bytes: the gRPC message limit and the REST body limit. Larger requests get RESOURCE_EXHAUSTED / 413.', defaultText: '1073741824' },
  { name: 'grpc_tls_cert', kind: 'string', group: 'general', help: 'PEM certificate (chain) of the gRPC server; with grpc_tls_key enables TLS on the gRPC port' },
  { name: 'grpc_tls_key', kind: 'string', group: 'general', help: 'PEM private key of grpc_tls_cert' },
  { name: 'grpc_tls_ca', kind: 'string', group: 'general', help: 'PEM CA certificates: gRPC clients must present a certificate signed by one of them (mTLS)' },
  { name: 'rest_tls_cert', kind: 'string', group: 'general', help: 'PEM certificate (chain) of the REST server; with rest_tls_key serves HTTPS on rest_port' },
  { name: 'rest_tls_key', kind: 'string', group: 'general', help: 'PEM private key of rest_tls_cert' },
  { name: 'rest_tls_ca', kind: 'string', group: 'general', help: 'PEM CA certificates: REST clients must present a certificate signed by one of them (mTLS)' },
  { name: 'api_key_file', kind: 'string', group: 'general', help: 'Path to a file holding the API key. When set, every gRPC and REST endpoint except liveness requires the header "Authorization: Bearer <key>"' },
  { name: 'config_path', kind: 'string', group: 'multi model', help: 'Path to json configuration file' },
  { name: 'model_name', kind: 'string', group: 'single model', help: 'Name of the model' },
  { name: 'model_path', kind: 'string', group: 'single model', help: 'Path to the model: a local folder or s3://, gs://, az:// URL, as in TF Serving' },
  { name: 'batch_size', kind: 'string', group: 'single model', help: 'Resets models batchsize, int value or auto. This parameter will be ignored if shape is set' },
  { name: 'shape', kind: 'string', group: 'single model', help: 'Resets models shape (model must support reshaping). If set, batch_size parameter is ignored' },
  { name: 'layout', kind: 'string', group: 'single model', help: 'Resets model layout.' },
  { name: 'model_version_policy', kind: 'string', group: 'single model', help: 'Model version policy' },
  { name: 'nireq', kind: 'uint32', group: 'single model', help: 'Size of inference request queue for model executions. Recommended to be >= parallel executions. 0 means a value chosen from available resources.' },
  { name: 'target_device', kind: 'string', group: 'single model', help: 'Target device to run the inference', defaultText: 'CPU' },
  { name: 'plugin_config', kind: 'string', group: 'single model', help: 'A dictionary of plugin configuration keys and their values, eg "{\\"CPU_THROUGHPUT_STREAMS\\": \\"1\\"}".' },
  { name: 'stateful', kind: 'bool', group: 'single model', help: 'Flag indicating model is stateful', defaultText: 'false' },
  { name: 'idle_sequence_cleanup', kind: 'bool', group: 'single model', help: 'Flag indicating if model is subject to sequence cleaner scans', defaultText: 'true' },
  { name: 'low_latency_transformation', kind: 'bool', group: 'single model', help: 'Flag indicating that Model Server should perform low latency transformation on that model', defaultText: 'false' },
  { name: 'max_sequence_number', kind: 'uint32', group: 'single model', help: 'Determines how many sequences can be processed concurrently by one model instance. When that value is reached, attempt to start a new sequence will result in error.', defaultText: '500' },
];

const byName = new Map(OPTIONS.map((o) => [o.name, o]));
const byShort = new Map(OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));

export function findOption(name: string): OptionDef | undefined {
  return byName.get(name);
}

export function findShortOption(letter: string): OptionDef | undefined {
  return byShort.get(letter);
}
