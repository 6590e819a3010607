/**
 * What the GCS emulator gets wrong, checked against real GCS's answers: a missing bucket is a 404
 * (the emulator lists it as empty), page tokens are opaque strings (the emulator uses the last
 * object name), refused credentials are 401/403 (the emulator checks none), and an outage is a 503.
 * A small HTTP server replays those responses in the GCS JSON API's documented shapes
 * (cloud.google.com/storage/docs/json_api/v1/status-codes, …/objects/list); the real
 * @google-cloud/storage client and the real tsms process talk to it over HTTP.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createStorageResolver } from '../src/storage/index.js';
import { StorageError } from '../src/storage/storage.js';
import { tempDir } from './helpers/models.js';
import { runTsms } from './helpers/storage-scenarios.js';

/** Real GCS error bodies: `{"error": {code, message, errors: [{message, domain, reason}]}}`. */
function gcsError(code: number, message: string, reason: string, extra: Record<string, string> = {}) {
  return { error: { code, message, errors: [{ message, domain: 'global', reason, ...extra }] } };
}

const BUCKET_MISSING = gcsError(404, 'The specified bucket does not exist.', 'notFound');
const INVALID_CREDENTIALS = gcsError(401, 'Invalid Credentials', 'authError', { locationType: 'header', location: 'Authorization' });
const FORBIDDEN = gcsError(403,
  "tsms-reader@demo-project.iam.gserviceaccount.com does not have storage.objects.list access to the Google Cloud Storage bucket. Permission 'storage.objects.list' denied on resource (or it may not exist).",
  'forbidden');
const BACKEND_ERROR = gcsError(503, 'We encountered an internal error. Please try again.', 'backendError');

/** An opaque continuation token as real GCS sends (base64 of an internal cursor, not an object name). */
const PAGE_TOKEN = 'CgxtL3YyL21vZGVsLm9ubng=';

function object(name: string, size: number) {
  return {
    kind: 'storage#object', id: `models/${name}/1700000000000000`, selfLink: `https://www.googleapis.com/storage/v1/b/models/o/${encodeURIComponent(name)}`,
    name, bucket: 'models', generation: '1700000000000000', metageneration: '1', contentType: 'application/octet-stream',
    storageClass: 'STANDARD', size: String(size), md5Hash: 'XrY7u+Ae7tCTyyK7j1rNww==', crc32c: 'yZRlqg==', etag: 'CIDQ9Jq+kP8CEAE=',
    timeCreated: '2023-11-14T22:13:20.000Z', updated: '2023-11-14T22:13:20.000Z',
  };
}

/** Bucket → behaviour. `models` answers a two-page listing of `m/`; the others answer errors. */
function respond(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const match = /^(?:\/storage\/v1)?\/b\/([^/]+)\/o$/.exec(url.pathname);
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(body));
  };
  if (!match) return send(404, gcsError(404, 'Not Found', 'notFound'));
  const bucket = match[1]!;
  if (bucket === 'missing') return send(404, BUCKET_MISSING);
  if (bucket === 'wrong-key') return send(401, INVALID_CREDENTIALS);
  if (bucket === 'no-access') return send(403, FORBIDDEN);
  if (bucket === 'down') return send(503, BACKEND_ERROR);
  const prefix = url.searchParams.get('prefix');
  const token = url.searchParams.get('pageToken');
  if (prefix === 'm/' && url.searchParams.get('delimiter') === '/') {
    if (token === null) return send(200, { kind: 'storage#objects', nextPageToken: PAGE_TOKEN, prefixes: ['m/1/'] });
    if (token === PAGE_TOKEN) return send(200, { kind: 'storage#objects', prefixes: ['m/2/'], items: [object('m/README.md', 12)] });
    return send(400, gcsError(400, 'Invalid page token', 'invalid'));
  }
  send(200, { kind: 'storage#objects' });
}

describe('GCS answers the emulator does not give (replayed real-GCS responses)', () => {
  let server: Server;
  let endpoint: string;
  let requests: string[];
  const previous = process.env['STORAGE_EMULATOR_HOST'];
  const cache = tempDir('tsms-gcs-cache-');

  before(async () => {
    requests = [];
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      respond(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The SDK reads this itself when a client is created.
    process.env['STORAGE_EMULATOR_HOST'] = endpoint;
  });

  after(async () => {
    if (previous === undefined) delete process.env['STORAGE_EMULATOR_HOST'];
    else process.env['STORAGE_EMULATOR_HOST'] = previous;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    cache.remove();
  });

  const storage = () => createStorageResolver({ cacheDir: cache.path, env: process.env })('gs://models/m');

  it('follows opaque page tokens and merges the pages', async () => {
    const entries = await storage().list('gs://models/m');
    assert.deepEqual(entries, [
      { name: '1', isDirectory: true },
      { name: '2', isDirectory: true },
      { name: 'README.md', isDirectory: false },
    ]);
    const listings = requests.filter((r) => r.includes('prefix=m%2F'));
    assert.equal(listings.length, 2);
    assert.ok(listings[1]!.includes(`pageToken=${encodeURIComponent(PAGE_TOKEN)}`), listings[1]);
  });

  it('reports a missing bucket (404) as such', async () => {
    await assert.rejects(storage().list('gs://missing/m'), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.equal(err.kind, 'INVALID_PATH');
      assert.equal(err.message, `Bucket "missing" does not exist in GCS emulator ${endpoint} (404: The specified bucket does not exist.)`);
      return true;
    });
  });

  it('reports refused credentials (401) and missing permissions (403) as access denied', async () => {
    await assert.rejects(storage().list('gs://wrong-key/m'), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.equal(err.kind, 'ACCESS_DENIED');
      assert.equal(err.message, `Access denied to gs://wrong-key/m by GCS emulator ${endpoint}: the credentials were refused (401: Invalid Credentials)`);
      return true;
    });
    await assert.rejects(storage().list('gs://no-access/m'), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.equal(err.kind, 'ACCESS_DENIED');
      assert.match(err.message, /^Access denied to gs:\/\/no-access\/m by GCS emulator .*: the credentials were refused \(403: tsms-reader@demo-project\.iam\.gserviceaccount\.com does not have storage\.objects\.list access/);
      return true;
    });
  });

  it('reports a 503 as the store being unavailable, after the SDK retried', async () => {
    const before = requests.filter((r) => r.startsWith('/b/down/')).length;
    await assert.rejects(storage().list('gs://down/m'), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.equal(err.kind, 'UNAVAILABLE');
      assert.match(err.message, /\(503: We encountered an internal error\. Please try again\.\)$/);
      return true;
    });
    assert.ok(requests.filter((r) => r.startsWith('/b/down/')).length - before > 1, 'retried');
  });

  it('makes the server exit naming the refused credentials', async () => {
    const { code, output } = await runTsms(['--model_name', 'm', '--model_path', 'gs://wrong-key/m'], { STORAGE_EMULATOR_HOST: endpoint });
    assert.equal(code, 1, output);
    assert.match(output, /Access denied to gs:\/\/wrong-key\/m by GCS emulator http:\/\/127\.0\.0\.1:\d+: the credentials were refused \(401: Invalid Credentials\)/);
  });
});
