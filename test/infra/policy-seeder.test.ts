/**
 * The Custom::MeshPolicy handler on the wire: a real dynalite on 127.0.0.1 and the real DynamoDB
 * client. Create, Update and Delete events; operator items with the same key are never touched.
 */

import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { type MeshPolicyEvent, seed } from '../../functions/control/policy-seeder';
import { createPolicyTable } from '../../local/endpoint/dynamodb';
import { MANAGED_BY, POLICY_VERSION } from '../../shared/names';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (o: Record<string, unknown>) => Server;
const TABLE_NAME = 'shop-policy';

const svc = (pk: string) => ({ pk, sk: 'service', functionName: `shop-${pk}`, alias: 'live', managedBy: 'deploy' });
const allow = (pk: string, source: string, extra: object = {}) => ({
  pk,
  sk: `allow#${source}`,
  source,
  managedBy: 'deploy',
  ...extra,
});
const event = (RequestType: MeshPolicyEvent['RequestType'], items: object[], old?: object[]): MeshPolicyEvent => ({
  RequestType,
  ResourceProperties: { TableName: TABLE_NAME, Items: JSON.stringify(items) },
  OldResourceProperties: old ? { TableName: TABLE_NAME, Items: JSON.stringify(old) } : undefined,
});

describe('policy seeder against dynalite', () => {
  let db: Server;
  let client: DynamoDBClient;
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);

  const keys = async () => {
    const { Items = [] } = await client.send(new ScanCommand({ TableName: TABLE_NAME }));
    return Items.filter((i) => !i.pk.S?.startsWith(POLICY_VERSION.partitionPrefix)) // the version, not policy
      .map((i) => `${i.pk.S}/${i.sk.S}:${i.managedBy?.S}`)
      .sort();
  };
  const get = async (pk: string, sk: string) =>
    (await client.send(new GetItemCommand({ TableName: TABLE_NAME, Key: { pk: { S: pk }, sk: { S: sk } } }))).Item;

  before(async () => {
    db = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((r) => db.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(db.address() as AddressInfo).port}`;
    client = new DynamoDBClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await createPolicyTable(url, TABLE_NAME);
  });

  after(async () => {
    client?.destroy();
    await new Promise<void>((r) => db.close(() => r()));
  });

  it('creates, updates and deletes its items and never touches an operator item', async () => {
    // GIVEN an operator item on a key the deploy also declares, and one on a key it does not
    await client.send(
      new PutItemCommand({
        TableName: TABLE_NAME,
        Item: {
          pk: { S: 'payments' },
          sk: { S: 'allow#orders' },
          source: { S: 'orders' },
          timeoutMs: { N: '999' },
          managedBy: { S: MANAGED_BY.operator },
        },
      }),
    );
    await client.send(
      new PutItemCommand({
        TableName: TABLE_NAME,
        Item: {
          pk: { S: 'payments' },
          sk: { S: 'deny#frontend' },
          source: { S: 'frontend' },
          managedBy: { S: MANAGED_BY.operator },
        },
      }),
    );
    const v1 = [
      svc('orders'),
      svc('payments'),
      allow('orders', 'frontend', { timeoutMs: 1000, retries: { maxAttempts: 2 } }),
      allow('payments', 'orders'),
    ];

    // WHEN the resource is created
    const created = await seed(client, event('Create', v1), log);

    // THEN the deploy items are written with nested fields intact, the operator's item is left as it is
    assert.equal(created.PhysicalResourceId, `mesh-policy:${TABLE_NAME}`);
    assert.deepEqual(created.Data, { Written: 3, Removed: 0, Skipped: 'payments/allow#orders' });
    assert.deepEqual(await keys(), [
      'orders/allow#frontend:deploy',
      'orders/service:deploy',
      'payments/allow#orders:operator',
      'payments/deny#frontend:operator',
      'payments/service:deploy',
    ]);
    const edge = await get('orders', 'allow#frontend');
    assert.equal(edge?.timeoutMs?.N, '1000');
    assert.equal(edge?.retries?.M?.maxAttempts?.N, '2');
    assert.equal((await get('payments', 'allow#orders'))?.timeoutMs?.N, '999');

    // WHEN an update changes one edge, adds one and drops one
    const v2 = [svc('orders'), svc('payments'), svc('inventory'), allow('orders', 'frontend', { timeoutMs: 2000 })];
    const updated = await seed(client, event('Update', v2, v1), log);

    // THEN the change lands, the new item is written, the dropped deploy item... was the operator's: kept
    assert.deepEqual(updated.Data, { Written: 2, Removed: 0, Skipped: '' });
    assert.equal((await get('orders', 'allow#frontend'))?.timeoutMs?.N, '2000');
    assert.equal((await get('orders', 'allow#frontend'))?.retries, undefined);
    assert.ok(await get('inventory', 'service'));
    assert.equal((await get('payments', 'allow#orders'))?.managedBy?.S, MANAGED_BY.operator);

    // WHEN an update drops a deploy item
    const v3 = [svc('orders'), svc('payments'), svc('inventory')];
    const dropped = await seed(client, event('Update', v3, v2), log);
    assert.deepEqual(dropped.Data, { Written: 0, Removed: 1, Skipped: '' });
    assert.equal(await get('orders', 'allow#frontend'), undefined);

    // WHEN the resource is deleted
    const deleted = await seed(
      client,
      { RequestType: 'Delete', ResourceProperties: { TableName: TABLE_NAME, Items: JSON.stringify(v3) } },
      log,
    );

    // THEN only the operator's items remain
    assert.equal(deleted.Data.Removed, 3);
    assert.deepEqual(await keys(), ['payments/allow#orders:operator', 'payments/deny#frontend:operator']);
  });

  it('writes again an unchanged deploy item an operator deleted, on the next update of the policy', async () => {
    // GIVEN a deployed declaration, one of whose items an operator then deleted
    const v1 = [svc('billing'), allow('billing', 'orders', { timeoutMs: 100 })];
    await seed(client, event('Create', v1), log);
    await client.send(
      new DeleteItemCommand({ TableName: TABLE_NAME, Key: { pk: { S: 'billing' }, sk: { S: 'allow#orders' } } }),
    );
    assert.equal(await get('billing', 'allow#orders'), undefined);
    // WHEN the next deploy updates the policy (another item changed)
    const v2 = [{ ...svc('billing'), alias: 'blue' }, allow('billing', 'orders', { timeoutMs: 100 })];
    const updated = await seed(client, event('Update', v2, v1), log);
    // THEN the deleted edge is back, and the log says so
    assert.equal((await get('billing', 'allow#orders'))?.timeoutMs?.N, '100');
    assert.equal(updated.Data.Written, 2);
    assert.ok(logs.some((l) => l.includes('wrote again deploy items that were deleted: billing/allow#orders')));
  });

  it('removes every allow item naming a service the update removes, the operator’s too, and says so', async () => {
    // GIVEN refunds calling ledger (a deploy edge) and, by an operator's `mesh policy allow`, audit;
    // an operator's deny of refunds on ledger, and an operator's edge from another caller
    const v1 = [svc('ledger'), svc('audit'), svc('refunds'), svc('clerk'), allow('ledger', 'refunds')];
    await seed(client, event('Create', v1), log);
    const operator = (pk: string, sk: string, source: string) =>
      client.send(
        new PutItemCommand({
          TableName: TABLE_NAME,
          Item: { pk: { S: pk }, sk: { S: sk }, source: { S: source }, managedBy: { S: MANAGED_BY.operator } },
        }),
      );
    await operator('audit', 'allow#refunds', 'refunds');
    await operator('ledger', 'deny#refunds', 'refunds');
    await operator('audit', 'allow#clerk', 'clerk');
    // WHEN an update removes refunds from the mesh
    const v2 = [svc('ledger'), svc('audit'), svc('clerk')];
    const updated = await seed(client, event('Update', v2, v1), log);
    // THEN no allow item names refunds any more, the deny stays (it widens nothing), the rest is untouched
    assert.equal(await get('ledger', 'allow#refunds'), undefined);
    assert.equal(await get('audit', 'allow#refunds'), undefined);
    assert.equal((await get('ledger', 'deny#refunds'))?.managedBy?.S, MANAGED_BY.operator);
    assert.equal((await get('audit', 'allow#clerk'))?.managedBy?.S, MANAGED_BY.operator);
    assert.deepEqual(updated.Data, { Written: 0, Removed: 3, Skipped: '' });
    assert.ok(
      logs.includes(
        'policy seeder: removed operator allow items naming services this deploy removes (a certificate one left ' +
          'behind would be let in until it expires, and so would a later service of that name): audit/allow#refunds',
      ),
      logs.join('\n'),
    );
  });

  it('fails a Create with an invalid item, naming it, and writes nothing', async () => {
    const before = await keys();
    await assert.rejects(
      seed(client, event('Create', [svc('orders'), allow('orders', 'frontend', { timeoutMs: 0 })]), log),
      /orders\/allow#frontend: timeoutMs = 0/,
    );
    assert.deepEqual(await keys(), before);
  });

  it('lets a Delete pass when the table is already gone', async () => {
    const res = await seed(
      client,
      { RequestType: 'Delete', ResourceProperties: { TableName: 'gone', Items: JSON.stringify([svc('orders')]) } },
      log,
    );
    assert.equal(res.Data.Removed, 0);
  });
});
