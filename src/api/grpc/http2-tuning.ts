/**
 * Larger HTTP/2 flow-control windows and frames for the gRPC server, so big tensors are not
 * throttled by the 64 KiB protocol defaults (research/node-perf.md §2 rule 5: 600 KB requests went
 * from ~310–400 to ~670 req/s, 12 MB requests from 27 to 50 req/s).
 *
 * grpc-js 1.14 has no server option for these (`grpc-node.flow_control_window` applies to clients
 * only, `grpc.max_concurrent_streams` is the only HTTP/2 setting it forwards). Its Server builds
 * each node:http2 server in one method, `createHttp2Server`; we wrap that method on our instance
 * and tune the returned server with node's public API only:
 *   - `http2Server.updateSettings({initialWindowSize, maxFrameSize})`: the SETTINGS every new
 *     session announces (per-stream receive window, largest frame the client may send);
 *   - `session.setLocalWindowSize(n)` on each 'session': the connection-level receive window,
 *     which SETTINGS cannot change.
 * The same hook puts direct-calls.ts in front of grpc-js: our 'stream' listener offers each new
 * stream to it first and passes the ones it declines to grpc-js's own listener.
 * If a grpc-js upgrade removes the method, the server still works (untuned, every call through
 * grpc-js) and says so in the log; test/tfs-grpc-server.test.ts checks the settings a client
 * actually receives.
 */
import type { Http2Server, IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { Server } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { countRequest } from '../../core/gc-pacing.js';

export interface Http2Tuning {
  /** SETTINGS_INITIAL_WINDOW_SIZE: how much a client may send on one stream before a WINDOW_UPDATE. */
  readonly streamWindow: number;
  /** Connection-level receive window (all streams together). */
  readonly connectionWindow: number;
  /** SETTINGS_MAX_FRAME_SIZE: the largest DATA frame a client may send. */
  readonly maxFrameSize: number;
}

export const defaultHttp2Tuning: Http2Tuning = {
  streamWindow: 16 * 1024 * 1024,
  connectionWindow: 64 * 1024 * 1024,
  maxFrameSize: 1024 * 1024,
};

type ServerInternals = { createHttp2Server?: (this: Server, ...args: unknown[]) => Http2Server };

/** Answers a stream itself (true) or leaves it to grpc-js (false), from its headers. */
export type StreamTaker = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;

/** Returns false (and logs) when grpc-js no longer has the hook, leaving the server untuned. */
export function tuneHttp2(server: Server, tuning: Http2Tuning, logger: Logger, takeStream?: StreamTaker): boolean {
  const internals = server as unknown as ServerInternals;
  const create = internals.createHttp2Server;
  if (typeof create !== 'function') {
    logger.warn('gRPC HTTP/2 window tuning unavailable with this @grpc/grpc-js version; large tensors will transfer slower');
    return false;
  }
  internals.createHttp2Server = function (this: Server, ...args: unknown[]) {
    const http2Server = create.apply(this, args);
    if (takeStream) putInFront(http2Server, takeStream);
    http2Server.updateSettings({ initialWindowSize: tuning.streamWindow, maxFrameSize: tuning.maxFrameSize });
    http2Server.on('session', (session: ServerHttp2Session) => {
      try {
        session.setLocalWindowSize(tuning.connectionWindow);
      } catch (err) {
        // A session torn down before it started; grpc-js handles the session itself.
        logger.debug({ err }, 'Could not enlarge an HTTP/2 session window');
      }
    });
    return http2Server;
  };
  return true;
}

function putInFront(http2Server: Http2Server, takeStream: StreamTaker): void {
  const grpcJsListeners = http2Server.listeners('stream') as ((...args: unknown[]) => void)[];
  http2Server.removeAllListeners('stream');
  // 'stream' carries (stream, headers, flags, rawHeaders); named, not a rest array made per stream.
  http2Server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    countRequest();
    if (takeStream(stream, headers)) return;
    for (const listener of grpcJsListeners) listener.call(http2Server, stream, headers, flags, rawHeaders);
  });
}
