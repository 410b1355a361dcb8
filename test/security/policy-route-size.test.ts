/**
 * Attack: a route item whose weights name thousands of versions (anyone with table write can write one:
 * 5,000 versions are some 40 KB, far under DynamoDB's 400 KB item). Every call through the mesh picks
 * its version over all of them, and a sticky key hashes each: measured on a 2-core machine, a sticky
 * choice over 10,000 versions took 1.5 ms and over 40,000 9.5 ms, every call, against 0.02 ms over ten.
 * A route's weights name at most 10 versions (as AWS App Mesh allows a route), each a version number of
 * at most 128 digits (the longest qualifier Invoke takes): past that the item is refused by name and the
 * last good route kept. The local endpoint's DynamoDB (dynalite) on 127.0.0.1, the real SDK client, a
 * policy cache with its own clock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { versionWriter } from '../../functions/control/version-writer';
import type { InvalidItem } from '../../functions/mesh/policy/service-policy';
import { chooseRoute, RouteBalancers } from '../../functions/mesh/routing/route-choice';
import { marshallItem } from '../../shared/attribute-value';
import { bumpPolicyVersion } from '../../shared/policy-version';
import { type SeededPolicyTable, seededPolicyTable } from '../support/seeded-policy-table';

const TABLE = 'shop-policy';
const route = { pk: 'payments', sk: 'route', weights: { '1': 0.9, '2': 0.1 }, managedBy: 'deploy' };
const items = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments', alias: 'live', managedBy: 'deploy' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' },
  route,
];

describe('attack: a route item naming thousands of versions', () => {
  let table: SeededPolicyTable;
  before(async () => {
    table = await seededPolicyTable(TABLE, items);
  });
  after(() => table.close());

  const write = async (item: Record<string, unknown>) => {
    await table.client.send(new PutItemCommand({ TableName: TABLE, Item: marshallItem(item) as never }));
    // As the table's stream bumper does after any writer's items.
    await bumpPolicyVersion(versionWriter(table.client), TABLE, ['payments']);
  };

  it('is refused by name, and calls keep the last good split', async () => {
    // Prepare: a warm sandbox routing 90/10 between versions 1 and 2.
    const clock = { t: 1_700_000_000_000 };
    const invalid: InvalidItem[] = [];
    const cache = table.cache(clock, { onInvalidItem: (inv) => invalid.push(inv) });
    assert.deepEqual((await cache.get('payments')).route?.weights, route.weights);

    // Act: the route rewritten with 5,000 versions, then with one version of 200 digits.
    const many = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [String(i + 1), 1 / 5_000]));
    await write({ pk: 'payments', sk: 'route', weights: many });
    clock.t += 6_001;
    const first = await cache.get('payments');
    await write({ pk: 'payments', sk: 'route', weights: { ['7'.repeat(200)]: 1 } });
    clock.t += 6_001;
    const second = await cache.get('payments');

    // Assess: each refused, naming the item, the field and the limit; the 90/10 split still routes.
    const long = '7'.repeat(200);
    assert.deepEqual(
      invalid.map((i) => i.error),
      [
        `payments/route: weights = ${JSON.stringify(many).slice(0, 77)}... must name at most 10 versions; it names 5000`,
        `payments/route: weights.${long} = 1 (key ${JSON.stringify(long).slice(0, 77)}...) ` +
          'must be a published version number such as "3" (never $LATEST)',
      ],
    );
    assert.ok(invalid.every((i) => i.sk === 'route' && i.keptLastGood));
    for (const policy of [first, second]) assert.deepEqual(policy.route?.weights, route.weights);
    const balancers = new RouteBalancers();
    const picks = Array.from(
      { length: 10 },
      () => chooseRoute({ target: 'payments', route: second.route, balancers }).version,
    );
    assert.deepEqual(picks.sort(), ['1', '1', '1', '1', '1', '1', '1', '1', '1', '2']);
  });
});
