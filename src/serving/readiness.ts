/**
 * Server and model readiness that tell the truth (issue 4).
 *
 * The server is ready when every model the configuration asks for has at least one version
 * AVAILABLE and none of its versions failed to load, and every pipeline (or other servable that
 * is not a configured model) that has not retired is AVAILABLE. A model with a broken version, an
 * unreadable base path or no version at all keeps the server not ready — OVMS reports ready once
 * loading has finished whatever failed; tsms does not. Models removed from config.json or unloaded
 * through the repository API do not count. A version that is merely loading (a new version
 * appearing while older ones serve, or a reload with new settings) does not make the server
 * unready: the model keeps serving.
 *
 * Liveness is separate: the process answers, so it is live.
 */
import type { ModelConfig } from '../config/types.js';
import { ModelState, VersionErrorCode, type ServableRegistry, type VersionStatus } from '../core/servable.js';

export interface ReadinessSource extends ServableRegistry {
  /** The settings a configured model is served with; undefined for anything else. */
  modelConfig(name: string): ModelConfig | undefined;
}

export interface Readiness {
  readonly ready: boolean;
  /** Why not, one line per servable (empty when ready). */
  readonly reasons: readonly string[];
}

export function serverReadiness(source: ReadinessSource): Readiness {
  const reasons: string[] = [];
  for (const name of source.names()) {
    let statuses: VersionStatus[];
    try {
      statuses = source.getStatus(name);
    } catch {
      continue; // gone between the listing and now
    }
    const reason = source.modelConfig(name) ? configuredModelProblem(statuses) : otherServableProblem(statuses);
    if (reason) reasons.push(`${name}: ${reason}`);
  }
  return { ready: reasons.length === 0, reasons };
}

function failed(s: VersionStatus): boolean {
  return s.state === ModelState.LOADING && s.errorCode !== VersionErrorCode.OK;
}

function configuredModelProblem(statuses: readonly VersionStatus[]): string | undefined {
  const broken = statuses.filter(failed);
  if (broken.length > 0) return `version ${broken.map((s) => s.version).join(', ')} failed to load`;
  if (!statuses.some((s) => s.state === ModelState.AVAILABLE)) return 'no version is AVAILABLE';
  return undefined;
}

/** Pipelines (one pseudo-version) and removed models: anything not retired must be AVAILABLE. */
function otherServableProblem(statuses: readonly VersionStatus[]): string | undefined {
  const pending = statuses.filter((s) => s.state !== ModelState.END && s.state !== ModelState.AVAILABLE);
  return pending.length > 0 ? `version ${pending.map((s) => s.version).join(', ')} is ${ModelState[pending[0]!.state]}` : undefined;
}

/**
 * KServe ModelReady: a given version must be AVAILABLE; without one (0), any AVAILABLE version
 * will do (the default version exists). Unknown names and versions throw NOT_FOUND as OVMS does.
 */
export function modelReady(registry: ServableRegistry, name: string, version: number): boolean {
  const statuses = registry.getStatus(name, version);
  return statuses.some((s) => s.state === ModelState.AVAILABLE);
}

/** Whether the server is shutting down (set once by src/server.ts): readiness turns false at once. */
export interface Lifecycle {
  readonly stopping: boolean;
}

/**
 * Readiness over a plain registry that cannot tell configured models from others: every name
 * counts as a configured model (used when a front end is started without the model manager).
 */
export function readinessOf(registry: ServableRegistry): ReadinessSource {
  if (typeof (registry as Partial<ReadinessSource>).modelConfig === 'function') return registry as ReadinessSource;
  const configured = {} as ModelConfig;
  return {
    names: () => registry.names(),
    getStatus: (name, version) => registry.getStatus(name, version),
    getServable: (name, version, options) => registry.getServable(name, version, options),
    modelConfig: () => configured,
  };
}
