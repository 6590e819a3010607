/**
 * All deployment checks in one command, for people (CI runs the same checks as node tests:
 * test/deploy-chart.test.ts, test/deploy-dockerfile.test.ts):
 *
 *   node dist/scripts/check-deploy/main.js              # chart, KServe manifests, Dockerfile rules
 *   node dist/scripts/check-deploy/main.js --docker-sim # also replay the Docker build and serve from it
 *   node dist/scripts/check-deploy/main.js --render ci/s3-values.yaml   # print what helm renders
 *
 * Prints one line per check and closes with "N passed, M failed"; exits 1 when any failed.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkChart, chartDir, expectedRefusal, lintAndRender, renderChart } from './chart.js';
import { imageCommand, lintDockerfile, simulateBuild } from './dockerfile.js';
import { parseManifests, validateManifests } from './manifests.js';
import { serve } from './serve.js';
import { ensureHelm, HELM_RELEASES, repoRoot, tempFolder } from './tools.js';

let passed = 0;
let failed = 0;

function report(ok: boolean, name: string, details: readonly string[] = []): void {
  if (ok) passed++;
  else failed++;
  process.stdout.write(`${ok ? 'ok' : 'FAILED'} - ${name}\n`);
  if (!ok) for (const d of details) process.stdout.write(`    ${d.split('\n').join('\n    ')}\n`);
}

const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(dir, f));

async function main(argv: string[]): Promise<number> {
  const root = repoRoot();
  const [helm4, helm3] = await Promise.all(HELM_RELEASES.map((r) => ensureHelm(r)));

  const renderAt = argv.indexOf('--render');
  if (renderAt >= 0) {
    const file = argv[renderAt + 1];
    const result = await renderChart(helm4!, file === undefined ? undefined : path.resolve(chartDir(), file));
    process.stdout.write(result.output);
    return result.ok ? 0 : 1;
  }

  const good = [undefined, ...yamlFiles(path.join(chartDir(), 'ci'))];
  for (const r of await checkChart(helm4!, good)) {
    report(!r.failedAt, `helm 4 lint/template/validate: ${r.valuesFile ? path.relative(root, r.valuesFile) : 'default values'}`, r.messages);
  }
  for (const file of good) {
    const r = await lintAndRender(helm3!, file);
    report(!r.failedAt, `helm 3 lint/template: ${file ? path.relative(root, file) : 'default values'}`, r.messages);
  }
  for (const r of await checkChart(helm4!, yamlFiles(path.join(root, 'deploy/helm/broken-values')))) {
    const expect = expectedRefusal(r.valuesFile!);
    const ok = expect !== undefined && r.failedAt === expect.step && r.messages.join('\n').includes(expect.text);
    report(ok, `refused at ${expect?.step ?? '?'}: ${path.relative(root, r.valuesFile!)}`, [`failed at: ${r.failedAt ?? 'nothing'}`, ...r.messages]);
  }

  const kserve = yamlFiles(path.join(root, 'deploy/kserve')).flatMap((f) => parseManifests(readFileSync(f, 'utf8'), path.relative(root, f)));
  const problems = await validateManifests(kserve);
  report(problems.length === 0, `KServe manifests (${kserve.length} objects)`, problems.map((p) => `${p.where}: ${p.message}`));

  const lint = lintDockerfile();
  report(lint.length === 0, 'Dockerfile rules', lint);

  if (argv.includes('--docker-sim')) {
    const dir = tempFolder('tsms-docker-sim-');
    try {
      const image = await simulateBuild(dir);
      const { command, args, env } = imageCommand(image);
      const server = await serve({ command, args, env, cwd: os.tmpdir() });
      try {
        const res = await fetch(`${server.restUrl}/v2/health/ready`);
        report(res.status === 200, 'replayed Docker build serves the built-in models', [`/v2/health/ready answered ${res.status}`]);
      } finally {
        await server.stop();
      }
    } catch (err) {
      report(false, 'replayed Docker build serves the built-in models', [(err as Error).message]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
