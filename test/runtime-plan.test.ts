import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { ServingError } from '../src/core/errors.js';
import { parseCpuMax, quotaToCpus, usableCpus } from '../src/runtime/cpu.js';
import type { RuntimeOptions } from '../src/runtime/engine.js';
import { checkTargetDevice, planExecution, sessionOptions } from '../src/runtime/onnx/session-options.js';

function options(pluginConfig: Record<string, string> = {}, nireq = 0): RuntimeOptions {
  return { nireq, targetDevice: 'CPU', pluginConfig };
}

describe('usable CPUs', () => {
  it('parses cgroup v2 cpu.max', () => {
    assert.equal(parseCpuMax('max 100000\n'), undefined);
    assert.equal(parseCpuMax('200000 100000\n'), 2);
    assert.equal(parseCpuMax('150000 100000'), 1.5);
    assert.equal(parseCpuMax('50000 100000'), 0.5);
    assert.equal(parseCpuMax('garbage'), undefined);
  });

  it('rounds a quota down, never below one CPU', () => {
    assert.equal(quotaToCpus(2), 2);
    assert.equal(quotaToCpus(1.5), 1);
    assert.equal(quotaToCpus(0.5), 1);
  });

  it('is between 1 and availableParallelism()', () => {
    const n = usableCpus();
    assert.ok(Number.isInteger(n) && n >= 1 && n <= os.availableParallelism(), String(n));
  });
});

describe('execution plan from nireq and plugin_config', () => {
  it('defaults to AUTO streams: one worker per CPU with one thread each; inline gets every CPU', () => {
    const p = planExecution(options(), 4);
    assert.deepEqual(
      { ...p },
      { execution: 'auto', workerStreams: 4, workerIntraOpThreads: 1, inlineIntraOpThreads: 4, nireq: undefined, ignoredKeys: [] },
    );
  });

  it('maps NUM_STREAMS and CPU_THROUGHPUT_STREAMS to sessions and splits the threads', () => {
    assert.equal(planExecution(options({ NUM_STREAMS: '2' }), 8).workerStreams, 2);
    assert.equal(planExecution(options({ NUM_STREAMS: '2' }), 8).workerIntraOpThreads, 4);
    assert.equal(planExecution(options({ NUM_STREAMS: '2' }), 8).inlineIntraOpThreads, 4);
    assert.equal(planExecution(options({ CPU_THROUGHPUT_STREAMS: '3' }), 8).workerIntraOpThreads, 2);
    assert.equal(planExecution(options({ CPU_THROUGHPUT_STREAMS: '1' }), 8).inlineIntraOpThreads, 8);
    assert.equal(planExecution(options({ CPU_THROUGHPUT_STREAMS: 'CPU_THROUGHPUT_AUTO' }), 6).workerStreams, 6);
    assert.equal(planExecution(options({ NUM_STREAMS: 'AUTO' }), 6).workerStreams, 6);
    assert.equal(planExecution(options({ KEY_CPU_THROUGHPUT_STREAMS: '5' }), 6).workerStreams, 5);
    // More streams than CPUs still get one thread each.
    assert.equal(planExecution(options({ NUM_STREAMS: '4' }), 2).workerIntraOpThreads, 1);
  });

  it('honours CPU_THREADS_NUM and INFERENCE_NUM_THREADS', () => {
    assert.equal(planExecution(options({ CPU_THREADS_NUM: '4', NUM_STREAMS: '2' }), 16).workerIntraOpThreads, 2);
    assert.equal(planExecution(options({ INFERENCE_NUM_THREADS: '3', NUM_STREAMS: '1' }), 16).workerIntraOpThreads, 3);
    assert.equal(planExecution(options({ INFERENCE_NUM_THREADS: '3' }), 16).inlineIntraOpThreads, 3);
    assert.equal(planExecution(options({ CPU_THREADS_NUM: '0', NUM_STREAMS: '1' }), 5).workerIntraOpThreads, 5);
  });

  it('PERFORMANCE_HINT=LATENCY means one stream with every thread', () => {
    const p = planExecution(options({ PERFORMANCE_HINT: 'LATENCY' }), 4);
    assert.equal(p.workerStreams, 1);
    assert.equal(p.workerIntraOpThreads, 4);
  });

  it('keeps an explicit nireq and leaves 0 to auto', () => {
    assert.equal(planExecution(options({}, 7), 2).nireq, 7);
    assert.equal(planExecution(options({}, 0), 2).nireq, undefined);
  });

  it('reads TSMS_EXECUTION in any case and lists keys it does not use', () => {
    assert.equal(planExecution(options({ TSMS_EXECUTION: 'Worker' }), 2).execution, 'worker');
    assert.equal(planExecution(options({ tsms_execution: 'inline' }), 2).execution, 'inline');
    assert.deepEqual(planExecution(options({ CPU_BIND_THREAD: 'YES', SOMETHING_ELSE: '1' }), 2).ignoredKeys, ['SOMETHING_ELSE']);
  });

  it('rejects values it cannot honour with CANNOT_LOAD_NETWORK_INTO_TARGET_DEVICE', () => {
    const bad: Record<string, string>[] = [{ NUM_STREAMS: '0' }, { NUM_STREAMS: '-3' }, { NUM_STREAMS: '1.5' }, { CPU_THROUGHPUT_STREAMS: '100000' },
      { CPU_THREADS_NUM: 'many' }, { PERFORMANCE_HINT: 'FAST' }, { TSMS_EXECUTION: 'gpu' }];
    for (const config of bad) {
      assert.throws(() => planExecution(options(config), 2), (err) =>
        err instanceof ServingError && err.status === 'CANNOT_LOAD_NETWORK_INTO_TARGET_DEVICE' && /invalid plugin_config/.test(err.message),
      JSON.stringify(config));
    }
  });
});

describe('target device and session options', () => {
  it('accepts CPU in any case and names the device otherwise', () => {
    checkTargetDevice('CPU');
    checkTargetDevice('cpu');
    assert.throws(() => checkTargetDevice('GPU.1'), (err) =>
      err instanceof ServingError && err.code === 'FAILED_PRECONDITION' && err.message.includes('"GPU.1"') && err.message.includes('only CPU'));
  });

  it('sets every option node-perf.md asks for explicitly', () => {
    assert.deepEqual(sessionOptions(3), {
      executionProviders: ['cpu'],
      intraOpNumThreads: 3,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
  });
});
