/**
 * API-key check for every REST route but liveness (and, when the console is on, its static files).
 * It runs before routing, so a client without the key learns nothing about which URLs or models
 * exist.
 */
import type { IncomingMessage } from 'node:http';
import { UNAUTHENTICATED_MESSAGE, type ApiKey } from '../security.js';
import type { HttpResponse } from './router.js';

/** Liveness stays open so orchestrators can probe without the key. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/v2/health/live']);

/**
 * undefined when the request may proceed, else the 401 answer. `alsoOpen` names more paths whose
 * GET carries no data (the console's static page, script and style: src/console/routes.ts); HEAD,
 * which the router answers with the GET handler minus the body, is open with it.
 */
export function checkApiKey(apiKey: ApiKey | undefined, req: IncomingMessage, path: string, alsoOpen?: ReadonlySet<string>): HttpResponse | undefined {
  if (!apiKey || OPEN_PATHS.has(path) || (isRead(req.method) && alsoOpen?.has(path))) return undefined;
  if (apiKey.acceptsAuthorization(req.headers.authorization)) return undefined;
  return {
    status: 401,
    body: JSON.stringify({ error: UNAUTHENTICATED_MESSAGE }),
    headers: { 'WWW-Authenticate': 'Bearer' },
  };
}

const isRead = (method: string | undefined): boolean => method === 'GET' || method === 'HEAD';
