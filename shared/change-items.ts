/**
 * Change items: a bump's entry (policy-changes.ts) too big for the version item, written whole into
 * `POLICY_VERSION.changeShards` items (`POLICY_VERSION.changesPartition`), each in its own partition,
 * before the bump that announces it. The version then carries a stub in the entry's place: its mark,
 * prev, and the sort key of the change items. A sandbox whose bucket moved past a stub reads one change
 * item, from a shard picked at random, instead of querying the changed partition: after a deploy to a
 * service every sandbox touches, those reads spread over the shards as the version polls do (docs/scale.md,
 * "A policy change").
 *
 * A change item is at most CHANGE_ITEM_MAX_BYTES; a bigger entry is written nowhere, and the bump goes
 * without it (its readers query, as before). Each item expires a day after it is written (the table's TTL
 * attribute); a stub whose item is gone, unreadable, or not yet replicated is no change known, and its
 * readers query. Pure but for `withChangeItems`, which reads through the function it is handed.
 */
import { type AttributeValue, marshallItem } from './attribute-value';
import { itemBytes } from './item-size';
import { POLICY_VERSION, TABLE } from './names';
import {
  type ChangeEntry,
  type ChangeStub,
  fitsVersionItem,
  isEntry,
  isStub,
  type VersionEntry,
  withEntry,
} from './policy-changes';

/**
 * The most a change item may hold, as DynamoDB sizes it: one read unit for an eventually consistent read
 * of up to 8 KB ("DynamoDB read and write operations", Amazon DynamoDB Developer Guide). At 100,000
 * sandboxes each reading one within a poll period (4 s), each of 64 shards serves ~390 reads a second:
 * 390 read units, an eighth of the partition's 3,000. At 64 KB it would be 8 units a read, over the limit.
 */
export const CHANGE_ITEM_MAX_BYTES = 8 * 1024;

/**
 * How long a change item is kept (seconds), far past any sandbox's poll period. An expired item may stay
 * readable for days until DynamoDB deletes it ("Using time to live (TTL) in DynamoDB"): harmless, its
 * changes are still those of its mark.
 */
export const CHANGE_ITEM_TTL_S = 24 * 3600;

/** The sort key of a bump's change items: its mark and the attempt, so a retried bump never reuses one. */
export function changeItemsRef(mark: number, attempt: number): string {
  return `${mark}.${attempt}`;
}

/** The key of shard `shard`'s change item `ref`, as DynamoDB attribute values. */
export function changeItemKey(shard: number, ref: string): Record<string, { S: string }> {
  return {
    [TABLE.partitionKey]: { S: POLICY_VERSION.changesPartition(shard) },
    [TABLE.sortKey]: { S: ref },
  };
}

/** An UpdateItem of one item: what a policy version writer sends (policy-version.ts `VersionWriter`). */
export interface ItemUpdate {
  readonly TableName: string;
  readonly Key: Record<string, AttributeValue>;
  readonly UpdateExpression: string;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues: Record<string, AttributeValue>;
}

/** The entry's attributes in a change item, and when it expires (epoch seconds). */
function changeItemValues(entry: ChangeEntry, now: number): Record<string, AttributeValue> {
  return marshallItem({
    mark: entry.mark,
    prev: entry.prev,
    changes: entry.changes,
    [TABLE.ttlAttribute]: Math.ceil(now / 1000) + CHANGE_ITEM_TTL_S,
  });
}

/**
 * The write of shard `shard`'s change item. An UpdateItem, as the version's own writes are: the version
 * bumper's role may update items in the version's partitions, which hold these too.
 */
export function changeItemUpdate(
  table: string,
  shard: number,
  ref: string,
  entry: ChangeEntry,
  now: number,
): ItemUpdate {
  const attributes = Object.entries(changeItemValues(entry, now));
  return {
    TableName: table,
    Key: changeItemKey(shard, ref),
    UpdateExpression: `SET ${attributes.map((_, i) => `#a${i} = :a${i}`).join(', ')}`,
    ExpressionAttributeNames: Object.fromEntries(attributes.map(([name], i) => [`#a${i}`, name])),
    ExpressionAttributeValues: Object.fromEntries(attributes.map(([, value], i) => [`:a${i}`, value])),
  };
}

/** The size of the biggest of the entry's change items (the shard with the longest key), as DynamoDB sizes it. */
export function changeItemBytes(entry: ChangeEntry, ref: string, now: number): number {
  return itemBytes({ ...changeItemKey(POLICY_VERSION.changeShards - 1, ref), ...changeItemValues(entry, now) });
}

/** How a bump carries its entry: the version's entries after it, and the change items to write first, if any. */
export interface CarryPlan {
  readonly entries: readonly VersionEntry[];
  readonly items?: { readonly ref: string; readonly entry: ChangeEntry };
}

/**
 * In the version item when it fits there; else a stub there and the entry in the change items when it
 * fits one (and they are used); else undefined: the bump goes without it.
 */
export function planCarry(
  before: readonly VersionEntry[],
  entry: ChangeEntry,
  opts: { readonly ref: string; readonly now: number; readonly changeItems: boolean },
): CarryPlan | undefined {
  if (fitsVersionItem(entry)) return { entries: withEntry(before, entry) };
  if (!opts.changeItems || changeItemBytes(entry, opts.ref, opts.now) > CHANGE_ITEM_MAX_BYTES) return undefined;
  const stub: ChangeStub = { mark: entry.mark, prev: entry.prev, changeItems: opts.ref };
  return { entries: withEntry(before, stub), items: { ref: opts.ref, entry } };
}

/**
 * The entry a change item read back holds for `stub` (plain JSON), or undefined: none found, or not the
 * stub's (another mark or prev), or malformed. Then the stub's readers query.
 */
export function entryOfItem(item: unknown, stub: ChangeStub): ChangeEntry | undefined {
  if (!isEntry(item) || item.mark !== stub.mark || !samePrev(item.prev, stub.prev)) return undefined;
  return { mark: item.mark, prev: item.prev, changes: item.changes };
}

function samePrev(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/**
 * `entries` with each of `wanted` replaced by the entry its change item holds, one read each through
 * `read` (which picks the shard and the consistency); a stub not found stays a stub.
 */
export async function withChangeItems(
  entries: readonly VersionEntry[],
  wanted: Iterable<ChangeStub>,
  read: (stub: ChangeStub) => Promise<ChangeEntry | undefined>,
): Promise<VersionEntry[]> {
  const stubs = new Map<string, ChangeStub>();
  for (const s of wanted) stubs.set(s.changeItems, s);
  const found = new Map<string, ChangeEntry>();
  await Promise.all(
    [...stubs.values()].map(async (stub) => {
      const entry = await read(stub);
      if (entry) found.set(stub.changeItems, entry);
    }),
  );
  return entries.map((e) => (isStub(e) ? (found.get(e.changeItems) ?? e) : e));
}
