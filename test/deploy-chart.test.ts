/**
 * The Helm chart (deploy/helm/tsms) and the KServe manifests (deploy/kserve), checked offline with
 * real Helm 4 and Helm 3: `helm lint --strict` and `helm template` with every values file in
 * deploy/helm/tsms/ci, each rendered object validated against the Kubernetes schemas with unknown
 * fields rejected (scripts/check-deploy/manifests.ts), and every file in deploy/helm/broken-values
 * refused at the step its first line names.
 * Helm comes from an npm package (scripts/check-deploy/tools.ts); where it cannot be had the tests
 * skip with the reason, except in CI (CI=true), where they fail.
 */
import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkChart, expectedRefusal, lintAndRender, type CheckResult } from '../scripts/check-deploy/chart.js';
import { parseManifests, validateManifests, problemsOf, type K8sObject, type Manifest } from '../scripts/check-deploy/manifests.js';
import { ensureHelm, HELM_RELEASES, repoRoot, ToolUnavailable } from '../scripts/check-deploy/tools.js';

const root = repoRoot();
const ciDir = path.join(root, 'deploy/helm/tsms/ci');
const brokenDir = path.join(root, 'deploy/helm/broken-values');
const goodValues = readdirSync(ciDir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(ciDir, f));
const brokenValues = readdirSync(brokenDir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(brokenDir, f));

/** helm binaries by major version, or the reason there is none. */
const helms = new Map<number, string | Error>();

async function helmFor(t: TestContext, major: number): Promise<string | undefined> {
  const got = helms.get(major);
  if (typeof got === 'string') return got;
  const reason = got?.message ?? 'not fetched';
  if (process.env['CI']) throw new Error(`helm ${major} is needed in CI: ${reason}`);
  t.skip(`helm ${major} unavailable: ${reason}`);
  return undefined;
}

before(async () => {
  for (const release of HELM_RELEASES) {
    try {
      helms.set(release.major, await ensureHelm(release));
    } catch (err) {
      if (!(err instanceof ToolUnavailable)) throw err;
      helms.set(release.major, err);
    }
  }
});

// ---- helpers over rendered objects ----
const find = (manifests: readonly Manifest[], kind: string, name?: string): K8sObject[] =>
  manifests.map((m) => m.object).filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
