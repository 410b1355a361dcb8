/**
 * Attack: a number at the edge of what DynamoDB stores, in a policy item written raw (the console, a
 * script). DynamoDB keeps up to 38 digits below 1E+126, so 9.9999999999999999999999999999999999999E+125
 * is stored; JavaScript reads it as the double nearest 1e126, which the stream's bumper wrote back into
 * the version when it carried the item, and DynamoDB refused as "Number overflow", every time. The
 * bumper failed its batch, Lambda retries a stream batch until it succeeds or its records expire (a day
 * later), and the deny behind it was never bumped. The local endpoint's DynamoDB (dynalite) on 127.0.0.1,
 * the real SDK client, a policy cache with its own clock.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../cli/aws-clients';
import { planDeny, type RawItem } from '../../cli/policy-plan';
import { applyPlan, scanPolicy } from '../../cli/policy-store';
import type { InvalidItem } from '../../functions/mesh/policy/service-policy';
import { type AttributeValue, marshallItem } from '../../shared/attribute-value';
import { POLICY_VERSION } from '../../shared/names';
import { versionKey } from '../../shared/policy-version';
import { policyFleet } from '../support/policy-fleet';
import { type SeededPolicyTable, seededPolicyTable } from '../support/seeded-policy-table';

const TABLE = 'shop-policy';
const items = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments', alias: 'live', managedBy: 'deploy' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' },
];
const EDGE = '9.9999999999999999999999999999999999999E+125';

/** Where the edge number sits in the item: a field the runtime reads, a field it refuses, a number set. */
const placements: [string, Record<string, AttributeValue>, string][] = [
  ['timeoutMs', { timeoutMs: { N: EDGE } }, 'payments/traffic: timeoutMs = 1e+126 must be'],
  [
    'a negative one in breaker.openMs',
    { breaker: { M: { openMs: { N: `-${EDGE}` } } } },
    'payments/traffic: breaker.openMs',
  ],
  [
    'an unknown field holding a number set',
    { junk: { NS: ['1', EDGE] } },
    'payments/traffic: (item) has unknown field junk',
  ],
];

describe('attack: a policy number at the edge of what DynamoDB stores', () => {
  let table: SeededPolicyTable;
  beforeEach(async () => {
    table = await seededPolicyTable(TABLE, items);
  });
  afterEach(() => table.close());

  for (const [where, fields, error] of placements) {
    it(`${where}: the stream's bump goes through, a deny written after it reaches warm sandboxes within TTL + 1 s`, async () => {
      // Prepare: a warm sandbox that lets orders call payments.
      const clock = { t: 1_700_000_000_000 };
      const invalid: InvalidItem[] = [];
      const cache = table.cache(clock, { onInvalidItem: (inv) => invalid.push(inv) });
      assert.equal(cache.authorize(await cache.get('payments'), 'orders', clock.t).allowed, true);

      // Act: the traffic item with the edge number, then a deny, each a raw PutItem; their stream records
      // in one batch to the bumper.
      const edge = { pk: { S: 'payments' }, sk: { S: 'traffic' }, ...fields };
      const deny = marshallItem({ pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 'incident' });
      const bumped = await table.putAndBump([edge, deny]);

      // Assess: the bump went through; past TTL + 1 s the warm sandbox reads the change and denies, and the
      // item is refused by name, the rest of the policy in use.
      assert.deepEqual(bumped, ['payments']);
      clock.t += 6_001;
      const policy = await cache.get('payments');
      assert.equal(cache.authorize(policy, 'orders', clock.t).allowed, false);
      assert.deepEqual(
        invalid.map((i) => i.sk),
        ['traffic'],
      );
      assert.ok(invalid[0]!.error.startsWith(error), invalid[0]!.error);
      assert.equal(policy.traffic, undefined);
    });
  }
});

/**
 * The same number in the changes a version item carries (shard 0, which every carrying bump reads and
 * writes back with one entry more), put there by anyone with table write: every bump that carried
 * changes failed on it, the CLI's as well as the stream's, so a deny was written and never announced.
 */
describe('attack: a version item whose carried changes hold a number DynamoDB stores and JavaScript cannot write back', () => {
  let table: SeededPolicyTable;
  beforeEach(async () => {
    table = await seededPolicyTable(TABLE, items);
  });
  afterEach(() => table.close());

  const poisoned: [string, AttributeValue][] = [
    ['its mark', { M: { mark: { N: EDGE }, prev: { M: {} }, changes: { L: [] } } }],
    [
      'a carried item',
      {
        M: {
          mark: { N: '7' },
          prev: { M: { b0: { N: '1' } } },
          changes: {
            L: [{ M: { pk: { S: 'cart' }, sk: { S: 'traffic' }, item: { M: { timeoutMs: { N: `-${EDGE}` } } } } }],
          },
        },
      },
    ],
  ];
  for (const [where, entry] of poisoned) {
    it(`in ${where}: mesh policy deny reaches warm sandboxes within TTL + 1 s`, async () => {
      // Prepare: warm sandboxes that let orders call payments; the entry appended to shard 0's changes.
      const { client } = table;
      const clock = { t: 1_700_000_000_000 };
      const fleet = policyFleet({ table: TABLE, client: { send: (c) => client.send(c as never) }, clock });
      const caches = await fleet.warm(4);
      await client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: versionKey(0),
          UpdateExpression: 'SET #c = list_append(#c, :e)',
          ExpressionAttributeNames: { '#c': POLICY_VERSION.changes },
          ExpressionAttributeValues: { ':e': { L: [entry] } as never },
        }),
      );

      // Act: the operator denies orders -> payments with the CLI.
      const clients = { dynamo: async () => client } as unknown as AwsClients;
      const stamp = { updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'test' };
      const existing = (await scanPolicy(clients, TABLE)) as RawItem[];
      await applyPlan(clients, TABLE, planDeny(existing, 'orders', 'payments', stamp, 'incident'), existing);

      // Assess: every warm sandbox refuses orders within TTL + 1 s.
      const seen = await fleet.seenWithin(caches, 'orders', false);
      assert.ok(fleet.within(seen), `every cache refused orders within TTL + 1 s: ${seen.join(', ')} ms`);
    });
  }
});
