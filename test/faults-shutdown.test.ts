/**
 * SIGTERM under load (issue 10 item 3): a steady load over all five client APIs plus slow
 * requests in flight on every protocol when the signal arrives. Every request the server had
 * accepted finishes with the right answer; what arrives afterwards is refused (connection
 * refused or reset, gRPC UNAVAILABLE) and never answered wrongly or with a server error; the
 * process exits 0. (test/server-lifecycle.test.ts covers the REST-only case without load.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, slowModel, tempDir, writeRepository } from './helpers/models.js';
import { TfsClient, bytesOf, floatsOf, shapeProto, type Json } from './helpers/tfs-grpc.js';
import { KserveClient, floats } from './helpers/kserve-grpc.js';
import { LoadGenerator } from '../bench/reload/load.js';

const SIZE = 256;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Failures that mean "refused": the connection was not accepted or was closed, or gRPC UNAVAILABLE. */
const REFUSED = /ECONNREFUSED|ECONNRESET|socket hang up|EPIPE|^tfs-grpc: 14 |^kserve-grpc: 14 |HTTP 503/;

describe('faults: SIGTERM under load', () => {
  const dir = tempDir('tsms-faults-shutdown-');
  let server: RunningServer;

  before(async () => {
    writeRepository(dir.path, { slow: { 1: slowModel(SIZE, 120) }, m: { 1: dummyModel(1) } });
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({
      model_config_list: [
        { config: { name: 'slow', base_path: path.join(dir.path, 'slow'), nireq: 2 } },
        { config: { name: 'm', base_path: path.join(dir.path, 'm') } },
      ],
    }));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '0'] });
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });

  test('accepted requests finish correctly, later ones are refused, exit code 0', async () => {
    const x = Float32Array.from({ length: SIZE * SIZE }, (_, i) => (i % 5) - 2);
    const expected = Array.from({ length: SIZE }, (_, j) => {
      let s = 0;
      for (let i = 0; i < SIZE; i++) s += x[i * SIZE + j]!;
      return s;
    });
    const tfs = new TfsClient(server.grpcAddress);
    const kserve = new KserveClient(server.grpcAddress);
    const load = new LoadGenerator(server, { model: 'm', concurrency: 6, timeoutMs: 20000 }).start();
    try {
      await sleep(500);
      const steady = load.mark();
      assert.equal(steady.failed, 0, steady.errors.join('\n'));

      // Slow requests on every protocol, accepted before the signal.
      const restBody = JSON.stringify({ inputs: { x: Array.from({ length: SIZE }, (_, i) => Array.from(x.subarray(i * SIZE, (i + 1) * SIZE))) } });
      const rest = (): Promise<number[]> => new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: server.restPort, method: 'POST', path: '/v1/models/slow:predict', agent: false }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => (res.statusCode === 200 ? resolve((JSON.parse(text) as { outputs: number[][] }).outputs[0]!) : reject(new Error(`${res.statusCode} ${text}`))));
        });
        req.on('error', reject);
        req.end(restBody);
      });
      const inflight: Promise<number[]>[] = [
        rest(), rest(),
        tfs.predict({ model_spec: { name: 'slow' }, inputs: { x: { dtype: 1, tensor_shape: shapeProto([SIZE, SIZE]), tensor_content: bytesOf(x) } } }).then((r: Json) => floatsOf(r.outputs.y)),
        kserve.call('ModelInfer', { model_name: 'slow', inputs: [{ name: 'x', datatype: 'FP32', shape: [SIZE, SIZE] }], raw_input_contents: [bytesOf(x)] }).then((r: Json) => floats(r.raw_output_contents[0])),
      ];
      await sleep(150); // bodies sent and being served (two run, two wait for an inference slot)
      const exit = server.stop('SIGTERM');

      for (const result of await Promise.all(inflight)) assert.deepEqual(result, expected);
      assert.equal(await exit, 0, `exit code; output:\n${server.output().slice(-2000)}`);

      const during = await load.stop();
      // Nothing answered wrongly or with a server error: every failure is a refusal.
      const unexpected = Object.entries(during.reasons).filter(([reason]) => !REFUSED.test(reason));
      assert.deepEqual(unexpected, [], `failures other than refusals: ${JSON.stringify(during.reasons)}`);
      assert.ok(during.ok > 0, 'the load was being served when the signal came');
      await assert.rejects(fetch(`${server.restUrl}/v2/health/live`), 'the REST port is closed');
    } finally {
      tfs.close();
      kserve.close();
      await load.stop();
    }
  });
});
