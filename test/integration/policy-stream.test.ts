/**
 * A policy change made by any writer (a raw PutItem or DeleteItem, as the console, a script or another
 * tool writes) bumps the policy version through the table's stream: the local endpoint's DynamoDB
 * records each change of a table whose stream has a mapping, and delivers it to the control function's
 * handler (functions/control/policy-stream.ts), which bumps the counters of the services that changed.
 * Version items and shared breaker state are not policy: they bump nothing. Real dynalite behind the
 * endpoint's DynamoDB handler on 127.0.0.1, the real SDK client on the wire.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { bumpForStream, changedServices, type PolicyStreamEvent } from '../../functions/control/policy-stream';
import { versionWriter } from '../../functions/control/version-writer';
import { createPolicyTable, serveDynamo } from '../../local/endpoint/dynamodb';
import { TableStreams } from '../../local/endpoint/table-streams';
import { unmarshallItem } from '../../shared/attribute-value';
import { POLICY_VERSION } from '../../shared/names';
import { bucketOf, versionCounters, versionKey } from '../../shared/policy-version';

const TABLE = 'shop-policy';
const STREAM = `arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE}/stream/1970-01-01T00:00:00.000`;
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const key = (pk: string, sk: string) => ({ pk: { S: pk }, sk: { S: sk } });

describe('policy stream: any writer bumps the policy version', () => {
  let dynamo: Awaited<ReturnType<typeof serveDynamo>>;
  let client: DynamoDBClient;
  const streams = new TableStreams();
  const batches: PolicyStreamEvent[] = [];

  const counters = async (shard: number) => {
    const { Item } = await client.send(new GetItemCommand({ TableName: TABLE, Key: versionKey(shard) }));
    return Item ? versionCounters(unmarshallItem(Item)) : undefined;
  };

  before(async () => {
    dynamo = await serveDynamo({ streams: streams.in('us-east-1') });
    const { url } = dynamo;
    client = new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
    await createPolicyTable(url, TABLE);
    streams.declare(TABLE, STREAM, 'KEYS_ONLY', 'us-east-1');
    streams.map({
      streamArn: STREAM,
      functionName: 'shop-version-bumper',
      batchSize: 100,
      deliver: async (event) => {
        batches.push(event as PolicyStreamEvent);
        return bumpForStream(versionWriter(client), TABLE, event as PolicyStreamEvent);
      },
    });
  });

  after(async () => {
    streams.close();
    client.destroy();
    await dynamo.close();
  });

  it('a raw PutItem of a deny, and its DeleteItem, each move the service’s bucket on every shard', async () => {
    // Act: an operator's deny written with a plain PutItem (no CLI, no seeder)
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { ...key('payments', 'deny#orders'), source: { S: 'orders' }, managedBy: { S: 'operator' } },
      }),
    );
    await streams.drained();
    // Assess: every shard carries the same new value in payments' bucket, and only there
    const bucket = bucketOf('payments');
    const first = (await counters(0))?.[bucket];
    assert.ok(first, 'payments bumped');
    assert.equal((await counters(POLICY_VERSION.shards - 1))?.[bucket], first, 'the same on every shard');
    assert.equal((await counters(0))?.[bucketOf('orders')], 0, 'orders untouched');
    // The bump's own writes to the version items were recorded too, and bumped nothing more
    await streams.drained();
    assert.equal((await counters(0))?.[bucket], first);
    // Act: the deny lifted the same way
    await client.send(new DeleteItemCommand({ TableName: TABLE, Key: key('payments', 'deny#orders') }));
    await streams.drained();
    const second = (await counters(7))?.[bucket];
    assert.ok(second && second !== first, `payments bumped again: ${first} -> ${second}`);
  });

  it('records a change as DynamoDB does: keys only, INSERT / MODIFY / REMOVE, nothing for a write that changes nothing', async () => {
    const from = batches.length;
    const item = { ...key('orders', 'traffic'), timeoutMs: { N: '900' } };
    await client.send(new PutItemCommand({ TableName: TABLE, Item: item }));
    await client.send(new PutItemCommand({ TableName: TABLE, Item: item })); // the same item again
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...item, timeoutMs: { N: '800' } } }));
    await client.send(new DeleteItemCommand({ TableName: TABLE, Key: key('orders', 'traffic') }));
    await client.send(new DeleteItemCommand({ TableName: TABLE, Key: key('orders', 'traffic') })); // gone already
    await streams.drained();
    const records = batches
      .slice(from)
      .flatMap((b) => b.Records ?? [])
      .map((r) => r as { eventName: string; dynamodb: { Keys: Record<string, { S: string }>; NewImage?: unknown } })
      .filter((r) => r.dynamodb.Keys.pk.S === 'orders');
    assert.deepEqual(
      records.map((r) => r.eventName),
      ['INSERT', 'MODIFY', 'REMOVE'],
    );
    assert.ok(records.every((r) => r.dynamodb.NewImage === undefined));
  });

  it('bumps for service partitions only: version items and breaker state are not policy', () => {
    const record = (pk: string) => ({ dynamodb: { Keys: key(pk, 'x') } });
    assert.deepEqual(
      changedServices({
        Records: [
          record('payments'),
          record(POLICY_VERSION.partition(3)),
          record('breaker#payments'),
          record('orders'),
          record('payments'),
          {},
        ],
      }),
      ['orders', 'payments'],
    );
  });
});
