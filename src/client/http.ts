/**
 * REST plumbing shared by the TFS and KServe clients: fetch with a deadline, and server errors
 * (`{"error": "…"}` with an HTTP code) turned into ClientError.
 */
import { parse as parseLossless } from 'lossless-json';
import { ClientError } from './errors.js';

export function baseUrl(address: string): string {
  const withScheme = /^https?:\/\//.test(address) ? address : `http://${address}`;
  return withScheme.replace(/\/+$/, '');
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

export async function request(call: string, url: string, init: { method?: string; body?: Uint8Array | string; headers?: Record<string, string>; timeoutMs: number; apiKey?: string | undefined }): Promise<HttpAnswer> {
  const headers = { ...init.headers, ...(init.apiKey !== undefined && { Authorization: `Bearer ${init.apiKey}` }) };
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      ...(init.body !== undefined && { body: init.body as BodyInit }),
      headers,
      signal: AbortSignal.timeout(init.timeoutMs),
    });
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError';
    throw new ClientError({
      call, code: 0, transport: 'rest', cause: err,
      status: timedOut ? 'TIMEOUT' : 'UNREACHABLE',
      details: timedOut ? `no answer within ${init.timeoutMs} ms` : `${(err as Error).message}${(err as { cause?: Error }).cause ? `: ${(err as { cause: Error }).cause.message}` : ''}`,
    });
  }
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status >= 400) {
    throw new ClientError({ call, code: res.status, status: `HTTP ${res.status}`, details: errorText(body), transport: 'rest' });
  }
  return { status: res.status, headers: res.headers, body };
}

/** The server's `{"error": "…"}` text, or the body itself when it is something else. */
function errorText(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: fall through
  }
  return text.trim().slice(0, 1000);
}

/**
 * JSON with exact 64-bit integers: integers beyond 2^53 become bigint, every other number a
 * number. Bare NaN/Infinity (TensorFlow Serving writes them) are turned into strings first.
 */
export function parseJson(call: string, text: string): any {
  try {
    return parseLossless(text, undefined, (s: string) => {
      const n = Number(s);
      return Number.isSafeInteger(n) || !/^-?\d+$/.test(s) ? n : BigInt(s);
    });
  } catch (err) {
    const repaired = text.replace(/(?<=[[,:\s])(-?Infinity|NaN)(?=[\],}\s])/g, '"$1"');
    if (repaired !== text) {
      try {
        return parseJson(call, repaired);
      } catch {
        // report the original error
      }
    }
    throw new ClientError({ call, code: 0, status: 'BAD_RESPONSE', details: `answer is not JSON: ${(err as Error).message}`, transport: 'rest' });
  }
}

/** JSON text for nested arrays of numbers/bigints/booleans/strings, bigint written exactly. */
export function writeJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  if (Array.isArray(value)) return `[${value.map(writeJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${writeJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function pathSegment(name: string): string {
  return encodeURIComponent(name);
}
