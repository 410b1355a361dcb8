/**
 * Attack: items made deeper than DynamoDB keeps them, update by update, on the local endpoint's
 * DynamoDB (the real endpoint and the real SDK on 127.0.0.1). A request is refused when it nests past
 * DynamoDB's 32 levels, but an update nests its item deeper than the request does: `SET a.b.c = :v` puts
 * a value nested 31 levels three levels down, and `SET d.d = d` copies a document into itself. dynalite
 * kept every such item, and its update recursed on it: at about 1,100 levels it overflowed the stack in
 * a callback, outside any handler, and ended the process, the whole local mesh with it. DynamoDB refuses
 * an update that would leave an item past its limit ("Service, account, and table quotas in Amazon
 * DynamoDB": nested attributes up to 32 levels deep); so does the endpoint now, the item left as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import { TestInvoker, TestRegistry } from '../integration/local-endpoint-fixture';
import { clientConfig } from '../support/example-assembly';

const TABLE = 'nesting';

/** A value wrapping `wraps` maps one inside another around a number. */
function nested(wraps: number): AttributeValue {
  let av: AttributeValue = { N: '1' };
  for (let i = 0; i < wraps; i++) av = { M: { a: av } };
  return av;
}

/** How many maps an attribute value wraps along its `a` path. */
function wrapsOf(av: AttributeValue | undefined): number {
  let n = 0;
  for (let v = av; v?.M; v = v.M.a) n++;
  return n;
}

const key = (sk: string) => ({ pk: { S: 'p' }, sk: { S: sk } });

const refusedForNesting = (e: Error & { $metadata?: { httpStatusCode?: number } }) =>
  e.name === 'ValidationException' &&
  /Nesting Levels have exceeded supported limits/.test(e.message) &&
  e.$metadata?.httpStatusCode === 400;

describe('attack: an item nested deeper by updates on the local endpoint', () => {
  let ep: Endpoint;
  let db: DynamoDBClient;

  before(async () => {
    const registry = new TestRegistry();
    ep = await startEndpoint({ port: 0, registry, invoker: new TestInvoker(registry), log: () => undefined });
    await ep.dynamo.createPolicyTable(TABLE);
    db = new DynamoDBClient(clientConfig(ep.url));
  });

  after(async () => {
    db?.destroy();
    await ep?.close();
  });

  const get = async (sk: string) => (await db.send(new GetItemCommand({ TableName: TABLE, Key: key(sk) }))).Item;

  it('refuses each update that would nest the item past 32 levels, and keeps the item as it was', async () => {
    // Prepare: an item as deep as DynamoDB keeps one (31 maps inside the attribute: 32 levels).
    await db.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('grow'), d: nested(31) } }));
    // Act: the attack as it ended the mesh, a value 29 maps deep set at the innermost map, forty times
    // over (about 1,200 levels if kept), then the item copied into itself.
    const inner = ['d', ...Array<string>(30).fill('a')].join('.');
    for (let i = 0; i < 40; i++) {
      await assert.rejects(
        db.send(
          new UpdateItemCommand({
            TableName: TABLE,
            Key: key('grow'),
            UpdateExpression: `SET ${inner}.a = :v, touched = :n`,
            ExpressionAttributeValues: { ':v': nested(29), ':n': { N: String(i) } },
          }),
        ),
        refusedForNesting,
        `update ${i}`,
      );
    }
    // Assess: nothing of any refused update is kept (not even the attribute it set beside), and the
    // endpoint still serves.
    const item = await get('grow');
    assert.equal(wrapsOf(item?.d), 31);
    assert.equal(item?.touched, undefined);
    assert.ok((await db.send(new ListTablesCommand({}))).TableNames?.includes(TABLE));
  });

  it('refuses an update that copies a document into itself, which one request ended the mesh with', async () => {
    // Prepare: a small item. dynalite set `d.a` to the object `d` itself, where DynamoDB copies it, and
    // sizing the item that then held itself overflowed the stack outside any handler.
    await db.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('self'), d: { M: { b: { N: '1' } } } } }));
    const refusedByName = (e: Error) =>
      e.name === 'ValidationException' && /does not support an update that sets a path to a copy/.test(e.message);
    // Act: the bare path, behind if_not_exists and names, and inside a transaction.
    await assert.rejects(
      db.send(new UpdateItemCommand({ TableName: TABLE, Key: key('self'), UpdateExpression: 'SET d.a = d' })),
      refusedByName,
    );
    await assert.rejects(
      db.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key('self'),
          UpdateExpression: 'SET #d.#b = if_not_exists(#d, :v)',
          ExpressionAttributeNames: { '#d': 'd', '#b': 'b' },
          ExpressionAttributeValues: { ':v': { N: '0' } },
        }),
      ),
      refusedByName,
    );
    await assert.rejects(
      db.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Update: { TableName: TABLE, Key: key('self'), UpdateExpression: 'SET d.a = d' } }],
        }),
      ),
      refusedByName,
    );
    // Assess: the item as it was, and the endpoint serving; a copy of a sibling is still made.
    assert.deepEqual((await get('self'))?.d, { M: { b: { N: '1' } } });
    await db.send(new UpdateItemCommand({ TableName: TABLE, Key: key('self'), UpdateExpression: 'SET e = d' }));
    assert.deepEqual((await get('self'))?.e, { M: { b: { N: '1' } } });
    assert.ok((await db.send(new ListTablesCommand({}))).TableNames?.includes(TABLE));
  });

  it('refuses an update that would create an item too deep, and leaves no item', async () => {
    await assert.rejects(
      db.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key('new'),
          UpdateExpression: 'SET #d = :v',
          ExpressionAttributeNames: { '#d': 'd' },
          ExpressionAttributeValues: { ':v': { M: { a: nested(31) } } },
        }),
      ),
      refusedForNesting,
    );
    assert.equal(await get('new'), undefined);
  });

  it('still takes what DynamoDB takes: an item 32 levels deep, by put and by update', async () => {
    await assert.rejects(
      db.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('put'), d: nested(32) } })),
      refusedForNesting,
    );
    await db.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('put'), d: nested(31) } }));
    await db.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('upd'), d: nested(1) } }));
    await db.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: key('upd'),
        UpdateExpression: 'SET d.a = :v',
        ExpressionAttributeValues: { ':v': nested(30) },
      }),
    );
    assert.equal(wrapsOf((await get('upd'))?.d), 31);
    assert.equal(wrapsOf((await get('put'))?.d), 31);
  });

  it('cancels a transaction whose update would nest an item too deep, and undoes its other writes', async () => {
    await db.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('tx'), d: nested(31) } }));
    const inner = ['d', ...Array<string>(30).fill('a')].join('.');
    await assert.rejects(
      db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: TABLE, Item: { ...key('tx-put'), n: { N: '1' } } } },
            {
              Update: {
                TableName: TABLE,
                Key: key('tx'),
                UpdateExpression: `SET ${inner}.a = :v`,
                ExpressionAttributeValues: { ':v': nested(2) },
              },
            },
          ],
        }),
      ),
      (e: Error & { CancellationReasons?: { Code?: string; Message?: string }[] }) =>
        e.name === 'TransactionCanceledException' &&
        e.CancellationReasons?.[0]?.Code === 'None' &&
        e.CancellationReasons?.[1]?.Code === 'ValidationError' &&
        /Nesting Levels/.test(e.CancellationReasons[1].Message ?? ''),
    );
    assert.equal(await get('tx-put'), undefined);
    assert.equal(wrapsOf((await get('tx'))?.d), 31);
  });
});
