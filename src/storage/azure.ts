/**
 * Azure Blob Storage (`az://container/path`, @azure/storage-blob) and Azure Files
 * (`azfs://share/path`, @azure/storage-file-share), as OVMS maps them.
 *
 * Credentials, in order:
 * 1. AZURE_STORAGE_CONNECTION_STRING (what OVMS reads; `UseDevelopmentStorage=true` targets azurite);
 * 2. AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY (shared key) or AZURE_STORAGE_SAS_TOKEN;
 * 3. AZURE_STORAGE_ACCOUNT alone: the Azure SDK's default chain (DefaultAzureCredential: environment
 *    service principal, workload identity, managed identity, Azure CLI login).
 * Proxy: the SDK uses HTTPS_PROXY; with AZURE_STORAGE_USE_HTTP_PROXY set, http_proxy is used
 * instead, as in OVMS.
 *
 * The SDKs are imported on first use so that servers with only local models never load them.
 */
import type { BlobServiceClient, ContainerClient, StoragePipelineOptions } from '@azure/storage-blob';
import type { ShareClient, ShareServiceClient } from '@azure/storage-file-share';
import type { Readable } from 'node:stream';
import type { CloudBackend, FolderListing, ObjectInfo } from './object-store.js';
import { StorageError } from './storage.js';

/** The SDK's default retry waits up to 2 minutes per call; a poller is better served by failing sooner. */
const RETRY_OPTIONS = { maxTries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 4000, tryTimeoutInMs: 60_000 };

type Credentials =
  | { readonly kind: 'connection-string'; readonly value: string }
  | { readonly kind: 'shared-key'; readonly account: string; readonly key: string }
  | { readonly kind: 'sas'; readonly account: string; readonly sas: string }
  | { readonly kind: 'default-chain'; readonly account: string };

function credentialsFrom(env: NodeJS.ProcessEnv): Credentials | undefined {
  const cs = env['AZURE_STORAGE_CONNECTION_STRING']?.trim();
  if (cs) return { kind: 'connection-string', value: cs };
  const account = env['AZURE_STORAGE_ACCOUNT']?.trim();
  if (!account) return undefined;
  const key = env['AZURE_STORAGE_KEY']?.trim();
  if (key) return { kind: 'shared-key', account, key };
  const sas = env['AZURE_STORAGE_SAS_TOKEN']?.trim();
  if (sas) return { kind: 'sas', account, sas: sas.replace(/^\?/, '') };
  return { kind: 'default-chain', account };
}

function pipelineOptions(env: NodeJS.ProcessEnv): StoragePipelineOptions {
  const httpProxy = env['AZURE_STORAGE_USE_HTTP_PROXY'] !== undefined ? env['http_proxy'] ?? env['HTTP_PROXY'] : undefined;
  let proxy: URL | undefined;
  try {
    proxy = httpProxy ? new URL(httpProxy) : undefined;
  } catch {
    proxy = undefined;
  }
  return {
    retryOptions: RETRY_OPTIONS,
    ...(proxy && {
      proxyOptions: {
        host: `${proxy.protocol}//${proxy.hostname}`,
        port: Number(proxy.port || 80),
        ...(proxy.username && { username: decodeURIComponent(proxy.username), password: decodeURIComponent(proxy.password) }),
      },
    }),
  };
}

const NO_CREDENTIALS = 'No Azure credentials: set AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN)';

/** Shared error mapping for both Azure services. */
function classifyAzure(err: unknown, service: string, where: string, bucketWord: string, bucket: string): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string; details?: { errorCode?: string } };
  const code = e.details?.errorCode ?? e.code ?? '';
  const status = e.statusCode;
  const firstLine = (e.message ?? String(err)).split('\n')[0];
  const detail = `${code || 'error'}${status ? ` ${status}` : ''}: ${firstLine}`;
  const opts = { cause: err };
  if (code === 'ContainerNotFound' || code === 'ShareNotFound') {
    return new StorageError('INVALID_PATH', `${bucketWord} "${bucket}" does not exist in ${service} (${detail})`, opts);
  }
  if (status === 404 || ['BlobNotFound', 'ResourceNotFound', 'ParentNotFound'].includes(code)) {
    return new StorageError('NOT_FOUND', `Path does not exist: ${where} (${detail})`, opts);
  }
  if (status === 401 || status === 403 || /^(AuthenticationFailed|AuthorizationFailure|AuthorizationPermissionMismatch|InvalidAuthenticationInfo)$/.test(code)) {
    const hint = code === 'AuthenticationFailed' || code === 'AuthorizationFailure' ? 'the account key or SAS token was refused' : 'the credentials were refused';
    return new StorageError('ACCESS_DENIED', `Access denied to ${where} by ${service}: ${hint} (${detail})`, opts);
  }
  if (/CredentialUnavailable|AuthenticationRequired/.test((err as Error)?.name ?? '')) {
    return new StorageError('ACCESS_DENIED', `No usable Azure credentials for ${where}: ${firstLine}`, opts);
  }
  if (code === 'REQUEST_SEND_ERROR' || /^E[A-Z]+$/.test(code)) return new StorageError('UNAVAILABLE', `${service} unreachable (${detail})`, opts);
  return new StorageError('UNAVAILABLE', `${service} failed on ${where} (${detail})`, opts);
}

