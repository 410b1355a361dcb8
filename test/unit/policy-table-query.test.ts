/**
 * The policy table's hand-signed Query: the SigV4 signature equals @smithy/signature-v4's for the
 * same request, and the reader retries throttling and reports DynamoDB's errors by name (a loopback
 * server stands in for DynamoDB).
 */

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { PolicyTableQuery, signedJsonHeaders } from '../../functions/mesh/policy/policy-table-query';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const NOW = Date.UTC(2026, 10, 30, 12, 34, 56);

describe('policy table Query on the wire', () => {
  for (const sessionToken of [undefined, 'FwoGZXIvYXdzEXAMPLE']) {
    it(`signs as @smithy/signature-v4 does${sessionToken ? ' (with a session token)' : ''}`, async () => {
      // Prepare
      const url = new URL('https://dynamodb.eu-west-1.amazonaws.com/');
      const body = JSON.stringify({
        TableName: 'shop-policy',
        KeyConditionExpression: '#pk = :pk',
        ConsistentRead: true,
      });
      const creds = { ...credentials, ...(sessionToken ? { sessionToken } : {}) };
      // Act
      const ours = signedJsonHeaders({
        url,
        region: 'eu-west-1',
        service: 'dynamodb',
        target: 'DynamoDB_20120810.Query',
        body,
        credentials: creds,
        now: NOW,
      });
      const smithy = await new SignatureV4({
        service: 'dynamodb',
        region: 'eu-west-1',
        credentials: creds,
        sha256: Sha256,
      }).sign(
        {
          method: 'POST',
          protocol: 'https:',
          hostname: url.hostname,
          path: '/',
          headers: {
            host: url.host,
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': 'DynamoDB_20120810.Query',
          },
          body,
        },
        { signingDate: new Date(NOW) },
      );
      // Assess
      assert.equal(ours.authorization, smithy.headers.authorization);
      assert.equal(ours['x-amz-date'], '20261130T123456Z');
    });
  }

  it('retries throttling, then reads; reports an error by its DynamoDB name', async () => {
    // Prepare: a stand-in that throttles once, then answers; and for another table, has no table
    const seen: { target?: string; auth?: string; body: Record<string, unknown> }[] = [];
    let throttled = false;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
        seen.push({ target: req.headers['x-amz-target'] as string, auth: req.headers.authorization, body });
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
        AWS_SECRET_ACCESS_KEY: 'test',
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
      assert.equal((missing as Error).name, 'ResourceNotFoundException');
      assert.match((missing as Error).message, /no table \(HTTP 400\)/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
