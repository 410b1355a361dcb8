/**
 * The mesh-wide policy version (`POLICY_VERSION` in names.ts): which bucket a service's counter is in,
 * the update every writer applies to every shard after it changed policy items, and how a reader turns
 * a version item into counters. No I/O of its own: writers hand in their DynamoDB client's `send`.
 *
 * A bump sets each changed bucket to a fresh random value, not to the old one plus 1: readers only ask
 * whether a bucket still holds the value they queried under, and a counter can come back to a value a
 * reader has seen (a backup or a script writes old version items back, later bumps count up again), so
 * that reader would take its stale copy as confirmed. A fresh value is one no reader has seen.
 */
import { type AttributeValue, marshallValue, unmarshallItem } from './attribute-value';
import {
  type CarryPlan,
  CHANGE_ITEM_MAX_BYTES,
  changeItemKey,
  changeItemsRef,
  changeItemUpdate,
  entryOfItem,
  type ItemUpdate,
  planCarry,
  withChangeItems,
} from './change-items';
import { valueBytes } from './item-size';
import { nestsDeeperThan } from './json-depth';
import { POLICY_VERSION, TABLE } from './names';
import {
  changeEntries,
  isStub,
  MAX_CARRIED_CHANGES,
  MAX_CARRIED_ITEM_DEPTH,
  type PolicyChange,
  type VersionEntry,
} from './policy-changes';

/** The bucket of `service`'s counter: 32-bit FNV-1a of its name, modulo POLICY_VERSION.buckets. */
export function bucketOf(service: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < service.length; i++) {
    h ^= service.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % POLICY_VERSION.buckets;
}

/** The key of shard `shard`'s version item, as DynamoDB attribute values. */
export function versionKey(shard: number): Record<string, { S: string }> {
  return {
    [TABLE.partitionKey]: { S: POLICY_VERSION.partition(shard) },
    [TABLE.sortKey]: { S: POLICY_VERSION.sortKey },
  };
}

/** The changes a bump carries, and the generation it was read at (its writes require it unchanged). */
export interface CarriedChanges {
  readonly entries: readonly VersionEntry[];
  readonly generation: number;
}

/**
 * The UpdateItem of one shard: the bucket of each changed service set to `mark` (the same on every
 * shard of one bump), +1 on the generation (a count of changes, for operators); with `carry`, the
 * change entries too, on condition that no other bump came in between (the generation unchanged).
 */
