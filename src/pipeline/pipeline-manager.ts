/**
 * The pipelines of config.json and the custom node libraries they use, kept in line with each
 * config apply (SPEC §2.3, §7): new pipelines load, changed ones reload, removed ones retire (and
 * stay listed as END, like models), unchanged ones are revalidated against the models.
 */
import type { Logger } from 'pino';
import { CustomNodeLibraries } from './custom-node-library.js';
import { parsePipelineConfig } from './definition.js';
import { Pipeline } from './pipeline.js';
import { PipelineStatus } from './status.js';
import type { ModelLookup } from './validate.js';

export interface PipelineManagerOptions {
  readonly logger: Logger;
  readonly models: ModelLookup;
  /** A model of this name exists (in any state): a pipeline cannot take the name. */
  readonly modelExists: (name: string) => boolean;
}

export interface PipelineListConfig {
  readonly pipelines?: readonly unknown[];
  readonly customNodeLibraries?: readonly unknown[];
  readonly configDir?: string;
}

export class PipelineManager {
  private readonly pipelines = new Map<string, Pipeline>();
  private readonly libraries: CustomNodeLibraries;
  private readonly logger: Logger;
  /** The last config applied, to apply again when a library file changes. */
  private lastList: PipelineListConfig | undefined;

  constructor(private readonly opts: PipelineManagerOptions) {
    this.logger = opts.logger;
    this.libraries = new CustomNodeLibraries(opts.logger);
  }

  get(name: string): Pipeline | undefined {
    return this.pipelines.get(name);
  }

  /** A pipeline of this name is loaded or loading (a model may not take the name then). */
  isActive(name: string): boolean {
    const p = this.pipelines.get(name);
    return p !== undefined && p.state !== 'RETIRED';
  }

  names(): string[] {
    return [...this.pipelines.keys()];
  }

  /**
   * Applies a config's pipelines and libraries. Returns the problems (bad library, name clash,
   * invalid pipeline) for the reload answer; every usable entry is applied regardless.
   */
  async apply(list: PipelineListConfig): Promise<string[]> {
    this.lastList = list;
    const { changed, errors } = await this.libraries.apply(list.customNodeLibraries ?? [], list.configDir ?? process.cwd());
    const inConfig = new Set<string>();
    for (const raw of list.pipelines ?? []) {
      const config = parsePipelineConfig(raw);
      const name = config.name;
      if (inConfig.has(name)) {
        const message = `Duplicated pipeline names: ${name} defined in config file. Only first definition will be loaded.`;
        this.logger.error(message);
        errors.push(message);
        continue;
      }
      if (this.opts.modelExists(name)) {
        const message = `Pipeline: ${name} cannot be loaded: ${PipelineStatus.PIPELINE_NAME_OCCUPIED.message}`;
        this.logger.error(message);
        errors.push(message);
        continue;
      }
      inConfig.add(name);
      const key = definitionKey(raw, config.nodes.map((n) => n.libraryName).filter((l): l is string => l !== undefined), this.libraries);
      let pipeline = this.pipelines.get(name);
      let problem;
      if (pipeline && pipeline.state === 'AVAILABLE' && pipeline.definitionKey === key && ![...pipeline.libraryNames].some((l) => changed.has(l))) {
        problem = pipeline.revalidate(true);
      } else {
        if (!pipeline) {
          pipeline = new Pipeline(name, { models: this.opts.models, libraries: this.libraries, logger: this.logger });
          this.pipelines.set(name, pipeline);
        } else {
          this.logger.info(`Pipeline: ${name} definition changed; reloading`);
        }
        problem = await pipeline.load(config, key);
      }
      if (problem) errors.push(`Pipeline: ${name} is invalid: ${problem.message}`);
    }
    for (const [name, pipeline] of this.pipelines) {
      if (inConfig.has(name) || pipeline.state === 'RETIRED') continue;
      this.logger.info(`Pipeline: ${name} removed from the config; retiring it`);
      await pipeline.retire();
    }
    return errors;
  }

  /**
   * Explicit reloads with an unchanged config file: a custom node library edited on disk is loaded
   * again and the pipelines using it reload. Returns whether anything was reloaded, and problems.
   */
  async refreshLibraries(): Promise<{ changed: boolean; errors: string[] }> {
    if (!this.lastList || !(await this.libraries.changedOnDisk())) return { changed: false, errors: [] };
    this.logger.info('A custom node library changed on disk; reloading the pipelines using it');
    return { changed: true, errors: await this.apply(this.lastList) };
  }

  /** After models changed: pipelines follow (or report FAILED while a model they need is missing). */
  revalidateAll(): void {
    for (const p of this.pipelines.values()) p.revalidate();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.pipelines.values()].map((p) => p.retire()));
  }
}

/** What a pipeline was loaded from: its JSON and the files of the libraries it names. */
function definitionKey(raw: unknown, libraries: readonly string[], libs: CustomNodeLibraries): string {
  const files = [...new Set(libraries)].sort().map((l) => {
    const e = libs.get(l);
    return e ? `${l}=${e.path}@${e.fingerprint}:${e.ok}` : `${l}=missing`;
  });
  return JSON.stringify(raw) + '\0' + files.join('\0');
}
