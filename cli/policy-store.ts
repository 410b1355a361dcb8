/** Adapter: the policy table over DynamoDB (reads and the writes a PolicyPlan asks for). */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { POLICY_VERSION, SERVICE_NAME_PATTERN, TABLE } from '../shared/names';
import { bumpPolicyVersion, type VersionWriter } from '../shared/policy-version';
import { fromItem, toItem } from './attribute-value';
import type { AwsClients } from './aws-clients';
import { AwsCallError, awsCall, PolicyConflictError } from './errors';
import { writeGuard } from './policy-guard';
import { type PolicyKey, type PolicyPlan, type RawItem, TRANSACT_LIMIT } from './policy-plan';

/** One write of a plan: a Put or a Delete with its guard, and the key it names. */
interface GuardedWrite extends PolicyKey {
  readonly Put?: Record<string, unknown>;
  readonly Delete?: Record<string, unknown>;
}

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
 * Applies a validated plan, made from the items `basis` (what the command read). One TransactWriteItems
 * call, so the change lands whole or not at all; where transactions are not offered (dynalite, older
 * emulators answer UnknownOperationException), the already-validated writes go one by one. Each write
 * expects its item as read (policy-guard.ts): an item another writer changed in between fails the
 * command with a PolicyConflictError, and nothing of the transaction is written.
 */
export async function applyPlan(
  clients: AwsClients,
  table: string,
  plan: PolicyPlan,
  basis: readonly RawItem[],
): Promise<void> {
  const total = plan.puts.length + plan.deletes.length;
  if (total === 0) return;
  const ddb = await clients.dynamo();
  try {
    await writePlan(ddb, guardedWrites(table, plan, basis));
  } catch (err) {
    // Writes that went in one by one before a conflict are announced like any other change.
    if (err instanceof PolicyConflictError && err.written.length > 0)
      await announce(ddb, table, only(plan, err.written));
    throw err;
  }
  await announce(ddb, table, plan);
}

/** The part of a plan that wrote the items named `pk/sk` in `keys`. */
function only(plan: PolicyPlan, keys: readonly string[]): PolicyPlan {
  const named = (k: PolicyKey) => keys.includes(`${k.pk}/${k.sk}`);
  return {
    ...plan,
    puts: plan.puts.filter((item) => named(keyOfItem(item))),
    deletes: plan.deletes.filter(named),
  };
}

/** Bumps the policy version for a plan's writes. */
async function announce(ddb: DynamoDBClient, table: string, plan: PolicyPlan): Promise<void> {
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

/** A plan's writes as DynamoDB actions, each with the guard of its item as read. */
function guardedWrites(table: string, plan: PolicyPlan, basis: readonly RawItem[]): GuardedWrite[] {
  const key = (pk: string, sk: string) => ({ [TABLE.partitionKey]: { S: pk }, [TABLE.sortKey]: { S: sk } });
  return [
    ...plan.puts.map((item) => {
      const { pk, sk } = keyOfItem(item);
      return {
        pk,
        sk,
        Put: { TableName: table, Item: toItem(item as Record<string, unknown>), ...writeGuard({ pk, sk }, basis) },
      };
    }),
    ...plan.deletes.map(({ pk, sk }) => ({
      pk,
      sk,
      Delete: { TableName: table, Key: key(pk, sk), ...writeGuard({ pk, sk }, basis) },
    })),
  ];
}

function keyOfItem(item: RawItem): PolicyKey {
  return { pk: String(item[TABLE.partitionKey]), sk: String(item[TABLE.sortKey]) };
}

async function writePlan(ddb: DynamoDBClient, writes: readonly GuardedWrite[]): Promise<void> {
  if (writes.length > 1 && writes.length <= TRANSACT_LIMIT) {
    try {
      await transact(ddb, writes);
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
  const written: string[] = [];
  for (const write of writes) {
    const operation = write.Put ? 'PutItem' : 'DeleteItem';
    await guarded(
      [write],
      () =>
        awsCall(operation, () =>
          write.Put
            ? ddb.send(new PutItemCommand(write.Put as never))
            : ddb.send(new DeleteItemCommand(write.Delete as never)),
        ),
      written,
    );
    written.push(`${write.pk}/${write.sk}`);
  }
}

async function transact(ddb: DynamoDBClient, writes: readonly GuardedWrite[]): Promise<void> {
  const { TransactWriteItemsCommand } =
    require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  const TransactItems = writes.map(({ Put, Delete }) => (Put ? { Put } : { Delete }));
  await guarded(writes, () =>
    awsCall('TransactWriteItems', () => ddb.send(new TransactWriteItemsCommand({ TransactItems } as never))),
  );
}

/**
 * Runs writes, and turns a failed guard into a PolicyConflictError naming the items another writer
 * changed (a transaction's CancellationReasons list one reason per action, in order).
 */
async function guarded(
  writes: readonly GuardedWrite[],
  run: () => Promise<unknown>,
  written: readonly string[] = [],
): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof AwsCallError) || !/ConditionalCheckFailed|TransactionCanceled/.test(err.code)) throw err;
    if (err.code === 'TransactionCanceledException' && !/ConditionalCheckFailed/.test(err.message)) throw err;
    const reasons = err.reasons ?? [];
    const changed = writes.filter((_, i) => reasons.length === 0 || reasons[i] === 'ConditionalCheckFailed');
    throw new PolicyConflictError(
      changed.map((w) => `${w.pk}/${w.sk}`),
      written,
    );
  }
}
