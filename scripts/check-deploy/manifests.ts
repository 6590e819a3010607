/**
 * Offline validation of Kubernetes manifests (rendered Helm output, plain YAML), in three layers
 * that catch different mistakes (see ../shared/research/infra.md):
 *  1. schemas: kubernetes-models' validators, compiled from the Kubernetes OpenAPI spec and the
 *     Prometheus operator's CRDs: types, required fields, enums, formats;
 *  2. unknown fields: every object becomes a typed constant in a generated TypeScript file, and
 *     tsc's excess-property check rejects any field the type does not have (kubernetes-types for
 *     the core kinds, deploy/types/kserve.ts for KServe's CRDs);
 *  3. consistency: what no schema sees (a Service selecting no pod, a probe on a port that does
 *     not exist, tsms flags or a config.json that the server itself would refuse).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { parseCommandLine } from '../../src/cli/args.js';
import { parseModelListConfig } from '../../src/config/config-file.js';
import { repoRoot } from './tools.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export type K8sObject = { apiVersion?: unknown; kind?: unknown; metadata?: { name?: string; labels?: Record<string, string> } } & Record<string, unknown>;

export interface Manifest {
  /** File or render that produced it, for messages. */
  readonly source: string;
  /** Position among the documents of that source. */
  readonly index: number;
  readonly object: K8sObject;
}

export interface Problem {
  /** The manifest's source, when the problem belongs to one. */
  readonly source?: string;
  readonly where: string;
  readonly message: string;
}

interface KindInfo {
  /** kubernetes-models module exporting a class named like the kind, or none for KServe's CRDs. */
  readonly model?: string;
  /** TypeScript type for the unknown-field check: [module, exported name]. */
  readonly type: readonly [string, string];
}

/** Every kind the project renders. Anything else is a problem: add it here with its schema. */
const KINDS: Record<string, KindInfo> = {
  'apps/v1/Deployment': { model: 'kubernetes-models/apps/v1/Deployment', type: ['kubernetes-types/apps/v1', 'Deployment'] },
  'v1/Service': { model: 'kubernetes-models/v1/Service', type: ['kubernetes-types/core/v1', 'Service'] },
  'v1/ConfigMap': { model: 'kubernetes-models/v1/ConfigMap', type: ['kubernetes-types/core/v1', 'ConfigMap'] },
  'v1/Secret': { model: 'kubernetes-models/v1/Secret', type: ['kubernetes-types/core/v1', 'Secret'] },
  'v1/ServiceAccount': { model: 'kubernetes-models/v1/ServiceAccount', type: ['kubernetes-types/core/v1', 'ServiceAccount'] },
  'v1/Pod': { model: 'kubernetes-models/v1/Pod', type: ['kubernetes-types/core/v1', 'Pod'] },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: ['kubernetes-types/autoscaling/v2', 'HorizontalPodAutoscaler'],
  },
  'policy/v1/PodDisruptionBudget': { model: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: ['kubernetes-types/policy/v1', 'PodDisruptionBudget'] },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    model: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
    type: ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', 'IServiceMonitor'],
  },
  'serving.kserve.io/v1alpha1/ServingRuntime': { type: ['./kserve', 'ServingRuntime'] },
  'serving.kserve.io/v1alpha1/ClusterServingRuntime': { type: ['./kserve', 'ClusterServingRuntime'] },
  'serving.kserve.io/v1beta1/InferenceService': { type: ['./kserve', 'InferenceService'] },
};

const kindKey = (o: K8sObject) => `${String(o.apiVersion)}/${String(o.kind)}`;
const describe = (m: Manifest) => `${m.source}#${m.index} ${String(m.object.kind)} ${m.object.metadata?.name ?? '(no name)'}`;