// -------------------------------------------------------------------------------------------------

export class AzureBlobBackend implements CloudBackend {
  readonly description: string;
  private service: Promise<BlobServiceClient> | undefined;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    const c = credentialsFrom(env);
    const endpoint = c?.kind === 'connection-string' ? /BlobEndpoint=([^;]+)/i.exec(c.value)?.[1] ?? (/UseDevelopmentStorage=true/i.test(c.value) ? 'azurite' : undefined) : undefined;
    const account = c && c.kind !== 'connection-string' ? c.account : /AccountName=([^;]+)/i.exec(c?.value ?? '')?.[1];
    this.description = `Azure Blob Storage${account ? ` account ${account}` : ''}${endpoint ? ` at ${endpoint}` : ''}`;
  }

  async listFolder(bucket: string, key: string): Promise<FolderListing | undefined> {
    const prefix = key === '' ? '' : `${key}/`;
    const folders: string[] = [];
    const files: ObjectInfo[] = [];
    let seen = false;
    await this.call(bucket, key, async (c) => {
      for await (const page of c.listBlobsByHierarchy('/', { prefix }).byPage()) {
        const prefixes = page.segment.blobPrefixes ?? [];
        const blobs = page.segment.blobItems;
        seen ||= prefixes.length > 0 || blobs.length > 0;
        for (const p of prefixes) {
          const name = p.name.slice(prefix.length).replace(/\/$/, '');
          if (name) folders.push(name);
        }
        for (const b of blobs) {
          if (b.name === prefix || b.name.endsWith('/')) continue;
          files.push(info(b.name, b.properties.contentLength, b.properties.lastModified, b.properties.etag));
        }
      }
    });
    return seen ? { folders, files } : undefined;
  }

  async listTree(bucket: string, key: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    await this.call(bucket, key, async (c) => {
      for await (const page of c.listBlobsFlat({ prefix: key === '' ? '' : `${key}/` }).byPage()) {
        for (const b of page.segment.blobItems) out.push(info(b.name, b.properties.contentLength, b.properties.lastModified, b.properties.etag));
      }
    });
    return out;
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const p = await this.call(bucket, key, (c) => c.getBlobClient(key).getProperties());
      return info(key, p.contentLength, p.lastModified, p.etag);
    } catch (err) {
      if (err instanceof StorageError && err.kind === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async isFolder(bucket: string, key: string): Promise<boolean> {
    return this.call(bucket, key, async (c) => {
      const page = await c.listBlobsByHierarchy('/', { prefix: key === '' ? '' : `${key}/` }).byPage({ maxPageSize: 1 }).next();
      if (page.done) return false;
      return (page.value.segment.blobPrefixes ?? []).length > 0 || page.value.segment.blobItems.length > 0;
    });
  }

  read(bucket: string, key: string): Promise<Buffer> {
    return this.call(bucket, key, (c) => c.getBlobClient(key).downloadToBuffer());
  }

  openRead(bucket: string, key: string): Promise<Readable> {
    return this.call(bucket, key, async (c) => {
      const r = await c.getBlobClient(key).download();
      if (!r.readableStreamBody) throw new StorageError('UNAVAILABLE', `${this.description}: no body for az://${bucket}/${key}`);
      return r.readableStreamBody as Readable;
    });
  }

  private async call<T>(bucket: string, key: string, op: (c: ContainerClient) => Promise<T>): Promise<T> {
    try {
      return await op((await (this.service ??= this.connect())).getContainerClient(bucket));
    } catch (err) {
      throw classifyAzure(err, this.description, `az://${bucket}${key ? `/${key}` : ''}`, 'Container', bucket);
    }
  }

  private async connect(): Promise<BlobServiceClient> {
    const sdk = await import('@azure/storage-blob');
    const c = credentialsFrom(this.env);
    const options = pipelineOptions(this.env);
    if (!c) throw new StorageError('ACCESS_DENIED', NO_CREDENTIALS);
    try {
      switch (c.kind) {
        case 'connection-string':
          return sdk.BlobServiceClient.fromConnectionString(c.value, options);
        case 'shared-key':
          return new sdk.BlobServiceClient(`https://${c.account}.blob.core.windows.net`, new sdk.StorageSharedKeyCredential(c.account, c.key), options);
        case 'sas':
          return new sdk.BlobServiceClient(`https://${c.account}.blob.core.windows.net?${c.sas}`, undefined, options);
        case 'default-chain': {
          const { DefaultAzureCredential } = await import('@azure/identity');
          return new sdk.BlobServiceClient(`https://${c.account}.blob.core.windows.net`, new DefaultAzureCredential(), options);
        }
      }
    } catch (err) {
      this.service = undefined;
      throw new StorageError('ACCESS_DENIED', `Invalid Azure storage credentials (${(err as Error).message})`, { cause: err });
    }
  }
}

// -------------------------------------------------------------------------------------------------

/** Azure Files has real directories: folders are listed level by level, not by key prefix. */
export class AzureFilesBackend implements CloudBackend {
  readonly description: string;
  private service: Promise<ShareServiceClient> | undefined;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    const c = credentialsFrom(env);
    const account = c && c.kind !== 'connection-string' ? c.account : /AccountName=([^;]+)/i.exec(c?.value ?? '')?.[1];
    const endpoint = c?.kind === 'connection-string' ? /FileEndpoint=([^;]+)/i.exec(c.value)?.[1] : undefined;
    this.description = `Azure Files${account ? ` account ${account}` : ''}${endpoint ? ` at ${endpoint}` : ''}`;
  }

  async listFolder(share: string, key: string): Promise<FolderListing | undefined> {
    try {
      return await this.call(share, key, async (s) => {
        const folders: string[] = [];
        const files: ObjectInfo[] = [];
        const dir = key === '' ? s.rootDirectoryClient : s.getDirectoryClient(key);
        for await (const item of dir.listFilesAndDirectories()) {
          if (item.kind === 'directory') folders.push(item.name);
          else files.push(info(key === '' ? item.name : `${key}/${item.name}`, item.properties.contentLength, item.properties.lastModified, item.properties.etag));
        }
        return { folders, files };
      });
    } catch (err) {
      if (err instanceof StorageError && err.kind === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async listTree(share: string, key: string): Promise<ObjectInfo[]> {
    const level = await this.listFolder(share, key);
    if (!level) return [];
    const out = [...level.files];
    for (const folder of level.folders) out.push(...await this.listTree(share, key === '' ? folder : `${key}/${folder}`));
    return out;
  }

  async head(share: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const p = await this.call(share, key, (s) => this.fileClient(s, key).getProperties());
      return info(key, p.contentLength, p.lastModified, p.etag);
    } catch (err) {
      if (err instanceof StorageError && err.kind === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  isFolder(share: string, key: string): Promise<boolean> {
    return this.call(share, key, (s) => (key === '' ? s.exists() : s.getDirectoryClient(key).exists()));
  }

  read(share: string, key: string): Promise<Buffer> {
    return this.call(share, key, (s) => this.fileClient(s, key).downloadToBuffer());
  }

  openRead(share: string, key: string): Promise<Readable> {
    return this.call(share, key, async (s) => {
      const r = await this.fileClient(s, key).download(0);
      if (!r.readableStreamBody) throw new StorageError('UNAVAILABLE', `${this.description}: no body for azfs://${share}/${key}`);
      return r.readableStreamBody as Readable;
    });
  }

  private fileClient(s: ShareClient, key: string) {
    const slash = key.lastIndexOf('/');
    const dir = slash < 0 ? s.rootDirectoryClient : s.getDirectoryClient(key.slice(0, slash));
    return dir.getFileClient(key.slice(slash + 1));
  }

  private async call<T>(share: string, key: string, op: (s: ShareClient) => Promise<T>): Promise<T> {
    try {
      return await op((await (this.service ??= this.connect())).getShareClient(share));
    } catch (err) {
      throw classifyAzure(err, this.description, `azfs://${share}${key ? `/${key}` : ''}`, 'File share', share);
    }
  }

  private async connect(): Promise<ShareServiceClient> {
    const sdk = await import('@azure/storage-file-share');
    const c = credentialsFrom(this.env);
    const options = pipelineOptions(this.env) as import('@azure/storage-file-share').ShareClientOptions;
    if (!c) throw new StorageError('ACCESS_DENIED', NO_CREDENTIALS);
    try {
      switch (c.kind) {
        case 'connection-string':
          return sdk.ShareServiceClient.fromConnectionString(c.value, options);
        case 'shared-key':
          return new sdk.ShareServiceClient(`https://${c.account}.file.core.windows.net`, new sdk.StorageSharedKeyCredential(c.account, c.key), options);
        case 'sas':
          return new sdk.ShareServiceClient(`https://${c.account}.file.core.windows.net?${c.sas}`, undefined, options);
        case 'default-chain': {
          const { DefaultAzureCredential } = await import('@azure/identity');
          // Token (OAuth) access to Azure Files requires declaring the backup intent.
          return new sdk.ShareServiceClient(`https://${c.account}.file.core.windows.net`, new DefaultAzureCredential(), { ...options, fileRequestIntent: 'backup' });
        }
      }
    } catch (err) {
      this.service = undefined;
      throw new StorageError('ACCESS_DENIED', `Invalid Azure storage credentials (${(err as Error).message})`, { cause: err });
    }
  }
}

function info(key: string, size: number | undefined, modified: Date | undefined, etag: string | undefined): ObjectInfo {
  return { key, size: size ?? 0, mtimeMs: modified?.getTime() ?? 0, ...(etag !== undefined && { version: etag }) };
}
