/**
 * How the policy cache reads a deploy's change item (functions/mesh/policy/policy-table-reader.ts), with an
 * injected clock, scripted randomness and a table client that answers in memory: one change item from a
 * change shard picked at random among all of them; on a miss (not found, malformed, throttled) one other
 * shard picked at random, and only when both miss a Query of the changed partition, after which the
 * change item is not read again while the version points to it.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicyTableClient } from '../../functions/mesh/policy/policy-cache';
import { type AttributeValue, marshallItem } from '../../shared/attribute-value';
import { changeItemKey } from '../../shared/change-items';
import { POLICY_VERSION } from '../../shared/names';
import type { ChangeEntry } from '../../shared/policy-changes';
import { bucketOf, versionKey } from '../../shared/policy-version';
import { clockedPolicyCache } from '../support/clocked-policy-cache';

const T0 = 1_700_000_000_000;
const TTL = 5_000;
const REF = '200.0';
const counter = POLICY_VERSION.counter(bucketOf('payments'));
/** The deploy: audit's allow removed from payments. */
const deploy: ChangeEntry = { mark: 200, prev: { [counter]: 100 }, changes: [{ pk: 'payments', sk: 'allow#audit' }] };

/** A policy table in memory: payments' items, the version in every shard, change items in the shards given. */
class ChangeTable implements PolicyTableClient {
  readonly items = new Map<string, Record<string, AttributeValue>>();
  /** Partition keys read, in order: GetItem and Query. */
  readonly gets: string[] = [];
  readonly queries: string[] = [];
  /** Partitions whose reads are answered with throttling. */
  readonly throttling = new Set<string>();

  constructor() {
    for (const sk of ['service', 'allow#orders', 'allow#audit']) {
      this.put({ pk: 'payments', sk, ...(sk.startsWith('allow#') ? { source: sk.slice(6) } : { functionName: 'f' }) });
    }
    this.version(100, []);
  }

  put(item: Record<string, unknown>): void {
    const m = marshallItem(item);
    this.items.set(`${m.pk!.S}|${m.sk!.S}`, m);
  }

  /** Every version shard at `mark` for payments' bucket, with `changes`. */
  version(mark: number, changes: unknown[]): void {
    for (let shard = 0; shard < POLICY_VERSION.shards; shard++) {
      const { pk, sk } = versionKey(shard);
      this.put({ pk: pk.S, sk: sk.S, generation: mark, [counter]: mark, changes });
    }
  }

  /** The deploy, as the seeder bumps it: audit's allow gone, change items in `shards` (the rest lag). */
  deploy(shards: readonly number[], entry: Record<string, unknown> = { ...deploy }): void {
    this.items.delete('payments|allow#audit');
    for (const shard of shards) {
      const { pk, sk } = changeItemKey(shard, REF);
      this.put({ pk: pk.S, sk: sk.S, ...entry });
    }
    this.version(200, [{ mark: 200, prev: deploy.prev, changeItems: REF }]);
  }

  async send(command: unknown): Promise<unknown> {
    const input = (command as { input: { Key?: Record<string, { S: string }> } }).input;
    const key = input.Key;
    if (key) {
      this.gets.push(key.pk!.S);
      if (this.throttling.has(key.pk!.S)) {
        throw Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
      }
      return { Item: this.items.get(`${key.pk!.S}|${key.sk!.S}`) };
    }
    const pk = (input as { ExpressionAttributeValues: { ':pk': { S: string } } }).ExpressionAttributeValues[':pk'].S;
    this.queries.push(pk);
    return { Items: [...this.items.values()].filter((i) => i.pk!.S === pk) };
  }

  /** The change shards read, in order. */
  changeShardsRead(): number[] {
    const prefix = POLICY_VERSION.changesPartition(0).slice(0, -1);
    return this.gets.filter((pk) => pk.startsWith(prefix)).map((pk) => Number(pk.slice(prefix.length)));
  }
}

/** A cache whose randomness is `draws`, in order, then 0. */
function cache(table: ChangeTable, clock: { now: number }, draws: number[]) {
  return clockedPolicyCache(table, clock, TTL, () => draws.shift() ?? 0);
}

/** Warms a cache on payments, deploys, and revalidates once past the TTL: whether audit is still allowed. */
async function afterDeploy(
  table: ChangeTable,
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
    const table = new ChangeTable();
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
    const table = new ChangeTable();
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
    const table = new ChangeTable();
    await afterDeploy(table, [0, 0, 63 / 64, 0.9999], [62]);
    assert.deepEqual(table.changeShardsRead(), [63, 62], 'from the last shard, round to the one before it');
  });

  it('throttled or malformed in the shard picked: read from one other shard', async () => {
    const throttled = new ChangeTable();
    throttled.throttling.add(POLICY_VERSION.changesPartition(5));
    const t = await afterDeploy(throttled, [0, 0, 5 / 64, 0], [5, 6]);
    assert.deepEqual(throttled.changeShardsRead(), [5, 6]);
    assert.equal(t.audit(), false);
    assert.deepEqual(throttled.queries, []);
    assert.equal(t.c.throttledReads, 1, 'the throttled read counted');

    const malformed = new ChangeTable();
    const m = await afterDeploy(malformed, [0, 0, 5 / 64, 0], [5, 6], { mark: 200, prev: deploy.prev, changes: 'x' });
    assert.deepEqual(malformed.changeShardsRead(), [5, 6]);
    assert.deepEqual(malformed.queries, ['payments'], 'both malformed: payments queried');
    assert.equal(m.audit(), false, 'the deploy applied from the Query');
  });

  it('missing in both shards: payments queried, and the change item not read again at the next poll', async () => {
    // Prepare: no change item anywhere (not yet replicated, or expired)
    const table = new ChangeTable();
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
});
