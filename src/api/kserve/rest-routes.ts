/**
 * KServe v2 REST routes (SPEC §6.4) on --rest_port:
 *   GET  /v2                                          server metadata
 *   GET  /v2/models/{name}[/versions/{v}]             model metadata
 *   GET  /v2/models/{name}[/versions/{v}]/ready       200 ready, 400 not ready (404 unknown)
 *   POST /v2/models/{name}[/versions/{v}]/infer       JSON or binary data extension
 * (/v2/health/* are in ../http/health-routes.ts, /v2/repository/* in ../http/repository-routes.ts.)
 * Other methods on these paths get 406 from the router; errors are {"error": "<text>"}.
 *
 * A version segment that is not a number is "invalid model version format in request" (400),
 * as for gRPC, rather than an unknown URL.
 */
import type { ServableRegistry } from '../../core/servable.js';
import type { ServingMetrics } from '../../metrics/serving-metrics.js';
import { arrivalTime, trackCall, trackInference } from '../../metrics/track.js';
import { modelReady } from '../../serving/readiness.js';
import { jsonResponse } from '../http/errors.js';
import type { HttpResponse, RequestContext, Router } from '../http/router.js';
import { parseModelVersion } from './errors.js';
import { modelMetadata, serverMetadata } from './metadata.js';
import { encodeRestInferResponse, HEADER_LENGTH_HEADER, parseInferBody, type RequestedOutput } from './rest-infer.js';
import { withServable } from '../with-servable.js';

const MODEL = '^/v2/models/(?<name>[^/]+)(?:/versions/(?<version>[^/]+))?';
const SERVER_METADATA = /^\/v2\/?$/;
const MODEL_METADATA = new RegExp(`${MODEL}/?$`);
const MODEL_READY = new RegExp(`${MODEL}/ready$`);
const MODEL_INFER = new RegExp(`${MODEL}/infer$`);

export function registerKserveRestRoutes(router: Router, registry: ServableRegistry, metrics?: ServingMetrics): void {
  const inferMetrics = metrics?.endpoint('KServe', 'REST', 'ModelInfer');
  const metadataMetrics = metrics?.endpoint('KServe', 'REST', 'ModelMetadata');
  const readyMetrics = metrics?.endpoint('KServe', 'REST', 'ModelReady');

  router.add(SERVER_METADATA, {
    GET: () => jsonResponse(200, JSON.stringify(serverMetadata())),
  });

  router.add(MODEL_READY, {
    async GET(ctx) {
      const name = ctx.params['name']!;
      const version = versionOf(ctx);
      registry.getStatus(name); // unknown name → 404, not counted
      const ready = await trackCall(readyMetrics?.ofName(name), () => modelReady(registry, name, version));
      return { status: ready ? 200 : 400, body: '' };
    },
  });

  router.add(MODEL_METADATA, {
    async GET(ctx) {
      // Metadata does not wait for a version that is still loading.
      const servable = await registry.getServable(ctx.params['name']!, versionOf(ctx), { signal: ctx.signal });
      return trackCall(metadataMetrics?.of(servable), () => jsonResponse(200, JSON.stringify(modelMetadata(registry, servable))));
    },
  });

  router.add(MODEL_INFER, {
    async POST(ctx): Promise<HttpResponse> {
      const started = arrivalTime(inferMetrics);
      return withServable(registry, ctx.params['name']!, versionOf(ctx), ctx.signal, (servable) => trackInference(inferMetrics?.of(servable), started, async (observe) => {
        const header = ctx.req.headers[HEADER_LENGTH_HEADER];
        const headerLength = Array.isArray(header) ? header[0] : header;
        // The binary tensor data starts right after the JSON header: read it aligned (zero-copy views).
        const dataAt = headerLength !== undefined && /^\d{1,15}$/.test(headerLength) ? Number(headerLength) : undefined;
        const request = parseInferBody(await ctx.readBody({ alignAt: dataAt, reusable: true }), headerLength, servable.inputs);
        const requested = request.outputs?.map((o) => o.name);
        const outputs = await servable.infer(request.inputs, {
          signal: ctx.signal, ...(requested && { outputs: requested }), ...(observe && { observe }),
        });
        const order: readonly RequestedOutput[] = request.outputs ?? [...outputs.keys()].map((name) => ({ name, binary: request.binaryOutputs }));
        const encoded = encodeRestInferResponse(outputs, order, {
          modelName: servable.name, modelVersion: String(servable.version), id: request.id, parameters: request.parameters,
        });
        if (encoded.headerLength === undefined) return { status: 200, body: encoded.chunks };
        return {
          status: 200,
          body: encoded.chunks,
          headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(encoded.headerLength) },
        };
      }));
    },
  });
}

/** The URL's version: 0 (default) when absent. */
function versionOf(ctx: RequestContext): number {
  const v = ctx.params['version'];
  return v === undefined ? 0 : parseModelVersion(v);
}
