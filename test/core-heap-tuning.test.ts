/**
 * V8 heap growth (src/core/heap-tuning.ts): the choice between the node command line, the
 * TSMS_HEAP_GROWING_PERCENT environment variable and the default; allocation-site pretenuring, off
 * unless the node command line says otherwise; then the real server process, which applies both
 * before loading anything and says so in its DEBUG log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chooseHeapGrowth, choosePretenuring } from '../src/core/heap-tuning.js';
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

describe('choosePretenuring', () => {
  it('turns pretenuring off by default, whatever other flags say', () => {
    assert.deepEqual(choosePretenuring([]), { pretenuring: false, decidedBy: 'default' });
    assert.deepEqual(choosePretenuring(['--max-old-space-size=4096', '--heap-growing-percent=10', '--allocation-site-tracking']), { pretenuring: false, decidedBy: 'default' });
  });

  it('follows the node command line in every spelling, the last mention winning as in V8', () => {
    for (const on of ['--allocation-site-pretenuring', '--allocation_site_pretenuring']) {
      assert.deepEqual(choosePretenuring([on]), { pretenuring: true, decidedBy: 'node command line' });
    }
    for (const off of ['--no-allocation-site-pretenuring', '--no_allocation_site_pretenuring', '--noallocation-site-pretenuring']) {
      assert.deepEqual(choosePretenuring([off]), { pretenuring: false, decidedBy: 'node command line' });
    }
    assert.deepEqual(choosePretenuring(['--no-allocation-site-pretenuring', '--allocation-site-pretenuring']), { pretenuring: true, decidedBy: 'node command line' });
    assert.deepEqual(choosePretenuring(['--allocation-site-pretenuring', '--no-allocation-site-pretenuring']), { pretenuring: false, decidedBy: 'node command line' });
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

  /** The one DEBUG record of a server's log with this message. */
  function debugRecord(server: RunningServer, msg: string): Record<string, unknown> {
    const line = server.output().split('\n').find((l) => l.includes(`"msg":"${msg}"`));
    assert.ok(line, `no "${msg}" record in:\n${server.output()}`);
    return JSON.parse(line) as Record<string, unknown>;
  }
  const heapRecord = (server: RunningServer) => debugRecord(server, 'V8 heap growth');

  it('paces by default and turns pretenuring off, and says so', async () => {
    const server = await startServer({ args: ['--config_path', configPath, '--log_level', 'DEBUG'], env: { TSMS_HEAP_GROWING_PERCENT: '' } });
    servers.push(server);
    const rec = heapRecord(server);
    assert.equal(rec['heapGrowingPercent'], undefined);
    assert.equal(rec['decidedBy'], 'default');
    assert.equal(rec['paced'], true);
    const pretenuring = debugRecord(server, 'V8 allocation-site pretenuring');
    assert.equal(pretenuring['pretenuring'], false);
    assert.equal(pretenuring['decidedBy'], 'default');
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
