/**
 * The CI-sized soak (issue 10 item 5; the full run is `npm run soak`, a million requests):
 * 20,000 requests over all five client APIs; none may fail, and the server's memory after the
 * warm-up may not grow past the soak's bound.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSoakOptions, runSoak, soakMarkdown } from '../scripts/soak.js';

describe('faults: sustained mixed load (shortened soak)', () => {
  test('20,000 requests: none fails, memory stays within the bound after warm-up', async (t) => {
    const result = await runSoak({ ...defaultSoakOptions, requests: 20_000, concurrency: 8 });
    t.diagnostic(soakMarkdown(result));
    assert.equal(result.failed, 0, result.errors.join('\n'));
    assert.equal(result.requests, 20_000);
    assert.deepEqual(Object.keys(result.perApi).sort(), ['kserve-grpc', 'kserve-rest', 'kserve-rest-binary', 'tfs-grpc', 'tfs-rest']);
    assert.ok(result.withinBound, `RSS grew ${result.growthAfterWarmupMb} MiB after warm-up (bound ${defaultSoakOptions.boundMb} MiB)`);
  });
});
