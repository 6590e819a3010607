/**
 * TensorFlow Serving REST API routes (SPEC §6.3):
 *   POST /v1/models/{name}[/versions/{n}|/labels/{label}]:predict
 *   POST …:classify | …:regress            → 501, not supported (see below)
 *   GET  /v1/models/{name}[/versions/{n}]           model status
 *   GET  /v1/models/{name}[/versions/{n}]/metadata  model metadata
 * Other methods on these paths get 406 "Unsupported method" from the router.
 *
 * Choices:
 * - Labels are accepted in predict URLs and ignored (→ default version), as OVMS does; TFS would
 *   map the label to a version, but OVMS has no labels to map.
 * - :classify and :regress answer 501 "Not implemented - …": OVMS 2021.4 says 500 "Unknown
 *   error" and 2023 says 404, neither of which tells a TFS client what is wrong.
 * - Version digits that overflow are looked up as they are and so are "not found" (404).
 */
import type { Logger } from 'pino';
import { servingError } from '../../core/errors.js';
import type { ServableRegistry } from '../../core/servable.js';
import type { ServingMetrics } from '../../metrics/serving-metrics.js';
import { arrivalTime, trackCall, trackInference } from '../../metrics/track.js';
import { jsonResponse } from '../http/errors.js';
import type { RequestContext, Router } from '../http/router.js';
import { JsonDecodePool } from './json-decode-pool.js';
import { decodePredictBody } from './rest-request.js';
import { encodePredictResponse } from './rest-response.js';
import { modelMetadataJson, modelStatusJson } from './rest-status.js';
import { withServable } from '../with-servable.js';

// Matched against the raw path: a name is any run of characters other than '/' and ':'
// (percent-decoded afterwards by the router), a version is digits only.
const MODEL = '^/v1/models/(?<name>[^/:]+)';
const VERSION = '(?:/versions/(?<version>\\d+))';
const PREDICT = new RegExp(`${MODEL}(?:${VERSION}|/labels/(?<label>[^/:]+))?:(?<verb>predict|classify|regress)$`);
const STATUS = new RegExp(`${MODEL}${VERSION}?$`);
const METADATA = new RegExp(`${MODEL}${VERSION}?/metadata$`);

export interface TfsRestRoutes {
  /** Ends the JSON-decode worker threads; call once the HTTP server has no requests left. */
  close(): Promise<void>;
}

export function registerTfsRestRoutes(router: Router, registry: ServableRegistry, metrics?: ServingMetrics, logger?: Logger): TfsRestRoutes {
  // Large Predict bodies are scanned in worker threads (started on first use); TSMS_NO_JSON_WORKERS
  // keeps every body on the event loop, for A/B measurements.
  const jsonPool = process.env['TSMS_NO_JSON_WORKERS'] ? undefined : new JsonDecodePool(logger ? { logger } : {});
  const predictMetrics = metrics?.endpoint('TensorFlowServing', 'REST', 'Predict');
  const metadataMetrics = metrics?.endpoint('TensorFlowServing', 'REST', 'GetModelMetadata');
  const statusMetrics = metrics?.endpoint('TensorFlowServing', 'REST', 'GetModelStatus');
  router.add(PREDICT, {
    async POST(ctx) {
      const started = arrivalTime(predictMetrics);
      const verb = ctx.params['verb'];
      if (verb !== 'predict') {
        throw servingError('NOT_IMPLEMENTED', `the TensorFlow Serving :${verb} API is not supported; use :predict`);
      }
      return withServable(registry, ctx.params['name']!, versionOf(ctx) ?? 0, ctx.signal, (servable) => trackInference(predictMetrics?.of(servable), started, async (observe) => {
        const request = await decodePredictBody(await ctx.readBody({ reusable: true }), servable.inputs, jsonPool);
        const outputs = await servable.infer(request.inputs, { signal: ctx.signal, ...(observe && { observe }) });
        const response = jsonResponse(200, encodePredictResponse(request.format, outputs));
        // The runs that read the inputs are over and the answer is text: their memory can take the next body.
        jsonPool?.release(request.inputs);
        return response;
      }));
    },
  });
  router.add(METADATA, {
    async GET(ctx) {
      // Metadata does not wait for a loading version (OVMS answers at once).
      const servable = await registry.getServable(ctx.params['name']!, versionOf(ctx), { signal: ctx.signal });
      return trackCall(metadataMetrics?.of(servable), () => jsonResponse(200, modelMetadataJson(servable)));
    },
  });
  router.add(STATUS, {
    GET(ctx) {
      const name = ctx.params['name']!;
      const statuses = registry.getStatus(name, versionOf(ctx));
      return trackCall(statusMetrics?.ofName(name), () => jsonResponse(200, modelStatusJson(statuses)));
    },
  });
  return { close: async () => jsonPool?.close() };
}

/** The URL's version number; undefined (default version / all versions) when absent or a label. */
function versionOf(ctx: RequestContext): number | undefined {
  const v = ctx.params['version'];
  return v === undefined ? undefined : Number(v);
}
