/**
 * Transport security settings both front ends share: the PEM material for TLS, read once at start,
 * and the API key with its constant-time check. Files are read here, not in the CLI parser, so a
 * key never sits in ServerConfig (which gets logged) and an unreadable file fails the start (exit 1).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ServerConfig, TlsFiles } from '../config/types.js';

/** PEM contents for one listener; with `ca`, client certificates are required and verified. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
}

export interface SecuritySettings {
  readonly grpcTls?: TlsMaterial;
  readonly restTls?: TlsMaterial;
  readonly apiKey?: ApiKey;
}

export async function loadSecurity(config: ServerConfig): Promise<SecuritySettings> {
  const [grpcTls, restTls, apiKey] = await Promise.all([
    config.grpcTls && readTls(config.grpcTls, 'grpc'),
    config.restTls && readTls(config.restTls, 'rest'),
    config.apiKeyFile ? readApiKey(config.apiKeyFile) : undefined,
  ]);
  return { ...(grpcTls && { grpcTls }), ...(restTls && { restTls }), ...(apiKey && { apiKey }) };
}

async function readTls(files: TlsFiles, api: string): Promise<TlsMaterial> {
  const read = async (part: 'cert' | 'key' | 'ca', file: string) => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(`Cannot read --${api}_tls_${part} file ${file}: ${(err as Error).message}`);
    }
  };
  const [cert, key, ca] = await Promise.all([read('cert', files.cert), read('key', files.key), files.ca ? read('ca', files.ca) : undefined]);
  return { cert, key, ...(ca && { ca }) };
}

/** The key is the file's content without surrounding whitespace (a trailing newline is usual). */
export async function readApiKey(file: string): Promise<ApiKey> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read --api_key_file ${file}: ${(err as Error).message}`);
  }
  const key = text.trim();
  if (key === '') throw new Error(`--api_key_file ${file} is empty`);
  if (/[\s\u0000-\u001f\u007f]/.test(key)) throw new Error(`--api_key_file ${file}: the key must be one line without spaces or control characters`);
  return new ApiKey(key);
}

export class ApiKey {
  private readonly digest: Buffer;

  constructor(key: string) {
    this.digest = sha256(key);
  }

  /**
   * Whether an `Authorization` header value is `Bearer <the key>` (scheme case-insensitive).
   * Digests of equal length are compared in constant time, so timing tells nothing about the key.
   */
  acceptsAuthorization(header: string | undefined): boolean {
    if (header === undefined) return false;
    const m = /^Bearer +(\S+) *$/i.exec(header);
    return m !== null && timingSafeEqual(sha256(m[1]!), this.digest);
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The error text both protocols answer a missing or wrong key with. */
export const UNAUTHENTICATED_MESSAGE = 'Unauthenticated: a valid API key is required (Authorization: Bearer <key>)';
