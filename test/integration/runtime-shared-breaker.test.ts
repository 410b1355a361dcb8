/**
 * Shared breakers on the wire: when one sandbox's breaker for a version opens, it writes the
 * `breaker#<version>` item to the target's breaker partition (`breaker#<target>`) of the policy table
 * (a real dynalite, the real DynamoDB client) with a conditional PutItem, fire-and-forget; another sandbox
 * reads it with the target's policy and ejects that version before it ever fails there. A failed
 * write is logged and ignored. Breaker state in the target's own partition is not honoured.
 */

import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { MeshRemoteError } from '../../functions/mesh/errors';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { SharedBreakerWriter } from '../../functions/mesh/resilience/shared-breaker-writer';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { createPolicyTable } from '../../local/endpoint/dynamodb';
import { marshallItem } from '../../shared/attribute-value';
import { type LambdaInvokeServer, lambdaClientConfig, startLambdaInvokeServer } from '../support/lambda-invoke-server';
import { loopbackClientConfig } from '../support/loopback-client';

const dynalite = require('dynalite') as (o: Record<string, unknown>) => Server;
const TABLE = 'shop-policy';
const items = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders', retries: { maxAttempts: 1 } },
  { pk: 'payments', sk: 'route', weights: { '1': 0.5, '2': 0.5 } },
];

describe('runtime: shared breaker items', () => {
  let db: Server;
  let dynamo: DynamoDBClient;
  let server: LambdaInvokeServer;
  before(async () => {
    db = dynalite({ createTableMs: 0 });
    await new Promise<void>((r) => db.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(db.address() as AddressInfo).port}`;
    dynamo = new DynamoDBClient(loopbackClientConfig(url));
    await createPolicyTable(url, TABLE);
    for (const it of items)
      await dynamo.send(new PutItemCommand({ TableName: TABLE, Item: marshallItem(it) as never }));
    server = await startLambdaInvokeServer({
      'shop-payments': {
        versions: {
          '1': () => ({ v: 1 }),
          '2': () => {
            throw Object.assign(new Error('boom'), { name: 'CanaryBug' });
          },
        },
      },
    });
  });
  after(async () => {
    await server.close();
    dynamo.destroy();
    await new Promise<void>((r) => db.close(() => r()));
  });

  const sandbox = (writer: SharedBreakerWriter | false, lines: string[] = []) =>
    new MeshRuntime({
      env: { MESH_SHARED_BREAKERS: 'true' },
      config: { meshName: 'shop', service: 'orders', functionVersion: '1' },
      policy: { tableName: TABLE, client: dynamo, snapshotPath: null },
      transport: new LambdaInvokeTransport({ client: new LambdaClient(lambdaClientConfig(server.url)) }),
      sink: (l) => lines.push(...l.split('\n')),
      identity: async () => undefined,
      sleep: async () => undefined,
      sharedBreakers: writer,
    });

  test('one breaker opens on version 2: the item is written and the other sandbox never sends version 2 a call', async () => {
    const writer = new SharedBreakerWriter({ tableName: TABLE, client: dynamo });
    const a = sandbox(writer);
    let failures = 0;
    for (let i = 0; i < 10; i++) {
      await a.call('payments', {}).catch((e) => {
        assert.ok(e instanceof MeshRemoteError);
        failures++;
      });
    }
    assert.equal(failures, 5);
    await Promise.all(writer.pending);
    const got = await dynamo.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: marshallItem({ pk: 'breaker#payments', sk: 'breaker#2' }) as never,
      }),
    );
    assert.equal(got.Item?.state?.S, 'open');
    assert.equal(got.Item?.version?.S, '2');
    assert.ok(Number(got.Item?.ttl?.N) > Date.now() / 1000);

    const b = sandbox(false);
    const before = server.invocations.length;
    for (let i = 0; i < 6; i++) assert.deepEqual(await b.call('payments', {}), { v: 1 });
    assert.ok(server.invocations.slice(before).every((i) => i.qualifier === '1'));
    // One read per partition: the policy and the breaker state, in parallel.
    assert.equal(b.policy.tableReads, 2);
  });

  test('without shared breakers the breaker partition is not read; breaker state in the policy partition is ignored', async () => {
    const planted = { pk: 'payments', sk: 'breaker#1', version: '1', state: 'open', openedAt: Date.now() };
    await dynamo.send(new PutItemCommand({ TableName: TABLE, Item: marshallItem(planted) as never }));
    const lines: string[] = [];
    const off = new MeshRuntime({
      env: {},
      config: { meshName: 'shop', service: 'orders', functionVersion: '1' },
      policy: { tableName: TABLE, client: dynamo, snapshotPath: null, log: (l) => lines.push(l) },
      transport: new LambdaInvokeTransport({ client: new LambdaClient(lambdaClientConfig(server.url)) }),
      sink: () => undefined,
      identity: async () => undefined,
      sleep: async () => undefined,
      sharedBreakers: false,
    });
    const before = server.invocations.length;
    // Version 2 always fails: with breaker#2 honoured, no call would reach it.
    for (let i = 0; i < 4; i++) await off.call('payments', {}).catch(() => undefined);
    assert.equal(off.policy.tableReads, 1);
    const sent = server.invocations.slice(before).map((i) => i.qualifier);
    assert.ok(sent.includes('2'), 'the breaker partition was not read');
    assert.ok(sent.includes('1'), 'an open breaker#1 item in the policy partition ejects nothing');
    assert.ok(lines.some((l) => /payments\/breaker#1: pk = \\"payments\\" must be \\"breaker#<service>\\"/.test(l)));
  });

  test('the write is conditional (an older opening does not replace a later one) and a failure is logged, not thrown', async () => {
    const lines: string[] = [];
    const writer = new SharedBreakerWriter({ tableName: TABLE, client: dynamo, log: (l) => lines.push(l) });
    const later = Date.now() + 60_000;
    writer.opened('payments', '7', later, 30_000);
    await Promise.all(writer.pending);
    writer.opened('payments', '7', later - 10_000, 30_000);
    await Promise.all(writer.pending);
    const got = await dynamo.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: marshallItem({ pk: 'breaker#payments', sk: 'breaker#7' }) as never,
      }),
    );
    assert.equal(got.Item?.openedAt?.N, String(later));
    assert.equal(lines.length, 0, 'a lost race is not a failure');

    const broken = new SharedBreakerWriter({ tableName: 'no-such-table', client: dynamo, log: (l) => lines.push(l) });
    broken.opened('payments', '7', Date.now(), 30_000);
    await Promise.all(broken.pending);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /ResourceNotFoundException/);
  });
});
