/**
 * The gRPC listener itself: the HTTP/2 settings a client really receives (window tuning), bind
 * failure, and shutdown with a connected client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { createServer, type Server as NetServer } from 'node:net';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { freePort, runCli, startServer, type RunningServer } from './helpers/server.js';
import { bytesOf, floatsOf, shapeProto, TfsClient } from './helpers/tfs-grpc.js';

describe('gRPC server', () => {
  const repo = tempDir();
  let server: RunningServer;

  before(async () => {
    writeRepository(repo.path, { dummy: { 1: dummyModel() } });
    server = await startServer({ args: ['--model_name', 'dummy', '--model_path', `${repo.path}/dummy`], noRest: true });
  });

  after(async () => {
    await server?.stop();
    repo.remove();
  });

  it('announces large HTTP/2 windows and frames', async () => {
    const session = http2.connect(`http://127.0.0.1:${server.grpcPort}`);
    try {
      session.on('error', () => {});
      const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
      assert.equal(settings.initialWindowSize, 16 * 1024 * 1024);
      assert.equal(settings.maxFrameSize, 1024 * 1024);
      // The connection window comes as a WINDOW_UPDATE right after SETTINGS; a ping round trip
      // guarantees it has been processed.
      await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
      assert.equal(session.state.remoteWindowSize, 64 * 1024 * 1024);
    } finally {
      session.destroy();
    }
  });

  it('shuts down cleanly with a connected client', async () => {
    const client = new TfsClient(server.grpcAddress);
    try {
      const res = await client.predict({
        model_spec: { name: 'dummy' },
        inputs: { b: { dtype: 1, tensor_shape: shapeProto([1, 10]), tensor_content: bytesOf(new Float32Array(10)) } },
      });
      assert.deepEqual(floatsOf(res.outputs.a), Array(10).fill(1));
      assert.equal(await server.stop(), 0);
      assert.doesNotMatch(server.output(), /gRPC calls still running at shutdown/);
    } finally {
      client.close();
    }
  });

  describe('bind failure', () => {
    let blocker: NetServer;
    let port: number;

    before(async () => {
      port = await freePort();
      blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(port, '0.0.0.0', resolve));
    });

    after(() => {
      blocker.close();
    });

    it('fails to start with OVMS\'s message', async () => {
      const res = await runCli(['--model_name', 'dummy', '--model_path', `${repo.path}/dummy`, '--port', String(port)]);
      assert.equal(res.code, 1);
      assert.match(res.stdout + res.stderr, new RegExp(`Failed to start GRPC server at 0\\.0\\.0\\.0:${port}`));
    });
  });
});
