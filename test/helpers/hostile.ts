/**
 * Tools for the limits and faults tests: a raw HTTP client (paths and headers go out exactly as
 * written), exact-error assertions, hostile payloads (a PNG decompression bomb), and the check
 * that the server still serves a valid request right after an attack.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import type { RunningServer } from './server.js';

export interface RawReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  json(): any;
}

/** One request on its own connection; `body` may be a string or bytes, headers are sent as given. */
export function rawHttp(port: number, method: string, path: string, body?: string | Uint8Array, headers: http.OutgoingHttpHeaders = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends raw bytes on a fresh TCP connection and returns everything the server sent before closing (or `waitMs`). */
export function rawTcp(port: number, data: string | Uint8Array | readonly (string | Uint8Array)[], waitMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, waitMs);
    socket.on('data', (c) => (out += c.toString('latin1')));
    socket.on('error', (err) => {
      clearTimeout(timer);
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') resolve(out);
      else reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.on('connect', () => {
      for (const part of Array.isArray(data) ? data : [data]) socket.write(part as string | Uint8Array);
    });
  });
}

/** Asserts an HTTP error answer: exact status, JSON content type, body exactly {"error": text}. */
export function expectHttpError(r: RawReply, status: number, message: string | RegExp): void {
  assert.equal(r.status, status, r.text.slice(0, 500));
  assert.equal(r.headers['content-type'], 'application/json');
  const body = r.json();
  assert.deepEqual(Object.keys(body), ['error']);
  if (typeof message === 'string') assert.equal(body.error, message);
  else assert.match(body.error, message);
}

const TEN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/** The server is up and answers a valid TFS REST predict on `dummy` (b + 1) correctly. */
export async function assertServes(server: RunningServer, model = 'dummy'): Promise<void> {
  assert.equal(server.proc.exitCode, null, `server exited:\n${server.output().slice(-3000)}`);
  const r = await rawHttp(server.restPort, 'POST', `/v1/models/${model}:predict`, JSON.stringify({ instances: [TEN] }));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json(), { predictions: [TEN.map((v) => v + 1)] });
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A PNG decompression bomb: a few hundred bytes whose header claims width × height pixels
 * (100,000 × 100,000 = 10^10 by default; decoding it would take 30 GB).
 */
export function pngBomb(width = 100_000, height = 100_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rowsOfZeros = zlib.deflateSync(Buffer.alloc(64 * 1024), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', rowsOfZeros),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
