/**
 * Parsing and joining of object-store paths (`s3://bucket/key`, `gs://…`, `az://…`, `azfs://…`).
 * A storage path names a bucket (container, share) and a key prefix inside it; folders are
 * key prefixes ending in `/`, as object stores have no real folders.
 */
import { StorageError } from './storage.js';

export type CloudScheme = 's3' | 'gs' | 'az' | 'azfs';

export const CLOUD_SCHEMES: readonly CloudScheme[] = ['s3', 'gs', 'az', 'azfs'];

export interface CloudPath {
  readonly scheme: CloudScheme;
  /** Bucket, container or share name. */
  readonly bucket: string;
  /** Key inside the bucket, without leading or trailing `/` ('' for the bucket root). */
  readonly key: string;
  /**
   * `s3://host:port/bucket/key` names its own endpoint (OVMS: the port implies an HTTP endpoint,
   * as with a local MinIO). Undefined for the ordinary `s3://bucket/key` form.
   */
  readonly endpoint?: string;
}

const SCHEME_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/** The lower-case scheme of `scheme://…`, or undefined for a local path. */
export function schemeOf(p: string): string | undefined {
  return SCHEME_RE.exec(p)?.[1]?.toLowerCase();
}

export function isCloudScheme(s: string | undefined): s is CloudScheme {
  return (CLOUD_SCHEMES as readonly string[]).includes(s ?? '');
}

export function unsupportedScheme(p: string): StorageError {
  return new StorageError(
    'INVALID_PATH',
    `Unsupported storage scheme "${schemeOf(p) ?? ''}://" in ${p}; supported: local paths, ${CLOUD_SCHEMES.map((s) => `${s}://`).join(', ')}`,
  );
}

/** Splits a cloud URL; throws StorageError INVALID_PATH for an unknown scheme or a missing bucket. */
export function parseCloudPath(p: string): CloudPath {
  const scheme = schemeOf(p);
  if (!isCloudScheme(scheme)) throw unsupportedScheme(p);
  const rest = p.slice(p.indexOf('://') + 3);
  const parts = rest.split('/').filter((s) => s !== '');
  let endpoint: string | undefined;
  if (scheme === 's3' && parts[0] !== undefined && /^[^:]+:[0-9]+$/.test(parts[0])) {
    endpoint = `http://${parts.shift()}`;
  }
  const bucket = parts.shift();
  if (!bucket) throw new StorageError('INVALID_PATH', `No bucket name in ${p}`);
  if (parts.some((s) => s === '..' || s === '.')) throw new StorageError('INVALID_PATH', `Path ${p} escape with .. is forbidden.`);
  return { scheme, bucket, key: parts.join('/'), ...(endpoint !== undefined && { endpoint }) };
}

/** The URL form of a parsed path (normalised: no doubled or trailing slashes). */
export function formatCloudPath(c: CloudPath): string {
  const host = c.endpoint ? `${c.endpoint.replace(/^https?:\/\//, '')}/` : '';
  return `${c.scheme}://${host}${c.bucket}${c.key ? `/${c.key}` : ''}`;
}

/** `dir` + `/` + `name` for a cloud URL, without doubled slashes. */
export function joinCloudPath(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, '')}/${name.replace(/^\/+/, '')}`;
}

/** The folder a cloud URL is in (`s3://b/a/config.json` → `s3://b/a`). */
export function cloudDirname(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  return slash > trimmed.indexOf('://') + 2 ? trimmed.slice(0, slash) : trimmed;
}

/** The key prefix that lists a folder's contents: '' for the root, else `key/`. */
export function folderPrefix(key: string): string {
  return key === '' ? '' : `${key}/`;
}
