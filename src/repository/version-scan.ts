/**
 * Finds a model's versions: the immediate subfolders of base_path whose name is a version number
 * (SPEC §3). Pure listing; what to do with the result (policy, loading, logging) is the caller's.
 */
import { type Storage, StorageError } from '../storage/storage.js';

export interface VersionScan {
  /** Version number → folder name (the name may carry leading zeros, e.g. "01"). */
  readonly versions: ReadonlyMap<number, string>;
  /** Subfolders that are not versions, with OVMS's warning text. */
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
}

/** A base path that cannot serve as a model repository; OVMS reports it as PATH_INVALID. */
export class RepositoryPathError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RepositoryPathError';
  }
}

/**
 * OVMS parses folder names with `stoll`, so "1abc" would be version 1 and " 1" too. We are
 * stricter: only names made of digits are versions ("01" is version 1, as with stoll), so a
 * folder like "2_backup" is never served by accident. Everything else is skipped with OVMS's
 * warning text.
 */
export function parseVersionName(name: string): { version: number } | { reason: string } {
  if (/^[0-9]+$/.test(name)) {
    const version = Number(name);
    if (!Number.isSafeInteger(version)) return { reason: `Directory name is out of range for supported version format. Got: ${name}` };
    if (version <= 0) return { reason: `Expected version directory name to be a number greater than 0. Got: ${version}` };
    return { version };
  }
  if (/^-[0-9]+$/.test(name)) return { reason: `Expected version directory name to be a number greater than 0. Got: ${name}` };
  return { reason: `Expected version directory name to be in number format. Got: ${name}` };
}

/** True when a path climbs out of where it points (OVMS refuses any `..` segment). */
export function isPathEscaped(p: string): boolean {
  return p.split(/[\\/]+/).includes('..');
}

export async function scanVersions(storage: Storage, basePath: string): Promise<VersionScan> {
  if (isPathEscaped(basePath)) throw new RepositoryPathError(`Path ${basePath} escape with .. is forbidden.`);
  let entries;
  try {
    entries = await storage.list(basePath);
  } catch (err) {
    if (err instanceof StorageError && err.kind === 'NOT_FOUND') {
      throw new RepositoryPathError(`Directory does not exist: ${basePath}`, { cause: err });
    }
    throw new RepositoryPathError(`Couldn't list directories in path: ${basePath}: ${(err as Error).message}`, { cause: err });
  }
  const versions = new Map<number, string>();
  const skipped: { name: string; reason: string }[] = [];
  // Sorted so that the same folder wins on every file system when two names give one version
  // ("1" and "01"); the plain spelling sorts after zero-padded ones and is preferred.
  const dirs = entries.filter((e) => e.isDirectory).map((e) => e.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of dirs) {
    const parsed = parseVersionName(name);
    if ('reason' in parsed) {
      skipped.push({ name, reason: parsed.reason });
      continue;
    }
    const taken = versions.get(parsed.version);
    if (taken === undefined) {
      versions.set(parsed.version, name);
      continue;
    }
    const [keep, drop] = name === String(parsed.version) ? [name, taken] : [taken, name];
    versions.set(parsed.version, keep);
    skipped.push({ name: drop, reason: `Version ${parsed.version} is already provided by directory ${keep}. Got: ${drop}` });
  }
  return { versions, skipped };
}
