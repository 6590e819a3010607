/**
 * Bare HTTP limits (node:http, keep-alive), run as their own process:
 *   node dist/bench/refs/bare-http.js '<json Params>'   → prints "READY"
 * - parse 'none': read the whole request body, answer the same pre-encoded response bytes the
 *   model server would send (TFS REST JSON or KServe binary), no inference;
 * - parse 'naive-json': the naive REST server of the JSON target: `JSON.parse` the body, flatten
 *   with `.flat(Infinity)` into a Float32Array (what a straightforward implementation does), then
 *   answer the same response bytes;
 * - with `floor` set: the REST floor of a model server in Node (the counterpart of
 *   refs/http2-ort.ts): the bare server plus one onnxruntime run per request on the model's fixed
 *   bench input (refs/ort-runner.ts), nothing decoded, before the same answer.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { startOrtRunner, type OrtRunner, type OrtRunnerParams } from './ort-runner.js';

interface Params {
  readonly port: number;
  readonly responseFile: string;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly parse: 'none' | 'naive-json';
  readonly floor?: OrtRunnerParams;
}

const params = JSON.parse(process.argv[2]!) as Params;
const response = readFileSync(params.responseFile);
const headers = { 'content-type': params.contentType, 'content-length': String(response.byteLength), ...params.headers };
const runner: OrtRunner | undefined = params.floor ? await startOrtRunner(params.floor) : undefined;
let sink = 0; // keeps the parse result (or the count of runs) observable so it cannot be optimised away

function answer(res: http.ServerResponse): void {
  res.writeHead(200, headers);
  res.end(response);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (params.parse === 'naive-json') {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { instances?: unknown[]; inputs?: unknown };
        const nested = (body.instances ?? body.inputs) as unknown[];
        const floats = Float32Array.from(nested.flat(Infinity) as number[]);
        sink += floats.length;
      } catch {
        res.writeHead(400).end();
        return;
      }
    }
    if (!runner) {
      answer(res);
      return;
    }
    runner.run().then(
      () => {
        sink++;
        answer(res);
      },
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(params.port, '127.0.0.1', () => process.stdout.write('READY\n'));
process.on('SIGTERM', () => {
  process.stderr.write(`${runner ? 'runs answered' : 'parsed floats'}: ${sink}\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
