/**
 * The cloud-storage pieces that need no storage server: URL parsing, S3 settings from the
 * environment, the download cache, the outage backoff, scheme selection, version-folder downloads
 * (over an in-memory store) and config.json read from a cloud URL.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ConfigFileError, loadModelListConfig } from '../src/config/config-file.js';
import { VersionCache } from '../src/storage/cache.js';
import { createStorageResolver, storageFor } from '../src/storage/index.js';
import { localStorage } from '../src/storage/local.js';
import { type CloudBackend, type FolderListing, type ObjectInfo, ObjectStorage } from '../src/storage/object-store.js';
import { OutageGuard } from '../src/storage/outage.js';
import { s3Settings } from '../src/storage/s3.js';
import { type Storage, StorageError } from '../src/storage/storage.js';
import { cloudDirname, joinCloudPath, parseCloudPath } from '../src/storage/url.js';
import { tempDir } from './helpers/models.js';
import { runTsms } from './helpers/storage-scenarios.js';

const UNSUPPORTED = 'Unsupported storage scheme "ftp://" in ftp://host/models/m; supported: local paths, s3://, gs://, az://, azfs://';

describe('cloud URLs', () => {
  it('splits bucket and key, dropping doubled and trailing slashes', () => {
    assert.deepEqual(parseCloudPath('s3://bucket/models/resnet/'), { scheme: 's3', bucket: 'bucket', key: 'models/resnet' });
    assert.deepEqual(parseCloudPath('gs://bucket//a///b'), { scheme: 'gs', bucket: 'bucket', key: 'a/b' });
    assert.deepEqual(parseCloudPath('az://container'), { scheme: 'az', bucket: 'container', key: '' });
    assert.deepEqual(parseCloudPath('AZFS://share/dir'), { scheme: 'azfs', bucket: 'share', key: 'dir' });
  });

  it('reads an endpoint from s3://host:port/bucket/key, as OVMS does (HTTP)', () => {
    assert.deepEqual(parseCloudPath('s3://minio.local:9000/models/resnet'), { scheme: 's3', bucket: 'models', key: 'resnet', endpoint: 'http://minio.local:9000' });
  });

  it('refuses unknown schemes, a missing bucket and .. segments', () => {
    assert.throws(() => parseCloudPath('ftp://host/models/m'), (e: unknown) => e instanceof StorageError && e.kind === 'INVALID_PATH' && e.message === UNSUPPORTED);
    assert.throws(() => parseCloudPath('s3://'), /No bucket name in s3:\/\//);
    assert.throws(() => parseCloudPath('s3://b/a/../c'), /Path s3:\/\/b\/a\/\.\.\/c escape with \.\. is forbidden\./);
  });

  it('joins and takes folders without doubling slashes', () => {
    assert.equal(joinCloudPath('s3://b/models/', '1'), 's3://b/models/1');
    assert.equal(cloudDirname('s3://b/configs/config.json'), 's3://b/configs');
    assert.equal(cloudDirname('s3://b/config.json'), 's3://b');
  });
});

describe('S3 settings from the environment', () => {
  it('treats a bare S3_ENDPOINT host:port as HTTP with path-style addressing (MinIO)', () => {
    assert.deepEqual(s3Settings({ S3_ENDPOINT: 'minio:9000' }), { endpoint: 'http://minio:9000', region: 'us-east-1', forcePathStyle: true });
    assert.deepEqual(s3Settings({ S3_ENDPOINT: 'https://s3.example.com/' }), { endpoint: 'https://s3.example.com', region: 'us-east-1', forcePathStyle: true });
  });

  it('falls back to AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then AWS itself (virtual-hosted)', () => {
    assert.equal(s3Settings({ AWS_ENDPOINT_URL_S3: 'http://a:1', AWS_ENDPOINT_URL: 'http://b:2' }).endpoint, 'http://a:1');
    assert.equal(s3Settings({ AWS_ENDPOINT_URL: 'http://b:2' }).endpoint, 'http://b:2');
    assert.deepEqual(s3Settings({}), { region: 'us-east-1', forcePathStyle: false });
  });

  it('takes the region from AWS_REGION, then AWS_DEFAULT_REGION; the URL endpoint wins over S3_ENDPOINT', () => {
    assert.equal(s3Settings({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' }).region, 'eu-west-1');
    assert.equal(s3Settings({ AWS_DEFAULT_REGION: 'us-west-2' }).region, 'us-west-2');
    assert.equal(s3Settings({ S3_ENDPOINT: 'other:1' }, 'http://host:9000').endpoint, 'http://host:9000');
    assert.equal(s3Settings({ S3_ENDPOINT: 'minio:9000', S3_FORCE_PATH_STYLE: 'false' }).forcePathStyle, false);
  });
});

describe('version download cache', () => {
  const FINAL = /^1\.\d+-[0-9a-f]{8}$/;

  it('hands out a folder only once it is complete, shares it while the content matches, and deletes it on the last release', async () => {
    const root = tempDir('tsms-cache-test-');
    try {
      const cache = new VersionCache(root.path);
      const folder = cache.modelFolder('s3', 's3://b/m/1');
      let seenDuringFill: string[] = [];
      const fill = async (target: string) => {
        seenDuringFill = readdirSync(folder);
        writeFileSync(path.join(target, 'model.onnx'), 'weights');
      };
      const a = await cache.acquire('s3', 's3://b/m/1', 'k:7:etag1', fill);
      assert.equal(seenDuringFill.length, 1);
      assert.match(seenDuringFill[0]!, /^1\.partial-\d+-[0-9a-f]{8}$/);
      assert.match(path.basename(a.path), FINAL);
      assert.equal(path.dirname(a.path), folder);
      assert.equal(readFileSync(path.join(a.path, 'model.onnx'), 'utf8'), 'weights');

      const b = await cache.acquire('s3', 's3://b/m/1', 'k:7:etag1', () => assert.fail('same content must not be downloaded again'));
      assert.equal(b.path, a.path);
      const changed = await cache.acquire('s3', 's3://b/m/1', 'k:7:etag2', fill);
      assert.notEqual(changed.path, a.path);

      await a.release();
      await a.release(); // a second release of the same handle changes nothing
      assert.ok(existsSync(b.path));
      await b.release();
      assert.ok(!existsSync(b.path));
      await changed.release();
      assert.ok(!existsSync(folder), 'the empty model folder is removed with its last version');
    } finally {
      root.remove();
    }
  });

  it('leaves nothing behind when a download fails, and retries on the next request', async () => {
    const root = tempDir('tsms-cache-test-');
    try {
      const cache = new VersionCache(root.path);
      await assert.rejects(cache.acquire('gs', 'gs://b/m/2', 'x', async (target) => {
        writeFileSync(path.join(target, 'half'), 'x');
        throw new StorageError('UNAVAILABLE', 'connection reset');
      }), /connection reset/);
      assert.deepEqual(readdirSync(cache.modelFolder('gs', 'gs://b/m/2')), []);
      const ok = await cache.acquire('gs', 'gs://b/m/2', 'x', async (target) => writeFileSync(path.join(target, 'model.onnx'), 'w'));
      assert.ok(existsSync(path.join(ok.path, 'model.onnx')));
      await ok.release();
    } finally {
      root.remove();
    }
  });

  it("removes what a process that no longer runs left behind, but not a live process's folders", async () => {
    const root = tempDir('tsms-cache-test-');
    try {
      const cache = new VersionCache(root.path);
      const folder = cache.modelFolder('az', 'az://c/m/1');
      const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
      mkdirSync(path.join(folder, `1.${deadPid}-0badcafe`), { recursive: true });
      mkdirSync(path.join(folder, `2.partial-${deadPid}-0badcafe`));
      mkdirSync(path.join(folder, `3.${process.ppid}-0badcafe`));
      const copy = await cache.acquire('az', 'az://c/m/1', 'f', async (target) => writeFileSync(path.join(target, 'm.onnx'), 'w'));
      const left = readdirSync(folder).sort();
      assert.equal(left.length, 2);
      assert.equal(left[0], path.basename(copy.path));
      assert.equal(left[1], `3.${process.ppid}-0badcafe`);
      await copy.release();
    } finally {
      root.remove();
    }
  });
});

describe('outage backoff', () => {
  function harness(maxMs = 8000) {
    let now = 0;
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(chunk.toString()).msg); done(); } });
    const guard = new OutageGuard('S3 endpoint http://s3', pino({ level: 'info' }, sink), { initialMs: 1000, maxMs, now: () => now });
    return { guard, lines, advance: (ms: number) => (now += ms) };
  }
  const down = new StorageError('UNAVAILABLE', 'S3 endpoint http://s3 unreachable (ECONNREFUSED)');

  it('fails fast during the backoff, doubles the delay up to the ceiling, and logs each real attempt', async () => {
    const { guard, lines, advance } = harness();
    let calls = 0;
    const failing = () => guard.run(async () => {
      calls++;
      throw down;
    });
    await assert.rejects(failing(), down);
    await assert.rejects(failing(), down);
    assert.equal(calls, 1, 'the second call came inside the backoff and did not reach the store');
    const delays: number[] = [];
    for (let attempt = 2; attempt <= 6; attempt++) {
      const previous: number = calls;
      for (let waited = 0; calls === previous; waited += 250) {
        advance(250);
        await assert.rejects(failing(), down);
        if (calls !== previous) delays.push(waited + 250);
      }
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000]);
    await new Promise((r) => setImmediate(r));
    assert.equal(lines[0], 'S3 endpoint http://s3 unreachable (ECONNREFUSED); failed attempt 1, next attempt in 1 s');
    assert.equal(lines[4], 'S3 endpoint http://s3 unreachable (ECONNREFUSED); failed attempt 5, next attempt in 8 s');
    assert.equal(lines.length, 6);
  });

  it('resets after a success and logs the recovery; answers such as "not found" are no outage', async () => {
    const { guard, lines, advance } = harness();
    await assert.rejects(guard.run(async () => { throw down; }));
    advance(1000);
    assert.equal(await guard.run(async () => 'listed'), 'listed');
    assert.equal(guard.backingOff, false);
    const missing = new StorageError('NOT_FOUND', 'Path does not exist: s3://b/x');
    await assert.rejects(guard.run(async () => { throw missing; }), missing);
    assert.equal(guard.backingOff, false);
    const denied = new StorageError('ACCESS_DENIED', 'Access denied to s3://b/m: wrong secret key');
    await assert.rejects(guard.run(async () => { throw denied; }), denied);
    assert.equal(guard.backingOff, true, 'refused credentials are retried with backoff too');
    await new Promise((r) => setImmediate(r));
    assert.equal(lines[1], 'S3 endpoint http://s3: reachable again after 1 failed attempt(s)');
    assert.equal(lines[2], 'S3 endpoint http://s3: Access denied to s3://b/m: wrong secret key; failed attempt 1, next attempt in 1 s');
  });
});

describe('storage by scheme', () => {
  it('uses the local disk for plain paths and one store per cloud service', () => {
    const resolve = createStorageResolver({ env: {} });
    assert.equal(resolve('/models/m'), localStorage);
    assert.equal(resolve('relative/m'), localStorage);
    assert.equal(resolve('s3://a/m'), resolve('s3://b/other'));
    assert.notEqual(resolve('s3://a/m'), resolve('gs://a/m'));
    assert.notEqual(resolve('s3://a/m'), resolve('s3://host:9000/a/m'));
  });

  it('fails every call on an unsupported scheme with a clear error (storageFor throws it at once)', async () => {
    const s = createStorageResolver({ env: {} })('ftp://host/models/m');
    await assert.rejects(s.list('ftp://host/models/m'), (e: unknown) => e instanceof StorageError && e.kind === 'INVALID_PATH' && e.message === UNSUPPORTED);
    assert.throws(() => storageFor('ftp://host/models/m'), (e: unknown) => e instanceof StorageError && e.message === UNSUPPORTED);
  });

  it('explains missing Azure credentials', async () => {
    const s = createStorageResolver({ env: {} })('az://c/m');
    await assert.rejects(s.list('az://c/m'), /No Azure credentials: set AZURE_STORAGE_CONNECTION_STRING/);
  });

  it('makes the server exit naming an unsupported scheme', async () => {
    const { code, output } = await runTsms(['--model_name', 'm', '--model_path', 'ftp://host/models/m'], {});
    assert.equal(code, 1, output);
    // The log is JSON: its quotes are escaped.
    assert.ok(output.replaceAll('\\"', '"').includes(UNSUPPORTED), output);
  });
});

/** A store held in memory: enough to check what ObjectStorage does with what a provider returns. */
class MemoryBackend implements CloudBackend {
  readonly description = 'memory store';
  /** key → [declared size, bytes actually served]. */
  constructor(readonly objects: Map<string, [number, Buffer]>) {}
  private infos(prefix: string): ObjectInfo[] {
    return [...this.objects].filter(([k]) => k.startsWith(prefix)).map(([key, [size]]) => ({ key, size, mtimeMs: 1 }));
  }
  async listFolder(_b: string, key: string): Promise<FolderListing | undefined> {
    const prefix = key ? `${key}/` : '';
    const all = this.infos(prefix);
    if (all.length === 0) return undefined;
    const folders = new Set<string>();
    const files: ObjectInfo[] = [];
    for (const o of all) {
      const rest = o.key.slice(prefix.length);
      if (rest.includes('/')) folders.add(rest.slice(0, rest.indexOf('/')));
      else if (rest) files.push(o);
    }
    return { folders: [...folders], files };
  }
  async listTree(_b: string, key: string): Promise<ObjectInfo[]> {
    return this.infos(key ? `${key}/` : '');
  }
  async head(_b: string, key: string): Promise<ObjectInfo | undefined> {
    return this.infos(key).find((o) => o.key === key);
  }
  async isFolder(_b: string, key: string): Promise<boolean> {
    return this.infos(`${key}/`).length > 0;
  }
  async read(_b: string, key: string): Promise<Buffer> {
    return this.objects.get(key)![1];
  }
  async openRead(_b: string, key: string): Promise<Readable> {
    return Readable.from([this.objects.get(key)![1]]);
  }
}

