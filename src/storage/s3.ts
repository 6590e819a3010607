/**
 * S3 and S3-compatible stores (MinIO, Ceph RGW, …) through @aws-sdk/client-s3.
 *
 * Settings, as OVMS reads them (SPEC §3), then the SDK's own default chain:
 * - endpoint: `s3://host:port/bucket/…` in the path, else S3_ENDPOINT (a bare `host:port` means
 *   http://, as in OVMS), else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS. A custom
 *   endpoint uses path-style addressing (`endpoint/bucket/key`), which MinIO and RGW need.
 * - region: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1; a bucket in another region is
 *   followed through S3's redirect.
 * - credentials: the SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and
 *   ~/.aws files, SSO, web identity, container and instance metadata). When that chain finds
 *   nothing, requests go unsigned, which works for public buckets as in OVMS.
 *
 * The SDK is imported on first use so that servers with only local models never load it.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { CloudBackend, FolderListing, ObjectInfo } from './object-store.js';
import { StorageError } from './storage.js';

type Sdk = typeof import('@aws-sdk/client-s3');

export interface S3Settings {
  readonly endpoint?: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
}

/** S3 settings from the environment; `pathEndpoint` is the host:port given inside an s3:// URL. */
export function s3Settings(env: NodeJS.ProcessEnv, pathEndpoint?: string): S3Settings {
  const raw = pathEndpoint ?? nonEmpty(env['S3_ENDPOINT']) ?? nonEmpty(env['AWS_ENDPOINT_URL_S3']) ?? nonEmpty(env['AWS_ENDPOINT_URL']);
  const endpoint = raw === undefined ? undefined : /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  const region = nonEmpty(env['AWS_REGION']) ?? nonEmpty(env['AWS_DEFAULT_REGION']) ?? 'us-east-1';
  const pathStyleEnv = nonEmpty(env['S3_FORCE_PATH_STYLE'] ?? env['AWS_S3_FORCE_PATH_STYLE'])?.toLowerCase();
  const forcePathStyle = pathStyleEnv !== undefined ? pathStyleEnv !== 'false' && pathStyleEnv !== '0' : endpoint !== undefined;
  return { ...(endpoint !== undefined && { endpoint: endpoint.replace(/\/+$/, '') }), region, forcePathStyle };
}

export class S3Backend implements CloudBackend {
  readonly description: string;
  private sdk: Promise<Sdk> | undefined;
  private client: S3Client | undefined;
  /** True once the credential chain found nothing and requests go unsigned. */
  private anonymous = false;

  constructor(private readonly settings: S3Settings) {
    this.description = settings.endpoint ? `S3 endpoint ${settings.endpoint}` : `S3 (region ${settings.region})`;
  }

