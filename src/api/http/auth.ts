/**
 * API-key check for every REST route but liveness. It runs before routing, so a client without
 * the key learns nothing about which URLs or models exist.
 */
import type { IncomingMessage } from 'node:http';
import { UNAUTHENTICATED_MESSAGE, type ApiKey } from '../security.js';
import type { HttpResponse } from './router.js';

/** Liveness stays open so orchestrators can probe without the key. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/v2/health/live']);

/** undefined when the request may proceed, else the 401 answer. */
export function checkApiKey(apiKey: ApiKey | undefined, req: IncomingMessage, path: string): HttpResponse | undefined {
  if (!apiKey || OPEN_PATHS.has(path)) return undefined;
  if (apiKey.acceptsAuthorization(req.headers.authorization)) return undefined;
  return {
    status: 401,
    body: JSON.stringify({ error: UNAUTHENTICATED_MESSAGE }),
    headers: { 'WWW-Authenticate': 'Bearer' },
  };
}
