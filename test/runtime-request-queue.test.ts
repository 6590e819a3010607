import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError, servingError } from '../src/core/errors.js';
import { RequestQueue } from '../src/runtime/request-queue.js';

/** A task that finishes when the test says so. */
function gate<T>(value: T): { task: () => Promise<T>; open(): void; started: boolean } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => { open = resolve; });
  const g = {
    started: false,
    open: () => open(),
    task: async () => {
      g.started = true;
      await opened;
      return value;
    },
  };
  return g;
}

describe('RequestQueue', () => {
  it('rejects a capacity below 1', () => {
    assert.throws(() => new RequestQueue(0), RangeError);
    assert.throws(() => new RequestQueue(1.5), RangeError);
  });

  it('starts a task synchronously when a slot is free', () => {
    const q = new RequestQueue(2);
    const g = gate(1);
    void q.run(g.task);
    assert.equal(g.started, true);
    assert.equal(q.active, 1);
    g.open();
  });

  it('queues beyond capacity and starts waiters in FIFO order', async () => {
    const q = new RequestQueue(2);
    const gates = [0, 1, 2, 3, 4].map((i) => gate(i));
    const order: number[] = [];
    const runs = gates.map((g, i) => q.run(g.task).then((v) => { order.push(i); return v; }));
    assert.deepEqual(gates.map((g) => g.started), [true, true, false, false, false]);
    assert.equal(q.active, 2);
    assert.equal(q.queued, 3);
    gates[1]!.open();
    await runs[1];
    assert.deepEqual(gates.map((g) => g.started), [true, true, true, false, false]);
    assert.equal(q.active, 2);
    assert.equal(q.queued, 2);
    for (const g of gates) g.open();
    assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4]);
    assert.deepEqual(order.slice(0, 2), [1, 0]);
    assert.equal(q.active, 0);
    assert.equal(q.queued, 0);
  });

  it('a newcomer does not overtake a waiter when a slot frees', async () => {
    const q = new RequestQueue(1);
    const a = gate('a');
    const b = gate('b');
    const pa = q.run(a.task);
    const pb = q.run(b.task);
    a.open();
    await pa;
    const c = gate('c');
    const pc = q.run(c.task);
    assert.equal(b.started, true);
    assert.equal(c.started, false);
    b.open();
    c.open();
    assert.deepEqual(await Promise.all([pb, pc]), ['b', 'c']);
  });

  it('an aborted waiter leaves the queue with REQUEST_CANCELLED; the slot goes to the next', async () => {
    const q = new RequestQueue(1);
    const a = gate('a');
    const b = gate('b');
    const c = gate('c');
    const controller = new AbortController();
    const pa = q.run(a.task);
    const pb = q.run(b.task, controller.signal);
    const pc = q.run(c.task);
    controller.abort();
    await assert.rejects(pb, (err) => err instanceof ServingError && err.status === 'REQUEST_CANCELLED' && err.code === 'CANCELLED');
    assert.equal(q.queued, 1);
    a.open();
    await pa;
    assert.equal(b.started, false);
    assert.equal(c.started, true);
    c.open();
    assert.equal(await pc, 'c');
  });

  it('aborting a started task changes nothing', async () => {
    const q = new RequestQueue(1);
    const a = gate('a');
    const controller = new AbortController();
    const pa = q.run(a.task, controller.signal);
    controller.abort();
    a.open();
    assert.equal(await pa, 'a');
  });

  it('an already aborted signal never runs the task', async () => {
    const q = new RequestQueue(1);
    const a = gate('a');
    await assert.rejects(q.run(a.task, AbortSignal.abort()), (err) => err instanceof ServingError && err.status === 'REQUEST_CANCELLED');
    assert.equal(a.started, false);
    assert.equal(q.active, 0);
  });

  it('a failing task frees its slot', async () => {
    const q = new RequestQueue(1);
    await assert.rejects(q.run(async () => { throw new Error('boom'); }), /boom/);
    await assert.rejects(q.run(() => { throw new Error('sync boom'); }), /sync boom/);
    assert.equal(q.active, 0);
    assert.equal(await q.run(async () => 7), 7);
  });

  it('rejectQueued fails only the waiters, and idle() waits for the running ones', async () => {
    const q = new RequestQueue(1);
    const a = gate('a');
    const b = gate('b');
    const pa = q.run(a.task);
    const pb = q.run(b.task);
    q.rejectQueued(servingError('MODEL_VERSION_NOT_LOADED_ANYMORE'));
    await assert.rejects(pb, (err) => err instanceof ServingError && err.status === 'MODEL_VERSION_NOT_LOADED_ANYMORE');
    let idle = false;
    const idlePromise = q.idle().then(() => { idle = true; });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idle, false);
    a.open();
    assert.equal(await pa, 'a');
    await idlePromise;
    assert.equal(idle, true);
    assert.equal(b.started, false);
  });
});
