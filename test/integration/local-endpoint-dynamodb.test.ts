/**
 * DynamoDB through the local endpoint (embedded dynalite on the same port) with the real
 * @aws-sdk/client-dynamodb: the policy-table helper, batch seeding, reads and writes round trip,
 * transactions, ReturnValuesOnConditionCheckFailure and deletion protection as DynamoDB answers them.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ExecuteStatementCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { type Endpoint, startEndpoint, unmarshallItem } from '../../local/endpoint';
import { TABLE } from '../../shared/names';
import { loopbackClientConfig } from '../support/loopback-client';
import { rejection } from '../support/rejection';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

describe('local endpoint: DynamoDB (dynalite)', () => {
  let endpoint: Endpoint;
  let db: DynamoDBClient;

  before(async () => {
    const registry = new TestRegistry();
    endpoint = await startEndpoint({ port: 0, registry, invoker: new TestInvoker(registry) });
    db = new DynamoDBClient(loopbackClientConfig(endpoint.dynamo.endpoint));
  });
  after(async () => {
    db.destroy();
    await endpoint.close();
  });

  it('keeps each region’s tables apart, as DynamoDB does: a request reaches the region it is signed for', async () => {
    // Prepare: the same table name in two regions, each with its own item.
    const eu = new DynamoDBClient(loopbackClientConfig(endpoint.dynamo.endpoint, 'eu-west-1'));
    try {
      await endpoint.dynamo.createPolicyTable('regional-policy');
      await endpoint.dynamo.createPolicyTable('regional-policy', 'eu-west-1');
      await endpoint.dynamo.seedItems('regional-policy', [{ pk: 'payments', sk: 'service', region: 'us-east-1' }]);
      await endpoint.dynamo.seedItems(
        'regional-policy',
        [{ pk: 'payments', sk: 'service', region: 'eu-west-1' }],
        'eu-west-1',
      );
      await endpoint.dynamo.createPolicyTable('only-in-us-east-1');
      // Act
      const key = { [TABLE.partitionKey]: { S: 'payments' }, [TABLE.sortKey]: { S: 'service' } };
      const us = await db.send(new GetItemCommand({ TableName: 'regional-policy', Key: key }));
      const there = await eu.send(new GetItemCommand({ TableName: 'regional-policy', Key: key }));
      // Assess
      assert.equal(us.Item?.region?.S, 'us-east-1');
      assert.equal(there.Item?.region?.S, 'eu-west-1');
      await assert.rejects(eu.send(new DescribeTableCommand({ TableName: 'only-in-us-east-1' })), {
        name: 'ResourceNotFoundException',
      });
    } finally {
      eu.destroy();
    }
  });

  it('creates the policy table (idempotently) and seeds items in batches', async () => {
    await endpoint.dynamo.createPolicyTable('mesh-policy');
    await endpoint.dynamo.createPolicyTable('mesh-policy');
    const table = await db.send(new DescribeTableCommand({ TableName: 'mesh-policy' }));
    assert.equal(table.Table?.TableStatus, 'ACTIVE');
    assert.deepEqual(
      table.Table?.KeySchema?.map((k) => k.AttributeName),
      [TABLE.partitionKey, TABLE.sortKey],
    );

    const items = Array.from({ length: 60 }, (_, i) => ({
      [TABLE.partitionKey]: `svc-${i % 3}`,
      [TABLE.sortKey]: `allow#caller-${i}`,
      managedBy: 'deploy',
      weights: { 1: 0.9, 2: 0.1 },
      tags: ['a', 'b'],
      enabled: i % 2 === 0,
      note: null,
    }));
    await endpoint.dynamo.seedItems('mesh-policy', items);
    const q = await db.send(
      new QueryCommand({
        TableName: 'mesh-policy',
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: 'svc-1' } },
      }),
    );
    assert.equal(q.Count, 20);
    const first = unmarshallItem(q.Items![0] as never);
    assert.deepEqual(first.weights, { 1: 0.9, 2: 0.1 });
    assert.deepEqual(first.tags, ['a', 'b']);
    assert.equal(first.note, null);
  });

  it('round-trips an item written by the SDK', async () => {
    await db.send(
      new PutItemCommand({
        TableName: 'mesh-policy',
        Item: { pk: { S: 'orders' }, sk: { S: 'traffic' }, timeoutMs: { N: '250' } },
      }),
    );
    const got = await db.send(
      new GetItemCommand({ TableName: 'mesh-policy', Key: { pk: { S: 'orders' }, sk: { S: 'traffic' } } }),
    );
    assert.equal(got.Item?.timeoutMs?.N, '250');
  });

  // AWS API reference, "TransactWriteItems": all actions or none; a failed condition cancels the whole
  // transaction with TransactionCanceledException and one CancellationReason per action, in order.
  it('writes a transaction all or nothing, with CancellationReasons per action', async () => {
    const key = (pk: string) => ({ pk: { S: pk }, sk: { S: 'tx' } });
    await db.send(new PutItemCommand({ TableName: 'mesh-policy', Item: { ...key('keep'), v: { N: '1' } } }));
    await db.send(new PutItemCommand({ TableName: 'mesh-policy', Item: { ...key('gone'), v: { N: '1' } } }));
    const ok = await db.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: 'mesh-policy', Item: { ...key('new'), v: { N: '1' } } } },
          {
            Update: {
              TableName: 'mesh-policy',
              Key: key('keep'),
              UpdateExpression: 'SET v = :two',
              ConditionExpression: 'v = :one',
              ExpressionAttributeValues: { ':one': { N: '1' }, ':two': { N: '2' } },
            },
          },
          { Delete: { TableName: 'arn:aws:dynamodb:us-east-1:000000000000:table/mesh-policy', Key: key('gone') } },
        ],
      }),
    );
    assert.equal(ok.$metadata.httpStatusCode, 200);
    const get = async (pk: string) =>
      (await db.send(new GetItemCommand({ TableName: 'mesh-policy', Key: key(pk), ConsistentRead: true }))).Item;
    assert.deepEqual((await get('keep'))?.v, { N: '2' });
    assert.deepEqual((await get('new'))?.v, { N: '1' });
    assert.equal(await get('gone'), undefined);

    // The second action's condition fails: the first action's write is undone, nothing is left of it.
    await assert.rejects(
      db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'mesh-policy', Item: { ...key('new'), v: { N: '9' } } } },
            {
              ConditionCheck: {
                TableName: 'mesh-policy',
                Key: key('keep'),
                ConditionExpression: 'v = :one',
                ExpressionAttributeValues: { ':one': { N: '1' } },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            { Put: { TableName: 'mesh-policy', Item: { ...key('third'), v: { N: '3' } } } },
          ],
        }),
      ),
      (e: Error & { CancellationReasons?: { Code?: string; Message?: string; Item?: unknown }[] }) => {
        assert.equal(e.name, 'TransactionCanceledException');
        assert.equal(
          e.message,
          'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, None]',
        );
        assert.deepEqual(
          e.CancellationReasons?.map((r) => r.Code),
          ['None', 'ConditionalCheckFailed', 'None'],
        );
        assert.equal(e.CancellationReasons?.[1].Message, 'The conditional request failed');
        assert.deepEqual(e.CancellationReasons?.[1].Item, { ...key('keep'), v: { N: '2' } });
        return true;
      },
    );
    assert.deepEqual((await get('new'))?.v, { N: '1' });
    assert.deepEqual((await get('keep'))?.v, { N: '2' });
    assert.equal(await get('third'), undefined);
  });

  it('refuses two actions on one item, as DynamoDB does', async () => {
    const item = { pk: { S: 'twice' }, sk: { S: 'tx' } };
    await assert.rejects(
      db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'mesh-policy', Item: item } },
            { Delete: { TableName: 'mesh-policy', Key: item } },
          ],
        }),
      ),
      { name: 'ValidationException', message: 'Transaction request cannot include multiple operations on one item' },
    );
  });

  // AWS API reference, "TransactGetItems": one response per Get, in order, empty for a missing item.
  it('reads a transaction of items in order', async () => {
    const out = await db.send(
      new TransactGetItemsCommand({
        TransactItems: [
          { Get: { TableName: 'mesh-policy', Key: { pk: { S: 'keep' }, sk: { S: 'tx' } } } },
          { Get: { TableName: 'mesh-policy', Key: { pk: { S: 'absent' }, sk: { S: 'tx' } } } },
        ],
      }),
    );
    assert.deepEqual(out.Responses, [{ Item: { pk: { S: 'keep' }, sk: { S: 'tx' }, v: { N: '2' } } }, {}]);
  });

  // AWS API reference, "DeleteItem" / "PutItem": ReturnValuesOnConditionCheckFailure=ALL_OLD returns the
  // item with the ConditionalCheckFailedException.
  it('returns the item with a failed condition when asked (ReturnValuesOnConditionCheckFailure)', async () => {
    const key = { pk: { S: 'keep' }, sk: { S: 'tx' } };
    const failing = (mode?: 'ALL_OLD' | 'NONE') =>
      db.send(
        new DeleteItemCommand({
          TableName: 'mesh-policy',
          Key: key,
          ConditionExpression: 'v = :five',
          ExpressionAttributeValues: { ':five': { N: '5' } },
          ReturnValuesOnConditionCheckFailure: mode,
        }),
      );
    await assert.rejects(failing('ALL_OLD'), (e: Error & { Item?: unknown }) => {
      assert.equal(e.name, 'ConditionalCheckFailedException');
      assert.deepEqual(e.Item, { ...key, v: { N: '2' } });
      return true;
    });
    await assert.rejects(failing('NONE'), (e: Error & { Item?: unknown }) => {
      assert.equal(e.name, 'ConditionalCheckFailedException');
      assert.equal(e.Item, undefined);
      return true;
    });
    await assert.rejects(
      db.send(
        new PutItemCommand({
          TableName: 'mesh-policy',
          Item: { ...key, v: { N: '3' } },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
      (e: Error & { Item?: unknown }) => {
        assert.deepEqual(e.Item, { ...key, v: { N: '2' } });
        return true;
      },
    );
  });

  // AWS API reference, "CreateTable" / "UpdateTable" / "DeleteTable": DeletionProtectionEnabled.
  it('keeps a protected table from being deleted until protection is off', async () => {
    await db.send(
      new CreateTableCommand({
        TableName: 'protected',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        DeletionProtectionEnabled: true,
      }),
    );
    const described = await db.send(new DescribeTableCommand({ TableName: 'protected' }));
    assert.equal(described.Table?.DeletionProtectionEnabled, true);
    await assert.rejects(db.send(new DeleteTableCommand({ TableName: 'protected' })), {
      name: 'ValidationException',
      message:
        'Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.',
    });
    const off = await db.send(new UpdateTableCommand({ TableName: 'protected', DeletionProtectionEnabled: false }));
    assert.equal(off.TableDescription?.DeletionProtectionEnabled, false);
    await db.send(new DeleteTableCommand({ TableName: 'protected' }));
    await assert.rejects(db.send(new DescribeTableCommand({ TableName: 'protected' })), {
      name: 'ResourceNotFoundException',
    });
  });

  it('names an operation it does not implement', async () => {
    await assert.rejects(
      db.send(new ExecuteStatementCommand({ Statement: 'SELECT * FROM "mesh-policy"' })),
      (e: Error & { $metadata: { httpStatusCode?: number } }) =>
        e.name === 'UnknownOperationException' &&
        e.message === 'lambda-mesh local endpoint does not support DynamoDB.ExecuteStatement' &&
        e.$metadata.httpStatusCode === 400,
    );
  });

  it('answers DynamoDB’s own errors', async () => {
    await assert.rejects(
      db.send(new GetItemCommand({ TableName: 'missing', Key: { pk: { S: 'x' }, sk: { S: 'y' } } })),
      {
        name: 'ResourceNotFoundException',
      },
    );
  });
});

/**
 * DynamoDB's errors as AWS answered them in LocalStack's parity tests
 * (tests/aws/services/dynamodb/test_dynamodb.snapshot.json, "recorded-content"): code and message text.
 */
