/**
 * The `Custom::MeshPolicy` handler (docs/wire-contract.md), run by the CDK custom-resource provider
 * framework on AWS and in process by the local mesh: writes the deploy-time policy items into the
 * table, updates the changed ones, writes again the unchanged ones an operator deleted, removes the
 * dropped ones, and removes them all on Delete. Every
 * write is conditional on the item being absent or managedBy "deploy", so an operator's item with the
 * same key is left as it is (and reported); the one exception is an allow item naming a service the
 * update removes, which goes whoever wrote it (and is reported).
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { marshallItem } from '../../shared/attribute-value';
import { MANAGED_BY, TABLE } from '../../shared/names';
import type { PolicyItem } from '../../shared/policy';
import { bumpPolicyVersion } from '../../shared/policy-version';
import { type ItemKey, parseItems, planSeed, type RequestType } from './policy-diff';
import { versionWriter } from './version-writer';

export interface MeshPolicyEvent {
  readonly RequestType: RequestType;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { readonly TableName: string; readonly Items?: string };
  readonly OldResourceProperties?: { readonly TableName?: string; readonly Items?: string };
}

export interface SeedResult {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly Written: number; readonly Removed: number; readonly Skipped: string };
}

/** Only a deploy item (or no item) may be overwritten or removed. */
const OWNED = {
  put: `attribute_not_exists(#pk) OR #managedBy = :deploy`,
  remove: `#managedBy = :deploy`,
};

export async function seed(
  client: DynamoDBClient,
  event: MeshPolicyEvent,
  log: (line: string) => void = console.log,
): Promise<SeedResult> {
  const table = event.ResourceProperties.TableName;
  if (!table) throw new Error('TableName is required');
  const { items, oldItems } = readItems(event, log);
  const tableChanged = event.RequestType === 'Update' && event.OldResourceProperties?.TableName !== table;
  const plan = planSeed(event.RequestType, items, oldItems, tableChanged);
  const { written, skipped } = await putOwned(client, table, plan.puts);
  const restored = await restoreMissing(client, table, plan.restores);
  if (restored.length) log(`policy seeder: wrote again deploy items that were deleted: ${restored.join(', ')}`);
  const removed = await removeOwned(client, table, plan.deletes, event.RequestType === 'Delete');
  const revoked = await removeGrants(client, table, plan.revokes);
  if (revoked.length) {
    log(
      `policy seeder: removed operator allow items naming services this deploy removes (a certificate one left behind would be let in until it expires, and so would a later service of that name): ${revoked.map((k) => `${k.pk}/${k.sk}`).join(', ')}`,
    );
  }
  // After the writes, so a sandbox that sees the new counter reads them. Not on Delete: the table goes too.
  if (event.RequestType !== 'Delete') {
    const keys = [...plan.puts, ...plan.restores, ...plan.deletes, ...revoked].map((i) => ({ pk: i.pk, sk: i.sk }));
    await bumpPolicyVersion(versionWriter(client), table, [...new Set(keys.map((k) => k.pk))], { keys });
  }
  if (skipped.length) log(`policy seeder: left operator items as they are: ${skipped.join(', ')}`);
  log(
    `policy seeder: ${event.RequestType} ${table}: ${written} written, ${removed} removed, ${skipped.length} skipped`,
  );
  return {
    PhysicalResourceId: `mesh-policy:${table}`,
    Data: { Written: written + restored.length, Removed: removed + revoked.length, Skipped: skipped.join(',') },
  };
}

/** The declared items, and on Update the previous ones. On Delete a bad property must not block the stack's removal. */
function readItems(
  event: MeshPolicyEvent,
  log: (line: string) => void,
): { items: PolicyItem[]; oldItems: PolicyItem[] } {
  let items: PolicyItem[];
  try {
    items = parseItems(event.ResourceProperties.Items);
  } catch (err) {
    if (event.RequestType !== 'Delete') throw err;
    log(`policy seeder: ignoring unreadable Items on Delete: ${(err as Error).message}`);
    items = [];
  }
  let oldItems: PolicyItem[] = [];
  if (event.RequestType === 'Update') {
    try {
      oldItems = parseItems(event.OldResourceProperties?.Items);
    } catch (err) {
      log(`policy seeder: previous Items unreadable, nothing removed: ${(err as Error).message}`);
    }
  }
  return { items, oldItems };
}

