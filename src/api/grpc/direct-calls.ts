/**
 * Unary gRPC calls answered straight from node:http2 streams, without grpc-js's per-call machinery.
 *
 * Why: every RPC this server has is unary with identity (de)serializers, so grpc-js's call stack
 * (interceptors, metadata objects, message decoder, channelz bookkeeping) is pure overhead on the
 * hot path. Measured on the bench (2-core box, h2load): the dummy model's TFS Predict cost ~179 µs
 * of server CPU per request through grpc-js against ~69 µs for a bare grpc-js echo; and a 600 KB
 * request was concatenated into fresh memory by grpc-js and copied again to align its tensor,
 * which kept V8 running ~12 full GCs a second. Here the message is copied once, from the HTTP/2
 * chunks into a reused buffer placed so that its tensor payload is 8-byte aligned.
 *
 * grpc-js still owns the listener, the sessions (keepalive, connection limits, TLS, shutdown) and
 * every stream this module declines: unknown methods, compressed requests, unusual content types
 * or timeouts. `take` decides from the headers alone, before a byte of the body is read.
 *
 * Errors look on the wire as grpc-js sends them: trailers-only responses with `grpc-status` and
 * `grpc-message` (URI-encoded), the same texts for oversize messages and deadlines. Successes carry
 * only what the gRPC protocol asks for, as the C++ gRPC server behind OVMS sends them: headers
 * `content-type: application/grpc+proto` and `grpc-accept-encoding`, trailer `grpc-status: 0`.
 * No `date`, `grpc-encoding: identity` or `grpc-message: OK` (grpc-js adds those): no gRPC client
 * reads them, and node:http2 spends ~1 µs per header per response (dummy TFS Predict, pinned
 * h2load: 41 → 37 µs of server CPU per request without the three).
 */
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { abortControllers } from '../../core/abort-pool.js';
import { allocateBody, type BodyBuffers } from '../body-buffers.js';
import { UNAUTHENTICATED_MESSAGE, type ApiKey } from '../security.js';
import { grpcErrorOf } from './status.js';
import type { UnaryHandler } from './unary.js';
import type { MessageParts } from '../tfs/proto-wire.js';

export interface DirectMethod {
  /** The method's name, for logs. */
  readonly name: string;
  readonly handler: UnaryHandler<Buffer, MessageParts>;
  /**
   * Where the bulk payload of a request message starts, read from its first bytes (see
   * proto-wire.ts locateField); large messages are placed so that it is 8-byte aligned.
   */
  readonly payloadOffset?: (head: Uint8Array) => number | undefined;
  /** Served without the API key (KServe ServerLive). */
  readonly open?: boolean;
}

export interface DirectCallsOptions {
  readonly logger: Logger;
  readonly maxMessageBytes: number;
  readonly buffers: BodyBuffers;
  readonly apiKey?: ApiKey;
}

/** How many message bytes are gathered before deciding where a large message goes. */
const HEAD_BYTES = 4096;
/**
 * Larger messages get their memory only once all their bytes are here: a length prefix alone must
 * not make the server reserve memory that no data ever fills (a client could declare 1 GiB on
 * many streams and stall). Up to this size the buffer is reserved as soon as the head arrived.
 */
const PREALLOCATE_MAX_BYTES = 16 * 1024 * 1024;
/** A request message up to this size that arrives in one chunk is read where it lies. */
const WHOLE_CHUNK_MAX_BYTES = HEAD_BYTES * 16;
/** Messages up to this size are answered as one DATA write together with their 5-byte prefix. */
const COALESCE_BYTES = 16 * 1024;
const PREFIX_BYTES = 5;

// Shared by every response: node:http2 reads header objects without changing them.
const RESPONSE_HEADERS = Object.freeze({
  [constants.HTTP2_HEADER_STATUS]: 200,
  [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
  'grpc-accept-encoding': 'identity,deflate,gzip',
});
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0' });
const WAIT_FOR_TRAILERS = Object.freeze({ waitForTrailers: true, sendDate: false });
const END_STREAM = Object.freeze({ endStream: true, sendDate: false });

const TIMEOUT_UNITS_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };
const TIMEOUT_FORMAT = /^(\d{1,8})([HMSmun])$/;

export class DirectCalls {
  readonly #methods = new Map<string, DirectMethod>();
  readonly #opts: DirectCallsOptions;

  constructor(opts: DirectCallsOptions) {
    this.#opts = opts;
  }

  add(path: string, method: DirectMethod): void {
    this.#methods.set(path, method);
  }

