/**
 * The OVMS command line (SPEC §1): parses argv into a validated ServerConfig, or the help/version
 * screen. Problems throw UsageError with OVMS's exact message; main.ts prints it and exits 64.
 *
 * Syntax follows OVMS's parser (cxxopts): `--name value` or `--name=value`; boolean options as a bare
 * flag or `--flag=true|false`; unsigned integers in decimal or 0x hex. Errors from this stage read
 * `error parsing options: <reason>`. Then the checks of OVMS's Config::validate() run in its order,
 * then the single-model settings are parsed (policy, shape, …).
 *
 * Deliberate differences from OVMS (all stricter or friendlier, none accepts less valid input):
 * - a stray positional argument is an error (OVMS ignores it, so `--stateful false` meant true);
 * - `port == rest_port` is only an error when REST is enabled (rest_port != 0), so `--port 0` works;
 * - bind addresses may also be IPv6 literals (later OVMS versions accept them too);
 * - bad --model_version_policy/--shape/--layout/--plugin_config/--batch_size/--nireq, a `..` in
 *   --model_path, and a malformed --grpc_channel_arguments are usage errors (exit 64) here; OVMS
 *   fails later at model load or server start (exit 1), or warns and uses a default for batch_size.
 */
import { existsSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import path from 'node:path';
import type { LogLevel, ModelConfig, ServerConfig, TlsFiles } from '../config/types.js';
import { MAX_REQUEST_BYTES_LIMIT } from '../core/limits.js';
import {
  DEFAULT_VERSION_POLICY, SettingError, checkNireq, parseBatchSize, parseLayoutArgument,
  parsePluginConfigArgument, parseShapeArgument, parseVersionPolicyArgument, resolveBasePath, isRemotePath,
} from '../config/model-settings.js';
import { CPU_COUNT, DEFAULT_REST_WORKERS, findOption, findShortOption, type OptionDef } from './options.js';
import { helpText, versionText } from './help.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type ParsedCommandLine =
  | { readonly action: 'help' | 'version'; readonly text: string }
  | {
    readonly action: 'serve';
    readonly config: ServerConfig;
    /** Non-fatal notes (e.g. batch_size ignored because shape is set), to be logged at start. */
    readonly warnings?: readonly string[];
  };

const MAX_PORT = 65535n;
const MAX_REST_WORKERS = 10000n;
const LOG_LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR'];
/** Options that only make sense for one model; OVMS refuses them next to --config_path. */
const MODEL_PARAMETERS = ['batch_size', 'shape', 'nireq', 'model_version_policy', 'target_device', 'plugin_config'];
const STATEFUL_ONLY = ['low_latency_transformation', 'max_sequence_number', 'idle_sequence_cleanup'];

type OptionValue = string | boolean | bigint;

export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const values = readOptions(argv);
  if (values.has('version')) return { action: 'version', text: versionText() };
  if (values.has('help') || argv.length === 0) return { action: 'help', text: helpText() };
  return buildServerConfig(values);
}

// ---------------------------------------------------------------------------------------------
// syntax: argv → typed values

function parseError(reason: string): UsageError {
  return new UsageError(`error parsing options: ${reason}`);
}

/** cxxopts quotes names and values with typographic quotes. */
const q = (s: string) => `‘${s}’`;

function readOptions(argv: readonly string[]): Map<string, OptionValue> {
  const values = new Map<string, OptionValue>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const long = /^--([a-zA-Z0-9][-_a-zA-Z0-9]+)(?:=([\s\S]*))?$/.exec(arg);
    if (long) {
      const def = findOption(long[1]!);
      if (!def) throw parseError(`Option ${q(long[1]!)} does not exist`);
      let text = long[2];
      if (text === undefined && def.kind !== 'flag' && def.kind !== 'bool') {
        if (i + 1 >= argv.length) throw parseError(`Option ${q(def.name)} is missing an argument`);
        text = argv[++i]!;
      }
      values.set(def.name, convert(def, text));
      continue;
    }
    if (/^-[a-zA-Z0-9]+$/.test(arg)) {
      for (const letter of arg.slice(1)) {
        const def = findShortOption(letter);
        if (!def) throw parseError(`Option ${q(letter)} does not exist`);
        values.set(def.name, true);
      }
      continue;
    }
    throw parseError(`Unexpected positional argument ${q(arg)}`);
  }
  return values;
}

