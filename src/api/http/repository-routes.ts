/**
 * The model repository extension on --rest_port (Triton/KServe), with the rule for config.json
 * in src/serving/repository-control.ts:
 *   POST /v2/repository/index                 body optional {"ready": bool} → [{name, version, state, reason}]
 *   POST /v2/repository/models/{name}/load    200 with an empty body once loaded; 404 unknown; 412 load failed
 *   POST /v2/repository/models/{name}/unload  200 once every version has retired (in-flight requests finish)
 * Load/unload bodies ({"parameters": {...}}) are accepted and their parameters ignored.
 */
import { servingError } from '../../core/errors.js';
import { loadModel, repositoryIndex, unloadModel, type RepositoryHost } from '../../serving/repository-control.js';
import { jsonResponse } from './errors.js';
import type { RequestContext, Router } from './router.js';

export function registerRepositoryRoutes(router: Router, host: RepositoryHost): void {
  router.add(/^\/v2\/repository\/index$/, {
    async POST(ctx) {
      const body = await jsonBody(ctx);
      const ready = body['ready'];
      if (ready !== undefined && typeof ready !== 'boolean') throw servingError('REST_COULD_NOT_PARSE_INPUT', '"ready" must be true or false');
      return jsonResponse(200, JSON.stringify(repositoryIndex(host, ready === true)));
    },
  });
  router.add(/^\/v2\/repository\/models\/(?<name>[^/]+)\/load$/, {
    async POST(ctx) {
      await jsonBody(ctx);
      await loadModel(host, ctx.params['name']!);
      return { status: 200, body: '' };
    },
  });
  router.add(/^\/v2\/repository\/models\/(?<name>[^/]+)\/unload$/, {
    async POST(ctx) {
      await jsonBody(ctx);
      await unloadModel(host, ctx.params['name']!);
      return { status: 200, body: '' };
    },
  });
}

/** An optional JSON object body (empty body = {}). */
async function jsonBody(ctx: RequestContext): Promise<Record<string, unknown>> {
  const bytes = await ctx.readBody();
  if (bytes.byteLength === 0) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw servingError('JSON_INVALID');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw servingError('REST_BODY_IS_NOT_AN_OBJECT');
  return doc as Record<string, unknown>;
}
