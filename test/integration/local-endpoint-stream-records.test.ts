/**
 * The records a table's stream delivers to its mapped function, as recorded from DynamoDB Streams and
 * from Lambda's DynamoDB event source: which changes make a record, the images each `StreamViewType`
 * carries, and `SizeBytes`, the size of the record's key and images as DynamoDB counts an item's size
 * ("DynamoDB item sizes and formats", Amazon DynamoDB Developer Guide; a binary counted by its bytes,
 * not its base64). Real dynalite behind the endpoint's DynamoDB handler on 127.0.0.1, the real SDK on
 * the wire.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { serveDynamo } from '../../local/endpoint/dynamodb';
import { TableStreams } from '../../local/endpoint/table-streams';

const REGION = 'us-east-1';
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

interface StreamRecord {
  eventName: string;
  dynamodb: { Keys: unknown; NewImage?: unknown; OldImage?: unknown; SizeBytes: number; StreamViewType: string };
}

/** What a record shows of its change: its event, its key and images, its size. */
function shown(r: StreamRecord) {
  const { Keys, NewImage, OldImage, SizeBytes } = r.dynamodb;
  return { eventName: r.eventName, Keys, NewImage, OldImage, SizeBytes };
}

describe('local endpoint: stream records as DynamoDB Streams delivers them', () => {
  let dynamo: Awaited<ReturnType<typeof serveDynamo>>;
  let client: DynamoDBClient;
  const streams = new TableStreams();
  const delivered = new Map<string, StreamRecord[]>();

  /** A table keyed by `key` whose stream shows `viewType`, mapped to a function that keeps its records. */
  async function streamedTable(name: string, key: string, viewType: string): Promise<void> {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const streamArn = `arn:aws:dynamodb:${REGION}:000000000000:table/${name}/stream/1970-01-01T00:00:00.000`;
    streams.declare(name, streamArn, viewType, REGION);
    delivered.set(name, []);
    streams.map({
      streamArn,
      functionName: `${name}-reader`,
      batchSize: 100,
      deliver: async (event) => delivered.get(name)!.push(...(event.Records as StreamRecord[])),
    });
  }

  before(async () => {
    dynamo = await serveDynamo({ streams: streams.in(REGION) });
    client = new DynamoDBClient({ endpoint: dynamo.url, region: REGION, credentials, maxAttempts: 1 });
  });
  after(async () => {
    streams.close();
    client.destroy();
    await dynamo.close();
  });

  // test_dynamodb.py::TestDynamoDB::test_batch_write_items_streaming
  it('NEW_AND_OLD_IMAGES: an overwrite with the same item makes no record; SizeBytes counts key and images', async () => {
    // Prepare
    await streamedTable('batch-streamed', 'id', 'NEW_AND_OLD_IMAGES');
    const put = (Item: Record<string, { S: string }>) => ({ PutRequest: { Item } });

    // Act
    await client.send(new PutItemCommand({ TableName: 'batch-streamed', Item: { id: { S: 'Fred' } } }));
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: { 'batch-streamed': [put({ id: { S: 'Fred' } }), put({ id: { S: 'NewKey' } })] },
      }),
    );
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          'batch-streamed': [
            { DeleteRequest: { Key: { id: { S: 'NewKey' } } } },
            put({ id: { S: 'Fred' }, name: { S: 'Fred' } }),
          ],
        },
      }),
    );
    await streams.drained();

    // Assess
    const fred = { id: { S: 'Fred' } };
    const newKey = { id: { S: 'NewKey' } };
    assert.deepEqual(delivered.get('batch-streamed')!.map(shown), [
      { eventName: 'INSERT', Keys: fred, NewImage: fred, OldImage: undefined, SizeBytes: 12 },
      { eventName: 'INSERT', Keys: newKey, NewImage: newKey, OldImage: undefined, SizeBytes: 16 },
      { eventName: 'REMOVE', Keys: newKey, NewImage: undefined, OldImage: newKey, SizeBytes: 16 },
      {
        eventName: 'MODIFY',
        Keys: fred,
        NewImage: { id: { S: 'Fred' }, name: { S: 'Fred' } },
        OldImage: fred,
        SizeBytes: 26,
      },
    ]);
  });

  // test_dynamodb.py::TestDynamoDB::test_dynamodb_stream_stream_view_type
  it('KEYS_ONLY: no images, SizeBytes counts the key alone', async () => {
    // Prepare
    await streamedTable('keys-streamed', 'Username', 'KEYS_ONLY');
    const key = { Username: { S: 'Fred' } };

    // Act
    await client.send(new PutItemCommand({ TableName: 'keys-streamed', Item: key }));
    await client.send(
      new UpdateItemCommand({
        TableName: 'keys-streamed',
        Key: key,
        UpdateExpression: 'SET friends = :f',
        ExpressionAttributeValues: { ':f': { SS: ['Jane', 'Mary'] } },
      }),
    );
    await client.send(new DeleteItemCommand({ TableName: 'keys-streamed', Key: key }));
    await streams.drained();

    // Assess
    assert.deepEqual(
      delivered.get('keys-streamed')!.map((r) => [r.eventName, r.dynamodb.SizeBytes, Object.keys(r.dynamodb)]),
      ['INSERT', 'MODIFY', 'REMOVE'].map((e) => [
        e,
        12,
        ['ApproximateCreationDateTime', 'Keys', 'SequenceNumber', 'SizeBytes', 'StreamViewType'],
      ]),
    );
  });

  // test_lambda_integration_dynamodbstreams.py::TestDynamoDBEventSourceMapping::test_dynamodb_event_source_mapping
  // and ::test_dynamodb_event_filter[numeric_filter]: a binary counts its bytes, a number its digits
  it('a binary attribute counts its bytes, not its base64; a number its significant digits', async () => {
    // Prepare
    await streamedTable('binary-streamed', 'my_partition_key', 'NEW_IMAGE');
    await streamedTable('number-streamed', 'id', 'NEW_AND_OLD_IMAGES');

    // Act
    await client.send(
      new PutItemCommand({
        TableName: 'binary-streamed',
        Item: { my_partition_key: { S: 'hello world' }, binary_key: { B: Buffer.from('foobar') } },
      }),
    );
    await client.send(
      new PutItemCommand({
        TableName: 'number-streamed',
        Item: { id: { S: 'id_value_1' }, numericFilter: { N: '42' } },
      }),
    );
    await streams.drained();

    // Assess: key 27 + image 43 (binary_key 10 + 6 bytes); key 12 + image 27 (numericFilter 13 + 42 in 2 bytes)
    assert.deepEqual(
      delivered.get('binary-streamed')!.map((r) => r.dynamodb.SizeBytes),
      [70],
    );
    assert.deepEqual(
      delivered.get('number-streamed')!.map((r) => r.dynamodb.SizeBytes),
      [39],
    );
  });
});
