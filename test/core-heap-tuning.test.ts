/**
 * V8 heap growth (src/core/heap-tuning.ts): the choice between the node command line, the
 * TSMS_HEAP_GROWING_PERCENT environment variable and the default; then the real server process,
 * which applies it before loading anything and says so in its DEBUG log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chooseHeapGrowth } from '../src/core/heap-tuning.js';
import { mainScript, startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeServedRepository } from './helpers/models.js';

describe('chooseHeapGrowth', () => {
  it('paces the heap by default (gc-pacing.ts), with no fixed percent', () => {
    assert.deepEqual(chooseHeapGrowth([], {}), { percent: undefined, decidedBy: 'default', paced: true });
    assert.deepEqual(chooseHeapGrowth(['--max-old-space-size=4096'], { TSMS_HEAP_GROWING_PERCENT: '  ' }), { percent: undefined, decidedBy: 'default', paced: true });
  });

  it('takes the environment variable, 0 included (V8 decides again), and then does not pace', () => {
    assert.deepEqual(chooseHeapGrowth([], { TSMS_HEAP_GROWING_PERCENT: '50' }), { percent: 50, decidedBy: 'TSMS_HEAP_GROWING_PERCENT', paced: false });
    assert.deepEqual(chooseHeapGrowth([], { TSMS_HEAP_GROWING_PERCENT: '0' }), { percent: 0, decidedBy: 'TSMS_HEAP_GROWING_PERCENT', paced: false });
  });

  it('leaves heap growth and marking triggers given on the node command line alone, in either spelling', () => {
    const argvs = [
      ['--heap-growing-percent=10'], ['--heap_growing_percent=10'], ['--heap-growing-percent', '10'],
      ['--incremental-marking-soft-trigger=40'], ['--incremental_marking_hard_trigger=90'],
    ];
    for (const argv of argvs) {
      assert.deepEqual(chooseHeapGrowth(argv, { TSMS_HEAP_GROWING_PERCENT: '50' }), { percent: undefined, decidedBy: 'node command line', paced: false });
    }
  });

  it('rejects values that are not an integer from 0 to 1000', () => {
    for (const bad of ['x', '-1', '2.5', '1001', '1e9', '0x10abc']) {
      assert.throws(() => chooseHeapGrowth([], { TSMS_HEAP_GROWING_PERCENT: bad }), {
        name: 'RangeError',
        message: `TSMS_HEAP_GROWING_PERCENT must be an integer from 0 to 1000, got "${bad}"`,
      });
    }
  });
});

describe('the server applies the heap growth before it loads models', () => {
  const dir = tempDir('tsms-heap-');
  let configPath = '';
  const servers: RunningServer[] = [];

  before(() => {
    configPath = writeServedRepository(dir.path, { dummy: { 1: dummyModel(1) } });
  });

  after(async () => {
    for (const s of servers) await s.stop();
    dir.remove();
  });

  /** The one 'V8 heap growth' DEBUG record of a server's log. */
  function heapRecord(server: RunningServer): Record<string, unknown> {
    const line = server.output().split('\n').find((l) => l.includes('"msg":"V8 heap growth"'));
    assert.ok(line, `no heap growth record in:\n${server.output()}`);
    return JSON.parse(line) as Record<string, unknown>;
  }

  it('paces by default and says so', async () => {
    const server = await startServer({ args: ['--config_path', configPath, '--log_level', 'DEBUG'], env: { TSMS_HEAP_GROWING_PERCENT: '' } });
    servers.push(server);
    const rec = heapRecord(server);
    assert.equal(rec['heapGrowingPercent'], undefined);
    assert.equal(rec['decidedBy'], 'default');
    assert.equal(rec['paced'], true);
  });

  it('takes TSMS_HEAP_GROWING_PERCENT from the environment', async () => {
    const server = await startServer({ args: ['--config_path', configPath, '--log_level', 'DEBUG'], env: { TSMS_HEAP_GROWING_PERCENT: '0' } });
    servers.push(server);
    const rec = heapRecord(server);
    assert.equal(rec['heapGrowingPercent'], 0);
    assert.equal(rec['decidedBy'], 'TSMS_HEAP_GROWING_PERCENT');
    assert.equal(rec['paced'], false);
  });

  it('exits 64 with the reason on a bad TSMS_HEAP_GROWING_PERCENT', async () => {
    const proc = spawn(process.execPath, [mainScript, '--config_path', configPath, '--port', '0'], {
      env: { ...process.env, TSMS_HEAP_GROWING_PERCENT: 'lots' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    assert.equal(code, 64);
    assert.equal(stderr, 'TSMS_HEAP_GROWING_PERCENT must be an integer from 0 to 1000, got "lots"\n');
  });
});
