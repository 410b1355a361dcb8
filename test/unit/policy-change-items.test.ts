/**
 * Change items (shared/change-items.ts): a bump's entry too big for the version item goes to items of
 * its own, the version carrying a stub; a reader takes the stub's changes from the item it reads back
 * when it is the stub's, and otherwise knows no change (it queries).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { marshallItem, unmarshallItem } from '../../shared/attribute-value';
import {
  CHANGE_ITEM_MAX_BYTES,
  CHANGE_ITEM_TTL_S,
  changeItemBytes,
  changeItemKey,
  changeItemsRef,
  changeItemUpdate,
  entryOfItem,
  planCarry,
  withChangeItems,
} from '../../shared/change-items';
import { itemBytes } from '../../shared/item-size';
import { POLICY_VERSION } from '../../shared/names';
import {
  announces,
  type ChangeEntry,
  type ChangeStub,
  changeEntries,
  changesSince,
  isEntry,
  isStub,
  pathSince,
  type VersionEntry,
} from '../../shared/policy-changes';

const NOW = 1_700_000_000_000;
const allow = (pk: string, source: string) => ({
  pk,
  sk: `allow#${source}`,
  item: { pk, sk: `allow#${source}`, source, managedBy: 'deploy' },
});
/** A deploy to payments: `n` new allows, past what the version item carries. */
const deploy = (n: number, mark = 21): ChangeEntry => ({
  mark,
  prev: { b7: 20 },
  changes: Array.from({ length: n }, (_, i) => allow('payments', `caller-${i}`)),
});
const opts = { ref: changeItemsRef(21, 0), now: NOW, changeItems: true };
/** What a reader gets back from a change item the writer wrote: its attributes, plain JSON. */
const readBack = (entry: ChangeEntry, ref = opts.ref) => {
  const u = changeItemUpdate('t', 5, ref, entry, NOW);
  const attributes = Object.entries(u.ExpressionAttributeNames).map(([alias, name]) => [
    name,
    u.ExpressionAttributeValues[`:${alias.slice(1)}`]!,
  ]);
  return unmarshallItem({ ...u.Key, ...Object.fromEntries(attributes) });
};

describe('change items: a bump too big for the version item', () => {
  const earlier: ChangeEntry = { mark: 20, prev: { b7: 19 }, changes: [allow('payments', 'orders')] };

  it('a small entry stays in the version item; a deploy’s goes to the change items, a stub in its place', () => {
    const small = planCarry([earlier], deploy(2), opts);
    assert.deepEqual(small, { entries: [earlier, deploy(2)] });
    const big = planCarry([earlier], deploy(40), opts);
    assert.deepEqual(big?.items, { ref: opts.ref, entry: deploy(40) });
    const stub = big?.entries.at(-1);
    assert.deepEqual(stub, { mark: 21, prev: { b7: 20 }, changeItems: opts.ref });
    assert.equal(big?.entries[0], earlier, 'the entries before it are kept');
    // No `changes` list: a reader that knows only full entries leaves the stub out, and queries.
    assert.ok(isStub(stub) && !isEntry(stub));
  });

  it('an entry past what a change item holds is carried nowhere; nor is a deploy with change items off', () => {
    const huge = deploy(40);
    const pad = {
      ...huge,
      changes: [...huge.changes, { pk: 'payments', sk: 'route', item: { x: 'y'.repeat(8_000) } }],
    };
    assert.ok(changeItemBytes(pad, opts.ref, NOW) > CHANGE_ITEM_MAX_BYTES);
    assert.equal(planCarry([earlier], pad, opts), undefined);
    assert.equal(planCarry([earlier], deploy(40), { ...opts, changeItems: false }), undefined);
  });

  it('writes one item per shard in the change partitions, keyed by the bump, sized as DynamoDB sizes it', () => {
    const entry = deploy(40);
    const last = POLICY_VERSION.changeShards - 1;
    const update = changeItemUpdate('shop-policy', last, opts.ref, entry, NOW);
    assert.deepEqual(update.Key, changeItemKey(last, '21.0'));
    assert.equal(update.Key.pk?.S, 'mesh#version#changes#63');
    assert.ok(update.Key.pk?.S?.startsWith(POLICY_VERSION.partitionPrefix), 'under the version’s grants');
    assert.equal(update.ConditionExpression, undefined);
    const item = readBack(entry);
    assert.equal(item.ttl, NOW / 1000 + CHANGE_ITEM_TTL_S, 'it expires a day after the bump');
    const stored = {
      ...update.Key,
      ...marshallItem({ mark: 21, prev: entry.prev, changes: entry.changes, ttl: item.ttl }),
    };
    assert.equal(changeItemBytes(entry, opts.ref, NOW), itemBytes(stored));
    assert.ok(changeItemBytes(entry, opts.ref, NOW) < CHANGE_ITEM_MAX_BYTES, '40 allows fit one read unit');
  });

  it('a retried bump writes change items of another key: a lagging read can never find the first try’s', () => {
    assert.notEqual(changeItemsRef(21, 0), changeItemsRef(21, 1));
  });
});

