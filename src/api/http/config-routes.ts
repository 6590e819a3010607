/**
 * Live configuration on --rest_port (SPEC §4.5), as OVMS answers it:
 *   GET  /v1/config          every model's (and pipeline's) status, keys sorted
 *   POST /v1/config/reload   re-read config.json if it changed (or its last apply failed), re-scan
 *                            every model's versions, then answer the same map: 201 when something
 *                            was reloaded, 200 when nothing needed it (always 200 in single-model mode)
 * The map is OVMS's exact text: `{` newline, then per name `"<name>" : ` newline and the
 * GetModelStatus JSON with one-space indentation, joined by `,` newline, then `}` (`{}` when
 * empty). Errors are `{\n\t"error": "<text>"\n}` with OVMS's texts and codes (ReloadError).
 */
import { ReloadError } from '../../serving/model-manager.js';
import type { ManagerControl } from '../../serving/repository-control.js';
import { modelStatusObject } from '../tfs/rest-status.js';
import type { HttpResponse, Router } from './router.js';

const STATUS_FAILED = 'Retrieving all model statuses failed. Check server logs for more info.';

export function registerConfigRoutes(router: Router, manager: ManagerControl): void {
  router.add(/^\/v1\/config$/, {
    GET(ctx) {
      try {
        return { status: 200, body: configStatusJson(manager) };
      } catch (err) {
        ctx.logger.error({ err }, STATUS_FAILED);
        return configError(500, STATUS_FAILED);
      }
    },
  });
  router.add(/^\/v1\/config\/reload$/, {
    async POST(ctx) {
      let changed: boolean;
      try {
        ({ changed } = await manager.reload());
      } catch (err) {
        if (err instanceof ReloadError) {
          ctx.logger.error(`Config reload failed: ${err.message}${err.reasons.length ? ` (${err.reasons.join('; ')})` : ''}`);
          return configError(err.httpStatus, err.message);
        }
        throw err;
      }
      try {
        return { status: changed ? 201 : 200, body: configStatusJson(manager) };
      } catch (err) {
        ctx.logger.error({ err }, STATUS_FAILED);
        return configError(500, STATUS_FAILED);
      }
    },
  });
}

/** OVMS's aggregated status text (see the file comment). */
export function configStatusJson(manager: ManagerControl): string {
  const names = [...manager.names()].sort();
  if (names.length === 0) return '{}';
  const entries = names.map((name) => `${JSON.stringify(name)} : \n${JSON.stringify(modelStatusObject(manager.getStatus(name)), null, 1)}`);
  return `{\n${entries.join(',\n')}\n}`;
}

function configError(status: number, text: string): HttpResponse {
  return { status, body: `{\n\t"error": ${JSON.stringify(text)}\n}` };
}
