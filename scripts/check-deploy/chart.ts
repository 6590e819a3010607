/** `helm lint --strict` and `helm template` on the chart, with one values file at a time. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseManifests, problemsOf, validateManifests, type Manifest, type Problem } from './manifests.js';
import { repoRoot } from './tools.js';

const run = promisify(execFile);

/** The oldest Kubernetes the chart claims (Chart.yaml kubeVersion) is what templates render for. */
export const KUBE_VERSION = '1.25.0';

export function chartDir(): string {
  return path.join(repoRoot(), 'deploy', 'helm', 'tsms');
}

export interface HelmResult {
  readonly ok: boolean;
  readonly output: string;
}

async function helm(binary: string, args: readonly string[]): Promise<HelmResult> {
  try {
    const { stdout, stderr } = await run(binary, args, { maxBuffer: 64 << 20 });
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

export function lintChart(binary: string, valuesFile?: string): Promise<HelmResult> {
  return helm(binary, ['lint', '--strict', '--kube-version', KUBE_VERSION, chartDir(), ...(valuesFile ? ['-f', valuesFile] : [])]);
}

export function renderChart(binary: string, valuesFile?: string): Promise<HelmResult> {
  return helm(binary, ['template', 'tsms', chartDir(), '--namespace', 'serving', '--kube-version', KUBE_VERSION, ...(valuesFile ? ['-f', valuesFile] : [])]);
}

export interface CheckResult {
  /** The values file (undefined: the chart's defaults). */
  readonly valuesFile?: string;
  /** Which step refused it: lint, template, or validate; undefined when all passed. */
  readonly failedAt?: 'lint' | 'template' | 'validate';
  readonly messages: readonly string[];
  /** What helm rendered (empty when lint or template failed). */
  readonly manifests: readonly Manifest[];
}

/** `helm template` output's source name in messages. */
export const renderName = (valuesFile?: string) => `helm template ${valuesFile ? path.basename(valuesFile) : '(default values)'}`;

/** Lint and render with one values file (undefined: the defaults), without validating. */
export async function lintAndRender(binary: string, valuesFile?: string): Promise<CheckResult> {
  const base = valuesFile === undefined ? {} : { valuesFile };
  const lint = await lintChart(binary, valuesFile);
  if (!lint.ok) return { ...base, failedAt: 'lint', messages: [lint.output.trim()], manifests: [] };
  const rendered = await renderChart(binary, valuesFile);
  if (!rendered.ok) return { ...base, failedAt: 'template', messages: [rendered.output.trim()], manifests: [] };
  try {
    return { ...base, messages: [], manifests: parseManifests(rendered.output, renderName(valuesFile)) };
  } catch (err) {
    return { ...base, failedAt: 'template', messages: [(err as Error).message], manifests: [] };
  }
}

/** Lint, render and validate the chart with each values file; the renders are validated together (one tsc run). */
export async function checkChart(binary: string, valuesFiles: readonly (string | undefined)[]): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const file of valuesFiles) results.push(await lintAndRender(binary, file));
  const problems: Problem[] = await validateManifests(results.flatMap((r) => r.manifests));
  return results.map((r) => {
    if (r.failedAt) return r;
    // A problem of no manifest (tsc could not even start, say) fails every render.
    const own = [...problemsOf(problems, renderName(r.valuesFile)), ...problems.filter((p) => p.source === undefined)];
    return own.length > 0 ? { ...r, failedAt: 'validate' as const, messages: own.map((p) => `${p.where}: ${p.message}`) } : r;
  });
}

/** What a file in deploy/helm/broken-values declares on its first line: `# expect: <step> "<text>"`. */
export function expectedRefusal(valuesFile: string): { step: 'lint' | 'template' | 'validate'; text: string } | undefined {
  const first = readFileSync(valuesFile, 'utf8').split('\n')[0] ?? '';
  const m = /^# expect: (lint|template|validate) "(.+?)"/.exec(first);
  return m ? { step: m[1] as 'lint' | 'template' | 'validate', text: m[2]! } : undefined;
}
