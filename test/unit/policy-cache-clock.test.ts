/**
 * The policy cache's clock (functions/mesh/policy/policy-cache.ts), with an injected clock and a table
 * client that answers in memory: a copy is revalidated from the moment it is ttlMs old (not a
 * millisecond later), and after a failed table read the cache waits one TTL before trying again,
 * whether it holds a last good copy or nothing.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyCache, type PolicyTableClient } from '../../functions/mesh/policy/policy-cache';

const T0 = 1_700_000_000_000;
const TTL = 5_000;

/** A policy table of one service; `down` makes every read fail. */
class MemoryTable implements PolicyTableClient {
  down = false;
  readonly items = [
    { pk: { S: 'payments' }, sk: { S: 'service' }, functionName: { S: 'shop-payments' } },
    { pk: { S: 'payments' }, sk: { S: 'allow#orders' }, source: { S: 'orders' } },
  ];
  async send(): Promise<unknown> {
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'NetworkingError' });
    return { Items: this.items };
  }
}

function cache(table: MemoryTable, clock: { now: number }) {
  return new PolicyCache({
    tableName: 'shop-policy',
    snapshotPath: null,
    ttlMs: TTL,
    now: () => clock.now,
    client: table,
    log: () => undefined,
  });
}

describe('policy cache clock', () => {
  it('revalidates a copy from the moment it is ttlMs old', async () => {
    const clock = { now: T0 };
    const c = cache(new MemoryTable(), clock);
    assert.equal((await c.get('payments')).origin, 'table');
    assert.equal(c.tableReads, 1);
    clock.now = T0 + TTL - 1;
    await c.get('payments');
    assert.equal(c.tableReads, 1, 'still fresh one millisecond before the TTL');
    clock.now = T0 + TTL;
    await c.get('payments');
    await c.refresh('payments'); // joins the background read (it starts after the version read)
    assert.equal(c.tableReads, 2, 'stale at exactly the TTL: one background read, joined');
  });

  it('after a failed read with nothing known, answers "nothing" for one TTL, then reads again', async () => {
    const clock = { now: T0 };
    const table = new MemoryTable();
    table.down = true;
    const c = cache(table, clock);
    assert.equal((await c.get('payments')).origin, 'none');
    assert.equal(c.tableReads, 1);
    clock.now = T0 + TTL - 1;
    assert.equal((await c.get('payments')).origin, 'none');
    assert.equal(c.tableReads, 1, 'no read of a broken table on every call');
    table.down = false;
    clock.now = T0 + TTL;
    assert.equal((await c.get('payments')).origin, 'table', 'one TTL later it reads, and recovers');
    assert.equal(c.tableReads, 2);
  });

  it('after a failed revalidation, keeps the last good copy and waits one TTL before the next read', async () => {
    const clock = { now: T0 };
    const table = new MemoryTable();
    const c = cache(table, clock);
    const good = await c.get('payments');
    table.down = true;
    clock.now = T0 + TTL;
    assert.equal(await c.get('payments'), good, 'the stale copy answers at once');
    await c.refresh('payments');
    assert.equal(c.tableReads, 2);
    const failedAt = clock.now;
    clock.now = failedAt + TTL - 1;
    assert.equal(await c.get('payments'), good);
    assert.equal(c.tableReads, 2, 'backs off after the failure although the copy is stale');
    clock.now = failedAt + TTL;
    await c.get('payments');
    assert.equal(c.tableReads, 3, 'and tries again one TTL after it');
  });
});

describe('policy cache under throttling', () => {
  it('keeps the last good copy, counts the throttled read, and backs off less than a TTL with jitter', async () => {
    // Prepare: a table that answers, then throttles every read
    const clock = { now: T0 };
    const table = new MemoryTable();
    const throttled: string[] = [];
    const c = new PolicyCache({
      tableName: 'shop-policy',
      snapshotPath: null,
      ttlMs: TTL,
      now: () => clock.now,
      client: {
        send: async () => {
          if (table.down) {
            throw Object.assign(new Error('throughput exceeded'), { name: 'ProvisionedThroughputExceededException' });
          }
          return table.send();
        },
      },
      random: () => 0.5,
      onThrottled: (service) => throttled.push(service),
      log: () => undefined,
    });
    const good = await c.get('payments');
    table.down = true;
    // Act: the copy is past TTL + 1 s, so the call waits for a read, which is throttled
    clock.now = T0 + TTL + 2_000;
    const kept = await c.get('payments');
    // Assess
    assert.equal(kept, good, 'the last good copy stays');
    assert.ok(c.throttledReads >= 1);
    assert.deepEqual([...new Set(throttled)], ['payments']);
    assert.equal(c.authorize(kept, 'orders').allowed, false, 'past TTL + 1 s it authorizes nobody');
    const reads = c.tableReads;
    clock.now += 200; // 250 ms first backoff, half of it jittered: 187.5 ms here
    await c.get('payments');
    await c.settled();
    assert.equal(c.tableReads, reads + 1, 'tried again after the jittered backoff, well before a TTL');
  });
});
