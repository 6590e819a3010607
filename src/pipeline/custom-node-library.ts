/**
 * Loads the custom node libraries of `custom_node_library_config_list`: ES modules imported into
 * the server process. A library that cannot be imported or lacks a required export is kept as a
 * failure with its reason; pipelines using it are then invalid ("Pipeline refers to incorrect
 * library").
 *
 * Node's module loader never unloads a module, so an edited library file is imported again under a
 * new URL (its modification time in the query); the old copy stays in memory until exit.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { resolveBasePath } from '../config/model-settings.js';
import type { CustomNodeLibrary } from './custom-node-api.js';

export type LibraryEntry =
  | { readonly ok: true; readonly name: string; readonly path: string; readonly fingerprint: string; readonly library: CustomNodeLibrary }
  | { readonly ok: false; readonly name: string; readonly path: string; readonly fingerprint: string; readonly reason: string };

const EXTENSIONS = new Set(['.js', '.mjs']);
const REQUIRED = ['execute', 'getInputsInfo', 'getOutputsInfo'] as const;
const OPTIONAL = ['initialize', 'deinitialize'] as const;

export class CustomNodeLibraries {
  private readonly entries = new Map<string, LibraryEntry>();

  constructor(private readonly logger: Logger) {}

  get(name: string): LibraryEntry | undefined {
    return this.entries.get(name);
  }

  /**
   * Brings the loaded libraries in line with the config list. Returns the names whose library
   * changed (new, different file, now failing or fixed, removed), so pipelines using them reload,
   * and the problems found, for the config reload answer.
   */
  async apply(rawList: readonly unknown[], configDir: string): Promise<{ changed: Set<string>; errors: string[] }> {
    const changed = new Set<string>();
    const errors: string[] = [];
    const seen = new Set<string>();
    for (const raw of rawList) {
      const { name, base_path: basePath } = raw as { name: string; base_path: string };
      if (seen.has(name)) {
        const message = `Duplicated custom node library name: ${name} defined in config file. Only first definition will be loaded.`;
        this.logger.error(message);
        errors.push(message);
        continue;
      }
      seen.add(name);
      const entry = await this.load(name, basePath, configDir);
      const previous = this.entries.get(name);
      if (previous && previous.path === entry.path && previous.fingerprint === entry.fingerprint && previous.ok === entry.ok) continue;
      this.entries.set(name, entry);
      changed.add(name);
      if (entry.ok) {
        this.logger.info(`Loaded custom node library: ${name} from ${entry.path}`);
      } else {
        const message = `Custom node library: ${name} failed to load: ${entry.reason}`;
        this.logger.error(message);
        errors.push(message);
      }
    }
    for (const name of [...this.entries.keys()]) {
      if (seen.has(name)) continue;
      this.entries.delete(name);
      changed.add(name);
      this.logger.info(`Custom node library: ${name} removed from the config`);
    }
    // A library still failing with the same reason is reported on every apply, not only when it changed.
    for (const name of seen) {
      const e = this.entries.get(name);
      if (e && !e.ok && !changed.has(name)) errors.push(`Custom node library: ${name} failed to load: ${e.reason}`);
    }
    return { changed, errors };
  }

  /** Some library file was edited, added or removed since it was loaded. */
  async changedOnDisk(): Promise<boolean> {
    for (const e of this.entries.values()) {
      let now = '';
      try {
        const s = await stat(e.path);
        if (s.isFile()) now = `${s.mtimeMs}-${s.size}`;
      } catch {
        // gone: fingerprint ''
      }
      if (now !== e.fingerprint) return true;
    }
    return false;
  }

  private async load(name: string, basePath: string, configDir: string): Promise<LibraryEntry> {
    let file: string;
    try {
      file = resolveBasePath(basePath, configDir);
    } catch (err) {
      return { ok: false, name, path: basePath, fingerprint: '', reason: (err as Error).message || `invalid path ${basePath}` };
    }
    const fail = (fingerprint: string, reason: string): LibraryEntry => ({ ok: false, name, path: file, fingerprint, reason });
    if (!EXTENSIONS.has(path.extname(file))) {
      return fail('', `${file} is not an ES module (.js or .mjs); tsms custom nodes are JavaScript modules, not shared libraries`);
    }
    let fingerprint: string;
    try {
      const s = await stat(file);
      if (!s.isFile()) return fail('', `${file} is not a file`);
      fingerprint = `${s.mtimeMs}-${s.size}`;
    } catch {
      return fail('', `${file} not found or cannot open`);
    }
    const previous = this.entries.get(name);
    if (previous?.ok && previous.path === file && previous.fingerprint === fingerprint) return previous;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(`${pathToFileURL(file).href}?v=${encodeURIComponent(fingerprint)}`)) as Record<string, unknown>;
    } catch (err) {
      return fail(fingerprint, `import failed: ${(err as Error)?.message ?? String(err)}`);
    }
    const missing = REQUIRED.filter((k) => typeof mod[k] !== 'function');
    if (missing.length > 0) return fail(fingerprint, `missing exported function(s): ${missing.join(', ')}`);
    const wrong = OPTIONAL.filter((k) => mod[k] !== undefined && typeof mod[k] !== 'function');
    if (wrong.length > 0) return fail(fingerprint, `export(s) ${wrong.join(', ')} must be functions`);
    return { ok: true, name, path: file, fingerprint, library: mod as unknown as CustomNodeLibrary };
  }
}