describe('change items: what a reader makes of the one it reads', () => {
  const stub: ChangeStub = { mark: 21, prev: { b7: 20 }, changeItems: opts.ref };
  const entries: VersionEntry[] = [{ mark: 20, prev: { b7: 19 }, changes: [allow('payments', 'orders')] }, stub];

  it('found: the stub’s entry, and the service’s changes follow from the value the copy was filed under', async () => {
    assert.deepEqual(entryOfItem(readBack(deploy(40)), stub), deploy(40));
    assert.equal(changesSince(entries, 'b7', 'payments', 19, 21), undefined, 'a stub not read is no change known');
    assert.deepEqual(pathSince(entries, 'b7', 19, 21), entries);
    const reads: string[] = [];
    const resolved = await withChangeItems(entries, [stub, stub], async (s) => {
      reads.push(s.changeItems);
      return entryOfItem(readBack(deploy(40)), s);
    });
    assert.deepEqual(reads, [opts.ref], 'one read per stub');
    const changes = changesSince(resolved, 'b7', 'payments', 19, 21);
    assert.equal(changes?.length, 41);
    assert.deepEqual(changes?.[0], allow('payments', 'orders'));
    assert.equal(changesSince(resolved, 'b7', 'inventory', 20, 21)?.length, 0, 'no change of another service');
  });

  it('not found: the stub stays, and the copy is queried', async () => {
    const resolved = await withChangeItems(entries, [stub], async () => undefined);
    assert.deepEqual(resolved, entries);
    assert.equal(changesSince(resolved, 'b7', 'payments', 20, 21), undefined);
    assert.equal(entryOfItem(undefined, stub), undefined);
  });

  it('malformed or not the stub’s: no change known', () => {
    const good = readBack(deploy(3));
    assert.equal(entryOfItem({ ...good, changes: 'x' }, stub), undefined);
    assert.equal(entryOfItem({ ...good, changes: [{ pk: 1, sk: 'allow#a' }] }, stub), undefined);
    assert.equal(entryOfItem({ ...good, mark: 22 }, stub), undefined, 'another bump’s');
    assert.equal(entryOfItem({ ...good, prev: { b7: 19 } }, stub), undefined, 'another previous value');
    assert.equal(entryOfItem({ ...good, prev: { b7: 20, b9: 3 } }, stub), undefined);
    assert.equal(entryOfItem({ ...good, prev: null }, stub), undefined);
  });

  it('the version item’s stubs are read as stubs; the stream compares records with them only once resolved', () => {
    const version = { changes: [...entries, { mark: 5, prev: {}, changeItems: 7 }] };
    assert.deepEqual(changeEntries(version, 'changes'), entries);
    const written = allow('payments', 'caller-3');
    assert.equal(announces(entries, written.pk, written.sk, written.item), false, 'a stub not read: bumped');
    const resolved: VersionEntry[] = [entries[0]!, deploy(40)];
    assert.equal(announces(resolved, written.pk, written.sk, written.item), true);
    assert.equal(announces(resolved, written.pk, written.sk, { ...written.item, source: 'x' }), false);
  });
});