describe('local endpoint: DynamoDB errors as recorded from AWS', () => {
  let endpoint: Endpoint;
  let db: DynamoDBClient;
  const TABLE_NAME = 'recorded-answers';
  const key = (id: string) => ({ id: { S: id } });
  const failure = async (call: () => Promise<unknown>) => {
    const err = await rejection<Error & { $metadata: { httpStatusCode?: number } }>(call);
    return { status: err.$metadata.httpStatusCode, code: err.name, message: err.message };
  };
  const createTable = () =>
    db.send(
      new CreateTableCommand({
        TableName: TABLE_NAME,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );

  before(async () => {
    const registry = new TestRegistry();
    endpoint = await startEndpoint({ port: 0, registry, invoker: new TestInvoker(registry) });
    db = new DynamoDBClient(loopbackClientConfig(endpoint.dynamo.endpoint));
    await createTable();
  });
  after(async () => {
    db.destroy();
    await endpoint.close();
  });

  // test_create_duplicate_table
  it('refuses a second CreateTable of a name with "Table already exists: <name>"', async () => {
    assert.deepEqual(await failure(createTable), {
      status: 400,
      code: 'ResourceInUseException',
      message: `Table already exists: ${TABLE_NAME}`,
    });
  });

  // test_table_crud, test_batch_write_not_existing_table
  it('words a missing table as DynamoDB does: named by DeleteTable, not by a transaction', async () => {
    assert.deepEqual(await failure(() => db.send(new DeleteTableCommand({ TableName: 'non-existent' }))), {
      status: 400,
      code: 'ResourceNotFoundException',
      message: 'Requested resource not found: Table: non-existent not found',
    });
    const put = { Put: { TableName: 'non-existent', Item: key('1') } };
    assert.deepEqual(await failure(() => db.send(new TransactWriteItemsCommand({ TransactItems: [put] }))), {
      status: 400,
      code: 'ResourceNotFoundException',
      message: 'Requested resource not found',
    });
  });

  // test_batch_write_not_matching_schema
  it('refuses a BatchWriteItem item without the table key', async () => {
    const items = { [TABLE_NAME]: [{ PutRequest: { Item: { other: { S: 'x' } } } }] };
    assert.deepEqual(await failure(() => db.send(new BatchWriteItemCommand({ RequestItems: items }))), {
      status: 400,
      code: 'ValidationException',
      message: 'The provided key element does not match the schema',
    });
  });

  // test_return_values_on_conditions_check_failure, test_transaction_write_canceled
  it('answers a failed condition with the old item when asked, and a cancelled transaction with its reasons', async () => {
    await db.send(new PutItemCommand({ TableName: TABLE_NAME, Item: { ...key('456'), price: { N: '650' } } }));
    const err = await rejection<Error & { Item?: unknown }>(() =>
      db.send(
        new PutItemCommand({
          TableName: TABLE_NAME,
          Item: key('456'),
          ConditionExpression: 'attribute_not_exists(id)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    assert.equal(err.name, 'ConditionalCheckFailedException');
    assert.equal(err.message, 'The conditional request failed');
    assert.deepEqual(err.Item, { ...key('456'), price: { N: '650' } });
    const cancelled = await rejection<Error & { CancellationReasons?: unknown }>(() =>
      db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: TABLE_NAME, Item: key('456'), ConditionExpression: 'attribute_not_exists(id)' } },
            { Put: { TableName: TABLE_NAME, Item: key('789') } },
          ],
        }),
      ),
    );
    assert.equal(cancelled.name, 'TransactionCanceledException');
    assert.equal(
      cancelled.message,
      'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]',
    );
    assert.deepEqual(cancelled.CancellationReasons, [
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      { Code: 'None' },
    ]);
  });

  // test_dynamodb_idempotent_writing: the same token and item, its attributes in another order, answers 200 twice
  it('applies a transaction once per ClientRequestToken, and refuses the token with other items', async () => {
    const counted = (token: string, by = '1', id = 'idem1') =>
      db.send(
        new TransactWriteItemsCommand({
          ClientRequestToken: token,
          TransactItems: [
            {
              Update: {
                TableName: TABLE_NAME,
                Key: key(id),
                UpdateExpression: 'ADD n :by',
                ExpressionAttributeValues: { ':by': { N: by } },
              },
            },
          ],
        }),
      );
    const count = async (id = 'idem1') =>
      (await db.send(new GetItemCommand({ TableName: TABLE_NAME, Key: key(id), ConsistentRead: true }))).Item?.n?.N;
    const first = await counted('token-a');
    const again = await counted('token-a');
    assert.equal(first.$metadata.httpStatusCode, 200);
    assert.equal(again.$metadata.httpStatusCode, 200);
    assert.equal(await count(), '1');
    // The recorded pair: one Put, then the same item with its attributes in the other order.
    const put = (item: Record<string, { S: string }>) =>
      db.send(
        new TransactWriteItemsCommand({
          ClientRequestToken: 'dedupe_token',
          TransactItems: [{ Put: { TableName: TABLE_NAME, Item: item } }],
        }),
      );
    assert.equal((await put({ id: { S: 'id1' }, name: { S: 'name1' } })).$metadata.httpStatusCode, 200);
    assert.equal((await put({ name: { S: 'name1' }, id: { S: 'id1' } })).$metadata.httpStatusCode, 200);
    // Other items under a used token: refused, nothing applied.
    const refused = await rejection<Error & { $metadata: { httpStatusCode?: number } }>(() => counted('token-a', '5'));
    assert.equal(refused.name, 'IdempotentParameterMismatchException');
    assert.equal(refused.$metadata.httpStatusCode, 400);
    assert.equal(await count(), '1');
    await assert.rejects(counted('token-a', '1', 'idem2'), { name: 'IdempotentParameterMismatchException' });
    assert.equal(await count('idem2'), undefined);
    // A new token is a new transaction; one over the model's 36 characters is refused by the framework.
    await counted('token-b');
    assert.equal(await count(), '2');
    assert.deepEqual(await failure(() => counted('x'.repeat(37))), {
      status: 400,
      code: 'ValidationException',
      message: `1 validation error detected: Value '${'x'.repeat(37)}' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36`,
    });
    assert.equal(await count(), '2');
  });

  // test_table_crud (create-table, describe-table, delete-table), test_gsi_with_billing_mode (describe-table)
  it('describes a table as DynamoDB does: a UUID TableId, its warm throughput, a lean DeleteTable answer', async () => {
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const keys = (o: object | undefined) => Object.keys(o ?? {}).sort();
    const created = await db.send(
      new CreateTableCommand({
        TableName: 'crud-table',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
      }),
    );
    const common = ['DeletionProtectionEnabled', 'ItemCount', 'ProvisionedThroughput', 'TableArn', 'TableId'];
    const described = ['AttributeDefinitions', 'CreationDateTime', 'KeySchema'];
    const tail = ['TableName', 'TableSizeBytes', 'TableStatus'];
    assert.deepEqual(keys(created.TableDescription), [...described, ...common, ...tail].sort());
    assert.match(created.TableDescription?.TableId ?? '', UUID);
    const got = await db.send(new DescribeTableCommand({ TableName: 'crud-table' }));
    assert.deepEqual(keys(got.Table), [...described, ...common, ...tail, 'WarmThroughput'].sort());
    assert.equal(got.Table?.TableId, created.TableDescription?.TableId);
    assert.deepEqual(got.Table?.WarmThroughput, { ReadUnitsPerSecond: 5, Status: 'ACTIVE', WriteUnitsPerSecond: 5 });
    const deleted = await db.send(new DeleteTableCommand({ TableName: 'crud-table' }));
    assert.deepEqual(keys(deleted.TableDescription), [...common, ...tail].sort());
    assert.equal(deleted.TableDescription?.TableStatus, 'DELETING');
    await db.send(
      new CreateTableCommand({
        TableName: 'on-demand-gsi',
        KeySchema: [{ AttributeName: 'TID', KeyType: 'HASH' }],
        AttributeDefinitions: [
          { AttributeName: 'TID', AttributeType: 'S' },
          { AttributeName: 'TRID', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: [
          {
            IndexName: 'TransactionRecordID',
            KeySchema: [{ AttributeName: 'TRID', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    const onDemand = (await db.send(new DescribeTableCommand({ TableName: 'on-demand-gsi' }))).Table;
    const warm = { ReadUnitsPerSecond: 12000, Status: 'ACTIVE', WriteUnitsPerSecond: 4000 };
    assert.deepEqual(onDemand?.WarmThroughput, warm);
    assert.deepEqual(onDemand?.GlobalSecondaryIndexes?.[0]?.WarmThroughput, warm);
  });

  // test_dynamodb_pay_per_request
  it("refuses capacity on an on-demand table in DynamoDB's words", async () => {
    const create = () =>
      db.send(
        new CreateTableCommand({
          TableName: 'on-demand-with-capacity',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    assert.deepEqual(await failure(create), {
      status: 400,
      code: 'ValidationException',
      message:
        'One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST',
    });
  });

  // test_transaction_write_items, test_transact_get_items, test_return_values_in_put_item, test_batch_write_items
  it('answers writes with the keys DynamoDB answers them: a transaction nothing, a batch UnprocessedItems {}', async () => {
    const arn = `arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE_NAME}`;
    const write = await db.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            ConditionCheck: { TableName: TABLE_NAME, Key: key('tx1'), ConditionExpression: 'attribute_not_exists(id)' },
          },
          { Put: { TableName: arn, Item: key('tx2') } },
          { Delete: { TableName: TABLE_NAME, Key: key('tx4') } },
        ],
      }),
    );
    const { $metadata: _w, ...written } = write;
    assert.deepEqual(written, {});
    const got = await db.send(
      new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName: arn, Key: key('tx2') } }] }),
    );
    assert.deepEqual(got.Responses, [{ Item: key('tx2') }]);
    const item = { ...key('rv1'), data: { S: 'foobar' } };
    const first = await db.send(new PutItemCommand({ TableName: TABLE_NAME, Item: item, ReturnValues: 'ALL_OLD' }));
    const again = await db.send(new PutItemCommand({ TableName: TABLE_NAME, Item: item, ReturnValues: 'ALL_OLD' }));
    assert.equal(first.Attributes, undefined);
    assert.deepEqual(again.Attributes, item);
    const batch = await db.send(
      new BatchWriteItemCommand({ RequestItems: { [TABLE_NAME]: [{ PutRequest: { Item: key('b1') } }] } }),
    );
    const { $metadata: _b, ...batched } = batch;
    assert.deepEqual(batched, { UnprocessedItems: {} });
  });
});
