/**
 * The container image, checked without a Docker engine: the Dockerfile's rules (lintDockerfile,
 * and that it refuses the mistakes it is there to catch), the health check script against a real
 * server, and (in CI, or with TSMS_DOCKER_SIM=1) a replay of the build whose result must serve.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { imageCommand, includedByDockerignore, lintDockerfile, parseDockerfile, readDockerignore, simulateBuild, type SimulatedImage } from '../scripts/check-deploy/dockerfile.js';
import { serve, type ServerProcess } from '../scripts/check-deploy/serve.js';
import { repoRoot, tempFolder } from '../scripts/check-deploy/tools.js';
import { startServer, type RunningServer } from './helpers/server.js';

const run = promisify(execFile);
const root = repoRoot();
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const healthcheck = path.join(root, 'deploy/docker/healthcheck.mjs');

describe('Dockerfile rules', () => {
  test('the Dockerfile keeps every rule', () => {
    assert.deepEqual(lintDockerfile(), []);
  });

  test('two stages on Node 20, the runtime as uid 10001 with tsms as entrypoint and the built-in models by default', () => {
    const df = parseDockerfile(dockerfile);
    assert.deepEqual(df.stages.map((s) => s.name), ['build', 'runtime']);
    assert.equal(df.globalArgs['NODE_IMAGE'], 'node:20-bookworm-slim');
    const runtime = df.stages[1]!.instructions;
    const last = (k: string) => [...runtime].reverse().find((i) => i.keyword === k)!;
    assert.equal(last('USER').args, '10001:10001');
    assert.deepEqual(last('ENTRYPOINT').exec, ['tsms']);
    assert.deepEqual(last('CMD').exec, ['--config_path', '/opt/tsms/models/config.json', '--port', '9000', '--rest_port', '8000']);
    assert.deepEqual(last('HEALTHCHECK').exec, ['node', '/opt/tsms/healthcheck.mjs']);
    assert.deepEqual(last('EXPOSE').words, ['9000', '8000']);
  });

  // Each mistake must be reported; the message names it.
  const mutations: [string, (text: string) => string, RegExp][] = [
    ['runs as root', (t) => t.replace('USER 10001:10001', 'USER root'), /USER root: use a numeric non-zero uid/],
    ['no USER', (t) => t.replace(/^USER .*$/m, ''), /no USER/],
    ['no HEALTHCHECK', (t) => t.replace(/^HEALTHCHECK .*$/m, ''), /no HEALTHCHECK/],
    ['health check on another endpoint', (t) => t.replace(/^HEALTHCHECK .*$/m, 'HEALTHCHECK CMD ["node", "-e", "fetch(\'http://127.0.0.1:8000/v1/config\')"]'), /\/v2\/health\/ready/],
    ['single stage', (t) => t.slice(t.indexOf('# ---- runtime')), /multi-stage build is expected/],
    ['Node 22 base image', (t) => t.replace('ARG NODE_IMAGE=node:20-bookworm-slim', 'ARG NODE_IMAGE=node:22-bookworm-slim'), /targets Node 20/],
    ['a COPY source that does not exist', (t) => t.replace('COPY proto ./proto', 'COPY protos ./proto'), /protos does not exist/],
    ['npm install instead of npm ci', (t) => t.replace('npm ci --no-audit', 'npm install --no-audit'), /npm install ignores the lockfile/],
    ['no npm prune', (t) => t.replace(' && npm prune --omit=dev --no-audit --no-fund \\\n', ''), /never runs npm prune --omit=dev/],
    ['npm ci before .npmrc', (t) => t.replace('COPY package.json package-lock.json .npmrc tsconfig.json ./', 'COPY package.json package-lock.json tsconfig.json ./'), /before \.npmrc is copied/],
    ['shell-form entrypoint', (t) => t.replace('ENTRYPOINT ["tsms"]', 'ENTRYPOINT tsms'), /exec-form ENTRYPOINT/],
    ['a default flag tsms refuses', (t) => t.replace('"--rest_port", "8000"', '"--rest_port", "eight"'), /tsms refuses these flags/],
    ['a port not exposed', (t) => t.replace('EXPOSE 9000 8000', 'EXPOSE 9000'), /REST port 8000/],
    ['COPY --from an unknown stage', (t) => t.replace('COPY --from=build /build/proto', 'COPY --from=builder /build/proto'), /--from=builder is not an earlier stage/],
  ];
  for (const [name, mutate, expected] of mutations) {
    test(`refuses: ${name}`, () => {
      const changed = mutate(dockerfile);
      assert.notEqual(changed, dockerfile, 'the mutation did not apply: update it to the Dockerfile');
      assert.match(lintDockerfile({ dockerfile: changed }).join('\n'), expected);
    });
  }

  test('refuses a .dockerignore that keeps a copied folder out of the context', () => {
    const ignore = readDockerignore(root).filter((p) => p !== '!src/');
    assert.match(lintDockerfile({ dockerignore: ignore }).join('\n'), /COPY\).*\.dockerignore keeps src\/.* out of the build context/);
  });

  test('.dockerignore matching follows Docker: last match wins, ! re-includes, parents match content', () => {
    const patterns = ['*', '!src/', '!deploy/docker/healthcheck.mjs', 'src/**/*.test.ts'];
    assert.equal(includedByDockerignore('src/server.ts', patterns), true);
    assert.equal(includedByDockerignore('src/core/a.test.ts', patterns), false);
    assert.equal(includedByDockerignore('node_modules/x/index.js', patterns), false);
    assert.equal(includedByDockerignore('deploy/docker/healthcheck.mjs', patterns), true);
    assert.equal(includedByDockerignore('deploy/helm/tsms/values.yaml', patterns), false);
    assert.equal(includedByDockerignore('README.md', []), true);
  });
});

