/**
 * A bump that carries its changes (shared/policy-changes.ts): caches take a changed item from the version
 * read they make anyway, without querying the changed partition, and still honour a deny within TTL + 1 s;
 * where the version cannot carry the change (too big, two writers at once, a malformed item), they end up
 * with what a Query would have given them. The local endpoint's DynamoDB (dynalite with its transactions)
 * on 127.0.0.1, the real SDK client, caches with their own clocks.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../cli/aws-clients';
import { planAllow, planDeny, type RawItem } from '../../cli/policy-plan';
import { applyPlan, scanPolicy } from '../../cli/policy-store';
import { versionWriter } from '../../functions/control/version-writer';
import type { PolicyCache } from '../../functions/mesh/policy/policy-cache';
import { bumpPolicyVersion } from '../../shared/policy-version';
import { policyFleet } from '../support/policy-fleet';
import { type SeededPolicyTable, seededPolicyTable } from '../support/seeded-policy-table';

const TABLE = 'shop-policy';
const TTL = 5_000;
const stamp = { updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'test' };
const svc = (pk: string) => ({ pk, sk: 'service', functionName: `shop-${pk}`, alias: 'live', managedBy: 'deploy' });
const allow = (pk: string, source: string) => ({ pk, sk: `allow#${source}`, source, managedBy: 'deploy' });

describe('policy version: bumps that carry their changes', () => {
  let table: SeededPolicyTable;
  let client: DynamoDBClient;
  const clock = { t: 1_700_000_000_000 };
  const clients = { dynamo: async () => client } as unknown as AwsClients;

  before(async () => {
    const items = [
      svc('payments'),
      svc('orders'),
      svc('audit'),
      allow('payments', 'orders'),
      allow('payments', 'audit'),
    ];
    table = await seededPolicyTable(TABLE, items);
    client = table.client;
  });

  after(() => table.close());

  const fleet = policyFleet({ table: TABLE, client: { send: (c) => client.send(c as never) }, clock, ttlMs: TTL });
  const { seenWithin, within } = fleet;
  const warmCaches = (n: number) => fleet.warm(n);

  const queries = (caches: PolicyCache[]) => caches.map((c) => c.tableReads);

  it('an operator deny reaches every cache within TTL + 1 s, and none queries payments for it', async () => {
    const caches = await warmCaches(6);
    const before = queries(caches);
    const existing = (await scanPolicy(clients, TABLE)) as RawItem[];
    await applyPlan(clients, TABLE, planDeny(existing, 'orders', 'payments', stamp, 'incident'), existing);
    const seen = await seenWithin(caches, 'orders', false);
    assert.ok(within(seen), `every cache refused orders within TTL + 1 s: ${seen.join(', ')} ms`);
    assert.deepEqual(queries(caches), before, 'the deny came with the version read');
    // Lifted again, the same way.
    const now = (await scanPolicy(clients, TABLE)) as RawItem[];
    await applyPlan(clients, TABLE, planAllow(now, 'orders', 'payments', stamp), now);
    const lifted = await seenWithin(caches, 'orders', true);
    assert.ok(within(lifted), `every cache allowed orders again within TTL + 1 s: ${lifted.join(', ')} ms`);
    assert.deepEqual(queries(caches), before);
  });

  it('two writers at once: the second bump is read again after the first, and every cache has both changes', async () => {
    const caches = await warmCaches(4);
    const existing = (await scanPolicy(clients, TABLE)) as RawItem[];
    await Promise.all([
      applyPlan(clients, TABLE, planDeny(existing, 'orders', 'payments', stamp, 'one'), existing),
      applyPlan(clients, TABLE, planDeny(existing, 'audit', 'payments', stamp, 'two'), existing),
    ]);
    const orders = await seenWithin(caches, 'orders', false);
    const audit = await seenWithin(caches, 'audit', false);
    assert.ok(within(orders) && within(audit), `orders ${orders.join(', ')} ms; audit ${audit.join(', ')} ms`);
    const now = (await scanPolicy(clients, TABLE)) as RawItem[];
    await applyPlan(clients, TABLE, planAllow(now, 'orders', 'payments', stamp), now);
    const later = (await scanPolicy(clients, TABLE)) as RawItem[];
    await applyPlan(clients, TABLE, planAllow(later, 'audit', 'payments', stamp), later);
  });

  it('a change too big to carry, even in change items: the caches query payments, and see it', async () => {
    const caches = await warmCaches(3);
    const before = queries(caches);
    // Nine denies with long reasons, written and bumped together: over what a change item may hold.
    const reason = 'x'.repeat(1_000);
    const sources = ['orders', ...Array.from({ length: 8 }, (_, i) => `billing-${i}`)];
    for (const source of sources) {
      await client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: {
            pk: { S: 'payments' },
            sk: { S: `deny#${source}` },
            source: { S: source },
            reason: { S: reason },
            managedBy: { S: 'operator' },
          },
        }),
      );
    }
    const keys = sources.map((source) => ({ pk: 'payments', sk: `deny#${source}` }));
    await bumpPolicyVersion(versionWriter(client), TABLE, ['payments'], { keys });
    const seen = await seenWithin(caches, 'orders', false);
    assert.ok(within(seen), `every cache refused orders within TTL + 1 s: ${seen.join(', ')} ms`);
    assert.ok(
      queries(caches).every((q, i) => q > before[i]!),
      'each cache queried payments',
    );
    assert.ok(
      caches.every((c) => c.changeItemReads === 0),
      'no change item was written, none read',
    );
    const now = (await scanPolicy(clients, TABLE)) as RawItem[];
    await applyPlan(clients, TABLE, planAllow(now, 'orders', 'payments', stamp), now);
    await seenWithin(caches, 'orders', true);
  });

  it('a malformed deny carried in the version fails closed, as it does when queried', async () => {
    const caches = await warmCaches(3);
    // A raw write, as another tool makes it: the deny names another source than its sort key.
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: 'payments' }, sk: { S: 'deny#audit' }, source: { S: 'someone-else' } },
      }),
    );
    await bumpPolicyVersion(versionWriter(client), TABLE, ['payments'], {
      keys: [{ pk: 'payments', sk: 'deny#audit' }],
    });
    const seen = await seenWithin(caches, 'audit', false);
    assert.ok(within(seen), `every cache refused audit within TTL + 1 s: ${seen.join(', ')} ms`);
  });
});
