/**
 * Lambda's event filtering as the local mesh applies a mapping's FilterCriteria (local/endpoint/event-filter.ts),
 * and the mesh's own filter on the policy table's stream (shared/policy-stream-filter.ts): every policy item
 * kind reaches the version bumper; its own version writes, breaker state and rate-limit leases do not.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TableLeaser } from '../../functions/mesh/resilience/rate-limit-table';
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
  });

  it('the policy stream filter keeps rate-limit leases from the bumper, whichever limit they lease', async () => {
    // Prepare: the keys the runtime's leaser writes, for a service's limit and an edge's
    const keys: { pk: { S: string }; sk: { S: string } }[] = [];
    const leaser = new TableLeaser('shop-policy', {}, async (input) => {
      keys.push(input.Key as (typeof keys)[number]);
      return {};
    });
    const limits = { perSecond: 10, burst: 10 };
    for (const scope of ['traffic', 'allow#orders']) {
      await leaser.lease({ target: 'payments', scope, limits, want: 5, minGrant: 1, now: 1_700_000_000_000 });
    }
    const accepts = recordFilter([JSON.stringify(POLICY_STREAM_FILTER)]);
    // Assess: in the rate-limit partition, and no lease write (first or later) passes the filter
    assert.deepEqual(
      keys.map((k) => [k.pk.S, k.sk.S]),
      [
        [rateLimitPartition('payments'), 'bucket#traffic'],
        [rateLimitPartition('payments'), 'bucket#allow#orders'],
      ],
    );
    for (const k of keys) {
      for (const eventName of ['INSERT', 'MODIFY', 'REMOVE']) {
        assert.equal(accepts({ eventName, dynamodb: { Keys: k } }), false, `${k.sk.S} ${eventName}`);
      }
    }
    // The policy items the buckets are named after still pass.
    assert.equal(accepts(record('payments', 'traffic', 'MODIFY')), true);
    assert.equal(accepts(record('payments', 'allow#orders', 'MODIFY')), true);
  });
});
