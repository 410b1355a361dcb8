/**
 * The policy table's stream handler: bumps the policy version (shared/policy-version.ts) for the
 * services whose items changed, whoever wrote them (the console, a script, IaC, another tool). The CLI
 * and the seeder bump right after their own writes; this catches every other writer, one stream delay
 * later (docs/safety.md, "A deny wins within TTL + 1 s").
 *
 * Only partitions that are service names count: the version items themselves (a bump would bump
 * again, forever) and shared breaker state (`breaker#<service>`, read without the version) are left
 * out. A failed bump fails the batch, and Lambda retries it from the stream.
 *
 * A write the version already announces is not bumped again: the CLI and the seeder bump right after
 * their writes, carrying the items' values, and their records reach this function a stream delay
 * later. A record whose new image (the stream's `NEW_IMAGE` view) is what the newest carried change of
 * its key holds (in the version item, or in the change items of a deploy's bump) is left out (shared/policy-changes.ts `announces` says why that is safe); any other
 * record, one without an image (a `KEYS_ONLY` stream) or a key no carried change names, is bumped.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type AttributeValue, unmarshallItem } from '../../shared/attribute-value';
import { ENV, SERVICE_NAME_PATTERN, TABLE } from '../../shared/names';
import { announces, type VersionEntry } from '../../shared/policy-changes';
import { type BumpOptions, bumpPolicyVersion, carriedEntries, type VersionWriter } from '../../shared/policy-version';
import { versionWriter } from './version-writer';

/** The part of a DynamoDB Streams event the bump reads (Lambda Developer Guide, "Using AWS Lambda with Amazon DynamoDB"). */
export interface PolicyStreamEvent {
  readonly Records?: readonly {
    readonly eventName?: string;
    readonly dynamodb?: {
      readonly Keys?: Readonly<Record<string, { readonly S?: string }>>;
      readonly NewImage?: Readonly<Record<string, unknown>>;
    };
  }[];
}

/** The services whose policy items the records changed, sorted, each once. */
export function changedServices(event: PolicyStreamEvent): string[] {
  const services = new Set<string>();
  for (const record of event.Records ?? []) {
    const pk = record.dynamodb?.Keys?.[TABLE.partitionKey]?.S;
    if (pk !== undefined && SERVICE_NAME_PATTERN.test(pk)) services.add(pk);
  }
  return [...services].sort();
}

/** The policy items the records changed (service partitions only), each once. */
export function changedKeys(event: PolicyStreamEvent): { pk: string; sk: string }[] {
  const keys = new Map<string, { pk: string; sk: string }>();
  for (const record of event.Records ?? []) {
    const k = record.dynamodb?.Keys;
    const pk = k?.[TABLE.partitionKey]?.S;
    const sk = k?.[TABLE.sortKey]?.S;
    if (pk !== undefined && sk !== undefined && SERVICE_NAME_PATTERN.test(pk)) keys.set(`${pk}\u0000${sk}`, { pk, sk });
  }
  return [...keys.values()];
}

/** What one record says its write left: the item's value (undefined = deleted), or nothing known. */
type Written = { readonly known: true; readonly item?: Record<string, unknown> } | { readonly known: false };

function written(record: NonNullable<PolicyStreamEvent['Records']>[number]): Written {
  if (record.eventName === 'REMOVE') return { known: true };
  const image = record.dynamodb?.NewImage;
  return image ? { known: true, item: unmarshallItem(image as Record<string, AttributeValue>) } : { known: false };
}

/**
 * The batch's records the version does not announce yet (pure): every record of a service partition
 * but those whose write the newest carried change of its key holds.
 */
export function unannounced(event: PolicyStreamEvent, entries: readonly VersionEntry[]): PolicyStreamEvent {
  return {
    Records: (event.Records ?? []).filter((record) => {
      const pk = record.dynamodb?.Keys?.[TABLE.partitionKey]?.S;
      const sk = record.dynamodb?.Keys?.[TABLE.sortKey]?.S;
      if (pk === undefined || sk === undefined || !SERVICE_NAME_PATTERN.test(pk)) return false;
      const w = written(record);
      return !w.known || !announces(entries, pk, sk, w.item);
    }),
  };
}

/**
 * Bumps the version for the services the batch changed that it does not announce yet, carrying the
 * changed items; returns the services bumped. What the version announces is read consistently, with the
 * change items of its stubs (a deploy's bump): none known without a reading writer.
 */
export async function bumpForStream(
  writer: VersionWriter,
  table: string,
  event: PolicyStreamEvent,
  opts: Pick<BumpOptions, 'now' | 'changeItems'> = {},
): Promise<string[]> {
  if (changedServices(event).length === 0) return [];
  const pending = unannounced(event, await carriedEntries(writer, table));
  const services = changedServices(pending);
  await bumpPolicyVersion(writer, table, services, { ...opts, keys: changedKeys(pending) });
  return services;
}

let client: DynamoDBClient | undefined;

/** Entry point for the table's event source mapping. */
export async function handler(event: PolicyStreamEvent): Promise<void> {
  const table = process.env[ENV.policyTable];
  if (!table) throw new Error(`${ENV.policyTable} is not set: the function cannot tell which table's version to bump`);
  client ??= new DynamoDBClient({});
  const services = await bumpForStream(versionWriter(client), table, event);
  if (services.length > 0) console.log(JSON.stringify({ msg: 'policy version bumped', table, services }));
}