/** Runs the health check script; resolves with its exit code and stderr. */
async function runHealthcheck(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [script], { env: { ...process.env, ...env } });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

describe('container health check (deploy/docker/healthcheck.mjs)', () => {
  let rest: RunningServer | undefined;
  let grpcOnly: RunningServer | undefined;

  before(async () => {
    rest = await startServer({ args: ['--config_path', path.join(root, 'models/config.json')] });
    grpcOnly = await startServer({ args: ['--config_path', path.join(root, 'models/config.json')], noRest: true });
  });

  after(async () => {
    await rest?.stop();
    await grpcOnly?.stop();
  });

  test('healthy: finds --rest_port on the server\'s command line and gets 200 from /v2/health/ready', async () => {
    assert.deepEqual(await runHealthcheck(healthcheck, { TSMS_PID: String(rest!.proc.pid) }), { code: 0, stderr: '' });
  });

  test('healthy without REST: the gRPC port accepts connections', async () => {
    assert.deepEqual(await runHealthcheck(healthcheck, { TSMS_PID: String(grpcOnly!.proc.pid) }), { code: 0, stderr: '' });
  });

  test('unhealthy: a 4xx answer, or nothing listening', async () => {
    const notFound = await runHealthcheck(healthcheck, { TSMS_HEALTH_URL: `${rest!.restUrl}/v2/health/unknown` });
    assert.equal(notFound.code, 1);
    assert.match(notFound.stderr, /not healthy: .* answered 4\d\d/);
    const closed = await runHealthcheck(healthcheck, { TSMS_HEALTH_URL: 'http://127.0.0.1:1/v2/health/ready' });
    assert.equal(closed.code, 1);
    assert.match(closed.stderr, /^not healthy: /);
  });
});

// About 2-3 minutes (npm ci, tsc, npm prune): in CI, or locally with TSMS_DOCKER_SIM=1.
const simulate = process.env['CI'] || process.env['TSMS_DOCKER_SIM'] === '1';

describe('replayed docker build', { skip: simulate ? false : 'set TSMS_DOCKER_SIM=1 to replay the Docker build (npm ci, tsc, npm prune; 2-3 min; always run in CI)' }, () => {
  let dir = '';
  let image: SimulatedImage | undefined;
  let server: ServerProcess | undefined;

  before(async () => {
    dir = tempFolder('tsms-docker-sim-');
    image = await simulateBuild(dir);
    const { command, args, env } = imageCommand(image);
    server = await serve({ command, args, env, cwd: os.tmpdir() });
  }, { timeout: 600_000 });

  after(async () => {
    if (server) assert.equal(await server.stop(), 0);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the image holds production dependencies only, for this platform, without source maps', () => {
    const app = path.join(image!.root, image!.workdir);
    assert.ok(existsSync(path.join(app, 'node_modules/onnxruntime-node')));
    assert.ok(existsSync(path.join(app, 'node_modules/@grpc/grpc-js')));
    for (const dev of ['typescript', 'firebase-tools', 'azurite', 'kubernetes-models']) {
      assert.equal(existsSync(path.join(app, 'node_modules', dev)), false, `dev dependency ${dev} is in the image`);
    }
    const napi = path.join(app, 'node_modules/onnxruntime-node/bin/napi-v6');
    assert.deepEqual(readdirSync(napi), [process.platform]);
    assert.deepEqual(readdirSync(path.join(napi, process.platform)), [process.arch]);
    assert.equal(readdirSync(path.join(app, 'dist/src/cli')).some((f) => f.endsWith('.map')), false);
    assert.ok(existsSync(path.join(app, 'healthcheck.mjs')));
  });

  test('the image\'s default command serves the built-in models, and its health check passes', async () => {
    const res = await fetch(`${server!.restUrl}/v1/models/dummy:predict`, { method: 'POST', body: JSON.stringify({ instances: [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]] }) });
    assert.deepEqual(await res.json(), { predictions: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] });
    const script = path.join(image!.root, image!.workdir, 'healthcheck.mjs');
    assert.deepEqual(await runHealthcheck(script, { TSMS_PID: String(server!.proc.pid) }), { code: 0, stderr: '' });
  });
});
