/**
 * The release package: `npm pack` makes a tarball that installs with `npm install -g` on a
 * machine that has only Node and the npm registry, and whose `tsms` bin serves the built-in models
 * over REST and gRPC (so the installed server finds its proto/ and models/ folders).
 * The install runs outside this checkout, into a temporary prefix, without the project's .npmrc.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './helpers/server.js';
import { TfsClient } from './helpers/tfs-grpc.js';
import { serve, type ServerProcess } from '../scripts/check-deploy/serve.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string; bin: Record<string, string> };

let work = '';
let tarball = '';
let packed: string[] = [];
let prefix = '';

describe('release package (npm pack, npm install -g)', () => {
  before(async () => {
    assert.ok(existsSync(path.join(repoRoot, pkg.bin['tsms']!)), `${pkg.bin['tsms']} is missing: build first (npm test does)`);
    work = mkdtempSync(path.join(os.tmpdir(), 'tsms-package-'));
    // --ignore-scripts: `prepare` would compile again; npm test has just built dist/.
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: repoRoot, maxBuffer: 32 << 20 });
    const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(work, info!.filename);
    packed = info!.files.map((f) => f.path);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds the compiled server, proto/, the default models, README and LICENSE', () => {
    assert.equal(path.basename(tarball), `${pkg.name}-${pkg.version}.tgz`);
    for (const file of [
      'package.json',
      'README.md',
      'LICENSE',
      pkg.bin['tsms']!,
      'dist/src/server.js',
      'dist/src/runtime/onnx/session-worker.js',
      'proto/tensorflow_serving/apis/prediction_service.proto',
      'proto/tensorflow/core/framework/tensor.proto',
      'models/config.json',
      'models/dummy/1/model.onnx',
      'dist/src/client/index.d.ts',
    ]) {
      assert.ok(packed.includes(file), `${file} is not in the tarball`);
    }
    // Only what runs, and the type declarations: no tests, sources, benchmarks, source maps or CI files.
    const extra = packed.filter((f) => /^(dist\/(test|bench|scripts|examples)\/|src\/|test\/|bench\/|\.ci\/|deploy\/|node_modules\/)|\.map$|(?<!\.d)\.ts$/.test(f));
    assert.deepEqual(extra, []);
  });

  test('npm install -g --prefix installs it, and `tsms --version` runs', { timeout: 300_000 }, async () => {
    prefix = path.join(work, 'prefix');
    // A fresh machine: run from the temporary folder (no project .npmrc), the registry for the
    // dependencies; --prefer-offline lets the local npm cache answer what it already has.
    await run('npm', ['install', '-g', '--prefix', prefix, tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: work,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
      maxBuffer: 32 << 20,
    });
    const bin = path.join(prefix, 'bin', 'tsms');
    assert.ok(existsSync(bin), 'no tsms bin in the prefix');
    const { stdout } = await run(bin, ['--version'], { cwd: work });
    assert.match(stdout, new RegExp(`^tsms ${pkg.version.replace(/\./g, '\\.')}\\n`));
    assert.match(stdout, /^onnxruntime-node backend \d+\.\d+\.\d+$/m);
  });

  describe('the installed tsms serves its built-in models', () => {
    let server: ServerProcess | undefined;
    let client: TfsClient | undefined;

    before(async () => {
      assert.ok(prefix, 'install step did not run');
      const installed = path.join(prefix, 'lib', 'node_modules', pkg.name);
      server = await serve({ command: [path.join(prefix, 'bin', 'tsms')], args: ['--config_path', path.join(installed, 'models', 'config.json')], cwd: work });
      client = new TfsClient(server.grpcAddress);
    });

    after(async () => {
      client?.close();
      if (server) assert.equal(await server.stop(), 0);
    });

    test('REST: ready, and dummy adds one', async () => {
      const ready = await fetch(`${server!.restUrl}/v2/health/ready`);
      assert.equal(ready.status, 200);
      const res = await fetch(`${server!.restUrl}/v1/models/dummy:predict`, { method: 'POST', body: JSON.stringify({ instances: [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]] }) });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { predictions: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] });
    });

    test('gRPC: GetModelStatus from the installed proto/ definitions', async () => {
      const status = await client!.getModelStatus({ model_spec: { name: 'add_two_inputs' } });
      assert.equal(status.model_version_status.length, 1);
      assert.equal(Number(status.model_version_status[0].version), 1);
      assert.equal(status.model_version_status[0].state, 30); // AVAILABLE
    });
  });
});
