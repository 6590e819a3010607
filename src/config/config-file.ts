/**
 * Reads a config.json (SPEC §2) into a ModelListConfig. Side-effect free: it reads the one file
 * and returns data; loading models, retries and logging belong to the caller.
 *
 * - Unreadable file → ConfigFileError CONFIG_FILE_INVALID.
 * - Not JSON, or any schema violation (unknown key anywhere, missing/mistyped key) → JSON_INVALID
 *   for the whole file, with the offending JSON pointer in the message.
 * - A model entry with bad contents (shape text, layout, plugin_config, version policy, nireq too
 *   high, stateful-only keys on a non-stateful model, `..` in base_path, duplicate name) is put in
 *   `rejected` with its reason and the other entries still load.
 * - A relative local `base_path` is resolved against the config file's folder (as OVMS does since
 *   2022); absolute paths and `s3://`, `gs://`, `az://`, … URLs are kept as written.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { storageFor } from '../storage/index.js';
import type { Storage } from '../storage/storage.js';
import { cloudDirname, joinCloudPath } from '../storage/url.js';
import type { ModelConfig, ModelListConfig } from './types.js';
import { validateConfigJson } from './schema.js';
import {
  DEFAULT_VERSION_POLICY, MAX_UINT32, SettingError, checkNireq, parseBatchSize, parseColorFormat, parseDynamicBatching,
  parseLayoutValue, parseNormalization, parsePluginConfig, parseShapeValue, parseVersionPolicy, resolveBasePath, isRemotePath,
} from './model-settings.js';

export class ConfigFileError extends Error {
  constructor(readonly kind: 'CONFIG_FILE_INVALID' | 'JSON_INVALID', message: string) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

/**
 * Reads and validates a config.json. Throws ConfigFileError for an unreadable file or invalid JSON/schema.
 * `configPath` may be a cloud URL (`s3://…/config.json`); it is then read through `storage`
 * (default: the storage for its scheme), and relative base paths in it are relative to its folder.
 */
export async function loadModelListConfig(configPath: string, storage?: Storage): Promise<ModelListConfig> {
  const text = await readConfigText(configPath, storage);
  return parseModelListConfig(text, { configDir: configFolder(configPath) });
}

/** The config file's bytes, from disk or from cloud storage; ConfigFileError when it cannot be read. */
export async function readConfigBytes(configPath: string, storage?: Storage): Promise<Buffer> {
  if (!isRemotePath(configPath)) {
    try {
      return await readFile(path.resolve(configPath));
    } catch {
      throw new ConfigFileError('CONFIG_FILE_INVALID', 'Config file not found or cannot open.');
    }
  }
  try {
    return await (storage ?? storageFor(configPath)).read(configPath);
  } catch (err) {
    // The storage's message names the cause (missing bucket, refused credentials, outage).
    throw new ConfigFileError('CONFIG_FILE_INVALID', `Config file not found or cannot open. ${(err as Error).message}`);
  }
}

async function readConfigText(configPath: string, storage?: Storage): Promise<string> {
  return (await readConfigBytes(configPath, storage)).toString('utf8');
}

/** The folder relative base paths are resolved against: a URL for a cloud config file. */
function configFolder(configPath: string): string {
  return isRemotePath(configPath) ? cloudDirname(configPath) : path.dirname(path.resolve(configPath));
}

export interface ParseOptions {
  /** Folder relative base paths are resolved against (default: the current directory). */
  readonly configDir?: string;
}

type Json = Record<string, unknown>;
type Rejected = ModelListConfig['rejected'][number];
type Warning = NonNullable<ModelListConfig['warnings']>[number];

export function parseModelListConfig(text: string, options: ParseOptions = {}): ModelListConfig {
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new ConfigFileError('JSON_INVALID', `Configuration file is not a valid JSON file: ${(err as Error).message}`);
  }
  const problem = validateConfigJson(json);
  if (problem !== undefined) {
    throw new ConfigFileError('JSON_INVALID', `Configuration file is not in valid configuration format: ${problem}`);
  }
  const doc = json as Json;
  const configDir = options.configDir !== undefined && isRemotePath(options.configDir) ? options.configDir : path.resolve(options.configDir ?? '.');

  const models: ModelConfig[] = [];
  const rejected: Rejected[] = [];
  const warnings: Warning[] = [];
  const taken = new Set<string>();
  (doc['model_config_list'] as { config: Json }[]).forEach(({ config }, index) => {
    const name = config['name'] as string;
    const entryWarnings: string[] = [];
    let model: ModelConfig;
    try {
      model = modelFromConfig(config, configDir, entryWarnings);
    } catch (err) {
      if (!(err instanceof SettingError)) throw err;
      rejected.push({ index, name, reason: err.message, status: err.status });
      return;
    }
    // As OVMS: an entry that failed to parse does not claim its name; the first valid one wins.
    if (taken.has(name)) {
      rejected.push({
        index, name, status: 'MODEL_NAME_OCCUPIED',
        reason: `Duplicated model names: ${name} defined in config file. Only first definition will be loaded.`,
      });
      return;
    }
    taken.add(name);
    models.push(model);
    for (const message of entryWarnings) warnings.push({ index, name, message });
  });

  const monitoring = doc['monitoring'] as { metrics: { enable: boolean; metrics_list?: string[] } } | undefined;
  return {
    models,
    rejected,
    warnings,
    configDir,
    pipelines: (doc['pipeline_config_list'] as unknown[] | undefined) ?? [],
    customNodeLibraries: (doc['custom_node_library_config_list'] as unknown[] | undefined) ?? [],
    customLoaders: (doc['custom_loader_config_list'] as unknown[] | undefined) ?? [],
    ...(monitoring && {
      metrics: {
        enable: monitoring.metrics.enable,
        ...(monitoring.metrics.metrics_list && { list: monitoring.metrics.metrics_list }),
      },
    }),
  };
}

