/**
 * The one place where a thrown error becomes an HTTP answer: `{"error": "<message>"}` with the
 * status from httpStatusOf (OVMS's explicit REST codes, else the canonical code's mapping).
 */
import type { Logger } from 'pino';
import { httpStatusOf, toServingError } from '../../core/errors.js';
import type { HttpResponse } from './router.js';

export const JSON_CONTENT_TYPE = 'application/json';

export function jsonResponse(status: number, body: string): HttpResponse {
  return { status, body };
}

export function errorResponse(err: unknown, logger: Logger): HttpResponse {
  const e = toServingError(err);
  const status = httpStatusOf(e);
  if (status >= 500) logger.error({ err: e.cause ?? e }, `REST request failed: ${e.message}`);
  else logger.debug(`REST request rejected (${status}): ${e.message}`);
  return { status, body: JSON.stringify({ error: e.message }) };
}