const one = (manifests: readonly Manifest[], kind: string, name?: string): K8sObject => {
  const found = find(manifests, kind, name);
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, got ${found.length}`);
  return found[0]!;
};
// Rendered objects are plain JSON; tests read them loosely.
type Any = any;
const podSpec = (d: K8sObject): Any => (d as Any).spec.template.spec;
const server = (d: K8sObject): Any => podSpec(d).containers.find((c: Any) => c.name === 'tsms');
const kinds = (manifests: readonly Manifest[]) => manifests.map((m) => `${String(m.object.kind)}/${m.object.metadata?.name}`).sort();

describe('Helm chart deploy/helm/tsms with Helm 4', () => {
  let results: CheckResult[] = [];
  const byFile = (name?: string) => results.find((r) => (r.valuesFile ? path.basename(r.valuesFile) : undefined) === name)!;

  before(async () => {
    const helm = helms.get(4);
    if (typeof helm === 'string') results = await checkChart(helm, [undefined, ...goodValues]);
  });

  test('lints strictly, renders and validates with the defaults and every ci/ values file', async (t) => {
    if (!(await helmFor(t, 4))) return;
    assert.ok(goodValues.length >= 5, 'the ci/ values files are missing');
    assert.equal(results.length, goodValues.length + 1);
    for (const r of results) {
      assert.equal(r.failedAt, undefined, `${r.valuesFile ?? 'defaults'} failed at ${r.failedAt}:\n${r.messages.join('\n')}`);
      assert.ok(r.manifests.length >= 4);
    }
  });

  test('defaults: two replicas serving the image\'s models with probes, metrics, threads from the CPU request', async (t) => {
    if (!(await helmFor(t, 4))) return;
    const m = byFile(undefined).manifests;
    assert.deepEqual(kinds(m), [
      'ConfigMap/tsms-config', 'Deployment/tsms', 'Pod/tsms-test-ready', 'PodDisruptionBudget/tsms', 'Service/tsms', 'ServiceAccount/tsms',
    ]);
    const d = one(m, 'Deployment') as Any;
    assert.equal(d.spec.replicas, 2);
    const c = server(d);
    assert.deepEqual(c.args, ['--port=9000', '--rest_port=8000', '--config_path=/config/config.json', '--file_system_poll_wait_seconds=1', '--log_level=INFO', '--metrics_enable']);
    assert.deepEqual(c.ports, [{ name: 'grpc', containerPort: 9000, protocol: 'TCP' }, { name: 'http', containerPort: 8000, protocol: 'TCP' }]);
    assert.deepEqual([c.startupProbe.httpGet, c.livenessProbe.httpGet, c.readinessProbe.httpGet], [
      { path: '/v2/health/live', port: 'http' }, { path: '/v2/health/live', port: 'http' }, { path: '/v2/health/ready', port: 'http' },
    ]);
    // The CPU limit (cgroup quota → ONNX Runtime threads) follows the request.
    assert.deepEqual(c.resources, { requests: { cpu: '2', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } });
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(podSpec(d).securityContext.runAsNonRoot, true);
    assert.deepEqual(c.volumeMounts.map((v: Any) => v.mountPath), ['/tmp', '/config']);
    assert.match(d.spec.template.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/);
    const config = JSON.parse((one(m, 'ConfigMap') as Any).data['config.json']);
    assert.deepEqual(config, { model_config_list: [{ config: { name: 'dummy', base_path: '/opt/tsms/models/dummy' } }] });
    const svc = one(m, 'Service') as Any;
    assert.deepEqual(svc.spec.ports.map((p: Any) => [p.name, p.port, p.targetPort]), [['grpc', 9000, 'grpc'], ['http', 8000, 'http']]);
    assert.deepEqual((one(m, 'PodDisruptionBudget') as Any).spec.maxUnavailable, 1);
  });

  test('autoscaling: HPA owns the replica count, PDB, ServiceMonitor and a headless Service', async (t) => {
    if (!(await helmFor(t, 4))) return;
    const m = byFile('autoscaling-values.yaml').manifests;
    const d = one(m, 'Deployment') as Any;
    assert.equal(d.spec.replicas, undefined);
    const hpa = one(m, 'HorizontalPodAutoscaler') as Any;
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas, hpa.spec.scaleTargetRef.name], [3, 20, 'tsms']);
    assert.deepEqual(hpa.spec.metrics.map((x: Any) => x.type), ['Resource', 'Pods']);
    assert.equal(hpa.spec.metrics[0].resource.target.averageUtilization, 60);
    assert.equal((one(m, 'PodDisruptionBudget') as Any).spec.minAvailable, '50%');
    const sm = one(m, 'ServiceMonitor') as Any;
    assert.deepEqual(sm.spec.endpoints[0], { port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '5s' });
    assert.equal(sm.metadata.labels.release, 'prometheus');
    assert.equal((one(m, 'Service', 'tsms-headless') as Any).spec.clusterIP, 'None');
    // cpu: 4 (a number in values) is rendered as the quantity string "4", limit included.
    assert.deepEqual(server(d).resources.limits, { cpu: '4', memory: '4Gi' });
    const config = JSON.parse((one(m, 'ConfigMap') as Any).data['config.json']);
    assert.deepEqual(config.model_config_list.map((e: Any) => e.config.name), ['dummy', 'add_two_inputs']);
  });

  test('S3: credentials from the Secret, endpoint and region as environment, memory-backed cache', async (t) => {
    if (!(await helmFor(t, 4))) return;
    const d = one(byFile('s3-values.yaml').manifests, 'Deployment') as Any;
    const c = server(d);
    assert.deepEqual(c.env, [{ name: 'S3_ENDPOINT', value: 'http://minio.storage.svc:9000' }, { name: 'AWS_REGION', value: 'eu-west-1' }]);
    assert.deepEqual(c.envFrom, [{ secretRef: { name: 'tsms-s3-credentials' } }]);
    assert.deepEqual(podSpec(d).volumes[0], { name: 'tmp', emptyDir: { sizeLimit: '2Gi', medium: 'Memory' } });
    assert.ok(c.args.includes('--log_level=DEBUG') && c.args.includes('--file_system_poll_wait_seconds=30'));
  });

  test('GCS and Azure: key file mounted for GOOGLE_APPLICATION_CREDENTIALS, connection string from a Secret', async (t) => {
    if (!(await helmFor(t, 4))) return;
    const m = byFile('gcs-azure-values.yaml').manifests;
    const d = one(m, 'Deployment') as Any;
    const c = server(d);
    assert.deepEqual(c.env, [{ name: 'GOOGLE_APPLICATION_CREDENTIALS', value: '/var/run/secrets/tsms/gcs/service-account.json' }]);
    assert.deepEqual(c.envFrom, [{ secretRef: { name: 'tsms-azure-storage' } }]);
    assert.deepEqual(c.volumeMounts.find((v: Any) => v.name === 'gcs-credentials'), { name: 'gcs-credentials', mountPath: '/var/run/secrets/tsms/gcs', readOnly: true });
    assert.deepEqual(podSpec(d).volumes.find((v: Any) => v.name === 'gcs-credentials').secret, {
      secretName: 'tsms-gcs-key', items: [{ key: 'service-account.json', path: 'service-account.json' }],
    });
    assert.equal(podSpec(d).serviceAccountName, 'tsms-reader');
    assert.equal(find(m, 'PodDisruptionBudget').length, 0);
  });

  test('single-model mode on a volume: --model_name/--model_path, no ConfigMap, own ports', async (t) => {
    if (!(await helmFor(t, 4))) return;
    const m = byFile('pvc-single-model-values.yaml').manifests;
    assert.equal(find(m, 'ConfigMap').length, 0);
    assert.equal(find(m, 'ServiceAccount').length, 0);
    const d = one(m, 'Deployment') as Any;
    const c = server(d);
    assert.deepEqual(c.args, ['--port=9001', '--rest_port=8001', '--model_name=resnet', '--model_path=/models/resnet', '--file_system_poll_wait_seconds=1', '--log_level=INFO', '--grpc_workers=2', '--rest_workers=16']);
    assert.deepEqual(c.volumeMounts.find((v: Any) => v.name === 'models'), { name: 'models', mountPath: '/models', readOnly: true });
    assert.equal(c.lifecycle, undefined);
    const svc = one(m, 'Service') as Any;
    assert.equal(svc.spec.type, 'LoadBalancer');
    assert.deepEqual(svc.spec.ports.map((p: Any) => [p.port, p.targetPort]), [[9000, 'grpc'], [8080, 'http']]);
    assert.equal(podSpec(d).topologySpreadConstraints[0].topologyKey, 'topology.kubernetes.io/zone');
  });

  test('an existing ConfigMap: mounted, not rendered, reloaded live (no checksum), no CPU limit', async (t) => {
    if (!(await helmFor(t, 4))) return;
    const m = byFile('existing-configmap-values.yaml').manifests;
    assert.equal(find(m, 'ConfigMap').length, 0);
    const d = one(m, 'Deployment') as Any;
    assert.equal(podSpec(d).volumes.find((v: Any) => v.name === 'config').configMap.name, 'model-server-config');
    assert.equal(d.spec.template.metadata.annotations, undefined);
    assert.deepEqual(server(d).resources, { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '2Gi' } });
  });

  test('every file in broken-values/ is refused, at the step and for the reason it names', async (t) => {
    const helm = await helmFor(t, 4);
    if (!helm) return;
    assert.ok(brokenValues.length >= 8, 'the broken values files are missing');
    const refused = await checkChart(helm, brokenValues);
    for (const r of refused) {
      const expect = expectedRefusal(r.valuesFile!);
      assert.ok(expect, `${r.valuesFile}: first line must be '# expect: <step> "<text>"'`);
      assert.equal(r.failedAt, expect.step, `${path.basename(r.valuesFile!)} should fail at ${expect.step}, got ${r.failedAt ?? 'no failure'}:\n${r.messages.join('\n')}`);
      assert.ok(r.messages.join('\n').includes(expect.text), `${path.basename(r.valuesFile!)}: no "${expect.text}" in:\n${r.messages.join('\n')}`);
    }
  });
});

describe('Helm chart deploy/helm/tsms with Helm 3', () => {
  test('lints strictly and renders the same objects as Helm 4 for every values file', async (t) => {
    const helm3 = await helmFor(t, 3);
    const helm4 = await helmFor(t, 4);
    if (!helm3 || !helm4) return;
    for (const file of [undefined, ...goodValues]) {
      const r3: CheckResult = await lintAndRender(helm3, file);
      const r4: CheckResult = await lintAndRender(helm4, file);
      assert.equal(r3.failedAt, undefined, `${file ?? 'defaults'}: ${r3.messages.join('\n')}`);
      assert.deepEqual(r3.manifests.map((x) => x.object), r4.manifests.map((x) => x.object), `${file ?? 'defaults'} renders differently`);
    }
  });
});

describe('KServe manifests deploy/kserve', () => {
  const kserveDir = path.join(root, 'deploy/kserve');
  const files = readdirSync(kserveDir).filter((f) => f.endsWith('.yaml')).sort();
  const manifests = files.flatMap((f) => parseManifests(readFileSync(path.join(kserveDir, f), 'utf8'), `deploy/kserve/${f}`));

  test('ServingRuntimes, InferenceService and credentials are valid, unknown fields rejected', async () => {
    assert.deepEqual(kinds(manifests), ['InferenceService/dummy', 'Secret/tsms-models-s3', 'ServiceAccount/tsms-models', 'ServingRuntime/tsms', 'ServingRuntime/tsms-grpc']);
    // The same objects with one mistake each, checked in the same run: each must be refused.
    const runtime = structuredClone(one(manifests, 'ServingRuntime', 'tsms')) as Any;
    runtime.spec.protocolVersions = ['v2', 'grpc-v3'];
    const isvc = structuredClone(one(manifests, 'InferenceService')) as Any;
    isvc.spec.predictor.model.storageURI = isvc.spec.predictor.model.storageUri;
    delete isvc.spec.predictor.model.storageUri;
    const flags = structuredClone(one(manifests, 'ServingRuntime', 'tsms-grpc')) as Any;
    flags.spec.containers[0].args.push('--rest_port=http');
    const mutated: Manifest[] = [
      { source: 'mutated protocol', index: 0, object: runtime },
      { source: 'mutated storageURI', index: 0, object: isvc },
      { source: 'mutated flag', index: 0, object: flags },
    ];
    const problems = await validateManifests([...manifests, ...mutated]);
    const good = problems.filter((p) => p.source?.startsWith('deploy/kserve/') || p.source === undefined);
    assert.deepEqual(good, []);
    assert.match(problemsOf(problems, 'mutated protocol').map((p) => p.message).join('\n'), /"grpc-v3"/);
    assert.match(problemsOf(problems, 'mutated storageURI').map((p) => p.message).join('\n'), /'"storageURI"' does not exist in type 'ModelSpec'/);
    assert.match(problemsOf(problems, 'mutated flag').map((p) => p.message).join('\n'), /tsms refuses its arguments/);
  });

  test('the runtime serves the downloaded model in single-model mode on the ports it declares', () => {
    for (const name of ['tsms', 'tsms-grpc']) {
      const c = (one(manifests, 'ServingRuntime', name) as Any).spec.containers[0];
      assert.equal(c.name, 'kserve-container');
      assert.ok(c.args.includes('--model_name={{.Name}}') && c.args.includes('--model_path=/mnt/models'));
      const declared = c.ports[0].containerPort;
      const flag = name === 'tsms' ? '--rest_port=' : '--port=';
      assert.ok(c.args.includes(`${flag}${declared}`), `${name} declares port ${declared} but serves elsewhere`);
    }
    const isvc = one(manifests, 'InferenceService') as Any;
    assert.equal(isvc.spec.predictor.model.runtime, 'tsms');
    assert.deepEqual((one(manifests, 'ServiceAccount') as Any).secrets, [{ name: 'tsms-models-s3' }]);
  });
});
