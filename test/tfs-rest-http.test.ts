/**
 * HTTP mechanics of the REST port, in process so the body limit and timing-free hooks can be set:
 * keep-alive, 413 without reading the body, client disconnects abort the request signal, errors
 * while reading bodies, graceful close, bind failure. The registry is a small JS one here: these
 * tests are about the HTTP layer, not models (tfs-rest.test.ts runs the real server).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { pino } from 'pino';
import { startHttpServer, type HttpServerHandle } from '../src/api/http/server.js';
import { servingError } from '../src/core/errors.js';
import { ModelState, VersionErrorCode, type Servable, type ServableRegistry } from '../src/core/servable.js';
import type { TensorMap } from '../src/core/tensor.js';

const logger = pino({ level: 'silent' });

/** A servable whose infer can be held open, to test in-flight behaviour without timers. */
class HeldServable implements Servable {
  readonly name = 'held';
  readonly version = 1;
  readonly inputs = [{ name: 'x', dtype: 'FP32' as const, shape: [-1] }];
  readonly outputs = [{ name: 'y', dtype: 'FP32' as const, shape: [-1] }];
  calls: { signal?: AbortSignal; release(): void }[] = [];
  private waiters: ((c: { signal?: AbortSignal; release(): void }) => void)[] = [];

  infer(inputs: TensorMap, options?: { signal?: AbortSignal }): Promise<TensorMap> {
    return new Promise((resolve) => {
      const call = { signal: options?.signal, release: () => resolve(new Map([['y', inputs.get('x')!]])) };
      this.calls.push(call);
      this.waiters.shift()?.(call);
    });
  }

  nextCall(): Promise<{ signal?: AbortSignal; release(): void }> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

const echo: Servable = {
  name: 'echo',
  version: 1,
  inputs: [{ name: 'x', dtype: 'FP32', shape: [-1] }],
  outputs: [{ name: 'y', dtype: 'FP32', shape: [-1] }],
  async infer(inputs) {
    return new Map([['y', inputs.get('x')!]]);
  },
};

function registryOf(...servables: Servable[]): ServableRegistry {
  const byName = new Map(servables.map((s) => [s.name, s]));
  return {
    async getServable(name) {
      const s = byName.get(name);
      if (!s) throw servingError('MODEL_NAME_MISSING');
      return s;
    },
    getStatus(name) {
      if (!byName.has(name)) throw servingError('MODEL_NAME_MISSING');
      return [{ version: 1, state: ModelState.AVAILABLE, errorCode: VersionErrorCode.OK, errorMessage: 'OK' }];
    },
    names: () => [...byName.keys()],
  };
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  reusedSocket: boolean;
}

function request(port: number, opts: { method?: string; path: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, reusedSocket: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const predictBody = JSON.stringify({ inputs: { x: [1, 2, 3] } });

describe('REST server HTTP mechanics', () => {
  let server: HttpServerHandle;
  const held = new HeldServable();

  before(async () => {
    server = await startHttpServer({
      address: '127.0.0.1',
      port: 0,
      registry: registryOf(echo, held),
      logger,
      maxBodyBytes: 1024,
      extraRoutes(router) {
        router.add(/^\/test\/throw$/, { GET: () => { throw new Error('boom'); } });
      },
    });
  });
  after(async () => {
    await server?.close();
  });

  test('answers JSON and keeps the connection alive between requests', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await request(server.port, { method: 'POST', path: '/v1/models/echo:predict', body: predictBody, agent });
      const second = await request(server.port, { method: 'POST', path: '/v1/models/echo:predict', body: predictBody, agent });
      assert.equal(first.status, 200);
      assert.equal(first.headers['content-type'], 'application/json');
      assert.equal(first.body, '{"outputs":[1.0,2.0,3.0]}');
      assert.equal(second.body, first.body);
      assert.equal(second.reusedSocket, true);
      // Also after a GET, and after an error answered without reading the (small) body.
      const status = await request(server.port, { path: '/v1/models/echo', agent });
      const missing = await request(server.port, { method: 'POST', path: '/v1/models/nosuch:predict', body: predictBody, agent });
      const third = await request(server.port, { method: 'POST', path: '/v1/models/echo:predict', body: predictBody, agent });
      assert.deepEqual([status.status, missing.status, third.status], [200, 404, 200]);
      assert.deepEqual([status.reusedSocket, missing.reusedSocket, third.reusedSocket], [true, true, true]);
      // An error answered to a GET at once (before node saw the request end) has nothing unread either.
      const missingGet = await request(server.port, { path: '/v1/models/nosuch', agent });
      const fourth = await request(server.port, { path: '/v1/models/echo', agent });
      assert.deepEqual([missingGet.status, missingGet.headers.connection, fourth.status, fourth.reusedSocket], [404, 'keep-alive', 200, true]);
    } finally {
      agent.destroy();
    }
  });

  test('routing errors: 400 unknown URL, 406 wrong method, HEAD on GET routes', async () => {
    const unknown = await request(server.port, { path: '/v1/nothing' });
    assert.deepEqual([unknown.status, JSON.parse(unknown.body)], [400, { error: 'Invalid request URL' }]);
    const method = await request(server.port, { method: 'PUT', path: '/v1/models/echo' });
    assert.deepEqual([method.status, JSON.parse(method.body)], [406, { error: 'Unsupported method' }]);
    const head = await request(server.port, { method: 'HEAD', path: '/v1/models/echo' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.ok(Number(head.headers['content-length']) > 0);
  });

  test('an unexpected exception is a 500 "Internal server error" and the server goes on', async () => {
    const r = await request(server.port, { path: '/test/throw' });
    assert.deepEqual([r.status, JSON.parse(r.body)], [500, { error: 'Internal server error' }]);
    assert.equal((await request(server.port, { path: '/v1/models/echo' })).status, 200);
  });

  test('a declared Content-Length over the limit gets 413 before the body is sent', async () => {
    const r = await new Promise<RawResponse>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/v1/models/echo:predict', headers: { 'content-length': 1 << 30 }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, reusedSocket: false }));
      });
      req.on('error', reject);
      req.write('{"inputs": ');
    });
    assert.equal(r.status, 413);
    assert.deepEqual(JSON.parse(r.body), { error: 'Request body too large - the limit is 1024 bytes' });
    assert.equal(r.headers.connection, 'close');
  });

