/**
 * One served model name: its versions, its default version, and the reconcile step that brings
 * the versions in line with what the repository and the version policy ask for (SPEC §4.2).
 */
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/types.js';
import { Status } from '../core/errors.js';
import { ModelState, type VersionStatus } from '../core/servable.js';
import type { ModelFormat } from '../runtime/engine.js';
import { folderSignature } from '../repository/model-files.js';
import { selectVersions } from '../repository/version-policy.js';
import { RepositoryPathError, scanVersions } from '../repository/version-scan.js';
import type { Storage } from '../storage/storage.js';
import { sameLoadSettings } from './load-settings.js';
import { ModelVersion } from './model-version.js';

export interface SyncContext {
  readonly storage: Storage;
  readonly formats: readonly ModelFormat[];
  /**
   * Retry versions whose last load failed even if their files look unchanged (explicit reloads,
   * config changes). The poller leaves it off so a broken version is not reloaded every second.
   */
  readonly retryFailed: boolean;
}

export interface SyncResult {
  /** Some version was started, reloaded or retired. */
  readonly changed: boolean;
  /** Why the model or some of its requested versions cannot serve (empty when all is well). */
  readonly errors: readonly string[];
}

export class Model {
  /** The settings the model should be served with; undefined once removed from the config. */
  config: ModelConfig | undefined;
  private readonly versions = new Map<number, ModelVersion>();
  private defaultVersion: ModelVersion | undefined;
  /** Last model-level failure (bad base path), so it is logged once rather than every poll. */
  private pathError: string | undefined;
  private readonly reportedSkips = new Set<string>();
  private readonly log: Logger;

  constructor(readonly name: string, private readonly logger: Logger) {
    this.log = logger.child({ model: name });
  }

  /** The highest AVAILABLE version (requests without a version get it). */
  getDefault(): ModelVersion | undefined {
    return this.defaultVersion;
  }

  getVersion(version: number): ModelVersion | undefined {
    return this.versions.get(version);
  }

  /** Every registered version, ascending, END ones included (as GetModelStatus lists them). */
  statuses(): VersionStatus[] {
    return [...this.versions.values()].sort((a, b) => a.version - b.version).map((v) => v.status());
  }

  /** The model-level error of the last sync, if any (e.g. missing base path). */
  get error(): string | undefined {
    return this.pathError;
  }

  /**
   * Lists the base path, applies the version policy and starts, reloads and retires versions to
   * match. New versions load before old ones retire, so the model keeps serving throughout.
   * A base path that cannot be listed changes nothing: what was loaded keeps serving.
   */
  async sync(ctx: SyncContext): Promise<SyncResult> {
    const config = this.config;
    if (!config) return { changed: false, errors: [] };
    const storage = ctx.storage;
    let scan;
    try {
      scan = await scanVersions(storage, config.basePath);
    } catch (err) {
      if (!(err instanceof RepositoryPathError)) throw err;
      const message = `${Status.PATH_INVALID.message} - ${err.message}`;
      if (message !== this.pathError) this.log.error(`Model: ${this.name}: ${message}`);
      this.pathError = message;
      return { changed: false, errors: [message] };
    }
    if (this.pathError) this.log.info(`Model: ${this.name}: base path ${config.basePath} is readable again`);
    this.pathError = undefined;
    for (const { name, reason } of scan.skipped) {
      const key = `${name}\0${reason}`;
      if (this.reportedSkips.has(key)) continue;
      this.reportedSkips.add(key);
      this.log.warn(reason);
    }

    const requested = selectVersions(config.versionPolicy, scan.versions.keys());
    const errors: string[] = [];
    let changed = false;

    for (const number of requested) {
      const dir = storage.join(config.basePath, scan.versions.get(number)!);
      let version = this.versions.get(number);
      let needsLoad: boolean;
      let signature: string | undefined;
      if (!version) {
        version = new ModelVersion(this.name, number, this.logger, () => this.updateDefault());
        this.versions.set(number, version);
        needsLoad = true;
      } else if (version.retired) {
        needsLoad = true;
      } else if (version.failed) {
        signature = await folderSignature(storage, dir);
        needsLoad = ctx.retryFailed || signature !== version.failedSignature || !sameLoadSettings(version.config!, config);
      } else {
        needsLoad = version.config === undefined || !sameLoadSettings(version.config, config);
      }
      if (needsLoad) {
        changed = true;
        signature ??= await folderSignature(storage, dir);
        await version.load({ config, storage, dir, formats: ctx.formats, signature });
      }
      // A version that is still broken is reported whether or not it was retried this time; the
      // log gets it only when it was retried, so a broken version does not flood it every poll.
      if (version.failed) {
        const error = `Error occurred while loading model: ${this.name} version: ${number}; error: ${version.status().detail}`;
        if (needsLoad) this.log.error(error);
        errors.push(error);
      }
    }

    const keep = new Set(requested);
    // Availability first: while versions are requested but none of them is AVAILABLE (still
    // failing), the AVAILABLE versions they replace keep serving; they retire on the first sync
    // after a requested one is up. With nothing requested (all folders gone) they retire at once.
    const replacementUp = requested.some((n) => this.versions.get(n)?.state === ModelState.AVAILABLE);
    const keepServing = (v: ModelVersion) => !replacementUp && keep.size > 0 && v.state === ModelState.AVAILABLE;
    const retiring = [...this.versions.values()].filter((v) => !keep.has(v.version) && !v.retired && !keepServing(v));
    if (retiring.length > 0) {
      changed = true;
      await Promise.all(retiring.map((v) => v.retire()));
    }
    return { changed, errors };
  }

  /** Removed from the config: every version retires; the name and its END versions stay listed. */
  async retireAll(): Promise<boolean> {
    const retiring = [...this.versions.values()].filter((v) => !v.retired);
    await Promise.all(retiring.map((v) => v.retire()));
    return retiring.length > 0;
  }

  private updateDefault(): void {
    let best: ModelVersion | undefined;
    for (const v of this.versions.values()) {
      if (v.state === ModelState.AVAILABLE && (!best || v.version > best.version)) best = v;
    }
    if (best !== this.defaultVersion) {
      this.defaultVersion = best;
      this.log.debug(`Model: ${this.name} default version is now ${best?.version ?? 'none'}`);
    }
  }
}
