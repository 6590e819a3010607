/**
 * Path traversal through configuration (issue 10 item 1): `..` in a model's base_path (written in
 * four ways) and in a custom node library's base_path is refused, at start and on reload, while
 * the rest of the configuration keeps serving (test/request-limits-names.test.ts has the basic
 * base_path case, test/cli.test.ts --model_path). A "secret" model and a library that would leave a
 * marker file when imported sit outside the repository, reachable only through `..`: neither may
 * ever be loaded.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { assertServes, expectHttpError, rawHttp } from './helpers/hostile.js';

describe('config.json: `..` in paths never reaches outside the repository', () => {
  const root = tempDir('tsms-limits-config-');
  const repo = path.join(root.path, 'repo');
  const outside = path.join(root.path, 'outside');
  const marker = path.join(root.path, 'library-was-imported');
  const configPath = path.join(repo, 'config.json');
  let server: RunningServer;

  const traversals = ['../outside/secret', `${repo}/../outside/secret`, 'dummy/../../outside/secret', '..\\outside\\secret'];
  const config = (extra: object[]) => JSON.stringify({
    model_config_list: [{ config: { name: 'dummy', base_path: 'dummy' } }, ...extra.map((c) => ({ config: c }))],
  });

  before(async () => {
    writeRepository(repo, { dummy: { 1: dummyModel(1) } });
    writeRepository(outside, { secret: { 1: dummyModel(1000) } });
    mkdirSync(outside, { recursive: true });
    // A custom node library that proves it was imported by leaving a file behind.
    writeFileSync(path.join(outside, 'evil.mjs'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'imported');\n`
      + 'export function getInputsInfo() { return []; }\nexport function getOutputsInfo() { return []; }\nexport function execute() { return {}; }\n');
    writeFileSync(configPath, JSON.stringify({
      model_config_list: [
        { config: { name: 'dummy', base_path: 'dummy' } },
        ...traversals.map((base_path, i) => ({ config: { name: `secret${i}`, base_path } })),
      ],
      custom_node_library_config_list: [{ name: 'evil', base_path: '../outside/evil.mjs' }],
    }));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '1'] });
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
    root.remove();
  });

  test('at start: each traversing entry is refused with OVMS\'s text, the others serve', async () => {
    for (let i = 0; i < traversals.length; i++) {
      expectHttpError(await rawHttp(server.restPort, 'GET', `/v1/models/secret${i}`), 404, 'Model with requested name is not found');
      expectHttpError(await rawHttp(server.restPort, 'POST', `/v1/models/secret${i}:predict`, '{"instances": [[1,2,3,4,5,6,7,8,9,10]]}'), 404, 'Model with requested name is not found');
      assert.ok(server.output().includes(`Path ${traversals[i]} escape with .. is forbidden.`.replace(/\\/g, '\\\\')), `refusal of ${traversals[i]} is logged`);
    }
    assert.equal(existsSync(marker), false, 'the library outside the repository was never imported');
    await assertServes(server);
  });

  test('on reload: a traversing entry added to the file is refused and the old models keep serving', async () => {
    writeFileSync(configPath, config([{ name: 'later', base_path: '../outside/secret' }]));
    // The poller may apply the file first; an explicit reload retries a failed apply either way.
    const r = await rawHttp(server.restPort, 'POST', '/v1/config/reload');
    assert.equal(r.status, 500, r.text);
    assert.deepEqual(r.json(), { error: 'Reloading config file failed. Check server logs for more info.' });
    expectHttpError(await rawHttp(server.restPort, 'GET', '/v1/models/later'), 404, 'Model with requested name is not found');
    // The repository API only loads what config.json lists, so it cannot be steered outside either.
    expectHttpError(await rawHttp(server.restPort, 'POST', '/v2/repository/models/..%5Coutside%5Csecret/load', ''), 404, 'Model with requested name is not found');
    expectHttpError(await rawHttp(server.restPort, 'POST', '/v2/repository/models/later/load', ''), 404, /^Model with requested name is not found/);
    assert.equal(existsSync(marker), false);
    await assertServes(server);
  });
});

// Finds a bug in src/config/model-settings.ts: describe() quotes a bad value with JSON.stringify,
// which overflows the stack on a deeply nested plugin_config or shape, so a RangeError escapes
// parseModelListConfig. At start the server then exits 1 ("Server failed to start: Maximum call
// stack size exceeded") instead of refusing that one entry; an explicit reload answers 500
// "Internal server error" (or 200 "nothing changed" once the poller has met the file first).
// Expected: the entry is rejected like any bad plugin_config.
describe('config.json: a deeply nested value in one entry is that entry\'s problem only', () => {
  const root = tempDir('tsms-limits-deep-config-');
  const deep = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
  const configPath = path.join(root.path, 'config.json');
  const text = (deepEntry: boolean) => `{"model_config_list": [{"config": {"name": "dummy", "base_path": "dummy"}}${deepEntry
    ? `, {"config": {"name": "deep", "base_path": "dummy", "plugin_config": ${deep}}}, {"config": {"name": "deep_shape", "base_path": "dummy", "shape": ${deep}}}`
    : ''}]}`;
  let server: RunningServer | undefined;

  before(() => {
    writeRepository(root.path, { dummy: { 1: dummyModel(1) } });
  });
  after(async () => {
    await server?.stop();
    root.remove();
  });

  test('at start: the server starts, the deep entries are refused, the others serve', async () => {
    writeFileSync(configPath, text(true));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '0'] });
    expectHttpError(await rawHttp(server.restPort, 'GET', '/v1/models/deep'), 404, 'Model with requested name is not found');
    expectHttpError(await rawHttp(server.restPort, 'GET', '/v1/models/deep_shape'), 404, 'Model with requested name is not found');
    await assertServes(server);
  });

  test('on reload: the explicit reload reports the failure, the old config keeps serving', async () => {
    await server?.stop();
    writeFileSync(configPath, text(false));
    server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '0'] });
    writeFileSync(configPath, text(true));
    const r = await rawHttp(server.restPort, 'POST', '/v1/config/reload');
    assert.equal(r.status, 500, r.text);
    assert.deepEqual(r.json(), { error: 'Reloading config file failed. Check server logs for more info.' });
    await assertServes(server);
  });
});
