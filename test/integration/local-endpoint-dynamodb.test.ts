/**
 * DynamoDB through the local endpoint (embedded dynalite on the same port) with the real
 * @aws-sdk/client-dynamodb: the policy-table helper, batch seeding, reads and writes round trip.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { type Endpoint, startEndpoint, unmarshallItem } from '../../local/endpoint';
import { TABLE } from '../../shared/names';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

describe('local endpoint: DynamoDB (dynalite)', () => {
  let endpoint: Endpoint;
  let db: DynamoDBClient;

  before(async () => {
    const registry = new TestRegistry();
    endpoint = await startEndpoint({ port: 0, registry, invoker: new TestInvoker(registry) });
    db = new DynamoDBClient({
      endpoint: endpoint.dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });
  after(async () => {
    db.destroy();
    await endpoint.close();
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

  it('names an operation dynalite does not implement', async () => {
    await assert.rejects(
      db.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: 'mesh-policy', Item: { pk: { S: 'a' }, sk: { S: 'b' } } } }],
        }),
      ),
      (e: Error & { $metadata: { httpStatusCode?: number } }) =>
        e.name === 'UnknownOperationException' &&
        e.message === 'lambda-mesh local endpoint does not support DynamoDB.TransactWriteItems' &&
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