  test('a chunked body growing over the limit gets 413, and the server keeps serving', async () => {
    const big = JSON.stringify({ inputs: { x: new Array(2000).fill(1) } });
    const r = await new Promise<RawResponse>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/v1/models/echo:predict', agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, reusedSocket: false }));
      });
      req.on('error', () => { /* the server may close while we still write; the answer is what matters */ });
      req.write(big.slice(0, 1000));
      req.write(big.slice(1000));
      req.end();
      void reject;
    });
    assert.equal(r.status, 413);
    assert.match(r.body, /Request body too large/);
    const ok = await request(server.port, { method: 'POST', path: '/v1/models/echo:predict', body: predictBody });
    assert.equal(ok.status, 200);
  });

  test('a client that disconnects mid-body does not disturb the server', async () => {
    await new Promise<void>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1', () => {
        socket.write('POST /v1/models/echo:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"inputs": [1,');
        setImmediate(() => { socket.destroy(); resolve(); });
      });
    });
    const ok = await request(server.port, { method: 'POST', path: '/v1/models/echo:predict', body: predictBody });
    assert.equal(ok.status, 200);
  });

  test('a client that goes away aborts the request signal', async () => {
    const called = held.nextCall();
    const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/v1/models/held:predict', agent: false });
    req.on('error', () => { /* we destroy it */ });
    req.end(predictBody);
    const call = await called;
    assert.equal(call.signal?.aborted, false);
    const aborted = new Promise<void>((resolve) => call.signal!.addEventListener('abort', () => resolve()));
    req.destroy();
    await aborted;
    assert.equal(call.signal!.aborted, true);
    call.release();
  });
});

describe('REST server start and close', () => {
  test('close() lets in-flight requests finish, closes idle connections, refuses new ones', async () => {
    const held = new HeldServable();
    const server = await startHttpServer({ address: '127.0.0.1', port: 0, registry: registryOf(echo, held), logger });

    // An idle keep-alive connection…
    const idle = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
    idle.write('GET /v1/models/echo HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((resolve) => idle.once('data', () => resolve()));
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));

    // …and one request in flight.
    const called = held.nextCall();
    const inflight = request(server.port, { method: 'POST', path: '/v1/models/held:predict', body: predictBody });
    const call = await called;

    const closed = server.close();
    await idleClosed;
    await assert.rejects(request(server.port, { path: '/v1/models/echo' }), /ECONNREFUSED/);

    call.release();
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(r.body, '{"outputs":[1.0,2.0,3.0]}');
    assert.equal(r.headers.connection, 'close');
    await closed;
  });

  test('a port in use fails with "Failed to start REST server at <addr>:<port>"', async () => {
    const first = await startHttpServer({ address: '127.0.0.1', port: 0, registry: registryOf(echo), logger });
    try {
      await assert.rejects(
        startHttpServer({ address: '127.0.0.1', port: first.port, registry: registryOf(echo), logger }),
        (err: Error) => {
          assert.equal(err.message, `Failed to start REST server at 127.0.0.1:${first.port}`);
          assert.match(String((err.cause as Error).message), /EADDRINUSE/);
          return true;
        },
      );
    } finally {
      await first.close();
    }
  });
});
