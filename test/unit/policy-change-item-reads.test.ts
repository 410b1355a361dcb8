/**
 * How the policy cache reads a deploy's change item (functions/mesh/policy/policy-table-reader.ts), with an
 * injected clock, scripted randomness and a table client that answers in memory: one change item from a
 * change shard picked at random among all of them; on a miss (not found, malformed, throttled) one other
 * shard picked at random, and only when both miss a Query of the changed partition, after which the
 * change item is not read again while the version points to it; one found is, for a copy that needs it
 * later.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { POLICY_VERSION } from '../../shared/names';
import { clockedPolicyCache } from '../support/clocked-policy-cache';
import { DEPLOY, PolicyVersionTable } from '../support/policy-version-table';

const T0 = 1_700_000_000_000;
const TTL = 5_000;

/** A cache whose randomness is `draws`, in order, then 0. */
function cache(table: PolicyVersionTable, clock: { now: number }, draws: number[]) {
  return clockedPolicyCache(table, clock, TTL, () => draws.shift() ?? 0);
}

/** Warms a cache on payments, deploys, and revalidates once past the TTL: whether audit is still allowed. */
async function afterDeploy(
  table: PolicyVersionTable,
  draws: number[],
  shards: readonly number[],
  entry?: Record<string, unknown>,
) {
  const clock = { now: T0 };
  const c = cache(table, clock, draws);
  assert.equal(c.authorize(await c.get('payments'), 'audit').allowed, true);
  table.queries.length = 0;
  table.deploy(shards, entry);
  clock.now += TTL;
  await c.get('payments');
  await c.settled();
  return { c, clock, audit: () => c.authorize(c.peek('payments')!, 'audit').allowed };
}

describe('policy cache: a deploy’s change item', () => {
  it('is read from a change shard picked among all of them', async () => {
    // Prepare: the last shard holds it; the draws pick the last version shard, then the last change shard
    const table = new PolicyVersionTable();
    // Act
    const { c, audit } = await afterDeploy(table, [0, 0.999, 0.999], [POLICY_VERSION.changeShards - 1]);
    // Assess
    assert.deepEqual(table.changeShardsRead(), [POLICY_VERSION.changeShards - 1]);
    assert.equal(audit(), false, 'the deploy applied');
    assert.deepEqual(table.queries, [], 'no Query');
    assert.equal(c.changeItemReads, 1);
  });

  it('not found in the shard picked: read from one other shard at random, and no Query', async () => {
    // Prepare: shard 10 lags behind; the second draw picks among the 63 others, shard 10 left out
    const table = new PolicyVersionTable();
    const draws = [0, 0, 10 / 64, 0.5];
    // Act
    const { c, audit } = await afterDeploy(table, draws, [42]);
    // Assess: (10 + 1 + floor(0.5 * 63)) % 64 = 42
    assert.deepEqual(table.changeShardsRead(), [10, 42]);
    assert.equal(audit(), false, 'the deploy applied from the second shard');
    assert.deepEqual(table.queries, [], 'payments not queried');
    assert.equal(c.changeItemReads, 2);
  });

  it('the other shard is never the one that missed, wherever the draw falls', async () => {
    const table = new PolicyVersionTable();
    await afterDeploy(table, [0, 0, 63 / 64, 0.9999], [62]);
    assert.deepEqual(table.changeShardsRead(), [63, 62], 'from the last shard, round to the one before it');
  });

  it('throttled or malformed in the shard picked: read from one other shard', async () => {
    const throttled = new PolicyVersionTable();
    throttled.throttling.add(POLICY_VERSION.changesPartition(5));
    const t = await afterDeploy(throttled, [0, 0, 5 / 64, 0], [5, 6]);
    assert.deepEqual(throttled.changeShardsRead(), [5, 6]);
    assert.equal(t.audit(), false);
    assert.deepEqual(throttled.queries, []);
    assert.equal(t.c.throttledReads, 1, 'the throttled read counted');

    const malformed = new PolicyVersionTable();
    const m = await afterDeploy(malformed, [0, 0, 5 / 64, 0], [5, 6], { mark: 200, prev: DEPLOY.prev, changes: 'x' });
    assert.deepEqual(malformed.changeShardsRead(), [5, 6]);
    assert.deepEqual(malformed.queries, ['payments'], 'both malformed: payments queried');
    assert.equal(m.audit(), false, 'the deploy applied from the Query');
  });

  it('missing in both shards: payments queried, and the change item not read again at the next poll', async () => {
    // Prepare: no change item anywhere (not yet replicated, or expired)
    const table = new PolicyVersionTable();
    // Act
    const { c, clock, audit } = await afterDeploy(table, [0, 0, 3 / 64, 0], []);
    // Assess
    assert.deepEqual(table.changeShardsRead(), [3, 4]);
    assert.deepEqual(table.queries, ['payments'], 'queried once both missed');
    assert.equal(audit(), false, 'the deploy applied from the Query');
    clock.now += TTL;
    await c.get('payments');
    await c.settled();
    assert.equal(c.changeItemReads, 2, 'not read again while the version points to it');
  });

  it('a Query answered while the change item is read stays; the next poll catches it up from the same item', async () => {
    // Prepare: payments read at T0; its next Query is sent before the deploy and held open
    const table = new PolicyVersionTable();
    const clock = { now: T0 };
    const c = cache(table, clock, []);
    await c.get('payments');
    const releaseQuery = table.hold('payments');
    clock.now = T0 + 1_000;
    const queried = c.reread('payments');
    await until(() => table.queries.length === 2); // the held one sent
    table.deploy([0]);
    const releaseItem = table.hold(POLICY_VERSION.changesPartition(0));
    // Act: orders' read polls the version, and payments' copy from T0 moved: its change item is read,
    // and the held Query answers meanwhile
    clock.now = T0 + TTL;
    const polled = c.refresh('orders');
    await until(() => c.changeItemReads === 1);
    releaseQuery();
    const answered = await queried;
    releaseItem();
    await polled;
    // Assess: the Query's copy stands, not one built from the copy it replaced
    assert.equal(c.peek('payments'), answered, 'the copy the Query answered');
    assert.equal(answered.loadedAt, T0 + 1_000);
    assert.equal(c.authorize(answered, 'audit').allowed, true, 'sent before the deploy');
    // Act: once that copy is due, the next poll finds its counter moved too
    clock.now = T0 + 1_000 + TTL;
    await c.get('payments');
    await c.settled();
    // Assess: caught up from the change item read again, not queried
    assert.equal(c.changeItemReads, 2, 'the change item read again: it was found');
    assert.deepEqual(table.queries, ['payments', 'payments', 'orders'], 'no Query of payments after the held one');
    assert.equal(c.authorize(c.peek('payments')!, 'audit').allowed, false, 'the deploy applied');
  });
});

/** Resolves once `done` holds, letting the reads in flight take their turns meanwhile. */
async function until(done: () => boolean): Promise<void> {
  for (let turn = 0; !done(); turn++) {
    if (turn === 1_000) throw new Error('the reads never reached the point the test waits for');
    await new Promise((r) => setImmediate(r));
  }
}
