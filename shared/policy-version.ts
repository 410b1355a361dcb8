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
import { POLICY_VERSION, TABLE } from './names';

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

/**
 * The UpdateItem of one shard: the bucket of each changed service set to `mark` (the same on every
 * shard of one bump), +1 on the generation (a count of changes, for operators).
 */
export function versionUpdate(table: string, shard: number, services: readonly string[], now: number, mark: number) {
  const buckets = [...new Set(services.map(bucketOf))].sort((a, b) => a - b);
  const names: Record<string, string> = { '#g': POLICY_VERSION.generation, '#t': POLICY_VERSION.changedAt };
  const sets = ['#t = :now'];
  for (const b of buckets) {
    names[`#b${b}`] = POLICY_VERSION.counter(b);
    sets.push(`#b${b} = :mark`);
  }
  return {
    TableName: table,
    Key: versionKey(shard),
    UpdateExpression: `ADD #g :one SET ${sets.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':one': { N: '1' }, ':now': { N: String(now) }, ':mark': { N: String(mark) } },
  };
}

/** A bump's value: a random integer from 1 to 2^53 - 1 (0 is a bucket never bumped), exact in a JS number. */
export function freshMark(random: () => number = Math.random): number {
  return 1 + Math.floor(random() * (Number.MAX_SAFE_INTEGER - 1));
}

/** What a writer's DynamoDB client offers the bump: the two operations, by name. */
export interface VersionWriter {
  transactWrite(input: { TransactItems: { Update: ReturnType<typeof versionUpdate> }[] }): Promise<unknown>;
  updateItem(input: ReturnType<typeof versionUpdate>): Promise<unknown>;
}

/**
 * Bumps the version after `services`' items changed: every shard in one TransactWriteItems (all or
 * none, so no shard can miss a change a reader would then never see); where transactions are not
 * offered (dynalite answers UnknownOperationException), shard by shard. Call it after the writes it
 * announces have finished: a reader that sees the new value then reads them.
 */
export async function bumpPolicyVersion(
  writer: VersionWriter,
  table: string,
  services: readonly string[],
  now: number = Date.now(),
  mark: number = freshMark(),
): Promise<void> {
  if (services.length === 0) return;
  const updates = Array.from({ length: POLICY_VERSION.shards }, (_, shard) =>
    versionUpdate(table, shard, services, now, mark),
  );
  try {
    await writer.transactWrite({ TransactItems: updates.map((Update) => ({ Update })) });
    return;
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    if (!/UnknownOperation|not (supported|implemented)/i.test(`${e?.name} ${e?.code} ${e?.message}`)) throw err;
  }
  for (const u of updates) await writer.updateItem(u);
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
