import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sharedBreakerItem, sharedEjected } from '../../functions/mesh/resilience/shared-breaker';
import { CLOCK_SKEW_S } from '../../shared/names';
import { type BreakerStateItem, parsePolicyItem } from '../../shared/policy';

const NOW = 1_700_000_000_000;

describe('shared breaker state', () => {
  it('ejects versions whose shared item is open and within its open time and TTL', () => {
    const items = new Map<string, BreakerStateItem>([
      ['1', sharedBreakerItem('payments', '1', NOW - 1_000, 30_000)],
      ['2', sharedBreakerItem('payments', '2', NOW - 30_000, 30_000)], // open time over
      ['3', { ...sharedBreakerItem('payments', '3', NOW - 1_000, 30_000), state: 'half-open' }],
      ['4', { ...sharedBreakerItem('payments', '4', NOW - 1_000, 30_000), ttl: NOW / 1000 }], // TTL passed
    ]);
    assert.deepEqual([...sharedEjected(items, NOW, 30_000)], ['1']);
    assert.deepEqual([...sharedEjected(undefined, NOW, 30_000)], []);
  });

  it('ejects for an item opened ahead of now by at most the clock skew hosts may have, and not by a millisecond more', () => {
    const skewMs = CLOCK_SKEW_S * 1000;
    const items = new Map<string, BreakerStateItem>([
      ['1', sharedBreakerItem('payments', '1', NOW + skewMs, 30_000)],
      ['2', sharedBreakerItem('payments', '2', NOW + skewMs + 1, 30_000)],
    ]);
    assert.deepEqual([...sharedEjected(items, NOW, 30_000)], ['1']);
  });

  it('writes items the policy schema accepts, expiring after the breaker would close', () => {
    const item = sharedBreakerItem('payments', '2', NOW, 30_000);
    const res = parsePolicyItem(item);
    assert.ok(res.ok, !res.ok ? res.error : '');
    assert.ok(item.ttl! * 1000 >= NOW + 30_000);
    assert.equal(item.sk, 'breaker#2');
    assert.equal(item.pk, 'breaker#payments', 'in the breaker partition, never the policy partition');
  });
});