export function versionUpdate(
  table: string,
  shard: number,
  services: readonly string[],
  now: number,
  mark: number,
  carry?: CarriedChanges,
): ItemUpdate {
  const buckets = [...new Set(services.map(bucketOf))].sort((a, b) => a - b);
  const names: Record<string, string> = { '#g': POLICY_VERSION.generation, '#t': POLICY_VERSION.changedAt };
  const values: Record<string, AttributeValue> = {
    ':one': { N: '1' },
    ':now': { N: String(now) },
    ':mark': { N: String(mark) },
  };
  const sets = ['#t = :now'];
  for (const b of buckets) {
    names[`#b${b}`] = POLICY_VERSION.counter(b);
    sets.push(`#b${b} = :mark`);
  }
  let condition: string | undefined;
  if (carry) {
    names['#c'] = POLICY_VERSION.changes;
    values[':c'] = marshallValue(carry.entries);
    sets.push('#c = :c');
    // The first bump of a table has no generation to compare: then the item must not exist yet.
    condition = carry.generation === 0 ? 'attribute_not_exists(#g)' : '#g = :g';
    if (carry.generation !== 0) values[':g'] = { N: String(carry.generation) };
  }
  return {
    TableName: table,
    Key: versionKey(shard),
    UpdateExpression: `ADD #g :one SET ${sets.join(', ')}`,
    ...(condition ? { ConditionExpression: condition } : {}),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** A bump's value: a random integer from 1 to 2^53 - 1 (0 is a bucket never bumped), exact in a JS number. */
export function freshMark(random: () => number = Math.random): number {
  return 1 + Math.floor(random() * (Number.MAX_SAFE_INTEGER - 1));
}

/** What a writer's DynamoDB client offers the bump, by name. */
export interface VersionWriter {
  transactWrite(input: { TransactItems: { Update: ItemUpdate }[] }): Promise<unknown>;
  /** The version's shards where transactions are not offered, and the change items. */
  updateItem(input: ItemUpdate): Promise<unknown>;
  /** A consistent GetItem: with it, a bump that names its changed keys carries their values. */
  getItem?(input: {
    TableName: string;
    Key: Record<string, AttributeValue>;
    ConsistentRead: true;
  }): Promise<{ Item?: Record<string, AttributeValue> }>;
}

export interface BumpOptions {
  /** The items the writes changed: their values go in the version item when they are few and small. */
  readonly keys?: readonly { readonly pk: string; readonly sk: string }[];
  /** @default Date.now() */
  readonly now?: number;
  /** @default freshMark() */
  readonly mark?: number;
  /**
   * false: an entry too big for the version item is not written to change items, and the bump goes
   * without it, as before there were any (the scale model's comparison). @default true
   */
  readonly changeItems?: boolean;
}

/**
 * Bumps the version after `services`' items changed: every shard in one TransactWriteItems (all or
 * none, so no shard can miss a change a reader would then never see); where transactions are not
 * offered (dynalite answers UnknownOperationException), shard by shard. Call it after the writes it
 * announces have finished: a reader that sees the new value then reads them. With the changed keys and a
 * writer that reads, the bump carries the items' values (shared/policy-changes.ts), read after the version
 * and written on condition that no other bump came in between (retried; then without them): in the
 * version item when they fit there, else in change items written first (shared/change-items.ts).
 */
export async function bumpPolicyVersion(
  writer: VersionWriter,
  table: string,
  services: readonly string[],
  opts: BumpOptions = {},
): Promise<void> {
  if (services.length === 0) return;
  try {
    await bump(writer, table, services, opts);
  } catch (err) {
    // A shard whose generation is not a number (a script, a restore, a hand edit) fails every bump's
    // ADD on it, and then no counter moves again: warm sandboxes would keep confirming their copies and
    // a deny would reach new sandboxes only. Repaired, the bump goes through.
    if (!refusedAsInvalid(err) || !(await repairGenerations(writer, table))) throw err;
    await bump(writer, table, services, opts);
  }
}

async function bump(writer: VersionWriter, table: string, services: readonly string[], opts: BumpOptions) {
  const now = opts.now ?? Date.now();
  const mark = opts.mark ?? freshMark();
  const keys = opts.keys ?? [];
  const changeItems = opts.changeItems !== false;
  let outcome: Awaited<ReturnType<typeof transact>> = 'conflict';
  if (writer.getItem && keys.length > 0 && (changeItems || keys.length <= MAX_CARRIED_CHANGES)) {
    for (let attempt = 0; attempt < 3 && outcome === 'conflict'; attempt++) {
      const read = { mark, ref: changeItemsRef(mark, attempt), now, changeItems };
      const carry = await readChanges(writer, table, services, keys, read);
      if (!carry) break; // too big even for the change items
      if (carry.items) await writeChangeItems(writer, table, carry.items, now);
      outcome = await transact(writer, table, services, now, mark, carry);
    }
  }
  // Bumped for good without the changes after three bumps came in between, or when they are too big to
  // carry anywhere: readers of those buckets query.
  if (outcome === 'conflict') outcome = await transact(writer, table, services, now, mark);
  if (outcome === 'done') return;
  for (let shard = 0; shard < POLICY_VERSION.shards; shard++) {
    await writer.updateItem(versionUpdate(table, shard, services, now, mark));
  }
}

/** The entry into every change shard's item, before the bump that announces it. */
async function writeChangeItems(
  writer: VersionWriter,
  table: string,
  items: NonNullable<CarryPlan['items']>,
  now: number,
): Promise<void> {
  // A few writes at a time: 64 at once queue behind the client's sockets, where on a busy machine the
  // last of them may run out of the client's request timeout before they are even sent.
  for (let first = 0; first < POLICY_VERSION.changeShards; first += CHANGE_WRITES_AT_ONCE) {
    const wave = Array.from(
      { length: Math.min(CHANGE_WRITES_AT_ONCE, POLICY_VERSION.changeShards - first) },
      (_, i) => first + i,
    );
    await Promise.all(
      wave.map((shard) => writer.updateItem(changeItemUpdate(table, shard, items.ref, items.entry, now))),
    );
  }
}

/** Change-item writes in flight at once. */
const CHANGE_WRITES_AT_ONCE = 16;

/** Every shard in one transaction: done, a condition failed (another bump came in between), or none offered. */
async function transact(
  writer: VersionWriter,
  table: string,
  services: readonly string[],
  now: number,
  mark: number,
  carry?: CarriedChanges,
): Promise<'done' | 'conflict' | 'unsupported'> {
  const updates = Array.from({ length: POLICY_VERSION.shards }, (_, shard) =>
    versionUpdate(table, shard, services, now, mark, carry),
  );
  try {
    await writer.transactWrite({ TransactItems: updates.map((Update) => ({ Update })) });
    return 'done';
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    const text = `${e?.name} ${e?.code} ${e?.message}`;
    if (/UnknownOperation|not (supported|implemented)/i.test(text)) return 'unsupported';
    // Cancelled for a shard's content, not for another bump: retrying the carry would not help.
    if (refusedAsInvalid(err)) throw err;
    if (carry && /TransactionCanceled|ConditionalCheckFailed|TransactionConflict/i.test(text)) return 'conflict';
    throw err;
  }
}

/**
 * Whether DynamoDB refused a bump for the content of an item it updates: a ValidationException, or a
 * cancelled transaction with a ValidationError among its reasons (as the SDK gives them, or as a
 * caller's wrapped error lists their codes in `reasons`). A bump's expressions are fixed, so the item is
 * what is wrong.
 */
function refusedAsInvalid(err: unknown): boolean {
  const e = err as {
    name?: string;
    code?: string;
    message?: string;
    reasons?: readonly unknown[];
    CancellationReasons?: readonly { Code?: string }[];
  };
  const codes = [...(e?.reasons ?? []), ...(e?.CancellationReasons ?? []).map((r) => r.Code)];
  return /ValidationException/.test(`${e?.name} ${e?.code} ${e?.message}`) || codes.includes('ValidationError');
}

/**
 * Removes each shard's generation that is not a number, so the next bump's ADD counts it from 1 again
 * (it is a count of changes for operators, and the carry's condition treats a missing one as the first).
 * True when one was removed.
 */
async function repairGenerations(writer: VersionWriter, table: string): Promise<boolean> {
  let repaired = false;
  for (let shard = 0; shard < POLICY_VERSION.shards; shard++) {
    try {
      await writer.updateItem({
        TableName: table,
        Key: versionKey(shard),
        UpdateExpression: 'REMOVE #g',
        ConditionExpression: 'attribute_exists(#g) AND NOT attribute_type(#g, :n)',
        ExpressionAttributeNames: { '#g': POLICY_VERSION.generation },
        ExpressionAttributeValues: { ':n': { S: 'N' } },
      });
      repaired = true;
    } catch (err) {
      if (!/ConditionalCheckFailed/.test(`${(err as Error)?.name} ${(err as Error)?.message}`)) throw err;
    }
  }
  return repaired;
}

/** The consistent GetItem of a writer that reads. */
type Get = (Key: Record<string, AttributeValue>) => Promise<{ Item?: Record<string, AttributeValue> }>;

/**
 * The version as it is (shard 0, consistent), then each changed item as it is now: read in that order, a
 * value is never older than the bumps the version already holds. The new entry goes after the old ones,
 * planned by `planCarry`; undefined when it is too big to carry anywhere (its items are read only until
 * they are past what a change item holds).
 */
async function readChanges(
  writer: VersionWriter,
  table: string,
  services: readonly string[],
  keys: readonly { readonly pk: string; readonly sk: string }[],
  at: { readonly mark: number; readonly ref: string; readonly now: number; readonly changeItems: boolean },
): Promise<(CarriedChanges & CarryPlan) | undefined> {
  const get: Get = (Key) => writer.getItem!({ TableName: table, Key, ConsistentRead: true });
  const version = unmarshallItem((await get(versionKey(0))).Item ?? {});
  const g = version[POLICY_VERSION.generation];
  const generation = typeof g === 'number' ? g : 0;
  const counters = versionCounters(version);
  const prev: Record<string, number> = {};
  for (const b of new Set(services.map(bucketOf))) prev[POLICY_VERSION.counter(b)] = counters[b]!;
  const changes = await readItems(get, keys);
  if (!changes) return undefined;
  // An entry DynamoDB would not take back (written by hand) is dropped, as one dropped for size: its readers query.
  const before = changeEntries(version, POLICY_VERSION.changes).filter((e) => writableJson(e) !== undefined);
  const plan = planCarry(before, { mark: at.mark, prev, changes }, at);
  return plan && { ...plan, generation };
}

/**
 * Each changed item as it is now (absent: deleted); undefined once they are more than a change item holds,
 * or when one cannot be carried (a table write let through what no policy item is: its bump then goes
 * without the changes, where carrying it would fail every bump, and the stream's with it).
 */
async function readItems(
  get: Get,
  keys: readonly { readonly pk: string; readonly sk: string }[],
): Promise<PolicyChange[] | undefined> {
  const changes: PolicyChange[] = [];
  let bytes = 0;
  for (const { pk, sk } of keys) {
    const out = await get({ [TABLE.partitionKey]: { S: pk }, [TABLE.sortKey]: { S: sk } });
    const change = out.Item ? { pk, sk, item: unmarshallItem(out.Item) } : { pk, sk };
    if (change.item && !carriable(change.item)) return;
    changes.push(change);
    bytes += 1 + valueBytes(marshallValue(change));
    if (bytes > CHANGE_ITEM_MAX_BYTES) return undefined;
  }
  return changes;
}

/** Whether the version can carry `item`: DynamoDB takes it back, nested no deeper than MAX_CARRIED_ITEM_DEPTH. */
function carriable(item: Record<string, unknown>): boolean {
  const json = writableJson(item);
  return json !== undefined && !nestsDeeperThan(Buffer.from(json), MAX_CARRIED_ITEM_DEPTH);
}

/**
 * The JSON of a value read from the table, or undefined when it holds a number DynamoDB would not take
 * back. DynamoDB stores up to 38 digits below 1E+126 ("Supported data types", Amazon DynamoDB Developer
 * Guide); the nearest double to 9.99...9E+125 is written back as 1e+126, which it refuses ("Number overflow").
 */
function writableJson(value: unknown): string | undefined {
  let inRange = true;
  const json = JSON.stringify(value, (_, v) => {
    if (typeof v === 'number' && Math.abs(v) >= DYNAMODB_NUMBER_BOUND) inRange = false;
    return v;
  });
  return inRange ? json : undefined;
}

/** The smallest magnitude DynamoDB refuses to store. */
const DYNAMODB_NUMBER_BOUND = 1e126;

/**
 * The version's entries as a consistent reader sees them: each stub replaced by the entry its change
 * item holds (shard 0, consistent), or left a stub where none is found. The stream's bumper compares
 * records with them (functions/control/policy-stream.ts).
 */
export async function carriedEntries(writer: VersionWriter, table: string): Promise<VersionEntry[]> {
  if (!writer.getItem) return [];
  const get: Get = (Key) => writer.getItem!({ TableName: table, Key, ConsistentRead: true });
  const { Item } = await get(versionKey(0));
  const entries = Item ? changeEntries(unmarshallItem(Item), POLICY_VERSION.changes) : [];
  return withChangeItems(entries, entries.filter(isStub), async (stub) => {
    const out = await get(changeItemKey(0, stub.changeItems));
    return out.Item ? entryOfItem(unmarshallItem(out.Item), stub) : undefined;
  });
}

/** The values of a version item's buckets (plain JSON), by bucket; a bucket never bumped holds 0. */
export function versionCounters(item: Readonly<Record<string, unknown>>): number[] {
  const counters: number[] = [];
  for (let b = 0; b < POLICY_VERSION.buckets; b++) {
    const v = item[POLICY_VERSION.counter(b)];
    counters.push(typeof v === 'number' && Number.isFinite(v) ? v : 0);
  }
  return counters;
}
