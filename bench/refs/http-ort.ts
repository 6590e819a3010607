/**
 * Floor of a REST model server in Node: a node:http server (keep-alive, no framework, no API code)
 * that reads each request body, runs onnxruntime-node once on the model's bench input (a fixed
 * tensor: nothing is decoded; refs/ort-runner.ts) and answers the pre-encoded reply tsms sent. The
 * REST counterpart of refs/http2-ort.ts: tsms's cnn KServe REST binary row is read against it.
 *   node dist/bench/refs/http-ort.js '<json Params>'   → prints "READY"
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { startOrtRunner, type OrtRunnerParams } from './ort-runner.js';

interface Params extends OrtRunnerParams {
  readonly port: number;
  /** The reply tsms sent, with its content type and headers, as for bare-http.js. */
  readonly responseFile: string;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const params = JSON.parse(process.argv[2]!) as Params;
const response = readFileSync(params.responseFile);
const headers = { 'content-type': params.contentType, 'content-length': String(response.byteLength), ...params.headers };
const runner = await startOrtRunner(params);
let runs = 0;

const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    runner.run().then(
      () => {
        runs++;
        res.writeHead(200, headers);
        res.end(response);
      },
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(params.port, '127.0.0.1', () => process.stdout.write('READY\n'));
process.on('SIGTERM', () => {
  process.stderr.write(`runs answered: ${runs}\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
});
