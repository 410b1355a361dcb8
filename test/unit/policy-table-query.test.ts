/**
 * The policy table's Query on the wire: signed as AWS checks it (with the session token), retried when
 * throttled, DynamoDB's errors reported by name (a loopback server stands in for DynamoDB).
 */

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  MAX_PARTITION_PAGES,
  PolicyTableQuery,
  policyTableReads,
} from '../../functions/mesh/policy/policy-table-query';
import { checkSigV4, type SignatureCheck } from '../support/sigv4-check';

describe('policy table Query on the wire', () => {
  it('retries throttling, then reads; reports an error by its DynamoDB name', async () => {
    // Prepare: a stand-in that throttles once, then answers; and for another table, has no table
    const seen: { target?: string; auth?: string; body: Record<string, unknown>; signature: SignatureCheck }[] = [];
    let throttled = false;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const raw = Buffer.concat(chunks);
        const body = JSON.parse(raw.toString()) as Record<string, unknown>;
        const signature = await checkSigV4(req, raw, { accessKeyId: 'test', secretAccessKey: 'test-secret' });
        seen.push({ target: req.headers['x-amz-target'] as string, auth: req.headers.authorization, body, signature });
        const send = (status: number, json: unknown) =>
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(json));
        if (body.TableName === 'missing')
          return send(400, {
            __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
            message: 'no table',
          });
        if (!throttled) {
          throttled = true;
          return send(400, { __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'slow down' });
        }
        send(200, { Items: [{ pk: { S: 'payments' }, sk: { S: 'service' } }], Count: 1 });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const reader = new PolicyTableQuery({
      env: {
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test-secret',
        AWS_SESSION_TOKEN: 'session-token',
      },
    });
    try {
      // Act
      const out = await reader.query({ TableName: 'shop-policy', KeyConditionExpression: '#pk = :pk' });
      const missing = await reader.query({ TableName: 'missing', KeyConditionExpression: '#pk = :pk' }).catch((e) => e);
      // Assess
      assert.deepEqual(out.Items, [{ pk: { S: 'payments' }, sk: { S: 'service' } }]);
      assert.equal(seen.length, 3, 'one throttled attempt, one read, one refused');
      assert.equal(seen[0]!.target, 'DynamoDB_20120810.Query');
      assert.match(seen[0]!.auth ?? '', /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/dynamodb\/aws4_request/);
      for (const s of seen)
        assert.deepEqual(s.signature, {
          ok: true,
          sessionToken: 'session-token',
          region: 'us-east-1',
          service: 'dynamodb',
        });
      assert.equal((missing as Error).name, 'ResourceNotFoundException');
      assert.equal((missing as Error).message, 'no table');
      assert.equal((missing as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 400);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('without credentials, refuses before sending and says what it could not do', async () => {
    // A key without its secret; port 9 (discard): the request is refused while it is signed, before it is sent.
    const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test' };
    const err = await new PolicyTableQuery({ env })
      .query({ TableName: 'shop-policy', KeyConditionExpression: '#pk = :pk' })
      .catch((e) => e);
    assert.equal(
      (err as Error).message,
      'no AWS credentials in the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) to read the policy table; ' +
        'Lambda sets them for the function role',
    );
  });
});

describe('partition reader', () => {
  it('asks for one partition with a consistent read, page after page, and unmarshalls every item', async () => {
    // Prepare: a client that answers in two pages and keeps what it was asked.
    const inputs: Record<string, unknown>[] = [];
    const pages = [
      { Items: [{ pk: { S: 'payments' }, sk: { S: 'service' } }], LastEvaluatedKey: { pk: { S: 'payments' } } },
      { Items: [{ pk: { S: 'payments' }, sk: { S: 'traffic' }, timeoutMs: { N: '800' } }] },
    ];
    let pageCount = 0;
    const { partition: read } = policyTableReads({
      tableName: 'shop-policy',
      env: {},
      pageLimit: 1,
      onPage: () => pageCount++,
      client: {
        send: async (command: unknown) => {
          inputs.push((command as { input: Record<string, unknown> }).input);
          return pages[inputs.length - 1];
        },
      },
    });
    // Act
    const items = await read('payments');
    // Assess
    assert.deepEqual(items, [
      { pk: 'payments', sk: 'service' },
      { pk: 'payments', sk: 'traffic', timeoutMs: 800 },
    ]);
    assert.equal(pageCount, 2);
    const first = {
      TableName: 'shop-policy',
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': { S: 'payments' } },
      ExclusiveStartKey: undefined,
      Limit: 1,
      ConsistentRead: true,
    };
    assert.deepEqual(inputs, [first, { ...first, ExclusiveStartKey: { pk: { S: 'payments' } } }]);
  });

  it('stops after MAX_PARTITION_PAGES full pages: a partition that large fails the read', async () => {
    /** A partition of `total` pages, one item each. */
    const pagesOf = (total: number, pageLimit?: number) => {
      let asked = 0;
      const reads = policyTableReads({
        tableName: 'shop-policy',
        env: {},
        pageLimit,
        client: {
          send: async () => {
            asked++;
            const Items = [{ pk: { S: 'payments' }, sk: { S: `deny#s${asked}` } }];
            return asked < total ? { Items, LastEvaluatedKey: { pk: { S: 'x' } } } : { Items };
          },
        },
      });
      return { reads, asked: () => asked };
    };
    const full = pagesOf(MAX_PARTITION_PAGES + 2);
    await assert.rejects(full.reads.partition('payments'), {
      message: `policy partition payments is over ${MAX_PARTITION_PAGES} MB, far more than a policy holds`,
    });
    assert.equal(full.asked(), MAX_PARTITION_PAGES, 'no page past the bound is asked for');
    // Exactly at the bound: read whole.
    assert.equal((await pagesOf(MAX_PARTITION_PAGES).reads.partition('payments')).length, MAX_PARTITION_PAGES);
    // Small pages asked for on purpose are read on: the bound is on DynamoDB's 1 MB pages.
    const small = pagesOf(MAX_PARTITION_PAGES + 2, 1);
    assert.equal((await small.reads.partition('payments')).length, MAX_PARTITION_PAGES + 2);
  });
});
