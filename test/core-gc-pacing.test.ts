/**
 * GC pacing (src/core/gc-pacing.ts): the step decision on its own, then a real server whose
 * soft marking trigger loosens under byte-heavy traffic while it keeps answering correctly, and
 * stays put under the same number of small requests.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPacing, PacingState, pacingFlags, SOFT_TRIGGER_LADDER, stepAfterFullGc } from '../src/core/gc-pacing.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeServedRepository } from './helpers/models.js';

describe('stepAfterFullGc', () => {
  const top = SOFT_TRIGGER_LADDER.length - 1;

  it('loosens one step when a full GC came soon after few requests', () => {
    assert.equal(stepAfterFullGc(0, 17, 110), 1);
    assert.equal(stepAfterFullGc(1, 1, 30), 2);
    assert.equal(stepAfterFullGc(top, 17, 110), top, 'never past the loosest step');
  });

  it('holds when the full GC came late, after no request (idle), or after a middling number', () => {
    assert.equal(stepAfterFullGc(1, 500, defaultPacing.soonMs + 1), 1);
    assert.equal(stepAfterFullGc(1, 0, 50), 1);
    assert.equal(stepAfterFullGc(1, defaultPacing.fewRequests, 50), 1);
    assert.equal(stepAfterFullGc(1, defaultPacing.manyRequests, 50), 1);
  });

  it('tightens one step after many requests, never past the tightest', () => {
    assert.equal(stepAfterFullGc(2, defaultPacing.manyRequests + 1, 5000), 1);
    assert.equal(stepAfterFullGc(0, 100_000, 50), 0);
  });

  it('honours other thresholds', () => {
    const opts = { fewRequests: 10, soonMs: 100, manyRequests: 50 };
    assert.equal(stepAfterFullGc(0, 9, 99, opts), 1);
    assert.equal(stepAfterFullGc(0, 10, 99, opts), 0);
    assert.equal(stepAfterFullGc(2, 51, 10, opts), 1);
  });

  it('maps a step to V8 flags with a generous limit and the step\'s soft trigger', () => {
    assert.deepEqual(SOFT_TRIGGER_LADDER, [12, 25, 50, 90]);
    assert.equal(pacingFlags(0), '--heap-growing-percent=300 --incremental-marking-hard-trigger=100 --incremental-marking-soft-trigger=12');
    assert.equal(pacingFlags(3), '--heap-growing-percent=300 --incremental-marking-hard-trigger=100 --incremental-marking-soft-trigger=90');
  });
});

describe('PacingState', () => {
  it('loosens step by step while full GCs come soon after few requests (a cnn-like load)', () => {
    const p = new PacingState(0, 0);
    // 17 requests and 110 ms between full GCs, as measured under 600 KB requests.
    const steps = [1, 2, 3, 4, 5].map((i) => p.afterFullGc(17 * i, 110 * i));
    assert.deepEqual(steps, [1, 2, 3, 3, 3]);
  });

  it('tightens at ordinary GCs once many requests came without a full GC, one step per batch', () => {
    const p = new PacingState(0, 0);
    p.afterFullGc(10, 50);
    p.afterFullGc(20, 100);
    p.afterFullGc(30, 150);
    assert.equal(p.step, 3);
    const many = defaultPacing.manyRequests;
    assert.equal(p.afterOtherGc(30 + many), 3, 'not yet: exactly manyRequests');
    assert.equal(p.afterOtherGc(31 + many), 2);
    assert.equal(p.afterOtherGc(40 + many), 2, 'the next step needs another batch of requests');
    assert.equal(p.afterOtherGc(32 + 2 * many), 1);
    assert.equal(p.afterOtherGc(33 + 3 * many), 0);
    assert.equal(p.afterOtherGc(34 + 9 * many), 0, 'never past the tightest');
  });

  it('a full GC resets the count towards tightening', () => {
    const p = new PacingState(0, 0);
    p.afterFullGc(10, 50);
    assert.equal(p.step, 1);
    assert.equal(p.afterFullGc(10 + 5000, 5000), 1, 'a middling number of requests holds');
    assert.equal(p.afterOtherGc(10 + 5000 + defaultPacing.manyRequests), 1, 'counted from the last full GC, not from the start');
    assert.equal(p.afterOtherGc(11 + 5000 + defaultPacing.manyRequests), 0);
  });
});

describe('a paced server under traffic', () => {
  const dir = tempDir('tsms-pacing-');
  let server: RunningServer;

  before(async () => {
    const configPath = writeServedRepository(dir.path, { dummy: { 1: dummyModel(1) } });
    server = await startServer({ args: ['--config_path', configPath, '--log_level', 'DEBUG'], env: { TSMS_HEAP_GROWING_PERCENT: '' } });
  });

  after(async () => {
    await server?.stop();
    dir.remove();
  });

  const steps = () => server.output().split('\n').filter((l) => l.includes('"msg":"GC pacing step"')).map((l) => (JSON.parse(l) as { softTrigger: number }).softTrigger);

  /** `count` predictions with `concurrency` in flight, each checked; `padding` spaces make the body large. */
  async function predict(count: number, concurrency: number, padding: number, until?: () => boolean): Promise<number> {
    const body = `{"instances": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]}${' '.repeat(padding)}`;
    let sent = 0;
    const worker = async () => {
      while (sent < count && !until?.()) {
        sent++;
        const res = await fetch(`${server.restUrl}/v1/models/dummy:predict`, { method: 'POST', body });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { predictions: [[2, 3, 4, 5, 6, 7, 8, 9, 10, 11]] });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return sent;
  }

  it('stays at the tightest step under small requests', async () => {
    await predict(3000, 8, 0);
    assert.deepEqual(steps(), []);
  });

  it('loosens the trigger when large bodies drive the full GCs, and keeps answering', async () => {
    // 1 MB bodies: the socket reads are external memory, so full GCs come every few requests.
    const sent = await predict(600, 4, 1024 * 1024, () => steps().length > 0);
    assert.deepEqual(steps().slice(0, 1), [SOFT_TRIGGER_LADDER[1]], `no pacing step after ${sent} large requests`);
  });
});