describe('version folder downloads', () => {
  const store = (objects: Record<string, string | [number, string]>) => {
    const root = tempDir('tsms-dl-test-');
    const map = new Map<string, [number, Buffer]>(Object.entries(objects).map(([k, v]) => {
      const [size, text] = typeof v === 'string' ? [v.length, v] : v;
      return [k, [size, Buffer.from(text)]];
    }));
    const storage = new ObjectStorage(new MemoryBackend(map), new VersionCache(root.path), new OutageGuard('memory', undefined));
    return { storage, root };
  };

  it('downloads nested files, skips folder markers, and lists folders like a disk', async () => {
    const { storage, root } = store({ 'm/1/': '', 'm/1/model.xml': '<net/>', 'm/1/model.bin': 'BIN', 'm/1/extra/labels.txt': 'cat', 'm/2/model.onnx': 'onnx' });
    try {
      assert.deepEqual(await storage.list('s3://b/m'), [{ name: '1', isDirectory: true }, { name: '2', isDirectory: true }]);
      assert.deepEqual(await storage.stat('s3://b/m/1'), { isDirectory: true, size: 0, mtimeMs: 0 });
      assert.deepEqual(await storage.stat('s3://b/m/1/model.bin'), { isDirectory: false, size: 3, mtimeMs: 1 });
      assert.equal(await storage.stat('s3://b/m/9'), undefined);
      const copy = await storage.localize('s3://b/m/1');
      assert.equal(readFileSync(path.join(copy.path, 'model.xml'), 'utf8'), '<net/>');
      assert.equal(readFileSync(path.join(copy.path, 'model.bin'), 'utf8'), 'BIN');
      assert.equal(readFileSync(path.join(copy.path, 'extra/labels.txt'), 'utf8'), 'cat');
      assert.deepEqual(readdirSync(copy.path).sort(), ['extra', 'model.bin', 'model.xml']);
      await copy.release();
      assert.ok(!existsSync(copy.path));
    } finally {
      root.remove();
    }
  });

  it('never hands out a version whose download came up short', async () => {
    const { storage, root } = store({ 'm/1/model.onnx': [100, 'only part of it'] });
    try {
      await assert.rejects(storage.localize('s3://b/m/1'), (e: unknown) =>
        e instanceof StorageError && e.kind === 'UNAVAILABLE' && e.message === 'Incomplete download of s3://b/m/1/model.onnx: got 15 of 100 bytes');
      const leftovers = readdirSync(root.path, { recursive: true }).filter((n) => /\d+\./.test(String(n)));
      assert.deepEqual(leftovers, []);
    } finally {
      root.remove();
    }
  });

  it('refuses object names that would escape the download folder', async () => {
    const { storage, root } = store({ 'm/1/../../../../etc/evil': 'x', 'm/1/model.onnx': 'onnx' });
    try {
      await assert.rejects(storage.localize('s3://b/m/1'), /Refusing to download an object with an unsafe name under s3:\/\/b\/m\/1: "\.\.\/\.\.\/\.\.\/\.\.\/etc\/evil"/);
    } finally {
      root.remove();
    }
  });

  it('reports a folder with nothing in it as missing', async () => {
    const { storage, root } = store({ 'm/1/model.onnx': 'onnx' });
    try {
      await assert.rejects(storage.list('s3://b/none'), (e: unknown) => e instanceof StorageError && e.kind === 'NOT_FOUND'
        && e.message === 'Path does not exist: s3://b/none (nothing is stored under it)');
      await assert.rejects(storage.localize('s3://b/m/2'), /Directory does not exist or is empty: s3:\/\/b\/m\/2/);
    } finally {
      root.remove();
    }
  });
});

