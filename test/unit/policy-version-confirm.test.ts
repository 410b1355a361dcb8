/**
 * How the policy cache's table reader (functions/mesh/policy/policy-table-reader.ts) uses the policy
 * version, with an injected clock, scripted randomness and a table client that answers in memory: one
 * poll confirms every table copy whose counter has not moved, as of the read's sending less the read
 * lag, and clears its failure; with shared breakers a confirmed copy keeps its own items and reads only
 * its breaker partition; a table without a version item is asked again once a minute; throttled reads
 * are counted and back off with jitter, doubling with each in a row.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VERSION_READ_LAG_MS } from '../../functions/mesh/policy/policy-table-reader';
import { changeItemKey } from '../../shared/change-items';
import { POLICY_VERSION } from '../../shared/names';
import { bucketOf } from '../../shared/policy-version';
import { clockedPolicyCache } from '../support/clocked-policy-cache';
import { DEPLOY, PAYMENTS_COUNTER, PolicyVersionTable } from '../support/policy-version-table';

const T0 = 1_700_000_000_000;
const TTL = 5_000;
const ORDERS_COUNTER = POLICY_VERSION.counter(bucketOf('orders'));

/** The version table with orders' partition too. */
function twoServices(): PolicyVersionTable {
  const table = new PolicyVersionTable();
  table.put({ pk: 'orders', sk: 'service', functionName: 'g' });
  return table;
}

describe('policy version: confirmation', () => {
  it('confirms unmoved copies as of the poll less the read lag, clears a failure, leaves newer copies', async () => {
    // Prepare: both copies read at T0; the second read's poll (T0) leaves the first, newer than T0 - lag
    const clock = { now: T0 };
    const table = twoServices();
    const c = clockedPolicyCache(table, clock, TTL, () => 0);
    await c.get('payments');
    await c.get('orders');
    assert.equal(c.peek('payments')?.loadedAt, T0, 'a copy newer than the poll less the lag is left as it is');
    assert.equal(c.versionReads, 2);
    // orders' next Query is throttled: its copy stays, failing, backing off
    clock.now = T0 + TTL;
    table.throttling.add('orders');
    await c.reread('orders');
    assert.equal(c.entries.get('orders')?.failing, true);
    assert.equal(c.entries.get('orders')?.throttled, 1);
    // Act: payments' revalidation polls the version
    clock.now = T0 + 2 * TTL;
    const queries = table.queries.length;
    const payments = await c.refresh('payments');
    // Assess: no Query; both copies as of the poll less the lag; orders' failure cleared
    assert.equal(table.queries.length, queries, 'confirmed by the version alone');
    assert.equal(c.versionReads, 4);
    const asOf = T0 + 2 * TTL - VERSION_READ_LAG_MS;
    assert.equal(payments.loadedAt, asOf);
    const orders = c.entries.get('orders')!;
    assert.deepEqual(
      {
        loadedAt: orders.policy.loadedAt,
        retryAfter: orders.retryAfter,
        failing: orders.failing,
        throttled: orders.throttled,
      },
      { loadedAt: asOf, retryAfter: 0, failing: false, throttled: 0 },
    );
    // A poll sent at the same moment finds orders exactly as old as it would confirm: left as it is
    const same = orders.policy;
    await c.refresh('payments');
    assert.equal(c.peek('orders'), same);
  });

  it('with shared breakers, a confirmed copy keeps its own items and reads its breaker partition only', async () => {
    // Prepare: payments with an open breaker, orders beside it
    const clock = { now: T0 };
    const table = twoServices();
    const breaker = { pk: 'breaker#payments', sk: 'breaker#2', version: '2', state: 'open', openedAt: T0 - 1, ttl: 2 };
    table.put(breaker);
    const c = clockedPolicyCache(table, clock, TTL, () => 0, { sharedBreakers: true });
    assert.equal((await c.get('payments')).breakers.size, 1);
    await c.get('orders');
    // Act: the breaker closes (its item deleted); payments revalidated past the TTL
    table.items.delete('breaker#payments|breaker#2');
    clock.now = T0 + TTL;
    table.queries.length = 0;
    const p = await c.refresh('payments');
    // Assess
    assert.deepEqual(table.queries, ['breaker#payments'], 'its own partition confirmed by the version');
    assert.deepEqual([...p.items.keys()].sort(), ['allow#audit', 'allow#orders', 'service']);
    assert.equal(p.breakers.size, 0, 'the old breaker state is not kept');
    assert.equal(p.loadedAt, T0 + TTL - VERSION_READ_LAG_MS, 'as of the poll less the lag');
    assert.equal(c.peek('orders')?.loadedAt, T0, 'the poll confirms no other copy: breaker state is not in it');
  });

  it('picks the last version shard when the random source answers 1', async () => {
    const table = new PolicyVersionTable();
    const c = clockedPolicyCache(table, { now: T0 }, TTL, () => 1);
    await c.get('payments');
    assert.deepEqual(table.gets, [POLICY_VERSION.partition(POLICY_VERSION.shards - 1)]);
  });
});

