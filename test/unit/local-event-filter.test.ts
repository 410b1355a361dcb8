/**
 * Lambda's event filtering as the local mesh applies a mapping's FilterCriteria (local/endpoint/event-filter.ts),
 * and the mesh's own filter on the policy table's stream (shared/policy-stream-filter.ts): every policy item
 * kind reaches the version bumper; its own version writes and breaker state do not.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordFilter } from '../../local/endpoint/event-filter';
import { changeItemsRef } from '../../shared/change-items';
import { breakerPartition, POLICY_VERSION, rateLimitPartition } from '../../shared/names';
import { itemKind } from '../../shared/policy-rules';
import { POLICY_STREAM_FILTER } from '../../shared/policy-stream-filter';

const record = (pk: string, sk: string, eventName = 'INSERT') => ({
  eventName,
  dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } } },
});

describe('local event filtering (Lambda rule syntax)', () => {
  it('matches equals, prefix, suffix, anything-but, exists and numeric; fields must all match', () => {
    const accepts = recordFilter([
      JSON.stringify({ eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: [{ prefix: 'allow#' }, 'route'] } } } }),
      JSON.stringify({ eventName: [{ 'anything-but': ['INSERT', 'MODIFY'] }], n: [{ numeric: ['>', 1, '<=', 3] }] }),
      JSON.stringify({ dynamodb: { Keys: { sk: { S: [{ suffix: '#x' }] } } }, gone: [{ exists: false }] }),
    ]);
    assert.equal(accepts(record('a', 'allow#b')), true);
    assert.equal(accepts(record('a', 'route')), true);
    assert.equal(accepts(record('a', 'route', 'MODIFY')), false, 'eventName must match too');
    assert.equal(accepts({ ...record('a', 'fault', 'REMOVE'), n: 3 }), true);
    assert.equal(accepts({ ...record('a', 'fault', 'REMOVE'), n: 4 }), false);
    assert.equal(accepts(record('a', 'deny#x', 'MODIFY')), true);
    assert.equal(accepts({ ...record('a', 'deny#x', 'MODIFY'), gone: 1 }), false);
  });

  it('refuses what Lambda does not offer, naming it', () => {
    assert.throws(() => recordFilter([JSON.stringify({ pk: [{ wildcard: '*#*' }] })]), /"wildcard" is not a Lambda/);
    assert.throws(
      () => recordFilter([JSON.stringify({ pk: [{ 'anything-but': { prefix: 'breaker#' } }] })]),
      /anything-but takes a value or a list/,
    );
    assert.throws(() => recordFilter(['{pk']), /is not JSON/);
  });

  it('the policy stream filter lets every policy item kind through, and not version items nor breaker state', () => {
    const accepts = recordFilter([JSON.stringify(POLICY_STREAM_FILTER)]);
    for (const sk of ['service', 'traffic', 'route', 'fault', 'allow#orders', 'deny#orders']) {
      assert.ok(itemKind(sk), `${sk} is a policy item kind`);
      assert.equal(accepts(record('payments', sk, 'REMOVE')), true, sk);
    }
    assert.equal(accepts(record(POLICY_VERSION.partition(3), POLICY_VERSION.sortKey, 'MODIFY')), false);
    // A deploy's change items: sort key the bump's mark and attempt.
    assert.equal(
      accepts(record(POLICY_VERSION.changesPartition(3), changeItemsRef(4_503_599_627, 0), 'INSERT')),
      false,
    );
    assert.equal(accepts(record(breakerPartition('payments'), 'breaker#2', 'MODIFY')), false);
    // Rate-limit leases share the policy sort keys: Lambda's rules cannot tell them apart by their partition.
    assert.equal(accepts(record(rateLimitPartition('payments'), 'traffic', 'MODIFY')), true);
  });
});
