/**
 * Offline checks of the Dockerfile, for a machine with no Docker engine:
 *  - lintDockerfile: the rules the image must keep (multi-stage on Node 20, a numeric non-root
 *    USER, a HEALTHCHECK on the readiness endpoint, `tsms` as exec-form ENTRYPOINT with default
 *    flags the server accepts, every COPY source present and let through by .dockerignore, npm ci
 *    after .npmrc, npm prune --omit=dev);
 *  - simulateBuild: replays the build stage's COPY and RUN steps in a temporary folder (the same
 *    npm ci, tsc and npm prune commands), assembles the runtime stage's files from its COPY steps,
 *    and starts the server from them, as `docker build` then `docker run` would, minus the base image.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseCommandLine } from '../../src/cli/args.js';
import { repoRoot } from './tools.js';

const run = promisify(execFile);

export interface Instruction {
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  readonly args: string;
  /** First line in the file (1-based). */
  readonly line: number;
  /** The JSON array of an exec-form argument, or undefined for the shell form. */
  readonly exec?: string[];
  /** Leading --name=value flags (COPY --from, HEALTHCHECK --interval, ...). */
  readonly flags: Record<string, string>;
  /** The arguments after the flags, split on whitespace (shell form) or the exec array. */
  readonly words: string[];
}

export interface Stage {
  readonly image: string;
  readonly name?: string;
  readonly index: number;
  readonly instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  readonly globalArgs: Record<string, string>;
  readonly stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!.trim();
    if (first === '' || first.startsWith('#')) continue;
    const start = i + 1;
    let joined = first;
    // A trailing backslash continues the instruction; comment lines inside it are dropped.
    while (joined.endsWith('\\') && i + 1 < lines.length) {
      joined = joined.slice(0, -1);
      i++;
      const next = lines[i]!.trim();
      if (!next.startsWith('#')) joined += ` ${next}`;
    }
    const m = /^(\S+)\s*([\s\S]*)$/.exec(joined)!;
    instructions.push(instruction(m[1]!.toUpperCase(), m[2]!.trim(), start));
  }
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [image, as, name] = ins.words;
      stages.push({ image: image ?? '', index: stages.length, instructions: [], ...(as?.toUpperCase() === 'AS' && name && { name }) });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [key, value] = ins.args.split('=', 2);
        globalArgs[key!.trim()] = (value ?? '').trim();
      }
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

function instruction(keyword: string, args: string, line: number): Instruction {
  const flags: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest);
    if (!m) break;
    flags[m[1]!] = m[2] ?? 'true';
    rest = rest.slice(m[0].length);
  }
  // HEALTHCHECK's own argument is "CMD <command>".
  const command = keyword === 'HEALTHCHECK' ? rest.replace(/^CMD\s+/i, '') : rest;
  let exec: string[] | undefined;
  if (command.startsWith('[')) {
    try {
      const parsed = JSON.parse(command) as unknown;
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) exec = parsed;
    } catch {
      // not JSON: Docker runs it in the shell form
    }
  }
  return { keyword, args, line, flags, words: exec ?? command.split(/\s+/).filter(Boolean), ...(exec && { exec }) };
}

/** ${NAME} and $NAME replaced with the global ARG defaults. */
function expand(text: string, args: Record<string, string>): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) => args[name] ?? whole);
}

// ---------------------------------------------------------------------------------------------
// .dockerignore

/**
 * Whether a context path (relative, '/'-separated) reaches the build: Docker's rules, last
 * matching pattern wins, `!` re-includes, a pattern matching a parent folder matches its content.
 */