/** The non-empty documents of a multi-document YAML text; a YAML syntax error throws. */
export function parseManifests(text: string, source: string): Manifest[] {
  const out: Manifest[] = [];
  YAML.parseAllDocuments(text).forEach((doc, index) => {
    if (doc.errors.length > 0) throw new Error(`${source}#${index}: YAML error: ${doc.errors[0]!.message}`);
    const object = doc.toJS() as unknown;
    if (object === null || object === undefined) return;
    if (typeof object !== 'object' || Array.isArray(object)) throw new Error(`${source}#${index}: not a Kubernetes object`);
    out.push({ source, index, object: object as K8sObject });
  });
  return out;
}

/**
 * Layers 1 and 3, then 2, which starts tsc once for all manifests: validate many renders in one
 * call. Consistency is checked within each source (one render, one file) only.
 */
export async function validateManifests(manifests: readonly Manifest[]): Promise<Problem[]> {
  const sources = [...new Set(manifests.map((m) => m.source))];
  return [
    ...schemaProblems(manifests),
    ...sources.flatMap((source) => consistencyProblems(manifests.filter((m) => m.source === source))),
    ...(await unknownFieldProblems(manifests)),
  ];
}

/** Problems of one source (render or file). */
export function problemsOf(problems: readonly Problem[], source: string): Problem[] {
  return problems.filter((p) => p.source === source);
}

// ---------------------------------------------------------------------------------------------
// 1. schemas

export function schemaProblems(manifests: readonly Manifest[]): Problem[] {
  return manifests.flatMap((m) => schemaProblemsOf(m).map((p) => ({ ...p, source: m.source })));
}

function schemaProblemsOf(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  const info = KINDS[kindKey(m.object)];
  if (!info) return [{ where: describe(m), message: `no schema known for ${kindKey(m.object)} (add it to scripts/check-deploy/manifests.ts)` }];
  if (info.model) problems.push(...modelProblems(describe(m), info.model, String(m.object.kind), m.object));
  // KServe's CRDs have no published validators; their embedded core objects do.
  for (const [at, container] of kserveContainers(m.object)) {
    problems.push(...modelProblems(`${describe(m)} ${at}`, 'kubernetes-models/v1/Container', 'Container', container));
  }
  return problems;
}

function modelProblems(where: string, module: string, className: string, data: unknown): Problem[] {
  const Model = (require(module) as Record<string, new (data: unknown) => { validate(): void }>)[className];
  if (!Model) return [{ where, message: `${module} has no ${className}` }];
  try {
    new Model(data).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (!errors) return [{ where, message: (err as Error).message }];
    return errors.map((e) => ({ where, message: `${e.instancePath || '/'} ${e.message ?? 'is invalid'}` }));
  }
}

