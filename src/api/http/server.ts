/**
 * The REST port: one node:http server (the fastest HTTP stack measured here, node-perf.md) with a
 * small router. Protocols register their routes; this file owns the HTTP mechanics: keep-alive,
 * body size limit, client-disconnect signals, error bodies, and a graceful close.
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ServableRegistry } from '../../core/servable.js';
import { servingError } from '../../core/errors.js';
import type { ServingMetrics } from '../../metrics/serving-metrics.js';
import { readinessOf, type Lifecycle } from '../../serving/readiness.js';
import type { ManagerControl } from '../../serving/repository-control.js';
import { registerKserveRestRoutes } from '../kserve/rest-routes.js';
import { registerTfsRestRoutes } from '../tfs/rest-routes.js';
import type { ApiKey, TlsMaterial } from '../security.js';
import { checkApiKey } from './auth.js';
import { BodyBuffers, DEFAULT_MAX_BODY_BYTES, readBody } from './body.js';
import { registerConfigRoutes } from './config-routes.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerMetricsRoutes } from './metrics-routes.js';
import { registerRepositoryRoutes } from './repository-routes.js';
import { JSON_CONTENT_TYPE, errorResponse } from './errors.js';
import { Router, type HttpResponse, type ReadBodyOptions, type RequestContext } from './router.js';
import { CONSOLE_STATIC_PATHS, registerConsoleRoutes } from '../../console/routes.js';
import { createRestListener } from './tls.js';
import { countRequest } from '../../core/gc-pacing.js';
import { abortControllers } from '../../core/abort-pool.js';

export interface HttpServerOptions {
  readonly address: string;
  readonly port: number;
  readonly registry: ServableRegistry;
  readonly logger: Logger;
  /** Request bodies above this many bytes get 413 (default DEFAULT_MAX_BODY_BYTES). */
  readonly maxBodyBytes?: number;
  /** Registers routes beyond the built-in ones (tests). */
  readonly extraRoutes?: (router: Router) => void;
  /** The model manager: /v1/config, the repository extension and configured-model readiness. */
  readonly manager?: ManagerControl;
  /** Present when metrics are enabled: GET /metrics, and every API records into it. */
  readonly metrics?: ServingMetrics;
  /** Tells readiness the server is shutting down. */
  readonly lifecycle?: Lifecycle;
  /** HTTPS on the port (mTLS when it has a CA); plain HTTP when absent. */
  readonly tls?: TlsMaterial;
  /** When set, every route but /v2/health/live needs `Authorization: Bearer <key>`. */
  readonly apiKey?: ApiKey;
  /** Serve the web console at / and /console/ (src/console). */
  readonly console?: boolean;
}

export interface HttpServerHandle {
  /** The bound port (differs from the requested one when that was 0). */
  readonly port: number;
  /** Stop accepting, let in-flight requests finish, close idle keep-alive connections. */
  close(): Promise<void>;
}

/** How long close() waits for in-flight requests before dropping their connections. */
const CLOSE_GRACE_MS = 30_000;
/** Bodies this small are drained when a handler did not read them, keeping the connection. */
const DRAIN_MAX_BYTES = 1024 * 1024;
/** After refusing a body we stop reading it; the socket is dropped once the answer had time to arrive. */
const LINGER_MS = 1000;

