/**
 * The Storage interface over a cloud store. Each provider (S3, GCS, Azure Blob, Azure Files)
 * implements the small `CloudBackend`; this class turns it into folder semantics, downloads
 * version folders through the VersionCache and puts every call behind the outage backoff.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { VersionCache, LocalCopy } from './cache.js';
import type { OutageGuard } from './outage.js';
import { type DirEntry, type Storage, StorageError } from './storage.js';
import { type CloudPath, joinCloudPath, parseCloudPath } from './url.js';

export interface ObjectInfo {
  /** Full key inside the bucket. */
  readonly key: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Changes whenever the content does (ETag, generation, md5). */
  readonly version?: string;
}

/** One folder level: subfolder names and the files directly in it. */
export interface FolderListing {
  readonly folders: readonly string[];
  readonly files: readonly ObjectInfo[];
}

/** What a provider must do; every method throws StorageError (see `classify` in each provider). */
export interface CloudBackend {
  /** "S3 endpoint http://…", "GCS", … for messages. */
  readonly description: string;
  /** Direct children of the folder `key` ('' = bucket root), all pages; undefined when nothing is there. */
  listFolder(bucket: string, key: string): Promise<FolderListing | undefined>;
  /** Every file under the folder `key`, at any depth (all pages). */
  listTree(bucket: string, key: string): Promise<ObjectInfo[]>;
  /** A file's info; undefined when there is no file with this key. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /** The folder `key` has anything in it (object stores: any key with the prefix `key/`). */
  isFolder(bucket: string, key: string): Promise<boolean>;
  read(bucket: string, key: string): Promise<Buffer>;
  /** The file's bytes as a stream (the caller writes them to disk). */
  openRead(bucket: string, key: string): Promise<Readable>;
}

/** How many files of one version are downloaded at once. */
const DOWNLOAD_CONCURRENCY = 4;

export class ObjectStorage implements Storage {
  constructor(
    private readonly backend: CloudBackend,
    private readonly cache: VersionCache,
    private readonly guard: OutageGuard,
  ) {}

  list(dir: string): Promise<DirEntry[]> {
    const p = parseCloudPath(dir);
    return this.guard.run(async () => {
      const listing = await this.backend.listFolder(p.bucket, p.key);
      if (!listing) {
        if (p.key === '') return [];
        throw new StorageError('NOT_FOUND', `Path does not exist: ${dir} (nothing is stored under it)`);
      }
      const entries: DirEntry[] = listing.folders.map((name) => ({ name, isDirectory: true }));
      for (const f of listing.files) entries.push({ name: baseName(f.key), isDirectory: false });
      return entries;
    });
  }

  read(file: string): Promise<Buffer> {
    const p = this.filePath(file);
    return this.guard.run(() => this.backend.read(p.bucket, p.key));
  }

  stat(target: string): Promise<{ isDirectory: boolean; size: number; mtimeMs: number } | undefined> {
    const p = parseCloudPath(target);
    return this.guard.run(async () => {
      if (p.key === '') return (await this.backend.isFolder(p.bucket, '')) ? { isDirectory: true, size: 0, mtimeMs: 0 } : undefined;
      const info = await this.backend.head(p.bucket, p.key);
      if (info) return { isDirectory: false, size: info.size, mtimeMs: info.mtimeMs };
      return (await this.backend.isFolder(p.bucket, p.key)) ? { isDirectory: true, size: 0, mtimeMs: 0 } : undefined;
    });
  }

  join(dir: string, name: string): string {
    return joinCloudPath(dir, name);
  }

  /**
   * Downloads every file under `dir` into the cache and returns the local folder. The same
   * content already downloaded by this process is reused (a reload with new settings).
   */
  localize(dir: string): Promise<LocalCopy> {
    const p = parseCloudPath(dir);
    return this.guard.run(async () => {
      const objects = await this.backend.listTree(p.bucket, p.key);
      const prefix = p.key === '' ? '' : `${p.key}/`;
      const files = objects
        .filter((o) => o.key.startsWith(prefix) && !o.key.endsWith('/'))
        .map((o) => ({ ...o, relative: safeRelativePath(o.key.slice(prefix.length), dir) }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      if (files.length === 0) throw new StorageError('NOT_FOUND', `Directory does not exist or is empty: ${dir}`);
      const fingerprint = files.map((f) => `${f.key}:${f.size}:${f.version ?? f.mtimeMs}`).join('|');
      return this.cache.acquire(p.scheme, dir, fingerprint, async (target) => {
        await forEachLimited(files, DOWNLOAD_CONCURRENCY, async (f) => {
          const dest = path.join(target, ...f.relative);
          await mkdir(path.dirname(dest), { recursive: true });
          const written = await this.download(p.bucket, f.key, dest);
          if (written !== f.size) {
            throw new StorageError('UNAVAILABLE', `Incomplete download of ${joinCloudPath(dir, f.relative.join('/'))}: got ${written} of ${f.size} bytes`);
          }
        });
      });
    });
  }

  private async download(bucket: string, key: string, dest: string): Promise<number> {
    const body = await this.backend.openRead(bucket, key);
    let bytes = 0;
    body.on('data', (chunk: Buffer) => (bytes += chunk.length));
    try {
      await pipeline(body, createWriteStream(dest));
    } catch (err) {
      if (err instanceof StorageError) throw err;
      throw new StorageError('UNAVAILABLE', `Download of ${key} from ${this.backend.description} failed: ${(err as Error).message}`, { cause: err });
    }
    return bytes;
  }

  private filePath(file: string): CloudPath {
    const p = parseCloudPath(file);
    if (p.key === '') throw new StorageError('INVALID_PATH', `Not a file path: ${file}`);
    return p;
  }
}

function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/**
 * Object keys are whatever the uploader chose; a key such as `m/1/../../x` must not write outside
 * the download folder.
 */
function safeRelativePath(relative: string, dir: string): string[] {
  const segments = relative.split('/').filter((s) => s !== '');
  if (segments.length === 0 || segments.some((s) => s === '.' || s === '..' || s.includes('\\') || s.includes('\0'))) {
    throw new StorageError('INVALID_PATH', `Refusing to download an object with an unsafe name under ${dir}: ${JSON.stringify(relative)}`);
  }
  return segments;
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}