/** One schema-valid `config` object → ModelConfig; throws SettingError for a bad entry. */
function modelFromConfig(c: Json, configDir: string, warnings: string[]): ModelConfig {
  const name = c['name'] as string;
  if (name === '') throw new SettingError('MODEL_CONFIG_INVALID', 'model name is empty');
  const basePath = resolveConfigBasePath(c['base_path'] as string, configDir);

  let batchSize: ModelConfig['batchSize'];
  if (c['batch_size'] !== undefined) {
    const parsed = parseBatchSize(c['batch_size']);
    batchSize = parsed.value;
    warnings.push(...parsed.warnings);
  }

  const nireq = checkNireq((c['nireq'] as number | undefined) ?? 0);

  let shape: ModelConfig['shape'];
  if (c['shape'] !== undefined) {
    const parsed = parseShapeValue(c['shape']);
    shape = parsed.value;
    warnings.push(...parsed.warnings);
  }

  let layout: ModelConfig['layout'];
  if (c['layout'] !== undefined) {
    const parsed = parseLayoutValue(c['layout']);
    layout = parsed.value;
    warnings.push(...parsed.warnings);
  }

  const pluginConfig = c['plugin_config'] !== undefined ? parsePluginConfig(c['plugin_config']) : {};

  const stateful = (c['stateful'] as boolean | undefined) ?? false;
  for (const key of ['low_latency_transformation', 'idle_sequence_cleanup', 'max_sequence_number']) {
    if (c[key] !== undefined && !stateful) throw new SettingError('INVALID_NON_STATEFUL_MODEL_PARAMETER', key);
  }
  const maxSequenceNumber = c['max_sequence_number'] as number | undefined;
  if (maxSequenceNumber !== undefined && maxSequenceNumber > MAX_UINT32) {
    throw new SettingError('INVALID_MAX_SEQUENCE_NUMBER', `${maxSequenceNumber} exceeds ${MAX_UINT32}`);
  }

  let versionPolicy = DEFAULT_VERSION_POLICY;
  if (c['model_version_policy'] !== undefined) {
    const parsed = parseVersionPolicy(c['model_version_policy']);
    versionPolicy = parsed.value;
    warnings.push(...parsed.warnings);
  }

  const shapeSet = shape !== undefined && (typeof shape === 'string' || Array.isArray(shape) || Object.keys(shape).length > 0);
  if (shapeSet && batchSize !== undefined) {
    warnings.push('Both shape and batch size have been defined. Batch size parameter will be ignored.');
    batchSize = undefined;
  }

  let customLoaderOptions: Record<string, string> | undefined;
  if (c['custom_loader_options'] !== undefined) {
    customLoaderOptions = Object.fromEntries(Object.entries(c['custom_loader_options'] as Json).map(([key, value]) => {
      if (typeof value !== 'string') {
        throw new SettingError('MODEL_CONFIG_INVALID', `custom_loader_options ${JSON.stringify(key)} must be a string`);
      }
      return [key, value];
    }));
  }

  return {
    name,
    basePath,
    versionPolicy,
    nireq,
    targetDevice: (c['target_device'] as string | undefined) ?? 'CPU',
    pluginConfig,
    stateful,
    ...(batchSize !== undefined && { batchSize }),
    ...(shape !== undefined && { shape }),
    ...(layout !== undefined && { layout }),
    ...(c['idle_sequence_cleanup'] !== undefined && { idleSequenceCleanup: c['idle_sequence_cleanup'] as boolean }),
    ...(maxSequenceNumber !== undefined && { maxSequenceNumber }),
    ...(c['low_latency_transformation'] !== undefined && { lowLatencyTransformation: c['low_latency_transformation'] as boolean }),
    ...(c['allow_cache'] !== undefined && { allowCache: c['allow_cache'] as boolean }),
    ...(customLoaderOptions && { customLoaderOptions }),
    // tsms extensions (issue 5)
    ...(c['color_format'] !== undefined && { colorFormat: parseColorFormat(c['color_format']) }),
    ...(c['mean'] !== undefined && { mean: parseNormalization('mean', c['mean']) }),
    ...(c['scale'] !== undefined && { scale: parseNormalization('scale', c['scale']) }),
    ...(c['dynamic_batching'] !== undefined && { dynamicBatching: parseDynamicBatching(c['dynamic_batching']) }),
  };
}

/**
 * base_path as the model manager uses it: `..` refused, cloud URLs and absolute paths kept, a
 * relative path joined to the config file's folder (a URL when the config file is in the cloud).
 */
function resolveConfigBasePath(p: string, configDir: string): string {
  if (!isRemotePath(configDir)) return resolveBasePath(p, configDir);
  const checked = resolveBasePath(p, '/');
  return isRemotePath(p) || path.isAbsolute(p) ? checked : joinCloudPath(configDir, p.split(/[/\\]/).filter((seg) => seg !== '' && seg !== '.').join('/'));
}
