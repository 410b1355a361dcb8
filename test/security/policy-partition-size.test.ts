/**
 * A service's policy partition filled far past what a policy holds (a tool's bug, or anyone with table
 * write): items near DynamoDB's 400 KB, megabytes in all. Read whole, every sandbox that reads the
 * service would hold it all, and a small one could end. The read now stops after its bound of 1 MB
 * pages and fails: reported, the last good copy kept for routing, and authorization closed as after any
 * failed read past the cache's bound. The local endpoint's DynamoDB (dynalite), the real SDK client, a
 * cache with its own clock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { versionWriter } from '../../functions/control/version-writer';
import { MAX_PARTITION_PAGES } from '../../functions/mesh/policy/policy-table-query';
import { bumpPolicyVersion } from '../../shared/policy-version';
import { type SeededPolicyTable, seededPolicyTable } from '../support/seeded-policy-table';

const TABLE = 'shop-policy';
const items = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments', alias: 'live', managedBy: 'deploy' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' },
];

describe('a policy partition of megabytes', () => {
  let table: SeededPolicyTable;
  before(async () => {
    table = await seededPolicyTable(TABLE, items);
  });
  after(() => table.close());

  it('is not read whole: the read fails past its bound, reported, and the last good copy is kept', async () => {
    const clock = { t: 1_700_000_000_000 };
    const errors: string[] = [];
    const cache = table.cache(clock, { onTableError: (err) => errors.push((err as Error).message) });
    assert.equal(cache.authorize(await cache.get('payments'), 'orders', clock.t).allowed, true);
    // Items near 400 KB each, more than the bound's pages hold.
    const pad = 'x'.repeat(390 * 1024);
    for (let i = 0; i < (MAX_PARTITION_PAGES + 1) * 3; i++) {
      await table.client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: { S: 'payments' }, sk: { S: `note#${i}` }, pad: { S: pad } },
        }),
      );
    }
    // As the table's stream bumper does after any writer's items.
    await bumpPolicyVersion(versionWriter(table.client), TABLE, ['payments']);
    clock.t += 10_000; // past TTL + 1 s: the next decision reads the table first
    const policy = await cache.get('payments');
    assert.deepEqual(errors, [
      `policy partition payments is over ${MAX_PARTITION_PAGES} MB, far more than a policy holds`,
    ]);
    // The copy kept is the last good one (routing goes on with it), and none of the megabytes are held.
    assert.ok([...policy.items.values()].every((i) => !String(i.sk).startsWith('note#')));
    // Past the cache's bound, as after any failed read, authorization fails closed: a deny written
    // meanwhile cannot be ruled out.
    assert.equal(cache.authorize(policy, 'orders', clock.t).allowed, false);
  });
});
