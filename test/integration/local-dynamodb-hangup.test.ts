/**
 * A client that hangs up before the embedded DynamoDB answered it (its request waited behind a
 * transaction, say, and the caller's timeout ended the wait) must not hold the store: its request is
 * still carried out, as DynamoDB carries out a request it received, and the transactions and streamed
 * writes after it are answered. Before, its section of the store's lock never ended, and every
 * transaction after it, then every request, waited for ever (seen under load as a policy write the
 * local mesh never answered).
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { type DynamoBackend, startDynamo } from '../../local/endpoint/dynamodb';
import { loopbackClientConfig } from '../support/loopback-client';

const SIGNED = {
  'content-type': 'application/x-amz-json-1.0',
  authorization:
    'AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
  'x-amz-date': '20240101T000000Z',
};

describe('local DynamoDB: a client that hangs up before its answer', () => {
  let dynamo: DynamoBackend;
  let server: Server;
  let db: DynamoDBClient;
  /** Settles when the hung-up request's handling ended. */
  let abandoned: Promise<void> | undefined;

  before(async () => {
    dynamo = startDynamo();
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        // The request marked as abandoned is handed over only once its client has gone, as one that
        // waited behind a transaction for longer than its caller would wait.
        if (req.headers['x-test-abandoned']) {
          const handOver = () => {
            abandoned = Promise.resolve(dynamo.handle(req, body, res));
          };
          if (res.destroyed) handOver();
          else res.once('close', handOver);
        } else void dynamo.handle(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    db = new DynamoDBClient(loopbackClientConfig(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    await db.send(
      new CreateTableCommand({
        TableName: 'orders',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  after(async () => {
    db.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await dynamo.close();
  });

  /** Sends a PutItem of `pk` and hangs up before any answer. */
  function putAndHangUp(pk: string): Promise<void> {
    const port = (server.address() as AddressInfo).port;
    return new Promise((resolve) => {
      const r = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        headers: { ...SIGNED, 'x-amz-target': 'DynamoDB_20120810.PutItem', 'x-test-abandoned': '1' },
      });
      r.on('error', () => resolve());
      r.on('close', () => resolve());
      r.end(JSON.stringify({ TableName: 'orders', Item: { pk: { S: pk } } }), () => setTimeout(() => r.destroy(), 50));
    });
  }

  it('still carries out the request, and answers the transaction after it', { timeout: 30_000 }, async () => {
    // Act: a write whose client is gone by the time the store takes it, then a transaction.
    await putAndHangUp('abandoned');
    while (!abandoned) await new Promise((r) => setTimeout(r, 10));
    await abandoned;
    await db.send(
      new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: 'orders', Item: { pk: { S: 'next' } } } }] }),
    );

    // Assess: both writes are in the table.
    for (const pk of ['abandoned', 'next']) {
      const got = await db.send(
        new GetItemCommand({ TableName: 'orders', Key: { pk: { S: pk } }, ConsistentRead: true }),
      );
      assert.equal(got.Item?.pk?.S, pk);
    }
  });
});
