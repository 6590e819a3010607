/**
 * The local copies of cloud model versions. A version is downloaded into
 * `<root>/<scheme>/<hash of base path>/<version>.partial-<pid>-<random>` and renamed to
 * `<version>.<pid>-<random>` only once every file is complete, so a half-downloaded version is
 * never handed to a loader. Copies are reference counted: a reload of an unchanged version reuses
 * its copy, and the last `release()` deletes it, so unloaded versions leave nothing behind.
 *
 * The pid in the names lets a later process remove what a crashed one left behind without
 * touching the folders of another live server sharing the same cache root.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface LocalCopy {
  readonly path: string;
  release(): Promise<void>;
}

interface Entry {
  refs: number;
  /** Resolves to the completed folder; shared by concurrent requests for the same content. */
  readonly ready: Promise<string>;
}

/** Default root when --cache_dir is not given. */
export function defaultCacheRoot(): string {
  return path.join(os.tmpdir(), 'tsms-cache');
}

export class VersionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pruned = new Set<string>();

  constructor(readonly root: string = defaultCacheRoot()) {}

  /**
   * A local folder with the content of the cloud folder `dir`. `fingerprint` identifies that
   * content (object names, sizes, etags): a copy is reused only while it matches. `fill` writes
   * the files into the folder it is given and throws on any failure.
   */
  async acquire(scheme: string, dir: string, fingerprint: string, fill: (target: string) => Promise<void>): Promise<LocalCopy> {
    const id = `${dir}\0${fingerprint}`;
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { refs: 0, ready: this.download(scheme, dir, fill) };
      this.entries.set(id, entry);
      const created = entry;
      entry.ready.catch(() => {
        if (this.entries.get(id) === created) this.entries.delete(id);
      });
    }
    entry.refs++;
    let folder: string;
    try {
      folder = await entry.ready;
    } catch (err) {
      entry.refs--;
      throw err;
    }
    const held = entry;
    let released = false;
    return {
      path: folder,
      release: async () => {
        if (released) return;
        released = true;
        if (--held.refs > 0) return;
        if (this.entries.get(id) === held) this.entries.delete(id);
        await rm(folder, { recursive: true, force: true });
        // The model's folder goes too once its last version is gone (fails harmlessly otherwise).
        await rmdir(path.dirname(folder)).catch(() => undefined);
      },
    };
  }

  /** The folder holding copies of `dir`'s siblings (all versions of one base path). */
  modelFolder(scheme: string, dir: string): string {
    const base = dir.replace(/\/+$/, '').replace(/\/[^/]*$/, '');
    return path.join(this.root, scheme, createHash('sha256').update(base).digest('hex').slice(0, 16));
  }

  private async download(scheme: string, dir: string, fill: (target: string) => Promise<void>): Promise<string> {
    const folder = this.modelFolder(scheme, dir);
    await mkdir(folder, { recursive: true });
    await this.pruneDeadProcesses(folder);
    const version = dir.replace(/\/+$/, '').replace(/^.*\//, '');
    const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const partial = path.join(folder, `${version}.partial-${tag}`);
    const final = path.join(folder, `${version}.${tag}`);
    // Recursive: a concurrent release may just have removed the (then empty) model folder.
    await mkdir(partial, { recursive: true });
    try {
      await fill(partial);
      await rename(partial, final);
    } catch (err) {
      await rm(partial, { recursive: true, force: true });
      throw err;
    }
    return final;
  }

  /** Once per folder and process: removes copies left by processes that no longer run. */
  private async pruneDeadProcesses(folder: string): Promise<void> {
    if (this.pruned.has(folder)) return;
    this.pruned.add(folder);
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      return;
    }
    await Promise.all(names.map(async (name) => {
      const pid = /\.(?:partial-)?([0-9]+)-[0-9a-f]+$/.exec(name)?.[1];
      if (pid === undefined || Number(pid) === process.pid || isAlive(Number(pid))) return;
      await rm(path.join(folder, name), { recursive: true, force: true }).catch(() => undefined);
    }));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
