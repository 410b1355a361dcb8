/**
 * The changes a version item carries (shared/policy-changes.ts): a reader follows them from the value it
 * saw to the bucket's current one, or queries when they do not lead there.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyChanges,
  CHANGES_MAX_BYTES,
  type ChangeEntry,
  changeEntries,
  changesSince,
  type VersionEntry,
  withEntry,
} from '../../shared/policy-changes';

const deny = (pk: string, source: string) => ({
  pk,
  sk: `deny#${source}`,
  item: { pk, sk: `deny#${source}`, source, managedBy: 'operator' },
});
const lift = (pk: string, source: string) => ({ pk, sk: `deny#${source}` });

describe('policy changes carried in the version item', () => {
  // Bucket b7 went 10 -> 11 (a deny of orders on payments), then 11 -> 12 (inventory's change, same bucket),
  // then 12 -> 13 (the deny lifted); bucket b9 moved once, 40 -> 41.
  const entries: ChangeEntry[] = [
    { mark: 11, prev: { b7: 10 }, changes: [deny('payments', 'orders')] },
    { mark: 12, prev: { b7: 11 }, changes: [deny('inventory', 'orders')] },
    { mark: 41, prev: { b9: 40 }, changes: [deny('audit', 'orders')] },
    { mark: 13, prev: { b7: 12 }, changes: [lift('payments', 'orders')] },
  ];

  it("follows a service's changes from the value it saw to the current one, in order", () => {
    assert.deepEqual(changesSince(entries, 'b7', 'payments', 10, 13), [
      deny('payments', 'orders'),
      lift('payments', 'orders'),
    ]);
    assert.deepEqual(changesSince(entries, 'b7', 'payments', 12, 13), [lift('payments', 'orders')]);
    assert.deepEqual(changesSince(entries, 'b7', 'inventory', 11, 12), [deny('inventory', 'orders')]);
    assert.deepEqual(changesSince(entries, 'b7', 'payments', 13, 13), [], 'nothing moved: nothing to apply');
  });

  it('gives up where the entries do not lead to the current value (dropped, or a bump that carried none)', () => {
    assert.equal(changesSince(entries, 'b7', 'payments', 9, 13), undefined, 'older than the oldest entry');
    assert.equal(changesSince(entries, 'b7', 'payments', 10, 14), undefined, 'a later bump carried nothing');
    assert.equal(changesSince(entries, 'b9', 'audit', 40, 13), undefined, 'another bucket’s chain');
  });

  it('applies puts and deletes by sort key, the later change winning', () => {
    const items = [
      { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
      { pk: 'payments', sk: 'allow#orders', source: 'orders' },
    ];
    const after = applyChanges(items, [deny('payments', 'orders'), lift('payments', 'orders'), lift('payments', 'x')]);
    assert.deepEqual(after, items);
    const denied = applyChanges(items, [lift('payments', 'orders'), deny('payments', 'orders')]);
    assert.deepEqual(
      denied.map((i) => (i as { sk: string }).sk),
      ['service', 'allow#orders', 'deny#orders'],
    );
  });

  it('keeps the newest entries that fit, dropping the oldest', () => {
    const big = (mark: number): ChangeEntry => ({
      mark,
      prev: { b1: mark - 1 },
      changes: [{ pk: 'p', sk: 's', item: { pad: 'x'.repeat(CHANGES_MAX_BYTES / 3) } }],
    });
    let kept: VersionEntry[] = [];
    for (let m = 1; m <= 5; m++) kept = withEntry(kept, big(m));
    assert.deepEqual(
      kept.map((e) => e.mark),
      [4, 5],
    );
    assert.ok(JSON.stringify(kept).length <= CHANGES_MAX_BYTES);
    const huge = { ...big(6), changes: [{ pk: 'p', sk: 's', item: { pad: 'x'.repeat(CHANGES_MAX_BYTES) } }] };
    assert.deepEqual(withEntry(kept, huge), [], 'a change too big for the item: no entry, and the chain breaks there');
  });

  it('reads only well-formed entries from a version item', () => {
    const item = { changes: [entries[0], { mark: '12' }, { mark: 13, prev: {}, changes: [{ pk: 1 }] }, null] };
    assert.deepEqual(changeEntries(item, 'changes'), [entries[0]]);
    assert.deepEqual(changeEntries({}, 'changes'), []);
  });
});
