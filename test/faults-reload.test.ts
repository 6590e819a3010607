/**
 * Zero-downtime reload (issue 10 item 4), the CI-sized run of bench/reload/reload-under-load.ts:
 * under a steady load over all five client APIs, a new version is added and the old one removed,
 * cycle after cycle; not one request may fail and every answer must come from a version that was
 * serving. The latency target (p99 within 2× of steady state) is judged by the benchmark, not here:
 * tests make no timing assertions.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { reloadMarkdown, runReloadUnderLoad } from '../bench/reload/reload-under-load.js';

describe('faults: versions added and removed under load', () => {
  test('4 add/remove cycles at 4 clients: no request fails, every version in turn answers', async (t) => {
    const result = await runReloadUnderLoad({ steadySeconds: 0.5, cycles: 4, concurrency: 4, settleMs: 100 });
    t.diagnostic(reloadMarkdown(result));
    assert.equal(result.steady.failed, 0, result.steady.errors.join('\n'));
    assert.equal(result.reload.failed, 0, result.reload.errors.join('\n'));
    assert.ok(result.reload.requests > 0 && result.steady.requests > 0);
    // Versions 1..5 exist in turn; the load reaches at least the first and the last.
    assert.ok(result.versionsServed >= 2, `versions that answered: ${result.versionsServed}`);
  });
});
