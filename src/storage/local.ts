/**
 * Storage over the local file system. Model files are already local, so `localize` hands back the
 * folder itself and releasing it does nothing.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type DirEntry, type Storage, StorageError } from './storage.js';

export class LocalStorage implements Storage {
  async list(dir: string): Promise<DirEntry[]> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw storageError(err, dir);
    }
    const out: DirEntry[] = [];
    for (const e of entries) {
      let isDirectory = e.isDirectory();
      // Version folders are often symlinks (Kubernetes volumes, `ln -s` deployments): follow them.
      if (e.isSymbolicLink()) {
        const target = await this.stat(path.join(dir, e.name));
        if (!target) continue; // dangling link
        isDirectory = target.isDirectory;
      }
      out.push({ name: e.name, isDirectory });
    }
    return out;
  }

  async read(file: string): Promise<Buffer> {
    try {
      return await readFile(file);
    } catch (err) {
      throw storageError(err, file);
    }
  }

  async stat(p: string): Promise<{ isDirectory: boolean; size: number; mtimeMs: number } | undefined> {
    try {
      const s = await stat(p);
      return { isDirectory: s.isDirectory(), size: s.size, mtimeMs: s.mtimeMs };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw storageError(err, p);
    }
  }

  join(dir: string, name: string): string {
    return path.join(dir, name);
  }

  async localize(dir: string): Promise<{ path: string; release(): Promise<void> }> {
    const s = await this.stat(dir);
    if (!s?.isDirectory) throw new StorageError('NOT_FOUND', `Directory does not exist: ${dir}`);
    return { path: dir, release: async () => {} };
  }
}

/** One shared instance: it holds no state. */
export const localStorage = new LocalStorage();

function storageError(err: unknown, p: string): StorageError {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new StorageError('NOT_FOUND', `Path does not exist: ${p}`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new StorageError('ACCESS_DENIED', `Permission denied: ${p}`, { cause: err });
    case 'EISDIR':
    case 'ENAMETOOLONG':
    case 'EINVAL':
      return new StorageError('INVALID_PATH', `Invalid path: ${p}`, { cause: err });
    default:
      return new StorageError('UNAVAILABLE', `Cannot access ${p}: ${(err as Error).message}`, { cause: err });
  }
}
