/**
 * Attack: a policy item nested as deep as DynamoDB keeps one (32 levels), written by anyone with table
 * write (the console, a script), then a deny written the same way. Every such write reaches the table's
 * stream, whose bumper (functions/control/policy-stream.ts) carries the changed items in the policy
 * version, five levels further down: DynamoDB refuses that bump ("Nesting Levels have exceeded supported
 * limits"), every time. The bumper failed its batch, and Lambda retries a stream batch until it succeeds
 * or its records expire (a day later): the deny behind it was never bumped, and warm sandboxes kept
 * confirming their copies without it. The bump now goes without the changes it cannot carry, and the
 * runtime refuses the deep item by name while the deny holds within TTL + 1 s. The local endpoint's
 * DynamoDB (dynalite) on 127.0.0.1, the real SDK client, a policy cache with its own clock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InvalidItem } from '../../functions/mesh/policy/service-policy';
import { type AttributeValue, marshallItem } from '../../shared/attribute-value';
import { type SeededPolicyTable, seededPolicyTable } from '../support/seeded-policy-table';

const TABLE = 'shop-policy';
const items = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments', alias: 'live', managedBy: 'deploy' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' },
];

/** A value wrapping `wraps` maps one inside another: 31 is as deep as DynamoDB keeps an attribute. */
function nested(wraps: number): AttributeValue {
  let av: AttributeValue = { S: 'x' };
  for (let i = 0; i < wraps; i++) av = { M: { a: av } };
  return av;
}

describe('attack: a policy item nested as deep as DynamoDB allows', () => {
  let table: SeededPolicyTable;
  before(async () => {
    table = await seededPolicyTable(TABLE, items);
  });
  after(() => table.close());

  it('does not stop the stream’s bumps: a deny written after it reaches warm sandboxes within TTL + 1 s', async () => {
    // Prepare: a warm sandbox that lets orders call payments.
    const clock = { t: 1_700_000_000_000 };
    const invalid: InvalidItem[] = [];
    const cache = table.cache(clock, { onInvalidItem: (inv) => invalid.push(inv) });
    assert.equal(cache.authorize(await cache.get('payments'), 'orders', clock.t).allowed, true);

    // Act: a traffic item nested 32 levels deep, then a deny, each a raw PutItem; their stream records
    // in one batch to the bumper.
    const deep = { pk: { S: 'payments' }, sk: { S: 'traffic' }, timeoutMs: { N: '2000' }, junk: nested(31) };
    const deny = marshallItem({ pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 'incident' });
    const bumped = await table.putAndBump([deep, deny]);

    // Assess: the bump went through; past TTL + 1 s the warm sandbox reads the change and denies, and the
    // deep item is refused by name, the rest of the policy in use.
    assert.deepEqual(bumped, ['payments']);
    clock.t += 6_001;
    const policy = await cache.get('payments');
    assert.equal(cache.authorize(policy, 'orders', clock.t).allowed, false);
    assert.deepEqual(
      invalid.map((i) => [i.sk, i.error]),
      [['traffic', 'payments/traffic: (item) has unknown field junk; remove it']],
    );
    assert.equal(policy.traffic, undefined);
  });
});
