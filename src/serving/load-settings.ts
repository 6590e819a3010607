/** What of a ModelConfig a loaded version depends on, and how it reaches the runtime. */
import { isDeepStrictEqual } from 'node:util';
import type { ModelConfig } from '../config/types.js';
import type { RuntimeOptions } from '../runtime/engine.js';

/**
 * True when a version loaded with `a` would be loaded the same way with `b`. Everything but the
 * version policy counts (OVMS's isReloadRequired: base path, device, batch, shape, layout, nireq,
 * plugin config, stateful settings...), so fields added to ModelConfig later count too.
 */
export function sameLoadSettings(a: ModelConfig, b: ModelConfig): boolean {
  return isDeepStrictEqual(loadSettings(a), loadSettings(b));
}

/** The config without its version policy; keys set to undefined count as absent. */
function loadSettings(config: ModelConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key !== 'versionPolicy' && value !== undefined) out[key] = value;
  }
  return out;
}

export function runtimeOptions(config: ModelConfig): RuntimeOptions {
  return { nireq: config.nireq, targetDevice: config.targetDevice, pluginConfig: config.pluginConfig };
}
