/**
 * The `Custom::MeshPolicy` handler (contract 4), run by the CDK custom-resource provider framework:
 * writes the deploy-time policy items into the table, updates the changed ones, removes the dropped
 * ones, and removes them all on Delete. Every write is conditional on the item being absent or
 * managedBy "deploy", so an operator's item with the same key is left as it is (and reported).
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
import { type ItemKey, parseItems, planSeed, type RequestType } from './policy-diff';

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
  const props = event.ResourceProperties;
  const table = props.TableName;
  if (!table) throw new Error('TableName is required');
  const physicalId = `mesh-policy:${table}`;
  const isDelete = event.RequestType === 'Delete';

  // On Delete, a bad property must not block the stack's removal.
  let items: ReturnType<typeof parseItems>;
  try {
    items = parseItems(props.Items);
  } catch (err) {
    if (!isDelete) throw err;
    log(`policy seeder: ignoring unreadable Items on Delete: ${(err as Error).message}`);
    items = [];
  }
  let oldItems: ReturnType<typeof parseItems> = [];
  if (event.RequestType === 'Update') {
    try {
      oldItems = parseItems(event.OldResourceProperties?.Items);
    } catch (err) {
      log(`policy seeder: previous Items unreadable, nothing removed: ${(err as Error).message}`);
    }
  }
  const tableChanged = event.RequestType === 'Update' && event.OldResourceProperties?.TableName !== table;
  const plan = planSeed(event.RequestType, items, oldItems, tableChanged);

  const skipped: string[] = [];
  let written = 0;
  let removed = 0;
  const names = { '#pk': TABLE.partitionKey, '#managedBy': 'managedBy' };
  const values = { ':deploy': { S: MANAGED_BY.deploy } };
  for (const item of plan.puts) {
    try {
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: toItem(item as unknown as Record<string, unknown>),
          ConditionExpression: OWNED.put,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      written++;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      skipped.push(`${item.pk}/${item.sk}`);
    }
  }
  for (const key of plan.deletes) {
    try {
      await client.send(
        new DeleteItemCommand({
          TableName: table,
          Key: keyAttrs(key),
          ConditionExpression: OWNED.remove,
          ExpressionAttributeNames: { '#managedBy': 'managedBy' },
          ExpressionAttributeValues: values,
        }),
      );
      removed++;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        // Gone already, or an operator owns it now: either way not ours to remove.
        continue;
      }
      if (isDelete && err instanceof ResourceNotFoundException) break; // the table is gone with the stack
      throw err;
    }
  }
  if (skipped.length) log(`policy seeder: left operator items as they are: ${skipped.join(', ')}`);
  log(
    `policy seeder: ${event.RequestType} ${table}: ${written} written, ${removed} removed, ${skipped.length} skipped`,
  );
  return { PhysicalResourceId: physicalId, Data: { Written: written, Removed: removed, Skipped: skipped.join(',') } };
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