const NAMES = { '#pk': TABLE.partitionKey, '#managedBy': 'managedBy' };
const VALUES = { ':deploy': { S: MANAGED_BY.deploy } };

/** Puts each item unless an operator's item holds its key (that one is skipped and reported). */
async function putOwned(
  client: DynamoDBClient,
  table: string,
  items: readonly PolicyItem[],
): Promise<{ written: number; skipped: string[] }> {
  const { written, refused } = await putEach(client, table, items, {
    expression: OWNED.put,
    names: NAMES,
    values: VALUES,
  });
  return { written: written.length, skipped: refused };
}

/** Puts each unchanged declared item whose key is free (an operator deleted it); the keys written. */
async function restoreMissing(client: DynamoDBClient, table: string, items: readonly PolicyItem[]): Promise<string[]> {
  const free = { expression: 'attribute_not_exists(#pk)', names: { '#pk': TABLE.partitionKey } };
  return (await putEach(client, table, items, free)).written;
}

/** A conditional PutItem per item: the keys written, and those whose condition failed. */
async function putEach(
  client: DynamoDBClient,
  table: string,
  items: readonly PolicyItem[],
  condition: { expression: string; names: Record<string, string>; values?: Record<string, AttributeValue> },
): Promise<{ written: string[]; refused: string[] }> {
  const written: string[] = [];
  const refused: string[] = [];
  for (const item of items) {
    const key = `${item.pk}/${item.sk}`;
    try {
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: toItem(item as unknown as Record<string, unknown>),
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: condition.names,
          ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}),
        }),
      );
      written.push(key);
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      refused.push(key);
    }
  }
  return { written, refused };
}

/** Removes each deploy item; one gone already or taken over by an operator is left as it is. */
async function removeOwned(
  client: DynamoDBClient,
  table: string,
  keys: readonly ItemKey[],
  isDelete: boolean,
): Promise<number> {
  let removed = 0;
  for (const key of keys) {
    try {
      await client.send(
        new DeleteItemCommand({
          TableName: table,
          Key: keyAttrs(key),
          ConditionExpression: OWNED.remove,
          ExpressionAttributeNames: { '#managedBy': 'managedBy' },
          ExpressionAttributeValues: VALUES,
        }),
      );
      removed++;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) continue;
      if (isDelete && err instanceof ResourceNotFoundException) break; // the table is gone with the stack
      throw err;
    }
  }
  return removed;
}

/** Removes each key whoever wrote it; the keys that held an item (the deploy's own went before). */
async function removeGrants(client: DynamoDBClient, table: string, keys: readonly ItemKey[]): Promise<ItemKey[]> {
  const removed: ItemKey[] = [];
  for (const key of keys) {
    const out = await client.send(
      new DeleteItemCommand({ TableName: table, Key: keyAttrs(key), ReturnValues: 'ALL_OLD' }),
    );
    if (out.Attributes) removed.push(key);
  }
  return removed;
}

let client: DynamoDBClient | undefined;

/** Entry point for the provider framework's onEvent. */
export async function handler(event: MeshPolicyEvent): Promise<SeedResult> {
  client ??= new DynamoDBClient({});
  return seed(client, event);
}

function keyAttrs(key: ItemKey): Record<string, AttributeValue> {
  return { [TABLE.partitionKey]: { S: key.pk }, [TABLE.sortKey]: { S: key.sk } };
}

/** Plain JSON -> DynamoDB attribute values: the shared codec, typed for the SDK. */
export const toItem = (obj: Record<string, unknown>): Record<string, AttributeValue> =>
  marshallItem(obj) as Record<string, AttributeValue>;