/** Containers inside KServe objects, with where they are ([path, container]). */
function kserveContainers(o: K8sObject): [string, unknown][] {
  const spec = o['spec'] as Record<string, unknown> | undefined;
  if (!spec || typeof o.apiVersion !== 'string' || !o.apiVersion.startsWith('serving.kserve.io/')) return [];
  const out: [string, unknown][] = [];
  const list = (at: string, containers: unknown) => {
    if (Array.isArray(containers)) containers.forEach((c, i) => out.push([`${at}[${i}]`, c]));
  };
  list('spec.containers', spec['containers']);
  const predictor = spec['predictor'] as Record<string, unknown> | undefined;
  if (predictor) {
    list('spec.predictor.containers', predictor['containers']);
    const model = predictor['model'] as Record<string, unknown> | undefined;
    if (model) {
      // ModelSpec inlines a Container whose name KServe fills in.
      const { modelFormat: _f, runtime: _r, storageUri: _s, runtimeVersion: _v, protocolVersion: _p, ...container } = model;
      out.push(['spec.predictor.model', { name: 'kserve-container', ...container }]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 2. unknown fields

export async function unknownFieldProblems(manifests: readonly Manifest[]): Promise<Problem[]> {
  const known = manifests.filter((m) => KINDS[kindKey(m.object)]);
  if (known.length === 0) return [];
  const aliases = new Map<string, string>();
  const imports: string[] = [];
  const body: string[] = [];
  /** Line ranges of the generated file → manifest, to name the object in each tsc error. */
  const ranges: { from: number; to: number; manifest: Manifest }[] = [];
  let line = 1;
  const typeAlias = ([module, name]: readonly [string, string]) => {
    const key = `${module}#${name}`;
    let alias = aliases.get(key);
    if (!alias) {
      alias = `T${aliases.size}`;
      aliases.set(key, alias);
      imports.push(`import type { ${name} as ${alias} } from '${module}';`);
    }
    return alias;
  };
  const declarations = known.map((m, i) => ({ m, text: `export const d${i}: ${typeAlias(KINDS[kindKey(m.object)]!.type)} = ${JSON.stringify(m.object, null, 2)};` }));
  line += imports.length;
  for (const { m, text } of declarations) {
    const lines = text.split('\n').length;
    body.push(`// ${describe(m)}`, text);
    ranges.push({ from: line + 1, to: line + lines, manifest: m });
    line += lines + 1;
  }
  const source = `${imports.join('\n')}\n${body.join('\n')}\n`;
  const sourceLines = source.split('\n');

  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsms-k8s-check-'));
  try {
    writeFileSync(path.join(dir, 'manifests.ts'), source);
    copyFileSync(path.join(repoRoot(), 'deploy', 'types', 'kserve.ts'), path.join(dir, 'kserve.ts'));
    symlinkSync(path.join(repoRoot(), 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const tsc = require.resolve('typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'preserve', '--moduleResolution', 'bundler', '--target', 'es2022', '--types', 'node', 'manifests.ts'];
    try {
      await run(process.execPath, [tsc, ...args], { cwd: dir, maxBuffer: 64 << 20 });
      return [];
    } catch (err) {
      const output = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
      return tscProblems(output, ranges, sourceLines);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function tscProblems(output: string, ranges: { from: number; to: number; manifest: Manifest }[], sourceLines: string[]): Problem[] {
  const problems: Problem[] = [];
  let current: Problem | undefined;
  for (const text of output.split('\n')) {
    const match = /^(\S+)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(text);
    if (match) {
      const at = Number(match[2]);
      const range = ranges.find((r) => at >= r.from && at <= r.to);
      current = {
        ...(range && { source: range.manifest.source }),
        where: range ? describe(range.manifest) : `${match[1]}:${at}`,
        message: `${match[5]} (${match[4]}, at: ${(sourceLines[at - 1] ?? '').trim()})`,
      };
      problems.push(current);
    } else if (current && text.startsWith('  ')) {
      // tsc's elaboration lines ("Type 'x' is not assignable to ..."); keep them with their error.
      (current as { message: string }).message += ` | ${text.trim()}`;
    }
  }
  if (problems.length === 0) problems.push({ where: 'tsc', message: output.trim() || 'tsc failed without output' });
  return problems;
}

// ---------------------------------------------------------------------------------------------
// 3. consistency

interface Named { name?: string }
interface ContainerLike extends Named {
  args?: string[];
  ports?: ({ containerPort?: number } & Named)[];
  volumeMounts?: ({ mountPath?: string } & Named)[];
  livenessProbe?: ProbeLike;
  readinessProbe?: ProbeLike;
  startupProbe?: ProbeLike;
}
interface ProbeLike { httpGet?: { port?: number | string }; tcpSocket?: { port?: number | string }; grpc?: { port?: number } }
interface PodSpecLike { containers?: ContainerLike[]; volumes?: ({ configMap?: { name?: string; items?: { key: string; path: string }[] } } & Named)[] }

/** Containers that run tsms: the chart's `tsms`, KServe's `kserve-container`. */
const TSMS_CONTAINERS = new Set(['tsms', 'kserve-container']);

/** Consistency of one source's manifests (they are meant to be applied together). */
export function consistencyProblems(manifests: readonly Manifest[]): Problem[] {
  const source = manifests[0]?.source;
  return consistencyProblemsOf(manifests).map((p) => ({ ...p, ...(source !== undefined && { source }) }));
}

function consistencyProblemsOf(manifests: readonly Manifest[]): Problem[] {
  const problems: Problem[] = [];
  const byKind = (kind: string) => manifests.filter((m) => m.object.kind === kind);
  const deployments = byKind('Deployment');
  const configMaps = new Map(byKind('ConfigMap').map((m) => [m.object.metadata?.name, m.object]));
  const podLabels = (d: Manifest) => (d.object['spec'] as { template?: { metadata?: { labels?: Record<string, string> } } }).template?.metadata?.labels ?? {};
  const podSpec = (d: Manifest) => ((d.object['spec'] as { template?: { spec?: PodSpecLike } }).template?.spec ?? {});
  const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
    selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

  for (const d of deployments) {
    const spec = d.object['spec'] as { selector?: { matchLabels?: Record<string, string> }; replicas?: number };
    if (!selects(spec.selector?.matchLabels, podLabels(d))) problems.push({ where: describe(d), message: 'spec.selector.matchLabels does not match the pod template labels' });
    problems.push(...podProblems(describe(d), podSpec(d), configMaps));
  }
  for (const p of byKind('Pod')) problems.push(...podProblems(describe(p), p.object['spec'] as PodSpecLike, configMaps));
  for (const r of [...byKind('ServingRuntime'), ...byKind('ClusterServingRuntime')]) {
    problems.push(...podProblems(describe(r), r.object['spec'] as PodSpecLike, configMaps, { '{{.Name}}': 'model' }));
  }
  for (const s of byKind('InferenceService')) {
    const model = (s.object['spec'] as { predictor?: { model?: ContainerLike } }).predictor?.model;
    if (model?.args) problems.push(...argProblems(`${describe(s)} spec.predictor.model`, model.args, {}));
  }

  const services = byKind('Service');
  for (const s of services) {
    const spec = s.object['spec'] as { selector?: Record<string, string>; ports?: ({ targetPort?: number | string } & Named)[] };
    const targets = deployments.filter((d) => selects(spec.selector, podLabels(d)));
    if (deployments.length > 0 && targets.length === 0) {
      problems.push({ where: describe(s), message: 'its selector matches no Deployment pod template' });
      continue;
    }
    for (const port of spec.ports ?? []) {
      for (const d of targets) {
        if (!containerPort(podSpec(d).containers ?? [], port.targetPort)) {
          problems.push({ where: describe(s), message: `port ${port.name ?? '?'}: targetPort ${String(port.targetPort)} is not a container port of ${describe(d)}` });
        }
      }
    }
  }
  for (const h of byKind('HorizontalPodAutoscaler')) {
    const ref = (h.object['spec'] as { scaleTargetRef?: { kind?: string; name?: string } }).scaleTargetRef;
    const target = deployments.find((d) => ref?.kind === 'Deployment' && d.object.metadata?.name === ref.name);
    if (!target) problems.push({ where: describe(h), message: `scaleTargetRef ${ref?.kind}/${ref?.name} is not a Deployment here` });
    else if ((target.object['spec'] as { replicas?: number }).replicas !== undefined) {
      problems.push({ where: describe(target), message: 'sets spec.replicas while a HorizontalPodAutoscaler scales it (every upgrade would reset the scale)' });
    }
  }
  for (const b of byKind('PodDisruptionBudget')) {
    const selector = (b.object['spec'] as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels;
    if (!deployments.some((d) => selects(selector, podLabels(d)))) problems.push({ where: describe(b), message: 'its selector matches no Deployment pod template' });
  }
  for (const sm of byKind('ServiceMonitor')) {
    const spec = sm.object['spec'] as { selector?: { matchLabels?: Record<string, string> }; endpoints?: { port?: string }[] };
    const matched = services.filter((s) => selects(spec.selector?.matchLabels, s.object.metadata?.labels ?? {}));
    if (matched.length === 0) problems.push({ where: describe(sm), message: 'its selector matches no Service' });
    for (const e of spec.endpoints ?? []) {
      for (const s of matched) {
        const ports = (s.object['spec'] as { ports?: Named[] }).ports ?? [];
        if (!ports.some((p) => p.name === e.port)) problems.push({ where: describe(sm), message: `endpoint port ${e.port} is not a port of ${describe(s)}` });
      }
    }
  }
  return problems;
}

function containerPort(containers: readonly ContainerLike[], port: number | string | undefined): boolean {
  if (port === undefined) return false;
  return containers.some((c) => (c.ports ?? []).some((p) => (typeof port === 'number' ? p.containerPort === port : p.name === port)));
}

function podProblems(where: string, spec: PodSpecLike, configMaps: Map<string | undefined, K8sObject>, substitutions: Record<string, string> = {}): Problem[] {
  const problems: Problem[] = [];
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  for (const c of spec.containers ?? []) {
    const at = `${where} container ${c.name}`;
    for (const [probeName, probe] of [['livenessProbe', c.livenessProbe], ['readinessProbe', c.readinessProbe], ['startupProbe', c.startupProbe]] as const) {
      const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
      if (port !== undefined && !containerPort([c], port)) problems.push({ where: at, message: `${probeName} port ${String(port)} is not one of its ports` });
    }
    for (const mount of c.volumeMounts ?? []) {
      if (!volumes.has(mount.name)) problems.push({ where: at, message: `volumeMount ${mount.name} has no volume of that name` });
    }
    if (!TSMS_CONTAINERS.has(c.name ?? '') || !c.args) continue;
    problems.push(...argProblems(at, c.args, substitutions));
    // The config.json the server will read, when it comes from a ConfigMap of this set.
    const configPath = c.args.find((a) => a.startsWith('--config_path='))?.slice('--config_path='.length);
    if (!configPath) continue;
    const mount = (c.volumeMounts ?? []).find((m) => m.mountPath && path.posix.dirname(configPath) === m.mountPath.replace(/\/+$/, ''));
    const source = mount && volumes.get(mount.name)?.configMap;
    const configMap = source && configMaps.get(source.name);
    if (!configMap) continue;
    const file = path.posix.basename(configPath);
    const key = source.items ? source.items.find((i) => i.path === file)?.key : file;
    const text = key === undefined ? undefined : (configMap['data'] as Record<string, string> | undefined)?.[key];
    if (text === undefined) {
      problems.push({ where: at, message: `${configPath} is not in ConfigMap ${source.name}` });
      continue;
    }
    problems.push(...configJsonProblems(`${at} ${configPath}`, text, path.posix.dirname(configPath)));
  }
  return problems;
}

/** The server's own command-line parser must accept the container's arguments. */
function argProblems(where: string, args: readonly string[], substitutions: Record<string, string>): Problem[] {
  const argv = args.map((a) => Object.entries(substitutions).reduce((s, [from, to]) => s.split(from).join(to), a));
  try {
    const parsed = parseCommandLine(argv);
    return parsed.action === 'serve' ? [] : [{ where, message: `the arguments make tsms print its ${parsed.action} and exit, not serve` }];
  } catch (err) {
    return [{ where, message: `tsms refuses its arguments: ${(err as Error).message}` }];
  }
}

/** config.json must parse with the server's own parser, every entry accepted. */
function configJsonProblems(where: string, text: string, configDir: string): Problem[] {
  try {
    const parsed = parseModelListConfig(text, { configDir });
    return parsed.rejected.map((r) => ({ where, message: `model_config_list[${r.index}] (${r.name}) is rejected: ${r.reason}` }));
  } catch (err) {
    return [{ where, message: (err as Error).message }];
  }
}
