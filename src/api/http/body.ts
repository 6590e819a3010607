/**
 * Reads a request body into one Buffer, refusing more than `limit` bytes. A declared
 * Content-Length over the limit is refused before any byte is read.
 */
import type { IncomingMessage } from 'node:http';
import { ServingError, servingError } from '../../core/errors.js';
import { DEFAULT_MAX_REQUEST_BYTES } from '../../core/limits.js';
import { allocateBody, BodyBuffers } from '../body-buffers.js';

export { BodyBuffers };

/** Largest request body accepted by default (--max_request_size's default). */
export const DEFAULT_MAX_BODY_BYTES = DEFAULT_MAX_REQUEST_BYTES;

const PREALLOCATE_MAX = 16 * 1024 * 1024;

export function payloadTooLarge(limit: number): ServingError {
  return servingError('REST_PAYLOAD_TOO_LARGE', `the limit is ${limit} bytes`);
}

/**
 * `alignAt`: place the body so that its byte at that offset starts an 8-byte boundary (KServe's
 * binary data follows a JSON header of known length; aligned, its tensors are zero-copy views,
 * where a misaligned 12 MB tensor cost a fresh 12 MB copy).
 */
export function readBody(req: IncomingMessage, limit: number, alignAt?: number, buffers?: BodyBuffers): Promise<Buffer> {
  const declared = req.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > limit) return Promise.reject(payloadTooLarge(limit));

  return new Promise<Buffer>((resolve, reject) => {
    // With a Content-Length the chunks go straight into one buffer of the right size; not for
    // huge ones, so headers alone cannot make the server reserve memory no data ever fills.
    const exact = length !== undefined && length <= PREALLOCATE_MAX ? (buffers?.take(length, alignAt) ?? allocateBody(length, alignAt)) : undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;

    const finish = (err: ServingError | undefined, body?: Buffer) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err) {
        // Stop reading: the server answers and closes the connection instead of draining it.
        req.pause();
        reject(err);
      } else {
        resolve(body!);
      }
    };
    const onData = (chunk: Buffer) => {
      const end = received + chunk.length;
      if (end > limit || (exact && end > exact.length)) {
        // (node's parser never delivers more than Content-Length; the second test is a guard)
        finish(end > limit ? payloadTooLarge(limit) : servingError('INTERNAL_ERROR', 'body longer than Content-Length'));
        return;
      }
      if (exact) chunk.copy(exact, received);
      else chunks.push(chunk);
      received = end;
    };
    const onEnd = () => {
      if (exact) finish(undefined, received === exact.length ? exact : exact.subarray(0, received));
      else finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    };
    const onError = (err: Error) => finish(clientGone(err));
    const onClose = () => finish(clientGone());

    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function clientGone(cause?: Error): ServingError {
  return new ServingError('CANCELLED', 'Request cancelled by the client', { status: 'REQUEST_CANCELLED', http: 499, cause });
}