describe('policy version: a table without one', () => {
  it('is asked for it again only a minute after the last time', async () => {
    const clock = { now: T0 };
    const table = new PolicyVersionTable();
    table.noVersion();
    const c = clockedPolicyCache(table, clock, TTL, () => 0);
    await c.get('payments');
    assert.equal(c.versionReads, 1);
    clock.now = T0 + 60_000 - 1;
    await c.refresh('payments');
    assert.equal(c.versionReads, 1, 'a Query alone');
    clock.now = T0 + 60_000;
    await c.refresh('payments');
    assert.equal(c.versionReads, 2, 'asked again at exactly one minute');
    assert.equal(table.queries.length, 3);
  });
});

describe('policy version: throttling', () => {
  for (const name of ['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']) {
    it(`counts a version read answered ${name}, and still queries`, async () => {
      const table = new PolicyVersionTable();
      table.throttling.add(POLICY_VERSION.partition(0));
      table.throttlingError = name;
      const throttled: string[] = [];
      const c = clockedPolicyCache(table, { now: T0 }, TTL, () => 0, { onThrottled: (s) => throttled.push(s) });
      assert.equal((await c.get('payments')).origin, 'table');
      assert.equal(c.throttledReads, 1);
      assert.deepEqual(throttled, ['payments']);
      assert.deepEqual(table.queries, ['payments']);
    });
  }

  it('backs off half fixed, half random, doubling with each throttled read in a row', async () => {
    const clock = { now: T0 };
    const table = new PolicyVersionTable();
    table.throttling.add('payments');
    const c = clockedPolicyCache(table, clock, TTL, () => 0.5);
    await c.get('payments');
    // 250 ms: 125 fixed + 0.5 of 125
    assert.deepEqual(pick(c.entries.get('payments')!), { retryAfter: T0 + 187.5, throttled: 1 });
    clock.now = T0 + 187.5;
    await c.get('payments');
    // 500 ms: 250 fixed + 0.5 of 250
    assert.deepEqual(pick(c.entries.get('payments')!), { retryAfter: T0 + 187.5 + 375, throttled: 2 });
    assert.equal(c.throttledReads, 2);
  });
});

function pick(e: { retryAfter: number; throttled?: number }) {
  return { retryAfter: e.retryAfter, throttled: e.throttled };
}

describe('policy version: catching up', () => {
  it('does not catch up a copy holding a malformed item: no change item read, queried', async () => {
    // Prepare: payments holds a malformed item; the deploy's change item and the inline change both reach it
    for (const stub of [true, false]) {
      const clock = { now: T0 };
      const table = new PolicyVersionTable();
      table.put({ pk: 'payments', sk: 'allow#bad', source: 'not a name!' });
      const c = clockedPolicyCache(table, clock, TTL, () => 0);
      await c.get('payments');
      if (stub) table.deploy([0, 1]);
      else {
        table.items.delete('payments|allow#audit');
        table.version(200, [{ ...DEPLOY }]);
      }
      table.queries.length = 0;
      // Act
      clock.now = T0 + TTL;
      const p = await c.refresh('payments');
      // Assess
      assert.equal(c.changeItemReads, 0, 'its change item is not read');
      assert.deepEqual(table.queries, ['payments'], 'queried instead');
      assert.equal(p.allows.has('audit'), false);
    }
  });

  it('a change item missed is not read again for a copy still behind it, until the version leaves it', async () => {
    // Prepare: payments and orders behind one deploy whose change item is nowhere yet
    const clock = { now: T0 };
    const table = twoServices();
    const c = clockedPolicyCache(table, clock, TTL, () => 0);
    await c.get('payments');
    await c.get('orders');
    const both = [PAYMENTS_COUNTER, ORDERS_COUNTER];
    const stub = { mark: 200, prev: { [PAYMENTS_COUNTER]: 100, [ORDERS_COUNTER]: 0 }, changeItems: 'ref' };
    table.version(200, [stub], both);
    clock.now = T0 + TTL;
    await c.refresh('payments');
    assert.equal(c.changeItemReads, 2, 'missed in two shards; payments queried');
    // Act: the next poll still has orders behind it
    clock.now = T0 + 2 * TTL;
    await c.refresh('payments');
    // Assess
    assert.equal(c.changeItemReads, 2, 'not read again');
    assert.equal(c.entries.get('orders')?.bucketSeen, 0, 'orders waits to be queried when used');
    // The version leaves it, then (restored) points to it again, now that it is there: read again
    table.version(300, [], both);
    clock.now = T0 + 3 * TTL;
    await c.refresh('payments');
    table.version(200, [stub], both);
    const { pk, sk } = changeItemKey(0, 'ref');
    table.put({ pk: pk.S, sk: sk.S, mark: 200, prev: stub.prev, changes: [{ pk: 'orders', sk: 'allow#audit' }] });
    clock.now = T0 + 4 * TTL;
    await c.refresh('payments');
    assert.equal(c.changeItemReads, 3);
    assert.equal(c.entries.get('orders')?.bucketSeen, 200, 'orders caught up without a Query');
    assert.deepEqual([...c.peek('orders')!.items.keys()], ['service'], 'with the items it held');
    assert.equal(table.queries.filter((q) => q === 'orders').length, 1);
  });
});
