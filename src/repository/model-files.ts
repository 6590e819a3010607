/**
 * The model files of one version folder: the first format (in the server's order) that recognises
 * the folder's files wins, as OVMS tries IR before ONNX.
 */
import type { ModelFormat } from '../runtime/engine.js';
import type { Storage } from '../storage/storage.js';

export interface VersionFiles {
  readonly format: ModelFormat;
  /** Relative to the version folder. */
  readonly files: readonly string[];
}

/** OVMS's FILE_INVALID text, used as the failed version's detail. */
export const FILE_INVALID = 'File not found or cannot open';

export class ModelFilesError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelFilesError';
  }
}

export async function pickVersionFiles(storage: Storage, versionDir: string, formats: readonly ModelFormat[]): Promise<VersionFiles> {
  let names: string[];
  try {
    names = (await storage.list(versionDir)).filter((e) => !e.isDirectory).map((e) => e.name);
  } catch (err) {
    throw new ModelFilesError(`${FILE_INVALID}: ${versionDir}: ${(err as Error).message}`, { cause: err });
  }
  for (const format of formats) {
    const files = format.pick(names);
    if (files && files.length > 0) return { format, files };
  }
  throw new ModelFilesError(`${FILE_INVALID}: no model files in ${versionDir} (formats tried: ${formats.map((f) => f.name).join(', ')})`);
}

/**
 * A cheap fingerprint of a version folder (names, sizes, mtimes), so a version that failed to
 * load is retried by the poller only after its files changed, not every second.
 */
export async function folderSignature(storage: Storage, dir: string): Promise<string> {
  try {
    const entries = await storage.list(dir);
    const parts = await Promise.all(entries.map(async (e) => {
      const s = await storage.stat(storage.join(dir, e.name));
      return `${e.name}:${e.isDirectory ? 'd' : 'f'}:${s?.size ?? -1}:${s?.mtimeMs ?? -1}`;
    }));
    return parts.sort().join('|');
  } catch {
    return '';
  }
}
