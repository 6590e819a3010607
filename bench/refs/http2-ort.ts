/**
 * Floor of a gRPC model server in Node: a node:http2 server (no grpc-js, no API code) that reads
 * each request, runs onnxruntime-node once on the model's bench input (a fixed tensor: nothing is
 * decoded; refs/ort-runner.ts, on the main thread or in worker threads) and answers the pre-encoded
 * reply tsms sent, framed, with grpc-status 0. What a server cannot go below on this transport plus
 * this runtime; tsms's dummy, cnn and 12 MB gRPC rows are read against it.
 *   node dist/bench/refs/http2-ort.js '<json Params>'   → prints "READY"
 */
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { defaultHttp2Tuning } from '../../src/api/grpc/http2-tuning.js';
import { frame } from '../lib/codec/grpc-frame.js';
import { startOrtRunner, type OrtRunnerParams } from './ort-runner.js';

interface Params extends OrtRunnerParams {
  readonly port: number;
  /** The reply message tsms sent (unframed), as for bare-grpc.js. */
  readonly responseFile: string;
}

const params = JSON.parse(process.argv[2]!) as Params;
const framed = frame(readFileSync(params.responseFile));
const runner = await startOrtRunner(params);
let runs = 0;

// The HTTP/2 windows and frame size tsms uses (without them a 12 MB request waits on 64 KB windows),
// and grpc-js's session memory limit (node's default of 10 MB refuses new streams while 12 MB
// replies are queued: h2load saw 24 of 200 streams reset).
const { streamWindow, connectionWindow, maxFrameSize } = defaultHttp2Tuning;
const server = http2.createServer({
  maxSessionMemory: Number.MAX_SAFE_INTEGER,
  settings: { maxConcurrentStreams: 1000, initialWindowSize: streamWindow, maxFrameSize },
});
server.on('session', (session) => {
  try {
    session.setLocalWindowSize(connectionWindow);
  } catch {
    // a session already torn down by its client
  }
});
server.on('stream', (stream) => {
  stream.on('data', () => {});
  stream.on('end', () => {
    runner.run().then(
      () => {
        runs++;
        if (stream.destroyed) return;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(framed);
      },
      (err: unknown) => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '13', 'grpc-message': encodeURIComponent(String(err)) }, { endStream: true });
      },
    );
  });
  stream.on('error', () => {});
});
server.listen(params.port, '127.0.0.1', () => process.stdout.write('READY\n'));
process.on('SIGTERM', () => {
  process.stderr.write(`runs answered: ${runs}\n`);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
