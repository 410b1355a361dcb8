/**
 * Every writer of policy items bumps the mesh-wide policy version, so caches that revalidate with one
 * GetItem of the version (and query a service only when its counter moved) see each change within
 * TTL + 1 s: the deploy-time seeder, the CLI's operator allow / deny, and an operator's delete. A real
 * dynalite on 127.0.0.1 (no TransactWriteItems there: the shard-by-shard path), the real SDK client,
 * and caches with their own clocks that start at different moments.
 */

import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../cli/aws-clients';
import { planAllow, planDelete, planDeny, type RawItem } from '../../cli/policy-plan';
import { applyPlan, scanPolicy } from '../../cli/policy-store';
import { type MeshPolicyEvent, seed } from '../../functions/control/policy-seeder';
import type { PolicyCache } from '../../functions/mesh/policy/policy-cache';
import { createPolicyTable } from '../../local/endpoint/dynamodb';
import { POLICY_VERSION } from '../../shared/names';
import { versionKey } from '../../shared/policy-version';
import { policyFleet } from '../support/policy-fleet';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (o: Record<string, unknown>) => Server;
const TABLE = 'shop-policy';
const TTL = 5_000;
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const stamp = { updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'test' };

const svc = (pk: string) => ({ pk, sk: 'service', functionName: `shop-${pk}`, alias: 'live', managedBy: 'deploy' });
const allow = (pk: string, source: string) => ({ pk, sk: `allow#${source}`, source, managedBy: 'deploy' });
const event = (RequestType: MeshPolicyEvent['RequestType'], items: object[], old?: object[]): MeshPolicyEvent => ({
  RequestType,
  ResourceProperties: { TableName: TABLE, Items: JSON.stringify(items) },
  OldResourceProperties: old ? { TableName: TABLE, Items: JSON.stringify(old) } : undefined,
});

describe('policy version: every writer bumps it, every cache sees the change within TTL + 1 s', () => {
  let db: Server;
  let client: DynamoDBClient;
  const clock = { t: 1_700_000_000_000 };
  const deployed = [svc('payments'), svc('orders'), allow('payments', 'orders'), allow('payments', 'frontend')];
  const clients = { dynamo: async () => client } as unknown as AwsClients;

  before(async () => {
    db = dynalite({ createTableMs: 0 });
    await new Promise<void>((r) => db.listen(0, '127.0.0.1', r));
    const port = (db.address() as AddressInfo).port;
    client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials });
    await createPolicyTable(`http://127.0.0.1:${port}`, TABLE);
    await seed(client, event('Create', deployed), () => undefined);
  });

  after(async () => {
    client.destroy();
    await new Promise<void>((r) => db.close(() => r()));
  });

  const fleet = policyFleet({ table: TABLE, client: { send: (c) => client.send(c as never) }, clock, ttlMs: TTL });
  const { seenWithin, within } = fleet;

  /** Caches warmed over one TTL; a full revalidation round without any change reads no Query. */
  async function warmCaches(n: number): Promise<PolicyCache[]> {
    const caches = await fleet.warm(n);
    clock.t += TTL;
    const before = caches.map((c) => c.tableReads);
    for (const c of caches) await c.refresh('payments');
    assert.deepEqual(
      caches.map((c) => c.tableReads),
      before,
      'an unchanged version confirms every copy without a Query',
    );
    return caches;
  }

  it('the seeder writes the version into every shard', async () => {
    for (const shard of [0, POLICY_VERSION.shards - 1]) {
      const out = await client.send(new GetItemCommand({ TableName: TABLE, Key: versionKey(shard) }));
      assert.ok(Number(out.Item?.[POLICY_VERSION.generation]?.N) >= 1, `shard ${shard} holds a version`);
    }
    const scanned = await scanPolicy(clients, TABLE);
    assert.ok(!scanned.some((i) => String(i.pk).startsWith(POLICY_VERSION.partitionPrefix)), 'no policy item');
  });

  it('a deploy that drops an allow (seeder Update)', async () => {
    const caches = await warmCaches(8);
    const next = deployed.filter((i) => i.sk !== 'allow#frontend');
    await seed(client, event('Update', next, deployed), () => undefined);
    const seen = await seenWithin(caches, 'frontend', false);
    assert.ok(within(seen), `every cache refused frontend within TTL + 1 s: ${seen.join(', ')} ms`);
    await seed(client, event('Update', deployed, next), () => undefined);
  });

  it('an operator deny (CLI policy deny)', async () => {
    const caches = await warmCaches(8);
    const existing = (await scanPolicy(clients, TABLE)) as RawItem[];
    await applyPlan(clients, TABLE, planDeny(existing, 'orders', 'payments', stamp, 'incident'), existing);
    const seen = await seenWithin(caches, 'orders', false);
    assert.ok(within(seen), `every cache refused orders within TTL + 1 s: ${seen.join(', ')} ms`);
  });

  it('an operator allow that removes that deny, then a delete of an allow item (CLI policy allow / delete)', async () => {
    const caches = await warmCaches(8);
    let existing = (await scanPolicy(clients, TABLE)) as RawItem[];
    await applyPlan(clients, TABLE, planAllow(existing, 'orders', 'payments', stamp), existing);
    const allowed = await seenWithin(caches, 'orders', true);
    assert.ok(within(allowed), `every cache allowed orders again within TTL + 1 s: ${allowed.join(', ')} ms`);
    existing = (await scanPolicy(clients, TABLE)) as RawItem[];
    await applyPlan(clients, TABLE, planDelete(existing, 'payments', 'allow#frontend', true), existing);
    const refused = await seenWithin(caches, 'frontend', false);
    assert.ok(within(refused), `every cache refused frontend within TTL + 1 s: ${refused.join(', ')} ms`);
  });

  it('a restore that writes old version items back does not hide the changes bumped after it', async () => {
    // Prepare: the version as it is now, kept as a backup would keep it
    const saved = await Promise.all(
      Array.from({ length: POLICY_VERSION.shards }, (_, shard) =>
        client.send(new GetItemCommand({ TableName: TABLE, Key: versionKey(shard) })),
      ),
    );
    let existing = (await scanPolicy(clients, TABLE)) as RawItem[];
    await applyPlan(clients, TABLE, planDeny(existing, 'inventory', 'payments', stamp, 'first'), existing);
    const caches = await warmCaches(4);
    // Act: the old version items restored (the deny stays), then the deny lifted by the CLI
    for (const out of saved) await client.send(new PutItemCommand({ TableName: TABLE, Item: out.Item! }));
    existing = (await scanPolicy(clients, TABLE)) as RawItem[];
    await applyPlan(clients, TABLE, planAllow(existing, 'inventory', 'payments', stamp), existing);
    // Assess: the lifted deny reaches every cache, though the version went back before it moved on
    const seen = await seenWithin(caches, 'inventory', true);
    assert.ok(within(seen), `every cache allowed inventory again within TTL + 1 s: ${seen.join(', ')} ms`);
  });
});