  async listFolder(bucket: string, key: string): Promise<FolderListing | undefined> {
    const prefix = key === '' ? '' : `${key}/`;
    const folders: string[] = [];
    const files: ObjectInfo[] = [];
    // A folder holding only its marker object exists but is empty.
    let seen = false;
    let token: string | undefined;
    do {
      const page = await this.send(bucket, key, (c, sdk) => c.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ...(token && { ContinuationToken: token }) })));
      seen ||= (page.Contents ?? []).length > 0 || (page.CommonPrefixes ?? []).length > 0;
      for (const cp of page.CommonPrefixes ?? []) {
        const name = cp.Prefix?.slice(prefix.length).replace(/\/$/, '');
        if (name) folders.push(name);
      }
      for (const o of page.Contents ?? []) {
        // A zero-byte `key/` object is a "folder marker" made by consoles; it is not a file.
        if (!o.Key || o.Key === prefix || o.Key.endsWith('/')) continue;
        files.push(objectInfo(o.Key, o.Size, o.LastModified, o.ETag));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !token) throw new StorageError('UNAVAILABLE', `${this.description}: truncated listing without a continuation token`);
    } while (token);
    return seen ? { folders, files } : undefined;
  }

  async listTree(bucket: string, key: string): Promise<ObjectInfo[]> {
    const prefix = key === '' ? '' : `${key}/`;
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.send(bucket, key, (c, sdk) => c.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token && { ContinuationToken: token }) })));
      for (const o of page.Contents ?? []) if (o.Key) out.push(objectInfo(o.Key, o.Size, o.LastModified, o.ETag));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const r = await this.send(bucket, key, (c, sdk) => c.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key })));
      return objectInfo(key, r.ContentLength, r.LastModified, r.ETag);
    } catch (err) {
      if (err instanceof StorageError && err.kind === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async isFolder(bucket: string, key: string): Promise<boolean> {
    const page = await this.send(bucket, key, (c, sdk) => c.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: key === '' ? '' : `${key}/`, MaxKeys: 1 })));
    return (page.Contents ?? []).length > 0 || (page.CommonPrefixes ?? []).length > 0;
  }

  async read(bucket: string, key: string): Promise<Buffer> {
    const body = await this.openRead(bucket, key);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of body) chunks.push(chunk as Buffer);
    } catch (err) {
      throw this.classify(err, bucket, key);
    }
    return Buffer.concat(chunks);
  }

  async openRead(bucket: string, key: string): Promise<Readable> {
    const r = await this.send(bucket, key, (c, sdk) => c.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key })));
    if (!(r.Body instanceof Readable)) throw new StorageError('UNAVAILABLE', `${this.description}: no body for s3://${bucket}/${key}`);
    return r.Body;
  }

  // ---------------------------------------------------------------------------------------------

  /** Sends a command, mapping SDK errors; switches to unsigned requests when no credentials exist. */
  private async send<O>(bucket: string, key: string, op: (client: S3Client, sdk: Sdk) => Promise<O>): Promise<O> {
    // The pinned SDK warns once that its later releases will need Node 22; users can do nothing
    // about that, so keep it out of the server log.
    process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
    const sdk = await (this.sdk ??= import('@aws-sdk/client-s3'));
    try {
      return await op(this.getClient(sdk), sdk);
    } catch (err) {
      if (!this.anonymous && (err as Error)?.name === 'CredentialsProviderError') {
        this.anonymous = true;
        this.client?.destroy();
        this.client = undefined;
        try {
          return await op(this.getClient(sdk), sdk);
        } catch (err2) {
          throw this.classify(err2, bucket, key);
        }
      }
      throw this.classify(err, bucket, key);
    }
  }

  private getClient(sdk: Sdk): S3Client {
    if (this.client) return this.client;
    const s = this.settings;
    this.client = new sdk.S3Client({
      region: s.region,
      ...(s.endpoint !== undefined && { endpoint: s.endpoint }),
      forcePathStyle: s.forcePathStyle,
      followRegionRedirects: true,
      // The server only reads; the default CRC trailers are refused by Ceph RGW and older MinIO.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5000, socketTimeout: 60_000 },
      ...(this.anonymous && {
        credentials: { accessKeyId: '', secretAccessKey: '' },
        signer: { sign: async (request: unknown) => request } as never,
      }),
    });
    return this.client;
  }

  /** An SDK error → StorageError with a message that names the cause. */
  classify(err: unknown, bucket: string, key: string): StorageError {
    if (err instanceof StorageError) return err;
    const e = err as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const code = e.Code ?? e.name ?? '';
    const status = e.$metadata?.httpStatusCode;
    const where = `s3://${bucket}${key ? `/${key}` : ''}`;
    const detail = `${code || 'error'}${status ? ` ${status}` : ''}${e.message && e.message !== code && e.message !== 'UnknownError' ? `: ${e.message}` : ''}`;
    const opts = { cause: err };
    if (code === 'NoSuchBucket') return new StorageError('INVALID_PATH', `Bucket "${bucket}" does not exist at ${this.description} (${detail})`, opts);
    if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) return new StorageError('NOT_FOUND', `Path does not exist: ${where} (${detail})`, opts);
    if (code === 'CredentialsProviderError') {
      return new StorageError('ACCESS_DENIED', `No AWS credentials found for ${where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE (${e.message})`, opts);
    }
    if (['SignatureDoesNotMatch', 'InvalidAccessKeyId', 'AccessDenied', 'ExpiredToken', 'InvalidToken', 'AuthorizationHeaderMalformed'].includes(code) || status === 403 || status === 401) {
      const hint = code === 'SignatureDoesNotMatch' ? 'wrong secret key (AWS_SECRET_ACCESS_KEY)'
        : code === 'InvalidAccessKeyId' ? 'unknown access key (AWS_ACCESS_KEY_ID)'
          : 'the credentials were refused';
      return new StorageError('ACCESS_DENIED', `Access denied to ${where} by ${this.description}: ${hint} (${detail})`, opts);
    }
    if (code === 'PermanentRedirect' || status === 301) {
      return new StorageError('INVALID_PATH', `Bucket "${bucket}" is in another region than ${this.settings.region}; set AWS_REGION (${detail})`, opts);
    }
    const errno = (err as { code?: string }).code ?? ((err as { cause?: { code?: string } }).cause?.code);
    if (errno && /^E[A-Z]+$/.test(errno)) return new StorageError('UNAVAILABLE', `${this.description} unreachable (${errno}: ${e.message ?? ''})`, opts);
    return new StorageError('UNAVAILABLE', `${this.description} failed on ${where} (${detail})`, opts);
  }
}

function objectInfo(key: string, size: number | undefined, modified: Date | undefined, etag: string | undefined): ObjectInfo {
  return { key, size: size ?? 0, mtimeMs: modified?.getTime() ?? 0, ...(etag !== undefined && { version: etag }) };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}
