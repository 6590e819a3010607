/**
 * What the console shows about the server in one JSON document: the settings in force (command
 * line and each model's config.json entry), every model's versions with states and errors, and
 * whether /metrics is there to chart. Read-only; nothing secret is in ServerConfig or ModelConfig.
 */
import { ModelState, VersionErrorCode } from '../core/servable.js';
import type { ManagerControl } from '../serving/repository-control.js';
import type { ServableRegistry } from '../core/servable.js';

export interface ConsoleVersion {
  readonly version: string;
  readonly state: string;
  readonly errorCode: string;
  readonly errorMessage: string;
  /** The real reason behind errorMessage (which OVMS keeps to the code's name). */
  readonly detail?: string;
}

export interface ConsoleModel {
  readonly name: string;
  readonly kind: 'model' | 'pipeline';
  readonly versions: readonly ConsoleVersion[];
  /** A model-level problem (e.g. an unreadable base path). */
  readonly error?: string;
  readonly config?: unknown;
}

export interface ConsoleState {
  readonly server: unknown;
  readonly metricsEnabled: boolean;
  readonly models: readonly ConsoleModel[];
}

export function consoleState(registry: ServableRegistry, manager: ManagerControl | undefined, metricsEnabled: boolean): ConsoleState {
  const modelErrors = manager?.modelErrors() ?? new Map<string, string>();
  const pipelineNames = new Set(pipelineNamesOf(manager));
  const pipelineErrors = pipelineErrorsOf(manager);
  const names = [...new Set([...registry.names(), ...pipelineNames])].sort();
  const models = names.map((name): ConsoleModel => {
    let versions: ConsoleVersion[] = [];
    try {
      versions = registry.getStatus(name).map((s) => ({
        version: String(s.version),
        state: ModelState[s.state] ?? String(s.state),
        errorCode: VersionErrorCode[s.errorCode] ?? String(s.errorCode),
        errorMessage: s.errorMessage,
        ...(s.detail && { detail: s.detail }),
      }));
    } catch {
      // a name that vanished between names() and getStatus(): shown without versions
    }
    const error = modelErrors.get(name) ?? pipelineErrors.get(name);
    const config = manager?.modelConfig(name);
    return { name, kind: pipelineNames.has(name) ? 'pipeline' : 'model', versions, ...(error && { error }), ...(config && { config }) };
  });
  return redact({ server: manager?.serverConfig ?? null, metricsEnabled, models }) as ConsoleState;
}

/** Names of settings whose values are never shown, should a config ever carry one inline. */
const SECRET_NAME = /secret|password|passwd|token|credential|access_?key|sas/i;

/** A deep copy with secret-looking values replaced (file paths such as apiKeyFile stay: they name, not hold, the key). */
function redact(value: unknown, name = ''): unknown {
  if (typeof value === 'string') return SECRET_NAME.test(name) ? '(hidden)' : value;
  if (Array.isArray(value)) return value.map((v) => redact(v, name));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}

/** Pipelines exist only on the full ModelManager; the console works without them. */
function pipelineNamesOf(manager: ManagerControl | undefined): string[] {
  const m = manager as { pipelineNames?: () => string[] } | undefined;
  return typeof m?.pipelineNames === 'function' ? m.pipelineNames() : [];
}

function pipelineErrorsOf(manager: ManagerControl | undefined): Map<string, string> {
  const m = manager as { pipelineErrors?: () => Map<string, string> } | undefined;
  return typeof m?.pipelineErrors === 'function' ? m.pipelineErrors() : new Map();
}
