/** Adapter: the policy table over DynamoDB (reads and the writes a PolicyPlan asks for). */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { POLICY_VERSION, SERVICE_NAME_PATTERN, TABLE } from '../shared/names';
import { bumpPolicyVersion, type VersionWriter } from '../shared/policy-version';
import { fromItem, toItem } from './attribute-value';
import type { AwsClients } from './aws-clients';
import { AwsCallError, awsCall } from './errors';
import { type PolicyPlan, type RawItem, TRANSACT_LIMIT } from './policy-plan';

/** All policy items of the table (paginated Scan; the policy table is small); the version items are no policy. */
export async function scanPolicy(clients: AwsClients, table: string): Promise<RawItem[]> {
  const ddb = await clients.dynamo();
  const { ScanCommand } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  const out: RawItem[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await awsCall('Scan', () =>
      ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start })),
    );
    for (const it of page.Items ?? []) {
      const item = fromItem(it);
      if (!String(item[TABLE.partitionKey]).startsWith(POLICY_VERSION.partitionPrefix)) out.push(item);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return sortItems(out);
}

/** The items of one service (one Query on the partition key). */
export async function queryService(clients: AwsClients, table: string, service: string): Promise<RawItem[]> {
  const ddb = await clients.dynamo();
  const { QueryCommand } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  const out: RawItem[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await awsCall('Query', () =>
      ddb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
          ExpressionAttributeValues: { ':pk': { S: service } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      ),
    );
    for (const it of page.Items ?? []) out.push(fromItem(it));
    start = page.LastEvaluatedKey;
  } while (start);
  return sortItems(out);
}

export function sortItems(items: RawItem[]): RawItem[] {
  const k = (i: RawItem) => `${String(i[TABLE.partitionKey])}\u0000${String(i[TABLE.sortKey])}`;
  return items.sort((a, b) => k(a).localeCompare(k(b)));
}

/**
 * Applies a validated plan. One TransactWriteItems call, so the change lands whole or not at all;
 * where transactions are not offered (dynalite, older emulators answer UnknownOperationException),
 * the already-validated writes go one by one.
 */
export async function applyPlan(clients: AwsClients, table: string, plan: PolicyPlan): Promise<void> {
  const total = plan.puts.length + plan.deletes.length;
  if (total === 0) return;
  const ddb = await clients.dynamo();
  await writePlan(ddb, table, plan);
  // After the writes: a sandbox that sees the new counter then reads them, or takes them from the version.
  await bumpPolicyVersion(versionWriter(ddb), table, changedServices(plan), { keys: changedKeys(plan) });
}

/** The policy items a plan writes, when all are service items (breaker state is not carried in the version). */
function changedKeys(plan: PolicyPlan): { pk: string; sk: string }[] | undefined {
  const keys = [
    ...plan.puts.map((i) => ({ pk: String(i[TABLE.partitionKey]), sk: String(i[TABLE.sortKey]) })),
    ...plan.deletes.map((k) => ({ pk: k.pk, sk: k.sk })),
  ];
  return keys.every((k) => SERVICE_NAME_PATTERN.test(k.pk)) ? keys : undefined;
}

/** The services whose items a plan writes (a breaker partition counts as its service's). */
export function changedServices(plan: PolicyPlan): string[] {
  const pks = [...plan.puts.map((i) => String(i[TABLE.partitionKey])), ...plan.deletes.map((k) => k.pk)];
  return [...new Set(pks.map((pk) => pk.replace(/^breaker#/, '')))];
}

/** The policy version's two writes, through the CLI's client (errors named like every other call). */
function versionWriter(ddb: DynamoDBClient): VersionWriter {
  const sdk = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  return {
    transactWrite: (input) =>
      awsCall('TransactWriteItems', () => ddb.send(new sdk.TransactWriteItemsCommand(input as never))),
    updateItem: (input) => awsCall('UpdateItem', () => ddb.send(new sdk.UpdateItemCommand(input as never))),
    getItem: (input) => awsCall('GetItem', () => ddb.send(new sdk.GetItemCommand(input as never))) as never,
  };
}

async function writePlan(ddb: DynamoDBClient, table: string, plan: PolicyPlan): Promise<void> {
  const total = plan.puts.length + plan.deletes.length;
  if (total > 1 && total <= TRANSACT_LIMIT) {
    try {
      await transact(ddb, table, plan);
      return;
    } catch (err) {
      if (
        !(err instanceof AwsCallError) ||
        !/UnknownOperation|not (supported|implemented)/i.test(`${err.code} ${err.message}`)
      )
        throw err;
    }
  }
  const { PutItemCommand, DeleteItemCommand } =
    require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  for (const item of plan.puts) {
    await awsCall('PutItem', () =>
      ddb.send(new PutItemCommand({ TableName: table, Item: toItem(item as Record<string, unknown>) })),
    );
  }
  for (const key of plan.deletes) {
    await awsCall('DeleteItem', () =>
      ddb.send(
        new DeleteItemCommand({
          TableName: table,
          Key: { [TABLE.partitionKey]: { S: key.pk }, [TABLE.sortKey]: { S: key.sk } },
        }),
      ),
    );
  }
}

async function transact(ddb: DynamoDBClient, table: string, plan: PolicyPlan): Promise<void> {
  const { TransactWriteItemsCommand } =
    require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  await awsCall('TransactWriteItems', () =>
    ddb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          ...plan.puts.map((item) => ({ Put: { TableName: table, Item: toItem(item as Record<string, unknown>) } })),
          ...plan.deletes.map((key) => ({
            Delete: { TableName: table, Key: { [TABLE.partitionKey]: { S: key.pk }, [TABLE.sortKey]: { S: key.sk } } },
          })),
        ],
      }),
    ),
  );
}
