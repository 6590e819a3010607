// PLACEHOLDER (replaced by the CLI work): minimal parsing so the server can start during development.
import os from 'node:os';
import type { ServerConfig } from '../config/types.js';

export class UsageError extends Error {}

export type ParsedCommandLine =
  | { readonly action: 'help' | 'version'; readonly text: string }
  | { readonly action: 'serve'; readonly config: ServerConfig };

export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const get = (flag: string) => {
    const i = argv.indexOf(`--${flag}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const name = get('model_name');
  const basePath = get('model_path');
  return {
    action: 'serve',
    config: {
      port: Number(get('port') ?? 9178),
      restPort: Number(get('rest_port') ?? 0),
      grpcBindAddress: '0.0.0.0',
      restBindAddress: '0.0.0.0',
      grpcWorkers: 1,
      restWorkers: os.cpus().length * 4,
      logLevel: 'INFO',
      filePollWaitSeconds: Number(get('file_system_poll_wait_seconds') ?? 1),
      configPath: get('config_path'),
      model: name && basePath ? {
        name, basePath, versionPolicy: { kind: 'latest', numVersions: 1 }, nireq: 0, targetDevice: 'CPU', pluginConfig: {}, stateful: false,
      } : undefined,
    },
  };
}
