/**
 * The REST port's routing table. Each protocol registers its routes from its own module
 * (`registerTfsRestRoutes(router, …)`, KServe, health, metrics, config), so the HTTP server
 * itself knows no protocol. A route is a regular expression over the raw request path, with
 * named groups for parameters, and one handler per method.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { servingError } from '../../core/errors.js';

/** A response a handler returns; the server writes it (Content-Type defaults to application/json). */
export interface HttpResponse {
  readonly status: number;
  /** A list of chunks is written as it is, without joining (e.g. a JSON header plus tensor views). */
  readonly body: string | Uint8Array | readonly Uint8Array[];
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ReadBodyOptions {
  /**
   * Place the body so that its byte at this offset starts an 8-byte boundary (binary tensor data
   * there can then be viewed instead of copied).
   */
  readonly alignAt?: number;
  /**
   * The handler keeps no reference to the body (or views of it) once its response is written: the
   * server may then reuse the memory for a later request. Large bodies are otherwise fresh
   * allocations that drive V8's major GCs (see body.ts).
   */
  readonly reusable?: boolean;
}

export interface RequestContext {
  readonly req: IncomingMessage;
  /** For handlers that stream; they write the response themselves and return undefined. */
  readonly res: ServerResponse;
  readonly method: string;
  /** Raw (still percent-encoded) path, without the query string. */
  readonly path: string;
  /** Raw query string without '?', or ''. */
  readonly query: string;
  /** The route's named groups, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Aborts when the client goes away before the response is written. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** The whole request body (size-limited; throws ServingErrors the server turns into responses). */
  readBody(options?: ReadBodyOptions): Promise<Buffer>;
}

export type RouteHandler = (ctx: RequestContext) => Promise<HttpResponse | undefined> | HttpResponse | undefined;

export type RouteMatch =
  | { readonly kind: 'found'; readonly handler: RouteHandler; readonly params: Readonly<Record<string, string>> }
  /** The path is known but not for this method (OVMS answers 406). */
  | { readonly kind: 'method-not-allowed' }
  | { readonly kind: 'not-found' };

interface Route {
  readonly pattern: RegExp;
  readonly handlers: ReadonlyMap<string, RouteHandler>;
}

export class Router {
  private readonly routes: Route[] = [];

  /**
   * Adds a route. `pattern` must match the whole raw path (anchor it with ^…$); its named groups
   * become `ctx.params`. Registering GET also answers HEAD (node drops the body).
   */
  add(pattern: RegExp, handlers: Readonly<Partial<Record<string, RouteHandler>>>): void {
    const map = new Map<string, RouteHandler>();
    for (const [method, handler] of Object.entries(handlers)) {
      if (handler) map.set(method.toUpperCase(), handler);
    }
    if (map.has('GET') && !map.has('HEAD')) map.set('HEAD', map.get('GET')!);
    this.routes.push({ pattern, handlers: map });
  }

  /** First route whose pattern matches wins; a percent-decoding failure is an invalid URL. */
  match(method: string, path: string): RouteMatch {
    let pathKnown = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      const handler = route.handlers.get(method);
      if (!handler) {
        pathKnown = true;
        continue;
      }
      return { kind: 'found', handler, params: decodeParams(m.groups) };
    }
    return pathKnown ? { kind: 'method-not-allowed' } : { kind: 'not-found' };
  }
}

function decodeParams(groups: Record<string, string | undefined> | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  if (!groups) return params;
  for (const key in groups) {
    const raw = groups[key];
    if (raw === undefined) continue;
    let value = raw;
    // Most names have nothing to decode; decodeURIComponent would still copy them.
    if (raw.includes('%')) {
      try {
        value = decodeURIComponent(raw);
      } catch {
        throw servingError('REST_INVALID_URL');
      }
    }
    // A decoded NUL or slash could only be an attack on something that builds paths from names.
    if (value.includes('\0') || value.includes('/')) throw servingError('REST_INVALID_URL');
    params[key] = value;
  }
  return params;
}
