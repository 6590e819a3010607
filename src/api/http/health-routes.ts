/**
 * Health probes on --rest_port (KServe v2 health API, SPEC §6.4):
 *   GET /v2/health/live   200 while the process can serve
 *   GET /v2/health/ready  200 when ready, 400 when not (KServe: "a 4xx status code indicates false")
 * Bodies are empty: the answer is the status code. Readiness is src/serving/readiness.ts: false
 * until every configured model has a version AVAILABLE and none failed, and from the moment
 * shutdown begins. Not ready answers log the reasons at debug level.
 */
import type { Lifecycle, ReadinessSource } from '../../serving/readiness.js';
import { serverReadiness } from '../../serving/readiness.js';
import type { Router } from './router.js';

export function registerHealthRoutes(router: Router, readiness: ReadinessSource, lifecycle?: Lifecycle): void {
  router.add(/^\/v2\/health\/live$/, {
    GET: () => ({ status: 200, body: '' }),
  });
  router.add(/^\/v2\/health\/ready$/, {
    GET(ctx) {
      if (lifecycle?.stopping) return { status: 400, body: '' };
      const { ready, reasons } = serverReadiness(readiness);
      if (!ready) ctx.logger.debug(`Server not ready: ${reasons.join('; ')}`);
      return { status: ready ? 200 : 400, body: '' };
    },
  });
}
