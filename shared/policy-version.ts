/**
 * The mesh-wide policy version (`POLICY_VERSION` in names.ts): which bucket a service's counter is in,
 * the update every writer applies to every shard after it changed policy items, and how a reader turns
 * a version item into counters. No I/O of its own: writers hand in their DynamoDB client's `send`.
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

/** The UpdateItem of one shard: +1 on the bucket of each changed service and on the generation. */
export function versionUpdate(table: string, shard: number, services: readonly string[], now: number) {
  const buckets = [...new Set(services.map(bucketOf))].sort((a, b) => a - b);
  const names: Record<string, string> = { '#g': POLICY_VERSION.generation, '#t': POLICY_VERSION.changedAt };
  const adds = ['#g :one'];
  for (const b of buckets) {
    names[`#b${b}`] = POLICY_VERSION.counter(b);
    adds.push(`#b${b} :one`);
  }
  return {
    TableName: table,
    Key: versionKey(shard),
    UpdateExpression: `ADD ${adds.join(', ')} SET #t = :now`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':one': { N: '1' }, ':now': { N: String(now) } },
  };
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
 * announces have finished: a reader that sees the new counter then reads them.
 */
export async function bumpPolicyVersion(
  writer: VersionWriter,
  table: string,
  services: readonly string[],
  now: number = Date.now(),
): Promise<void> {
  if (services.length === 0) return;
  const updates = Array.from({ length: POLICY_VERSION.shards }, (_, shard) =>
    versionUpdate(table, shard, services, now),
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

/** Counters of a version item (plain JSON), by bucket; a bucket never bumped counts 0. */
export function versionCounters(item: Readonly<Record<string, unknown>>): number[] {
  const counters: number[] = [];
  for (let b = 0; b < POLICY_VERSION.buckets; b++) {
    const v = item[POLICY_VERSION.counter(b)];
    counters.push(typeof v === 'number' && Number.isFinite(v) ? v : 0);
  }
  return counters;
}