export function includedByDockerignore(relPath: string, patterns: readonly string[]): boolean {
  let included = true;
  const parts = relPath.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = path.posix.normalize((negate ? raw.slice(1) : raw).trim()).replace(/^\/+|\/+$/g, '');
    const re = globToRegExp(pattern);
    if (prefixes.some((p) => re.test(p))) included = negate;
  }
  return included;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function readDockerignore(root: string): string[] {
  const file = path.join(root, '.dockerignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

function filesUnder(root: string, rel: string): string[] {
  const full = path.join(root, rel);
  if (!statSync(full).isDirectory()) return [rel];
  return readdirSync(full).flatMap((name) => filesUnder(root, path.posix.join(rel, name)));
}

// ---------------------------------------------------------------------------------------------
// lint

const NODE_MAJOR = 20;

export interface LintOptions {
  /** The build context (default: the repository). */
  readonly root?: string;
  /** Dockerfile text instead of <root>/Dockerfile. */
  readonly dockerfile?: string;
  /** .dockerignore patterns instead of <root>/.dockerignore. */
  readonly dockerignore?: readonly string[];
}

/** The problems found, as readable sentences; empty when the Dockerfile keeps every rule. */
export function lintDockerfile(options: LintOptions = {}): string[] {
  const root = options.root ?? repoRoot();
  const df = parseDockerfile(options.dockerfile ?? readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  const problems: string[] = [];
  const ignore = options.dockerignore ?? readDockerignore(root);
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin?: Record<string, string> };

  if (df.stages.length < 2) problems.push(`a multi-stage build is expected (build, then runtime); found ${df.stages.length} stage(s)`);
  const final = df.stages[df.stages.length - 1];
  if (!final) return problems;
  const names = new Set<string>();

  for (const stage of df.stages) {
    const image = expand(stage.image, df.globalArgs);
    if (!new RegExp(`^(docker\\.io/(library/)?)?node:${NODE_MAJOR}([.-]|$)`).test(image)) {
      problems.push(`stage ${stage.name ?? stage.index} is FROM ${image}: the project targets Node ${NODE_MAJOR} (node:${NODE_MAJOR}-...)`);
    }
    const env: Record<string, string> = {};
    let npmrcCopied = false;
    let workdir = '/';
    for (const ins of stage.instructions) {
      const at = `line ${ins.line} (${ins.keyword})`;
      if (ins.keyword === 'ADD' && /https?:\/\//.test(ins.args)) problems.push(`${at}: ADD from a URL downloads at build time; use a package instead`);
      if (ins.keyword === 'ENV') for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) env[m[1]!] = m[2]!;
      if (ins.keyword === 'WORKDIR') workdir = path.posix.resolve(workdir, ins.args);
      if (ins.keyword === 'COPY' || ins.keyword === 'ADD') {
        const sources = ins.words.slice(0, -1);
        if (ins.flags['from'] !== undefined) {
          if (!names.has(ins.flags['from'])) problems.push(`${at}: --from=${ins.flags['from']} is not an earlier stage`);
          continue;
        }
        for (const source of sources) {
          const rel = path.posix.normalize(source).replace(/^\.\/|\/$/g, '');
          if (rel === '.npmrc') npmrcCopied = true;
          if (!existsSync(path.join(root, rel))) {
            problems.push(`${at}: ${source} does not exist in the repository`);
            continue;
          }
          const excluded = filesUnder(root, rel).filter((f) => !includedByDockerignore(f, ignore));
          if (excluded.length > 0) problems.push(`${at}: .dockerignore keeps ${excluded.slice(0, 3).join(', ')}${excluded.length > 3 ? ', ...' : ''} out of the build context`);
        }
      }
      if (ins.keyword === 'RUN') {
        if (/\bnpm\s+(install|i)\b/.test(ins.args)) problems.push(`${at}: npm install ignores the lockfile; use npm ci`);
        if (/\bnpm\s+ci\b/.test(ins.args)) {
          if (!npmrcCopied) problems.push(`${at}: npm ci before .npmrc is copied (it skips onnxruntime-node's download)`);
          if (env['ONNXRUNTIME_NODE_INSTALL'] !== 'skip' && !/ONNXRUNTIME_NODE_INSTALL=skip/.test(ins.args)) {
            problems.push(`${at}: npm ci without ONNXRUNTIME_NODE_INSTALL=skip`);
          }
        }
      }
    }
    if (stage.name) names.add(stage.name);
  }

  // The stage the runtime takes node_modules from must prune dev dependencies.
  const finalCopies = final.instructions.filter((i) => i.keyword === 'COPY');
  for (const copy of finalCopies.filter((c) => c.flags['from'] !== undefined && c.words.some((w) => /node_modules\/?$/.test(w)))) {
    const from = df.stages.find((s) => s.name === copy.flags['from']);
    if (from && !from.instructions.some((i) => i.keyword === 'RUN' && /\bnpm\s+prune\b[^&;]*--omit=dev/.test(i.args))) {
      problems.push(`line ${copy.line}: node_modules comes from stage ${from.name}, which never runs npm prune --omit=dev`);
    }
  }

  const last = (keyword: string) => [...final.instructions].reverse().find((i) => i.keyword === keyword);
  const user = last('USER');
  if (!user) problems.push('the runtime stage has no USER: the server would run as root');
  else if (!/^[1-9][0-9]*(:[0-9]+)?$/.test(user.args)) problems.push(`USER ${user.args}: use a numeric non-zero uid (Kubernetes verifies runAsNonRoot only for numeric users)`);

  const finalWorkdir = final.instructions.filter((i) => i.keyword === 'WORKDIR').reduce((dir, i) => path.posix.resolve(dir, i.args), '/');
  const copiedFiles = new Map<string, string>();
  for (const c of finalCopies.filter((c) => c.flags['from'] === undefined)) {
    const dest = path.posix.resolve(finalWorkdir, c.words[c.words.length - 1]!);
    for (const source of c.words.slice(0, -1)) copiedFiles.set(dest.endsWith('/') ? path.posix.join(dest, path.posix.basename(source)) : dest, source);
  }

  const health = last('HEALTHCHECK');
  if (!health) problems.push('the runtime stage has no HEALTHCHECK');
  else if (!health.exec) problems.push(`line ${health.line}: HEALTHCHECK CMD should be in exec form (no shell needed)`);
  else {
    const script = health.exec.find((w) => copiedFiles.has(w));
    const text = script ? readFileSync(path.join(root, copiedFiles.get(script)!), 'utf8') : health.exec.join(' ');
    if (!text.includes('/v2/health/ready')) problems.push(`line ${health.line}: HEALTHCHECK does not ask the readiness endpoint /v2/health/ready`);
  }

  const entry = last('ENTRYPOINT');
  const binTarget = pkg.bin?.['tsms'];
  if (!entry?.exec) problems.push('the runtime stage needs an exec-form ENTRYPOINT running tsms (so SIGTERM reaches the server)');
  else if (entry.exec[0] === 'tsms') {
    const link = final.instructions.find((i) => i.keyword === 'RUN' && /\bln\s+-s\S*\s+(\S+)\s+\/usr\/local\/bin\/tsms\b/.test(i.args));
    const target = link && /\bln\s+-s\S*\s+(\S+)\s+\/usr\/local\/bin\/tsms\b/.exec(link.args)![1]!;
    if (!target) problems.push('ENTRYPOINT ["tsms"] but no RUN links /usr/local/bin/tsms');
    else if (binTarget && path.posix.resolve(finalWorkdir, binTarget) !== target) problems.push(`/usr/local/bin/tsms links ${target}, but package.json's bin is ${binTarget}`);
  } else if (!(entry.exec[0] === 'node' && binTarget && entry.exec[1] === path.posix.resolve(finalWorkdir, binTarget))) {
    problems.push(`ENTRYPOINT ${JSON.stringify(entry.exec)} does not run the tsms bin`);
  }

  const cmd = last('CMD');
  if (cmd) {
    if (!cmd.exec) problems.push(`line ${cmd.line}: CMD should be in exec form (default server flags)`);
    else {
      try {
        const parsed = parseCommandLine(cmd.exec);
        if (parsed.action !== 'serve') problems.push(`CMD ${JSON.stringify(cmd.exec)} does not start the server`);
        else if (!last('EXPOSE')?.words.includes(String(parsed.config.port))) problems.push(`EXPOSE does not list the gRPC port ${parsed.config.port} of CMD`);
        else if (parsed.config.restPort > 0 && !last('EXPOSE')?.words.includes(String(parsed.config.restPort))) problems.push(`EXPOSE does not list the REST port ${parsed.config.restPort} of CMD`);
      } catch (err) {
        problems.push(`CMD ${JSON.stringify(cmd.exec)}: tsms refuses these flags: ${(err as Error).message}`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// simulated build

export interface SimulatedImage {
  /** The folder standing for the runtime image's filesystem root. */
  readonly root: string;
  /** The runtime stage's WORKDIR, inside `root`. */
  readonly workdir: string;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The commands replayed, for the record. */
  readonly log: readonly string[];
}

/**
 * Replays the Dockerfile into `into` (a fresh folder): every stage gets `into/<stage>` as its
 * filesystem root; COPY copies from the repository (as the build context) or an earlier stage; RUN
 * runs in the build stages only, through sh in WORKDIR, with the stage's ENV; a RUN naming an
 * absolute path is refused, as it would touch this machine. The runtime stage's RUN steps (users,
 * links, removing npm) are system set-up that lintDockerfile checks instead.
 */
export async function simulateBuild(into: string, root: string = repoRoot()): Promise<SimulatedImage> {
  const df = parseDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  const log: string[] = [];
  const stageRoots = new Map<string, string>();
  let image: SimulatedImage | undefined;
  for (const stage of df.stages) {
    const isFinal = stage.index === df.stages.length - 1;
    const fsRoot = path.join(into, stage.name ?? `stage${stage.index}`);
    mkdirSync(fsRoot, { recursive: true });
    const inside = (p: string) => path.join(fsRoot, p);
    let workdir = '/';
    const env: Record<string, string> = {};
    let entrypoint: string[] = [];
    let cmd: string[] = [];
    for (const ins of stage.instructions) {
      switch (ins.keyword) {
        case 'WORKDIR':
          workdir = path.posix.resolve(workdir, ins.args);
          mkdirSync(inside(workdir), { recursive: true });
          break;
        case 'ENV':
          for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) env[m[1]!] = m[2]!;
          break;
        case 'COPY': {
          const from = ins.flags['from'];
          const sourceRoot = from === undefined ? root : stageRoots.get(from);
          if (sourceRoot === undefined) throw new Error(`line ${ins.line}: no stage ${from}`);
          const dest = ins.words[ins.words.length - 1]!;
          const destAbs = path.posix.resolve(workdir, dest);
          for (const source of ins.words.slice(0, -1)) {
            const src = from === undefined ? path.join(sourceRoot, source) : path.join(sourceRoot, source);
            const target = dest.endsWith('/') || ins.words.length > 2 ? path.posix.join(destAbs, path.posix.basename(source)) : destAbs;
            if (!existsSync(src)) throw new Error(`line ${ins.line}: COPY ${source}: not found${from ? ` in stage ${from}` : ''}`);
            mkdirSync(path.dirname(inside(target)), { recursive: true });
            cpSync(src, inside(target), { recursive: true, verbatimSymlinks: true });
            log.push(`COPY ${from ? `--from=${from} ` : ''}${source} ${target}`);
          }
          break;
        }
        case 'RUN': {
          if (isFinal) {
            log.push(`(not replayed) RUN ${ins.args}`);
            break;
          }
          if (/(^|\s)\/[^\s]/.test(ins.args)) throw new Error(`line ${ins.line}: RUN names an absolute path, which a replay would take from this machine: ${ins.args}`);
          log.push(`RUN ${ins.args}`);
          try {
            await run('sh', ['-c', ins.args], { cwd: inside(workdir), env: { ...process.env, ...env }, maxBuffer: 256 << 20 });
          } catch (err) {
            const e = err as { stderr?: string; message: string };
            throw new Error(`line ${ins.line}: RUN ${ins.args} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-8).join('\n')}`);
          }
          break;
        }
        case 'ENTRYPOINT':
          entrypoint = ins.exec ?? ['/bin/sh', '-c', ins.args];
          break;
        case 'CMD':
          cmd = ins.exec ?? ['/bin/sh', '-c', ins.args];
          break;
        default:
          break;
      }
    }
    if (stage.name) stageRoots.set(stage.name, fsRoot);
    stageRoots.set(String(stage.index), fsRoot);
    if (isFinal) image = { root: fsRoot, workdir, entrypoint, cmd, env, log };
  }
  if (!image) throw new Error('the Dockerfile has no stage');
  return image;
}

/**
 * How to run the simulated image as `docker run <image>` would, minus the ports: the `tsms`
 * entrypoint is its package.json bin inside the image, the default arguments are CMD without
 * --port/--rest_port (the caller picks free ones), and image paths under WORKDIR point into the
 * simulated root.
 */
export function imageCommand(image: SimulatedImage): { command: string[]; args: string[]; env: Record<string, string> } {
  const pkg = JSON.parse(readFileSync(path.join(image.root, image.workdir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const main = path.join(image.root, image.workdir, pkg.bin['tsms']!);
  const mapPath = (a: string) => a.split(image.workdir).join(path.join(image.root, image.workdir));
  const args: string[] = [];
  for (let i = 0; i < image.cmd.length; i++) {
    const a = image.cmd[i]!;
    if (a === '--port' || a === '--rest_port') i++;
    else if (!/^--(rest_)?port=/.test(a)) args.push(mapPath(a));
  }
  return { command: [process.execPath, main], args, env: { ...image.env } };
}
