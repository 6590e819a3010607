/**
 * GET /metrics on --rest_port when metrics are enabled (SPEC §6.5): the Prometheus text format
 * rendered by prom-client (src/metrics/serving-metrics.ts). Without --metrics_enable (or
 * monitoring.metrics.enable) the route does not exist and the URL is "Invalid request URL" (400).
 */
import type { ServingMetrics } from '../../metrics/serving-metrics.js';
import type { Router } from './router.js';

export function registerMetricsRoutes(router: Router, metrics: ServingMetrics): void {
  router.add(/^\/metrics$/, {
    async GET() {
      const { contentType, body } = await metrics.render();
      return { status: 200, body, headers: { 'Content-Type': contentType } };
    },
  });
}
