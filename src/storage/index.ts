/**
 * Picks the Storage for a path by its scheme: local disk for plain paths, S3, GCS, Azure Blob or
 * Azure Files for `s3://`, `gs://`, `az://`, `azfs://`. One Storage (client, download cache and
 * outage backoff) is shared by every path of the same store.
 */
import type { Logger } from 'pino';
import { AzureBlobBackend, AzureFilesBackend } from './azure.js';
import { defaultCacheRoot, VersionCache } from './cache.js';
import { GcsBackend } from './gcs.js';
import { localStorage } from './local.js';
import { type CloudBackend, ObjectStorage } from './object-store.js';
import { type BackoffOptions, OutageGuard } from './outage.js';
import { S3Backend, s3Settings } from './s3.js';
import { type DirEntry, type Storage, StorageError } from './storage.js';
import { type CloudPath, parseCloudPath, schemeOf } from './url.js';

export { StorageError } from './storage.js';
export type { Storage } from './storage.js';

export interface StorageOptions {
  /** Root of the download cache (--cache_dir); default `<os tmpdir>/tsms-cache`. */
  readonly cacheDir?: string;
  readonly logger?: Logger;
  /** Environment to read credentials and endpoints from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Outage backoff; defaults: 1 s doubling up to TSMS_STORAGE_RETRY_MAX_SECONDS (30 s). */
  readonly backoff?: BackoffOptions;
}

/**
 * A resolver for `ModelManagerOptions.storageFor`. It never throws: a path with an unsupported
 * scheme gets a Storage whose every call fails with that error, so in config mode one bad
 * base_path fails only its own model.
 */
export function createStorageResolver(options: StorageOptions = {}): (path: string) => Storage {
  const env = options.env ?? process.env;
  const cache = new VersionCache(options.cacheDir ?? defaultCacheRoot());
  const maxSeconds = Number(env['TSMS_STORAGE_RETRY_MAX_SECONDS']);
  const backoff: BackoffOptions = {
    ...(Number.isFinite(maxSeconds) && maxSeconds > 0 && { maxMs: maxSeconds * 1000 }),
    ...options.backoff,
  };
  const stores = new Map<string, Storage>();
  return (path: string) => {
    const scheme = schemeOf(path);
    if (scheme === undefined) return localStorage;
    let cloud: CloudPath;
    try {
      cloud = parseCloudPath(path);
    } catch (err) {
      return new FailingStorage(err as StorageError);
    }
    // One store per service endpoint; buckets share a client.
    const id = `${cloud.scheme}|${cloud.endpoint ?? ''}`;
    let store = stores.get(id);
    if (!store) {
      const backend = makeBackend(cloud, env);
      store = new ObjectStorage(backend, cache, new OutageGuard(backend.description, options.logger, backoff));
      stores.set(id, store);
    }
    return store;
  };
}

/** The Storage for one path; throws StorageError INVALID_PATH for an unsupported scheme. */
export function storageFor(path: string, options?: StorageOptions): Storage {
  if (schemeOf(path) !== undefined) parseCloudPath(path);
  const resolve = options ? (resolvers.get(options) ?? remember(options)) : (sharedResolver ??= createStorageResolver());
  return resolve(path);
}

let sharedResolver: ((path: string) => Storage) | undefined;
const resolvers = new WeakMap<StorageOptions, (path: string) => Storage>();
function remember(options: StorageOptions): (path: string) => Storage {
  const r = createStorageResolver(options);
  resolvers.set(options, r);
  return r;
}

function makeBackend(p: CloudPath, env: NodeJS.ProcessEnv): CloudBackend {
  switch (p.scheme) {
    case 's3':
      return new S3Backend(s3Settings(env, p.endpoint));
    case 'gs':
      return new GcsBackend(env);
    case 'az':
      return new AzureBlobBackend(env);
    case 'azfs':
      return new AzureFilesBackend(env);
  }
}

/** Stands in for a path that cannot be served at all (unsupported scheme, no bucket name). */
class FailingStorage implements Storage {
  constructor(private readonly error: StorageError) {}
  list(): Promise<DirEntry[]> {
    return Promise.reject(this.error);
  }
  read(): Promise<Buffer> {
    return Promise.reject(this.error);
  }
  stat(): Promise<undefined> {
    return Promise.reject(this.error);
  }
  join(dir: string, name: string): string {
    return `${dir.replace(/\/+$/, '')}/${name}`;
  }
  localize(): Promise<{ path: string; release(): Promise<void> }> {
    return Promise.reject(this.error);
  }
}

