/**
 * Whether and which metrics to serve, from the command line or config.json's `monitoring`
 * (SPEC §6.5). The command line wins when it enables metrics; otherwise config.json's
 * `monitoring.metrics` is used. Read once at start, as OVMS does.
 *
 * Failures stop the server from starting, with OVMS's texts: an unknown family in the list
 * ("Invalid name in metrics_list"), or metrics enabled by config.json without a REST port
 * ("Missing rest_port parameter in server CLI").
 */
import type { Logger } from 'pino';
import { loadModelListConfig } from '../config/config-file.js';
import type { ServerConfig } from '../config/types.js';
import type { Servable, ServableRegistry } from '../core/servable.js';
import { enabledFamilies, MEDIAPIPE_METRICS, MetricsConfigError } from './metric-names.js';
import { ServingMetrics, type RuntimeFigures } from './serving-metrics.js';

export interface MetricsSettings {
  readonly enable: boolean;
  readonly list?: readonly string[];
}

/** The effective settings: CLI flags, else config.json's monitoring section (when readable). */
export async function metricsSettings(config: ServerConfig): Promise<MetricsSettings> {
  if (config.metricsEnable) return { enable: true, ...(config.metricsList && { list: config.metricsList }) };
  if (!config.configPath) return { enable: false };
  try {
    const monitoring = (await loadModelListConfig(config.configPath)).metrics;
    return monitoring ? { enable: monitoring.enable, ...(monitoring.list && { list: monitoring.list }) } : { enable: false };
  } catch {
    return { enable: false }; // the model manager reports a bad config file itself
  }
}

/** Checks the settings before anything loads; throws MetricsConfigError with OVMS's text. */
export function validateMetricsSettings(settings: MetricsSettings, config: ServerConfig): void {
  if (!settings.enable) return;
  if (config.restPort === 0) throw new MetricsConfigError('Missing rest_port parameter in server CLI');
  enabledFamilies(settings.list);
}

export function createServingMetrics(settings: MetricsSettings, registry: ServableRegistry, logger: Logger): ServingMetrics | undefined {
  if (!settings.enable) return undefined;
  const families = enabledFamilies(settings.list);
  const ignored = (settings.list ?? []).filter((n) => MEDIAPIPE_METRICS.includes(n));
  if (ignored.length > 0) logger.warn(`metrics_list: ${ignored.join(', ')} apply to MediaPipe graphs, which tsms does not serve; they stay empty`);
  logger.info(`Metrics enabled on the REST port at /metrics: ${[...families].join(', ')}`);
  return new ServingMetrics({ families, registry, runtimeOf });
}

/** Model versions expose their loaded runtime model's figures (ModelVersion.runtime). */
function runtimeOf(servable: Servable): RuntimeFigures | undefined {
  return (servable as { readonly runtime?: RuntimeFigures }).runtime;
}
