/**
 * AbortControllerPool (src/core/abort-pool.ts): controllers come back only when their signal never
 * fired and nobody listens on it any more, and one controller is never lent to two calls.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AbortControllerPool, abortControllers } from '../src/core/abort-pool.js';

describe('AbortControllerPool', () => {
  it('lends a fresh controller when none is idle', () => {
    const pool = new AbortControllerPool();
    const c = pool.take();
    assert.ok(c instanceof AbortController);
    assert.equal(c.signal.aborted, false);
    assert.equal(pool.idle, 0);
  });

  it('reuses a controller handed back unused', () => {
    const pool = new AbortControllerPool();
    const c = pool.take();
    pool.give(c);
    assert.equal(pool.idle, 1);
    assert.equal(pool.take(), c);
    assert.equal(pool.idle, 0);
    assert.notEqual(pool.take(), c);
  });

  it('drops a controller whose signal fired', () => {
    const pool = new AbortControllerPool();
    const c = pool.take();
    c.abort();
    pool.give(c);
    assert.equal(pool.idle, 0);
    const next = pool.take();
    assert.notEqual(next, c);
    assert.equal(next.signal.aborted, false);
  });

  it('drops a controller something still listens on, keeps it once the listener is gone', () => {
    const pool = new AbortControllerPool();
    const c = pool.take();
    let fired = 0;
    const onAbort = () => fired++;
    c.signal.addEventListener('abort', onAbort, { once: true });
    pool.give(c);
    assert.equal(pool.idle, 0);
    c.signal.removeEventListener('abort', onAbort);
    pool.give(c);
    assert.equal(pool.idle, 1);
    // The reused signal carries no listener of the earlier call.
    const again = pool.take();
    assert.equal(again, c);
    again.abort();
    assert.equal(fired, 0);
  });

  it('drops a controller with an onabort handler', () => {
    const pool = new AbortControllerPool();
    const c = pool.take();
    c.signal.onabort = () => undefined;
    pool.give(c);
    assert.equal(pool.idle, 0);
  });

  it('lends a controller handed back twice to one call only', () => {
    const pool = new AbortControllerPool();
    const c = pool.take();
    pool.give(c);
    pool.give(c);
    assert.equal(pool.idle, 1);
    const a = pool.take();
    const b = pool.take();
    assert.equal(a, c);
    assert.notEqual(b, c);
  });

  it('keeps at most maxIdle controllers', () => {
    const pool = new AbortControllerPool(2);
    const lent = [pool.take(), pool.take(), pool.take()];
    for (const c of lent) pool.give(c);
    assert.equal(pool.idle, 2);
    assert.equal(new AbortControllerPool(0).idle, 0);
    assert.throws(() => new AbortControllerPool(-1), RangeError);
    assert.throws(() => new AbortControllerPool(1.5), RangeError);
  });

  it('reuses in the order controllers came back', () => {
    const pool = new AbortControllerPool();
    const [a, b, c] = [pool.take(), pool.take(), pool.take()];
    pool.give(b);
    pool.give(a);
    pool.give(c);
    assert.deepEqual([pool.take(), pool.take(), pool.take()], [b, a, c]);
  });

  it('exports one shared pool', () => {
    assert.ok(abortControllers instanceof AbortControllerPool);
  });
});
