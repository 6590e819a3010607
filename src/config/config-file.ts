// PLACEHOLDER (replaced by the CLI/config work): minimal config.json reading with the agreed signature.
import { readFile } from 'node:fs/promises';
import type { ModelConfig, ModelListConfig } from './types.js';

export class ConfigFileError extends Error {
  constructor(readonly kind: 'CONFIG_FILE_INVALID' | 'JSON_INVALID', message: string) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

/** Reads and validates a config.json. Throws ConfigFileError for an unreadable file or invalid JSON/schema. */
export async function loadModelListConfig(path: string): Promise<ModelListConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ConfigFileError('CONFIG_FILE_INVALID', 'Config file not found or cannot open.');
  }
  return parseModelListConfig(text);
}

export function parseModelListConfig(text: string): ModelListConfig {
  let json: { model_config_list?: { config: { name: string; base_path: string } }[] };
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigFileError('JSON_INVALID', 'Configuration file is not in valid configuration format');
  }
  const models: ModelConfig[] = (json.model_config_list ?? []).map(({ config }) => ({
    name: config.name, basePath: config.base_path, versionPolicy: { kind: 'latest', numVersions: 1 },
    nireq: 0, targetDevice: 'CPU', pluginConfig: {}, stateful: false,
  }));
  return { models, rejected: [] };
}
