/**
 * The policy table's stream handler: bumps the policy version (shared/policy-version.ts) for the
 * services whose items changed, whoever wrote them (the console, a script, IaC, another tool). The CLI
 * and the seeder bump right after their own writes; this catches every other writer, one stream delay
 * later (docs/safety.md, "A deny wins within TTL + 1 s").
 *
 * Only partitions that are service names count: the version items themselves (a bump would bump
 * again, forever) and shared breaker state (`breaker#<service>`, read without the version) are left
 * out. A failed bump fails the batch, and Lambda retries it from the stream.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV, SERVICE_NAME_PATTERN, TABLE } from '../../shared/names';
import { bumpPolicyVersion, type VersionWriter } from '../../shared/policy-version';
import { versionWriter } from './version-writer';

/** The part of a DynamoDB Streams event the bump reads (Lambda Developer Guide, "Using AWS Lambda with Amazon DynamoDB"). */
export interface PolicyStreamEvent {
  readonly Records?: readonly {
    readonly dynamodb?: { readonly Keys?: Readonly<Record<string, { readonly S?: string }>> };
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

/** Bumps the version for the services the batch changed, carrying the changed items; returns the services. */
export async function bumpForStream(
  writer: VersionWriter,
  table: string,
  event: PolicyStreamEvent,
  now: number = Date.now(),
): Promise<string[]> {
  const services = changedServices(event);
  await bumpPolicyVersion(writer, table, services, { now, keys: changedKeys(event) });
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
