/**
 * Clients that go away mid-request (issue 10 item 3; Triton's crashing_client): REST clients that
 * disconnect while their request waits or runs, or half-way through sending the body; gRPC calls
 * cancelled or past their deadline; a client process SIGKILLed with requests in flight. The model
 * has one inference slot (--nireq 1) and is slow, so a leaked slot or a queue that keeps running
 * abandoned work would show: afterwards a valid request must be answered correctly, abandoned
 * queued requests must not have run, and nothing may reach the log as an error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, slowModel, tempDir, writeRepository } from './helpers/models.js';
import { TfsClient, bytesOf, floatsOf, shapeProto } from './helpers/tfs-grpc.js';
import { KserveClient } from './helpers/kserve-grpc.js';
import { assertServes } from './helpers/hostile.js';

const SIZE = 384;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('faults: clients that disconnect mid-request', () => {
  const dir = tempDir('tsms-faults-clients-');
  let server: RunningServer;
  let tfs: TfsClient;
  const x = Float32Array.from({ length: SIZE * SIZE }, (_, i) => (i % 7) - 3);
  const expected = Array.from({ length: SIZE }, (_, j) => {
    let s = 0;
    for (let i = 0; i < SIZE; i++) s += x[i * SIZE + j]!;
    return s;
  });
  const restBody = JSON.stringify({ inputs: { x: Array.from({ length: SIZE }, (_, i) => Array.from(x.subarray(i * SIZE, (i + 1) * SIZE))) } });

  before(async () => {
    writeRepository(dir.path, { slow: { 1: slowModel(SIZE, 160) }, dummy: { 1: dummyModel(1) } });
    const configPath = path.join(dir.path, 'config.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(configPath, JSON.stringify({
      model_config_list: [
        { config: { name: 'slow', base_path: path.join(dir.path, 'slow'), nireq: 1 } },
        { config: { name: 'dummy', base_path: path.join(dir.path, 'dummy') } },
      ],
    }));
    server = await startServer({ args: ['--config_path', configPath, '--metrics_enable', '--file_system_poll_wait_seconds', '0'] });
    tfs = new TfsClient(server.grpcAddress);
  });
  after(async () => {
    tfs?.close();
    assert.equal(await server?.stop(), 0);
    dir.remove();
  });

  /** Inferences the slow model has run so far (ovms_inference_time_us histogram count). */
  async function inferencesRun(): Promise<number> {
    const text = await (await fetch(`${server.restUrl}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('ovms_inference_time_us_count') && line.includes('name="slow"')) total += Number(line.split(' ').pop());
    }
    return total;
  }

  /** The slow model answers a valid request correctly (its one slot is free again). */
  async function assertSlowServes(): Promise<void> {
    const res = await tfs.predict({ model_spec: { name: 'slow' }, inputs: { x: { dtype: 1, tensor_shape: shapeProto([SIZE, SIZE]), tensor_content: bytesOf(x) } } });
    assert.deepEqual(floatsOf(res.outputs.y), expected);
    await assertServes(server);
    assert.deepEqual(server.output().split('\n').filter((l) => /"level":(5|6)\d/.test(l)), [], 'nothing reached the log as an error');
  }

  function restRequest(body: string | Buffer, onRequest: (req: http.ClientRequest) => void): Promise<void> {
    return new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: server.restPort, method: 'POST', path: '/v1/models/slow:predict', agent: false, headers: { 'content-length': Buffer.byteLength(body) } });
      req.on('error', () => resolve());
      req.on('response', (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('close', () => resolve());
      onRequest(req);
    });
  }

  test('REST clients that disconnect while their request waits or runs: queued ones never run, the slot is freed', async () => {
    const before = await inferencesRun();
    const clients = Array.from({ length: 8 }, () => restRequest(restBody, (req) => {
      req.end(restBody);
      setTimeout(() => req.destroy(), 100);
    }));
    await Promise.all(clients);
    await sleep(200);
    await assertSlowServes();
    // The one running when they left may finish; the seven waiting behind it must not run.
    const ran = (await inferencesRun()) - before - 1;
    assert.ok(ran <= 2, `${ran} abandoned requests ran`);
  });

  test('REST clients that disconnect half-way through the body', async () => {
    const big = Buffer.from(restBody);
    await Promise.all(Array.from({ length: 8 }, () => restRequest(big, (req) => {
      req.write(big.subarray(0, big.length >> 1));
      setTimeout(() => req.destroy(), 30);
    })));
    // And one that promises a body and sends nothing, then closes its socket abruptly.
    await new Promise<void>((resolve) => {
      const s = net.connect(server.restPort, '127.0.0.1', () => {
        s.write('POST /v2/models/slow/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n');
        setTimeout(() => s.resetAndDestroy(), 30);
      });
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    await assertSlowServes();
  });

  test('gRPC calls cancelled or past their deadline while waiting: DEADLINE_EXCEEDED / CANCELLED, and they never run', async () => {
    const before = await inferencesRun();
    const request = { model_spec: { name: 'slow' }, inputs: { x: { dtype: 1, tensor_shape: shapeProto([SIZE, SIZE]), tensor_content: bytesOf(x) } } };
    const deadline = (ms: number) => new Promise<number>((resolve) => {
      tfs.prediction['Predict']!(request, { deadline: Date.now() + ms }, (err: { code: number } | null) => resolve(err ? err.code : 0));
    });
    const cancelled = () => new Promise<number>((resolve) => {
      const call = tfs.prediction['Predict']!(request, (err: { code: number } | null) => resolve(err ? err.code : 0));
      setTimeout(() => call.cancel(), 120);
    });
    const kserve = new KserveClient(server.grpcAddress);
    const kserveDeadline = () => new Promise<number>((resolve) => {
      kserve.service['ModelInfer']!({ model_name: 'slow', inputs: [{ name: 'x', datatype: 'FP32', shape: [SIZE, SIZE] }], raw_input_contents: [bytesOf(x)] },
        { deadline: Date.now() + 120 }, (err: { code: number } | null) => resolve(err ? err.code : 0));
    });
    try {
      const codes = await Promise.all([deadline(120), deadline(120), deadline(120), cancelled(), cancelled(), kserveDeadline(), kserveDeadline()]);
      assert.deepEqual(codes, [4, 4, 4, 1, 1, 4, 4].map((c) => (c === 4 ? grpc.status.DEADLINE_EXCEEDED : grpc.status.CANCELLED)));
    } finally {
      kserve.close();
    }
    await sleep(200);
    await assertSlowServes();
    const ran = (await inferencesRun()) - before - 1;
    assert.ok(ran <= 2, `${ran} abandoned calls ran`);
  });

  test('a client process SIGKILLed with REST and gRPC requests in flight', async () => {
    const script = `
      const http = require('node:http');
      const http2 = require('node:http2');
      const S = ${SIZE};
      const rows = Array.from({ length: S }, (_, i) => Array.from({ length: S }, (_, j) => ((i * S + j) % 7) - 3));
      const body = JSON.stringify({ inputs: { x: rows } });
      for (let i = 0; i < 4; i++) {
        const req = http.request({ host: '127.0.0.1', port: ${server.restPort}, method: 'POST', path: '/v1/models/slow:predict', headers: { 'content-length': Buffer.byteLength(body) } });
        req.on('error', () => {});
        req.end(body);
      }
      const s = http2.connect('http://${server.grpcAddress}');
      s.on('error', () => {});
      for (let i = 0; i < 4; i++) {
        const r = s.request({ ':method': 'POST', ':path': '/tensorflow.serving.PredictionService/Predict', 'content-type': 'application/grpc', te: 'trailers' });
        r.on('error', () => {});
        const frame = Buffer.alloc(5); frame.writeUInt32BE(1000, 1);
        r.write(frame); r.write(Buffer.alloc(400)); // a message promised but never completed
      }
      setTimeout(() => process.stdout.write('sent\\n'), 100);
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('sent') && resolve()));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    await assertSlowServes();
  });
});


