/**
 * Google Cloud Storage through @google-cloud/storage.
 *
 * Credentials come from the SDK's default chain: GOOGLE_APPLICATION_CREDENTIALS (a service
 * account key file, as OVMS reads it), gcloud's application-default login, or the metadata server
 * on GKE/GCE. When no credentials exist at all, requests go unauthenticated, which is enough for
 * public buckets. STORAGE_EMULATOR_HOST points the SDK at an emulator (no auth then).
 *
 * The SDK is imported on first use so that servers with only local models never load it.
 */
import type { Bucket, Storage as GcsClient } from '@google-cloud/storage';
import type { Readable } from 'node:stream';
import type { CloudBackend, FolderListing, ObjectInfo } from './object-store.js';
import { StorageError } from './storage.js';

type Sdk = typeof import('@google-cloud/storage');

interface GcsObjectMeta {
  name?: string;
  size?: string | number;
  updated?: string;
  generation?: string | number;
  md5Hash?: string;
}

export class GcsBackend implements CloudBackend {
  readonly description: string;
  private sdk: Promise<Sdk> | undefined;
  private client: GcsClient | undefined;
  private anonymous = false;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    const emulator = env['STORAGE_EMULATOR_HOST'];
    this.description = emulator ? `GCS emulator ${emulator}` : 'GCS';
  }

  async listFolder(bucket: string, key: string): Promise<FolderListing | undefined> {
    const prefix = key === '' ? '' : `${key}/`;
    const folders: string[] = [];
    const files: ObjectInfo[] = [];
    let seen = false;
    let pageToken: string | undefined;
    do {
      const [objects, next, response] = await this.call(bucket, key, (b) =>
        b.getFiles({ prefix, delimiter: '/', autoPaginate: false, ...(pageToken && { pageToken }) }));
      const prefixes = ((response ?? {}) as { prefixes?: string[] }).prefixes ?? [];
      seen ||= objects.length > 0 || prefixes.length > 0;
      for (const p of prefixes) {
        const name = p.slice(prefix.length).replace(/\/$/, '');
        if (name) folders.push(name);
      }
      for (const o of objects) {
        if (o.name === prefix || o.name.endsWith('/')) continue;
        files.push(objectInfo(o.name, o.metadata as GcsObjectMeta));
      }
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken);
    return seen ? { folders, files } : undefined;
  }

  async listTree(bucket: string, key: string): Promise<ObjectInfo[]> {
    const prefix = key === '' ? '' : `${key}/`;
    const out: ObjectInfo[] = [];
    let pageToken: string | undefined;
    do {
      const [objects, next] = await this.call(bucket, key, (b) => b.getFiles({ prefix, autoPaginate: false, ...(pageToken && { pageToken }) }));
      for (const o of objects) out.push(objectInfo(o.name, o.metadata as GcsObjectMeta));
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken);
    return out;
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const [meta] = await this.call(bucket, key, (b) => b.file(key).getMetadata());
      return objectInfo(key, meta as GcsObjectMeta);
    } catch (err) {
      if (err instanceof StorageError && err.kind === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async isFolder(bucket: string, key: string): Promise<boolean> {
    const [objects, , response] = await this.call(bucket, key, (b) =>
      b.getFiles({ prefix: key === '' ? '' : `${key}/`, delimiter: '/', autoPaginate: false, maxResults: 1 }));
    return objects.length > 0 || (((response ?? {}) as { prefixes?: string[] }).prefixes ?? []).length > 0;
  }

  async read(bucket: string, key: string): Promise<Buffer> {
    const [data] = await this.call(bucket, key, (b) => b.file(key).download());
    return data;
  }

  async openRead(bucket: string, key: string): Promise<Readable> {
    // Checked first: the read stream reports a missing object only once it is consumed.
    if (!(await this.head(bucket, key))) throw new StorageError('NOT_FOUND', `Path does not exist: gs://${bucket}/${key}`);
    const stream = (await this.bucket(bucket)).file(key).createReadStream();
    stream.on('error', () => undefined);
    return stream;
  }

  // ---------------------------------------------------------------------------------------------

  private async call<T>(bucket: string, key: string, op: (b: Bucket) => Promise<T>): Promise<T> {
    try {
      return await op(await this.bucket(bucket));
    } catch (err) {
      if (!this.anonymous && isMissingCredentials(err)) {
        this.anonymous = true;
        this.client = undefined;
        try {
          return await op(await this.bucket(bucket));
        } catch (err2) {
          throw this.classify(err2, bucket, key);
        }
      }
      throw this.classify(err, bucket, key);
    }
  }

  private async bucket(name: string): Promise<Bucket> {
    const sdk = await (this.sdk ??= import('@google-cloud/storage'));
    this.client ??= new sdk.Storage({
      retryOptions: { autoRetry: true, maxRetries: 2, maxRetryDelay: 4, totalTimeout: 30 },
      // A custom endpoint turns authentication off in the SDK: that is how unauthenticated
      // (public bucket) access is made when no credentials exist.
      ...(this.anonymous && !this.env['STORAGE_EMULATOR_HOST'] && { apiEndpoint: 'https://storage.googleapis.com/' }),
    });
    return this.client.bucket(name);
  }

  classify(err: unknown, bucket: string, key: string): StorageError {
    if (err instanceof StorageError) return err;
    const e = err as { code?: number | string; message?: string; errors?: { reason?: string }[] };
    const where = `gs://${bucket}${key ? `/${key}` : ''}`;
    const message = e.message ?? String(err);
    const opts = { cause: err };
    if (isMissingCredentials(err)) {
      return new StorageError('ACCESS_DENIED', `No Google Cloud credentials found for ${where}: set GOOGLE_APPLICATION_CREDENTIALS to a service account key file (${message})`, opts);
    }
    if (e.code === 404) {
      if (/bucket does not exist/i.test(message)) return new StorageError('INVALID_PATH', `Bucket "${bucket}" does not exist in ${this.description} (404: ${message})`, opts);
      return new StorageError('NOT_FOUND', `Path does not exist: ${where} (404: ${message})`, opts);
    }
    if (e.code === 401 || e.code === 403 || /invalid_grant|invalid_client|unauthorized_client/i.test(message)) {
      return new StorageError('ACCESS_DENIED', `Access denied to ${where} by ${this.description}: the credentials were refused (${e.code ?? 'auth'}: ${message})`, opts);
    }
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return new StorageError('UNAVAILABLE', `${this.description} unreachable (${e.code}: ${message})`, opts);
    return new StorageError('UNAVAILABLE', `${this.description} failed on ${where} (${e.code ?? 'error'}: ${message})`, opts);
  }
}

function isMissingCredentials(err: unknown): boolean {
  return /Could not load the default credentials/i.test((err as Error)?.message ?? '');
}

function objectInfo(key: string, meta: GcsObjectMeta): ObjectInfo {
  const updated = meta.updated ? Date.parse(meta.updated) : NaN;
  const version = meta.generation ?? meta.md5Hash;
  return { key, size: Number(meta.size ?? 0), mtimeMs: Number.isFinite(updated) ? updated : 0, ...(version !== undefined && { version: String(version) }) };
}