  /** Answers the stream when it is a plain unary call to one of our methods; false leaves it to grpc-js. */
  take(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean {
    if (headers[constants.HTTP2_HEADER_METHOD] !== 'POST') return false;
    const method = this.#methods.get(headers[constants.HTTP2_HEADER_PATH] as string);
    if (!method) return false;
    const contentType = headers[constants.HTTP2_HEADER_CONTENT_TYPE];
    if (contentType !== 'application/grpc' && contentType !== 'application/grpc+proto') return false;
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return false;
    let deadline: number | undefined;
    const timeout = headers['grpc-timeout'];
    if (timeout !== undefined) {
      const m = typeof timeout === 'string' ? TIMEOUT_FORMAT.exec(timeout) : null;
      if (!m) return false;
      deadline = Date.now() + Math.trunc(Number(m[1]) * TIMEOUT_UNITS_MS[m[2]!]!);
    }
    new DirectCall(stream, method, this.#opts, deadline).start(headers);
    return true;
  }
}

const CALL = Symbol('tsms.directCall');
type CallStream = ServerHttp2Stream & { [CALL]: DirectCall };

// Listeners registered on every direct stream; 'close', 'end' and 'wantTrailers' fire at most once.
function onStreamError(this: CallStream, err: Error): void {
  this[CALL].onError(err);
}
function onStreamData(this: CallStream, chunk: Buffer): void {
  this[CALL].onData(chunk);
}
function onStreamEnd(this: CallStream): void {
  this[CALL].onEnd();
}
function onStreamClose(this: CallStream): void {
  this[CALL].onClose();
}
function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

/** One call: receive one message, run the handler, answer; every exit path ends the stream once. */
class DirectCall {
  readonly #stream: ServerHttp2Stream;
  readonly #method: DirectMethod;
  readonly #opts: DirectCallsOptions;
  readonly #deadline: number | undefined;
  // Pooled: a fresh AbortSignal per call costs ~600 bytes of promoted garbage on Node 20 (core/abort-pool.ts).
  readonly #abort = abortControllers.take();
  #abortReturned = false;
  #timer: NodeJS.Timeout | undefined;
  /** The 5-byte prefix and the first message bytes, until the message's buffer is chosen. */
  #staged: Buffer[] | undefined;
  #stagedBytes = 0;
  #length = -1;
  #message: Buffer | undefined;
  #received = 0;
  #pooled = false;
  #answered = false;
  #handlerDone = true;
  #closed = false;

  constructor(stream: ServerHttp2Stream, method: DirectMethod, opts: DirectCallsOptions, deadline: number | undefined) {
    this.#stream = stream;
    this.#method = method;
    this.#opts = opts;
    this.#deadline = deadline;
  }

  start(headers: IncomingHttpHeaders): void {
    const stream = this.#stream as CallStream;
    // Shared listener functions find the call through the stream: no closures made per call.
    stream[CALL] = this;
    stream.on('error', onStreamError);
    stream.on('close', onStreamClose);
    if (this.#opts.apiKey && !this.#method.open) {
      const auth = headers.authorization;
      if (!this.#opts.apiKey.acceptsAuthorization(typeof auth === 'string' ? auth : undefined)) {
        this.#fail(GrpcStatus.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE);
        return;
      }
    }
    if (this.#deadline !== undefined) {
      this.#timer = setTimeout(() => this.#fail(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'), Math.max(0, this.#deadline - Date.now()));
    }
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
  }

  onError(err: Error): void {
    this.#opts.logger.debug({ err, method: this.#method.name }, 'gRPC stream error');
  }

  onData(chunk: Buffer): void {
    if (this.#answered) return;
    if (this.#message) {
      this.#append(chunk);
      return;
    }
    if (this.#stagedBytes === 0 && this.#takeWhole(chunk)) return;
    const staged = (this.#staged ??= []);
    staged.push(chunk);
    this.#stagedBytes += chunk.length;
    if (this.#length < 0) {
      if (this.#stagedBytes < PREFIX_BYTES) return;
      const head = gather(staged, 0, PREFIX_BYTES);
      if (head[0] !== 0) {
        // grpc-encoding said identity (or nothing), so a compressed message is a protocol error.
        this.#fail(GrpcStatus.INTERNAL, 'Received a compressed message without a grpc-encoding');
        return;
      }
      this.#length = head.readUInt32BE(1);
      if (this.#length > this.#opts.maxMessageBytes) {
        this.#fail(GrpcStatus.RESOURCE_EXHAUSTED, `Received message larger than max (${this.#length} vs ${this.#opts.maxMessageBytes})`);
        return;
      }
    }
    // Enough of the message to see where its payload starts (or all of it, for large ones): place it.
    const needed = this.#length > PREALLOCATE_MAX_BYTES ? this.#length : Math.min(this.#length, HEAD_BYTES);
    if (this.#stagedBytes - PREFIX_BYTES >= needed) this.#place();
  }

  /**
   * A small uncompressed message that arrived whole in its first chunk (as small ones do) is used
   * where it lies, without staging. Anything else (false) takes the general path, errors included.
   */
  #takeWhole(chunk: Buffer): boolean {
    if (chunk.length < PREFIX_BYTES || chunk.length > WHOLE_CHUNK_MAX_BYTES || chunk[0] !== 0) return false;
    const length = chunk.readUInt32BE(1);
    if (length !== chunk.length - PREFIX_BYTES || length > this.#opts.maxMessageBytes) return false;
    this.#length = length;
    this.#message = chunk.subarray(PREFIX_BYTES);
    this.#received = length;
    this.#complete();
    return true;
  }

  /** Chooses the message's memory and moves the staged bytes into it. */
  #place(): void {
    const length = this.#length;
    const staged = this.#staged!;
    this.#staged = undefined;
    const alignAt = this.#method.payloadOffset?.(gather(staged, PREFIX_BYTES, Math.min(length, HEAD_BYTES)));
    try {
      const pooled = length <= PREALLOCATE_MAX_BYTES ? this.#opts.buffers.take(length, alignAt) : undefined;
      this.#pooled = pooled !== undefined;
      this.#message = pooled ?? allocateBody(length, alignAt);
    } catch (err) {
      this.#opts.logger.warn({ err, bytes: length, method: this.#method.name }, 'no memory for a gRPC request message');
      this.#fail(GrpcStatus.RESOURCE_EXHAUSTED, `Cannot allocate ${length} bytes for the request message`);
      return;
    }
    // The prefix may span chunks; the message starts PREFIX_BYTES into the staged bytes.
    let skip = PREFIX_BYTES;
    for (const chunk of staged) {
      if (this.#answered) break;
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      this.#append(skip > 0 ? chunk.subarray(skip) : chunk);
      skip = 0;
    }
  }

  #append(chunk: Buffer): void {
    const message = this.#message!;
    if (this.#received + chunk.length > message.length) {
      this.#fail(GrpcStatus.UNIMPLEMENTED, `Received a second request message for unary method ${this.#method.name}`);
      return;
    }
    chunk.copy(message, this.#received);
    this.#received += chunk.length;
    if (this.#received === message.length) this.#complete();
  }

  onEnd(): void {
    if (this.#answered || !this.#handlerDone || this.#message?.length === this.#received) return;
    this.#fail(GrpcStatus.UNIMPLEMENTED, `Received no request message for unary method ${this.#method.name}`);
  }

  /** The whole message is here: run the handler. Trailing bytes after it would be a second message. */
  #complete(): void {
    this.#handlerDone = false;
    const deadline = this.#deadline;
    let result: Promise<MessageParts>;
    try {
      result = this.#method.handler(this.#message!, this.#abort.signal, deadline);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (response) => {
        this.#handlerDone = true;
        this.#respond(response);
        this.#release();
      },
      (err: unknown) => {
        this.#handlerDone = true;
        const { code, details } = grpcErrorOf(err, this.#opts.logger, this.#method.name);
        this.#fail(code ?? GrpcStatus.INTERNAL, details ?? '');
        this.#release();
      },
    );
  }

  #respond(response: MessageParts): void {
    if (this.#answered || this.#closed || this.#stream.destroyed) return;
    this.#answered = true;
    clearTimeout(this.#timer);
    const stream = this.#stream;
    stream.respond(RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
    stream.on('wantTrailers', sendOkTrailers);
    const parts: readonly Buffer[] = Buffer.isBuffer(response) ? [response] : response;
    let length = 0;
    for (const p of parts) length += p.length;
    const first = parts[0];
    const coalesce = parts.length === 1 && length <= COALESCE_BYTES;
    const prefix = Buffer.allocUnsafe(PREFIX_BYTES + (coalesce ? length : 0));
    prefix[0] = 0;
    prefix.writeUInt32BE(length, 1);
    if (coalesce) {
      first!.copy(prefix, PREFIX_BYTES);
      stream.end(prefix);
      return;
    }
    stream.write(prefix);
    for (const p of parts) stream.write(p);
    stream.end();
  }

  /** Answers with a status only (trailers-only response) and stops reading the request. */
  #fail(code: number, details: string): void {
    if (this.#answered) return;
    this.#answered = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    const stream = this.#stream;
    if (this.#closed || stream.destroyed) return;
    stream.respond({ ...RESPONSE_HEADERS, 'grpc-status': String(code), 'grpc-message': encodeURI(details) }, END_STREAM);
    // Whatever the client still sends is not wanted: tell it to stop once the answer is out.
    if (!stream.readableEnded) stream.close(constants.NGHTTP2_NO_ERROR);
  }

  onClose(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    // The client went away (or the call is over): waiting work for it can stop.
    if (!this.#answered) this.#abort.abort();
    this.#answered = true;
    this.#release();
  }

  /** Gives the message's memory and the abort controller back once the handler is done and the stream closed. */
  #release(): void {
    if (!this.#handlerDone || !this.#closed) return;
    if (!this.#abortReturned) {
      this.#abortReturned = true;
      abortControllers.give(this.#abort);
    }
    if (!this.#pooled) return;
    this.#pooled = false;
    this.#opts.buffers.give(this.#message!);
  }
}

/**
 * `bytes` staged bytes from offset `from` (the prefix, the message head): a view when they lie in
 * the first chunk, else a copy of what has arrived.
 */
function gather(staged: readonly Buffer[], from: number, bytes: number): Buffer {
  const first = staged[0]!;
  if (first.length >= from + bytes) return first.subarray(from, from + bytes);
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  let skip = from;
  for (const chunk of staged) {
    if (at >= bytes) break;
    const start = Math.min(skip, chunk.length);
    skip -= start;
    at += chunk.copy(out, at, start, Math.min(chunk.length, start + bytes - at));
  }
  return out.subarray(0, at);
}