export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServerHandle> {
  const { logger } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const router = new Router();
  const { registry, manager, metrics, lifecycle } = opts;
  const tfsRest = registerTfsRestRoutes(router, registry, metrics, logger);
  registerKserveRestRoutes(router, registry, metrics);
  registerHealthRoutes(router, manager ?? readinessOf(registry), lifecycle);
  if (manager) {
    registerConfigRoutes(router, manager);
    registerRepositoryRoutes(router, manager);
  }
  if (metrics) registerMetricsRoutes(router, metrics);
  if (opts.console) registerConsoleRoutes(router, { registry, ...(manager && { manager }), metricsEnabled: metrics !== undefined });
  const consolePaths = opts.console ? CONSOLE_STATIC_PATHS : undefined;
  opts.extraRoutes?.(router);

  let closing = false;
  const bodyBuffers = new BodyBuffers();
  const server = createRestListener(opts.tls, (req, res) => {
    countRequest();
    void handleRequest(req, res);
  });

  async function handleRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    let bodyRead = false;
    let reusableBody: Buffer | undefined;
    let controller: AbortController | undefined;
    let handlerDone = false;
    let socketDone = false;
    // The body's memory and the signal are reused by later requests once both the handler and the
    // response are over (a handler that streams may still be writing after it returned).
    const release = () => {
      if (reusableBody) bodyBuffers.give(reusableBody);
      if (controller) abortControllers.give(controller);
    };
    res.once('close', () => {
      socketDone = true;
      if (!res.writableFinished) controller?.abort(servingError('REQUEST_CANCELLED'));
      if (handlerDone) release();
    });

    let response: HttpResponse | undefined = checkApiKey(opts.apiKey, req, path, consolePaths);
    if (response) {
      writeResponse(req, res, response, bodyRead);
      return;
    }
    try {
      const match = router.match(method, path);
      if (match.kind === 'not-found') throw servingError('REST_INVALID_URL');
      if (match.kind === 'method-not-allowed') throw servingError('REST_UNSUPPORTED_METHOD');
      controller = abortControllers.take();
      const ctx: RequestContext = {
        req,
        res,
        method,
        path,
        query: q < 0 ? '' : url.slice(q + 1),
        params: match.params,
        signal: controller.signal,
        logger,
        async readBody(options?: ReadBodyOptions) {
          bodyRead = true;
          const body = await readBody(req, maxBodyBytes, options?.alignAt, options?.reusable ? bodyBuffers : undefined);
          if (options?.reusable) reusableBody = body;
          return body;
        },
      };
      response = await match.handler(ctx);
    } catch (err) {
      response = errorResponse(err, logger);
    }
    handlerDone = true;
    if (socketDone) release();
    if (!response || res.headersSent || res.destroyed) return;
    writeResponse(req, res, response, bodyRead);
  }

  function writeResponse(req: http.IncomingMessage, res: http.ServerResponse, response: HttpResponse, bodyRead: boolean): void {
    const body = response.body;
    // A text body goes to node as it is: node then sends it joined to the header text in one write,
    // where a Buffer of it cost an allocation, an encoding pass and a two-part writev.
    const payload = typeof body === 'string' || isChunkList(body) ? body : [body];
    let length = 0;
    if (typeof payload === 'string') length = Buffer.byteLength(payload);
    else for (const c of payload) length += c.byteLength;
    res.statusCode = response.status;
    res.setHeader('Content-Type', JSON_CONTENT_TYPE);
    if (response.headers) for (const [k, v] of Object.entries(response.headers)) res.setHeader(k, v);
    res.setHeader('Content-Length', length);
    // A body left unread (refused, or never needed) is not worth receiving: close instead of draining.
    const unread = !req.complete && (bodyRead || declaredBodyBytes(req) > DRAIN_MAX_BYTES);
    if (closing || unread) res.setHeader('Connection', 'close');
    if (typeof payload === 'string') {
      res.end(payload);
    } else if (payload.length === 1) {
      res.end(payload[0]);
    } else {
      // Corked, the chunks leave in one writev: no joined copy of large tensors.
      res.cork();
      for (const c of payload) res.write(c);
      res.end();
    }
    if (unread) {
      const socket: Socket = req.socket;
      res.once('finish', () => setTimeout(() => socket.destroy(), LINGER_MS).unref());
    }
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      reject(new Error(`Failed to start REST server at ${opts.address}:${opts.port}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(opts.port, opts.address, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'REST server error'));
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : opts.port;

  let closed: Promise<void> | undefined;
  return {
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          // No request is left to need the TFS JSON-decode workers.
          void tfsRest.close().then(resolve, resolve);
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}

/**
 * The body size a request announced: its Content-Length, unknown (Infinity) when chunked, and 0
 * when it has neither (a GET: answered before node marks it complete, it has nothing unread).
 */
function declaredBodyBytes(req: http.IncomingMessage): number {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length);
  return req.headers['transfer-encoding'] === undefined ? 0 : Infinity;
}

function isChunkList(body: Uint8Array | readonly Uint8Array[]): body is readonly Uint8Array[] {
  return Array.isArray(body);
}
