/**
 * The console's HTTP side without a browser: the page and its files at / and /console/, the
 * state document, and --disable_console.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { parseCommandLine } from '../src/cli/args.js';

describe('console routes', () => {
  const repo = tempDir('tsms-console-routes-');
  let server: RunningServer;

  before(async () => {
    writeRepository(repo.path, { dummy: { 1: dummyModel() } });
    // A model whose base path does not exist: the console must show its error.
    writeFileSync(path.join(repo.path, 'config.json'), JSON.stringify({
      model_config_list: [
        { config: { name: 'dummy', base_path: path.join(repo.path, 'dummy') } },
        { config: { name: 'broken', base_path: path.join(repo.path, 'nowhere') } },
      ],
    }));
    server = await startServer({ args: ['--config_path', path.join(repo.path, 'config.json')] });
  });

  after(async () => {
    await server?.stop();
    repo.remove();
  });

  for (const url of ['/', '/console', '/console/']) {
    it(`GET ${url} serves the page`, async () => {
      const res = await fetch(`${server.restUrl}${url}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      const html = await res.text();
      assert.match(html, /<title>tsms console<\/title>/);
      assert.match(html, /src="\/console\/console\.js"/);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    });
  }

  it('serves the script and style with their types', async () => {
    const js = await fetch(`${server.restUrl}/console/console.js`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(await js.text(), /function detectionBoxes/);
    assert.doesNotMatch(await (await fetch(`${server.restUrl}/console/console.js`)).text(), /\bimport\b|\brequire\(/, 'self-contained');
    const css = await fetch(`${server.restUrl}/console/console.css`);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  });

  it('answers unknown console paths as any unknown URL, and refuses POST on the page', async () => {
    const res = await fetch(`${server.restUrl}/console/../../etc/passwd`);
    assert.equal(res.status, 400);
    const other = await fetch(`${server.restUrl}/console/other.js`);
    assert.deepEqual([other.status, await other.json()], [400, { error: 'Invalid request URL' }]);
    const post = await fetch(`${server.restUrl}/`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 406);
  });

  it('GET /console/api/state lists versions, states, errors and the config in force', async () => {
    const res = await fetch(`${server.restUrl}/console/api/state`);
    assert.equal(res.status, 200);
    const state = await res.json() as any;
    assert.equal(state.metricsEnabled, false);
    assert.equal(state.server.restPort, server.restPort);
    const dummy = state.models.find((m: any) => m.name === 'dummy');
    assert.deepEqual(dummy.versions, [{ version: '1', state: 'AVAILABLE', errorCode: 'OK', errorMessage: 'OK' }]);
    assert.equal(dummy.config.basePath, path.join(repo.path, 'dummy'));
    const broken = state.models.find((m: any) => m.name === 'broken');
    assert.ok(broken, 'the broken model is listed');
    assert.ok(broken.error || broken.versions.some((v: any) => v.errorCode !== 'OK'), `the broken model carries an error: ${JSON.stringify(broken)}`);
  });
});

describe('--disable_console', () => {
  const repo = tempDir('tsms-console-off-');
  let server: RunningServer;

  before(async () => {
    writeRepository(repo.path, { dummy: { 1: dummyModel() } });
    server = await startServer({ args: ['--model_name', 'dummy', '--model_path', path.join(repo.path, 'dummy'), '--disable_console'] });
  });

  after(async () => {
    await server?.stop();
    repo.remove();
  });

  it('leaves / as OVMS answers it', async () => {
    for (const url of ['/', '/console/console.js', '/console/api/state']) {
      const res = await fetch(`${server.restUrl}${url}`);
      assert.deepEqual([res.status, await res.json()], [400, { error: 'Invalid request URL' }], url);
    }
    // The APIs are unaffected.
    assert.equal((await fetch(`${server.restUrl}/v1/models/dummy`)).status, 200);
  });

  it('parses into ServerConfig.disableConsole', () => {
    const parsed = parseCommandLine(['--model_name', 'm', '--model_path', repo.path, '--disable_console']);
    assert.equal(parsed.action === 'serve' && parsed.config.disableConsole, true);
    const plain = parseCommandLine(['--model_name', 'm', '--model_path', repo.path]);
    assert.equal(plain.action === 'serve' && plain.config.disableConsole, undefined);
  });
});