function convert(def: OptionDef, text: string | undefined): OptionValue {
  switch (def.kind) {
    case 'flag':
    case 'bool':
      return text === undefined ? true : parseBool(text);
    case 'uint32':
      return parseUnsigned(text!, 0xffff_ffffn);
    case 'uint64':
      return parseUnsigned(text!, 0xffff_ffff_ffff_ffffn);
    case 'string':
      return text!;
  }
}

function parseBool(text: string): boolean {
  if (/^(?:[tT](?:rue)?|1)$/.test(text)) return true;
  if (/^(?:[fF](?:alse)?|0)$/.test(text)) return false;
  throw parseError(`Argument ${q(text)} failed to parse`);
}

/** Decimal or 0x-prefixed hex; a sign or a value beyond the type's range fails to parse. */
function parseUnsigned(text: string, max: bigint): bigint {
  const m = /^(0x)?([0-9a-fA-F]+)$/.exec(text);
  if (!m || (!m[1] && !/^\d+$/.test(m[2]!))) throw parseError(`Argument ${q(text)} failed to parse`);
  const value = BigInt(m[1] ? `0x${m[2]}` : m[2]!);
  if (value > max) throw parseError(`Argument ${q(text)} failed to parse`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// validation (OVMS Config::validate order), then building the config

function buildServerConfig(values: Map<string, OptionValue>): ParsedCommandLine {
  const given = (name: string) => values.has(name);
  const str = (name: string) => values.get(name) as string | undefined;
  const uint = (name: string, fallback: bigint) => (values.get(name) as bigint | undefined) ?? fallback;
  const bool = (name: string, fallback: boolean) => (values.get(name) as boolean | undefined) ?? fallback;

  const configPath = str('config_path') || undefined;
  const modelName = str('model_name') || undefined;
  const modelPath = str('model_path') || undefined;
  const port = uint('port', 9178n);
  const restPort = uint('rest_port', 0n);
  const grpcWorkers = uint('grpc_workers', 1n);
  const restWorkers = uint('rest_workers', BigInt(DEFAULT_REST_WORKERS));
  const metricsEnable = bool('metrics_enable', false);
  const metricsList = (str('metrics_list') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const grpcBindAddress = str('grpc_bind_address') ?? '0.0.0.0';
  const restBindAddress = str('rest_bind_address') ?? '0.0.0.0';
  const logLevel = str('log_level') ?? 'INFO';
  const stateful = bool('stateful', false);

  if (configPath && (modelName || modelPath)) throw new UsageError('Use either config_path or model_path with model_name');
  if (!configPath && !(modelName && modelPath)) throw new UsageError('Use config_path or model_path with model_name');
  if (configPath && MODEL_PARAMETERS.some(given)) throw new UsageError('Model parameters in CLI are exclusive with the config file');
  if (given('grpc_workers') && (grpcWorkers > BigInt(CPU_COUNT) || grpcWorkers < 1n)) {
    throw new UsageError(`grpc_workers count should be from 1 to CPU core count : ${CPU_COUNT}`);
  }
  if (given('rest_workers') && (restWorkers > MAX_REST_WORKERS || restWorkers < 2n)) {
    throw new UsageError(`rest_workers count should be from 2 to ${MAX_REST_WORKERS}`);
  }
  if (given('rest_workers') && restWorkers !== BigInt(DEFAULT_REST_WORKERS) && restPort === 0n) {
    throw new UsageError('rest_workers is set but rest_port is not set. rest_port is required to start rest servers');
  }
  if (port > MAX_PORT) throw new UsageError(`port number out of range from 0 to ${MAX_PORT}`);
  if (restPort > MAX_PORT) throw new UsageError(`rest_port number out of range from 0 to ${MAX_PORT}`);
  if (metricsEnable && restPort === 0n) throw new UsageError('rest_port setting is missing, metrics are enabled on rest port');
  if (!metricsEnable && metricsList.length > 0) {
    throw new UsageError('metrics_enable setting is missing, required when metrics_list is provided');
  }
  if (given('rest_bind_address') && !isValidBindAddress(restBindAddress)) {
    throw new UsageError('rest_bind_address has invalid format: proper hostname or IP address expected.');
  }
  if (given('grpc_bind_address') && !isValidBindAddress(grpcBindAddress)) {
    throw new UsageError('grpc_bind_address has invalid format: proper hostname or IP address expected.');
  }
  if (restPort !== 0n && port === restPort) throw new UsageError('port and rest_port cannot have the same values');
  const cpuExtension = str('cpu_extension');
  if (cpuExtension !== undefined && !existsSync(cpuExtension)) {
    throw new UsageError(`File path provided as an --cpu_extension parameter does not exists in the filesystem: ${cpuExtension}`);
  }
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`log_level should be one of: ${LOG_LEVELS.join(', ')}`);
  }
  if (STATEFUL_ONLY.some(given) && !stateful) {
    throw new UsageError('Setting low_latency_transformation, max_sequence_number and idle_sequence_cleanup require setting stateful flag for the model.');
  }

  const security = buildSecurityConfig(values, restPort);

  const warnings: string[] = [];
  const model = configPath ? undefined : buildModelConfig(modelName!, modelPath!, values, warnings);
  const channelArguments = str('grpc_channel_arguments');
  const logPath = str('log_path');
  const cacheDir = str('cache_dir');

  const config: ServerConfig = {
    port: Number(port),
    restPort: Number(restPort),
    grpcBindAddress,
    restBindAddress,
    grpcWorkers: Number(grpcWorkers),
    restWorkers: Number(restWorkers),
    logLevel: logLevel as LogLevel,
    filePollWaitSeconds: Number(uint('file_system_poll_wait_seconds', 1n)),
    sequenceCleanerPollWaitMinutes: Number(uint('sequence_cleaner_poll_wait_minutes', 5n)),
    metricsEnable,
    ...(given('disable_console') && { disableConsole: true }),
    ...(metricsList.length > 0 && { metricsList }),
    ...(logPath && { logPath }),
    ...(cacheDir && { cacheDir }),
    ...(cpuExtension !== undefined && { cpuExtension }),
    ...(channelArguments !== undefined && { grpcChannelArguments: parseChannelArguments(channelArguments) }),
    // A cloud URL (s3://…/config.json) is kept as written; path.resolve would mangle it.
    ...(configPath && { configPath: isRemotePath(configPath) ? configPath : path.resolve(configPath) }),
    ...(model && { model }),
    ...security,
  };
  return { action: 'serve', config, ...(warnings.length > 0 && { warnings }) };
}

/**
 * --max_request_size, the TLS files and --api_key_file (tsms additions; OVMS 2025 has
 * --api_key_file). Checked after OVMS's own checks, with messages in their style.
 */
function buildSecurityConfig(values: Map<string, OptionValue>, restPort: bigint): Pick<ServerConfig, 'maxRequestSize' | 'grpcTls' | 'restTls' | 'apiKeyFile'> {
  const str = (name: string) => (values.get(name) as string | undefined) || undefined;
  const maxRequestSize = values.get('max_request_size') as bigint | undefined;
  if (maxRequestSize !== undefined && (maxRequestSize < 1n || maxRequestSize > BigInt(MAX_REQUEST_BYTES_LIMIT))) {
    throw new UsageError(`max_request_size should be from 1 to ${MAX_REQUEST_BYTES_LIMIT}`);
  }
  const tlsFiles = (api: 'grpc' | 'rest'): TlsFiles | undefined => {
    const [cert, key, ca] = (['cert', 'key', 'ca'] as const).map((part) => str(`${api}_tls_${part}`));
    if (!cert && !key && !ca) return undefined;
    if (!cert) throw new UsageError(`${api}_tls_cert setting is missing, required when ${key ? `${api}_tls_key` : `${api}_tls_ca`} is provided`);
    if (!key) throw new UsageError(`${api}_tls_key setting is missing, required when ${api}_tls_cert is provided`);
    if (api === 'rest' && restPort === 0n) throw new UsageError('rest_port setting is missing, required when rest_tls_cert is provided');
    for (const [part, file] of [['cert', cert], ['key', key], ['ca', ca]] as const) {
      if (file !== undefined) requireFile(`${api}_tls_${part}`, file);
    }
    return { cert: path.resolve(cert), key: path.resolve(key), ...(ca && { ca: path.resolve(ca) }) };
  };
  const grpcTls = tlsFiles('grpc');
  const restTls = tlsFiles('rest');
  const apiKeyFile = str('api_key_file');
  if (apiKeyFile !== undefined) requireFile('api_key_file', apiKeyFile);
  return {
    ...(maxRequestSize !== undefined && { maxRequestSize: Number(maxRequestSize) }),
    ...(grpcTls && { grpcTls }),
    ...(restTls && { restTls }),
    ...(apiKeyFile && { apiKeyFile: path.resolve(apiKeyFile) }),
  };
}

/** OVMS's wording for a missing --cpu_extension, used for every file-valued option. */
function requireFile(option: string, file: string): void {
  if (!existsSync(file)) throw new UsageError(`File path provided as an --${option} parameter does not exists in the filesystem: ${file}`);
}

/** --model_name/--model_path and the single-model flags → the one ModelConfig. */
function buildModelConfig(name: string, modelPath: string, values: Map<string, OptionValue>, warnings: string[]): ModelConfig {
  const str = (option: string) => values.get(option) as string | undefined;
  const setting = <T>(option: string, parse: () => T): T => {
    try {
      return parse();
    } catch (err) {
      if (err instanceof SettingError) throw new UsageError(`Invalid --${option}: ${err.message}`);
      throw err;
    }
  };

  const basePath = setting('model_path', () => resolveBasePath(modelPath, process.cwd()));
  const policyText = str('model_version_policy');
  const policy = policyText ? setting('model_version_policy', () => parseVersionPolicyArgument(policyText)) : undefined;
  warnings.push(...(policy?.warnings ?? []));
  const shapeText = str('shape');
  const shape = shapeText ? setting('shape', () => parseShapeArgument(shapeText)) : undefined;
  warnings.push(...(shape?.warnings ?? []));
  const batchText = str('batch_size');
  let batchSize = batchText !== undefined ? setting('batch_size', () => parseBatchSize(batchText, true)).value : undefined;
  const layoutText = str('layout');
  const layout = layoutText ? setting('layout', () => parseLayoutArgument(layoutText)) : undefined;
  warnings.push(...(layout?.warnings ?? []));
  const pluginText = str('plugin_config');
  const pluginConfig = pluginText ? setting('plugin_config', () => parsePluginConfigArgument(pluginText)) : {};
  const nireq = setting('nireq', () => checkNireq(Number((values.get('nireq') as bigint | undefined) ?? 0n)));

  const shapeValue = shape?.value;
  const shapeSet = shapeValue !== undefined && (typeof shapeValue === 'string' || Array.isArray(shapeValue) || Object.keys(shapeValue).length > 0);
  if (shapeSet && batchSize !== undefined) {
    warnings.push('Both shape and batch size have been defined. Batch size parameter will be ignored.');
    batchSize = undefined;
  }
  const maxSequenceNumber = values.get('max_sequence_number') as bigint | undefined;
  const idleSequenceCleanup = values.get('idle_sequence_cleanup') as boolean | undefined;
  const lowLatencyTransformation = values.get('low_latency_transformation') as boolean | undefined;

  return {
    name,
    basePath,
    versionPolicy: policy?.value ?? DEFAULT_VERSION_POLICY,
    nireq,
    targetDevice: str('target_device') || 'CPU',
    pluginConfig,
    stateful: (values.get('stateful') as boolean | undefined) ?? false,
    ...(batchSize !== undefined && { batchSize }),
    ...(shapeValue !== undefined && { shape: shapeValue }),
    ...(layout && { layout: layout.value }),
    ...(idleSequenceCleanup !== undefined && { idleSequenceCleanup }),
    ...(maxSequenceNumber !== undefined && { maxSequenceNumber: Number(maxSequenceNumber) }),
    ...(lowLatencyTransformation !== undefined && { lowLatencyTransformation }),
  };
}

const IPV4 = /^(?:(?:[0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])\.){3}(?:[0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])$/;
const HOSTNAME = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;

/**
 * OVMS's rule: at most 255 characters; only digits and dots → a valid dotted IPv4 quad; otherwise
 * RFC 1123 hostname labels. IPv6 literals (`::`, `::1`, `fe80::1`) are accepted as well.
 */
export function isValidBindAddress(address: string): boolean {
  if (address.length > 255) return false;
  if (/^[\d.]*$/.test(address)) return IPV4.test(address);
  if (address.includes(':')) return isIPv6(address);
  return HOSTNAME.test(address);
}

/** `key=value,key2=value2`: each value becomes a number when it is an integer, else stays a string. */
function parseChannelArguments(text: string): Record<string, string | number> {
  if (text.trim() === '') return {};
  return Object.fromEntries(text.split(',').map((part) => {
    const kv = part.split('=');
    if (kv.length !== 2 || kv[0]!.trim() === '') throw new UsageError(`grpc channel arguments passed in wrong format: ${text}`);
    const value = kv[1]!.trim();
    return [kv[0]!.trim(), /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value];
  }));
}