describe('config.json at a cloud URL', () => {
  const config = JSON.stringify({
    model_config_list: [
      { config: { name: 'relative', base_path: 'models/a' } },
      { config: { name: 'dotted', base_path: './models/b' } },
      { config: { name: 'absolute', base_path: '/opt/models/c' } },
      { config: { name: 'other-cloud', base_path: 'gs://bucket/d' } },
      { config: { name: 'escape', base_path: '../e' } },
    ],
  });
  const fakeStorage = (read: () => Promise<Buffer>): Storage => ({
    read,
    list: async () => [],
    stat: async () => undefined,
    join: joinCloudPath,
    localize: async () => assert.fail('not used'),
  });

  it('reads it through the storage and resolves relative base paths against its folder', async () => {
    let asked = '';
    const list = await loadModelListConfig('s3://bucket/configs/config.json', { ...fakeStorage(async () => Buffer.from(config)), read: async (p) => { asked = p; return Buffer.from(config); } });
    assert.equal(asked, 's3://bucket/configs/config.json');
    assert.deepEqual(list.models.map((m) => [m.name, m.basePath]), [
      ['relative', 's3://bucket/configs/models/a'],
      ['dotted', 's3://bucket/configs/models/b'],
      ['absolute', '/opt/models/c'],
      ['other-cloud', 'gs://bucket/d'],
    ]);
    assert.equal(list.configDir, 's3://bucket/configs');
    assert.deepEqual(list.rejected.map((r) => [r.name, r.reason]), [['escape', 'Path ../e escape with .. is forbidden.']]);
  });

  it("names the storage's reason when it cannot be read", async () => {
    const storage = fakeStorage(async () => { throw new StorageError('ACCESS_DENIED', 'Access denied to s3://bucket/config.json by S3: wrong secret key'); });
    await assert.rejects(loadModelListConfig('s3://bucket/config.json', storage), (e: unknown) =>
      e instanceof ConfigFileError && e.kind === 'CONFIG_FILE_INVALID'
      && e.message === 'Config file not found or cannot open. Access denied to s3://bucket/config.json by S3: wrong secret key');
  });
});
