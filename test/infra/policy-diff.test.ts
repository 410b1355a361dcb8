/** The policy seeder's pure decisions: what a Custom::MeshPolicy event writes and removes. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseItems, planSeed } from '../../functions/control/policy-diff';
import type { PolicyItem } from '../../shared/policy';

const svc = (pk: string): PolicyItem => ({
  pk,
  sk: 'service',
  functionName: `shop-${pk}`,
  alias: 'live',
  managedBy: 'deploy',
});
const allow = (pk: string, source: string, extra: object = {}): PolicyItem =>
  ({ pk, sk: `allow#${source}`, source, managedBy: 'deploy', ...extra }) as PolicyItem;

describe('planSeed', () => {
  it('writes every item on Create and removes nothing', () => {
    // GIVEN two declared items WHEN the resource is created
    const plan = planSeed('Create', [svc('orders'), allow('orders', 'frontend')]);
    // THEN both are written
    assert.deepEqual(
      plan.puts.map((i) => `${i.pk}/${i.sk}`),
      ['orders/service', 'orders/allow#frontend'],
    );
    assert.deepEqual(plan.deletes, []);
  });

  it('on Update writes new and changed items, removes dropped ones and leaves unchanged ones alone', () => {
    // GIVEN an old declaration and a new one that changes, adds and drops an edge
    const before = [svc('orders'), allow('orders', 'frontend', { timeoutMs: 1000 }), allow('payments', 'orders')];
    const after = [svc('orders'), allow('orders', 'frontend', { timeoutMs: 2000 }), allow('inventory', 'orders')];
    // WHEN planned
    const plan = planSeed('Update', after, before);
    // THEN
    assert.deepEqual(
      plan.puts.map((i) => `${i.pk}/${i.sk}`),
      ['orders/allow#frontend', 'inventory/allow#orders'],
    );
    assert.deepEqual(plan.deletes, [{ pk: 'payments', sk: 'allow#orders' }]);
    // The unchanged item is written again only where an operator deleted it.
    assert.deepEqual(
      plan.restores.map((i) => `${i.pk}/${i.sk}`),
      ['orders/service'],
    );
  });

  it('treats reordered fields as unchanged', () => {
    const a = {
      pk: 'orders',
      sk: 'allow#frontend',
      source: 'frontend',
      managedBy: 'deploy',
      timeoutMs: 5,
    } as PolicyItem;
    const b = {
      timeoutMs: 5,
      managedBy: 'deploy',
      source: 'frontend',
      sk: 'allow#frontend',
      pk: 'orders',
    } as PolicyItem;
    assert.deepEqual(planSeed('Update', [b], [a]), { puts: [], deletes: [], restores: [b], revokes: [] });
  });

  it('on an Update that removes a service, revokes every allow item naming it in each partition kept', () => {
    // GIVEN refunds, a caller of payments and of the audit channel, removed from the declaration
    const audit = { pk: 'audit', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' } as PolicyItem;
    const before = [svc('orders'), svc('payments'), svc('refunds'), allow('payments', 'refunds'), audit];
    const after = [svc('orders'), svc('payments'), allow('payments', 'orders'), audit];
    // WHEN planned
    const plan = planSeed('Update', after, before);
    // THEN the deploy's own edge is removed as any dropped item, and every partition's allow#refunds is
    // revoked whoever wrote it (the removed service's own partition is not one the mesh keeps)
    assert.deepEqual(plan.deletes, [
      { pk: 'refunds', sk: 'service' },
      { pk: 'payments', sk: 'allow#refunds' },
    ]);
    assert.deepEqual(plan.revokes, [
      { pk: 'orders', sk: 'allow#refunds' },
      { pk: 'payments', sk: 'allow#refunds' },
      { pk: 'audit', sk: 'allow#refunds' },
    ]);
    // An update that removes no service revokes nothing; neither do Create, Delete or a new table.
    assert.deepEqual(planSeed('Update', after, after).revokes, []);
    assert.deepEqual(planSeed('Create', after).revokes, []);
    assert.deepEqual(planSeed('Delete', after).revokes, []);
    assert.deepEqual(planSeed('Update', after, before, true).revokes, []);
  });

  it('writes everything into a new table and removes nothing from it', () => {
    const plan = planSeed('Update', [svc('orders')], [svc('orders'), svc('payments')], true);
    assert.equal(plan.puts.length, 1);
    assert.deepEqual(plan.deletes, []);
  });

  it('removes every declared item on Delete', () => {
    const plan = planSeed('Delete', [svc('orders'), allow('orders', 'frontend')]);
    assert.deepEqual(plan.puts, []);
    assert.deepEqual(plan.deletes, [
      { pk: 'orders', sk: 'service' },
      { pk: 'orders', sk: 'allow#frontend' },
    ]);
  });
});

describe('parseItems', () => {
  it('parses the Items property, a JSON string', () => {
    assert.equal(parseItems(JSON.stringify([svc('orders')])).length, 1);
    assert.deepEqual(parseItems(undefined), []);
  });

  it('refuses an operator item: the seeder only owns deploy items', () => {
    assert.throws(
      () => parseItems(JSON.stringify([{ ...svc('orders'), managedBy: 'operator' }])),
      /managedBy must be "deploy"/,
    );
  });

  it('refuses an invalid item, naming it and the field', () => {
    assert.throws(
      () => parseItems(JSON.stringify([allow('orders', 'frontend', { timeoutMs: -1 })])),
      /Items\[0\]: orders\/allow#frontend: timeoutMs = -1 must be between/,
    );
  });

  it('refuses a duplicate key and non-arrays', () => {
    assert.throws(() => parseItems(JSON.stringify([svc('orders'), svc('orders')])), /appears twice/);
    assert.throws(() => parseItems('{"pk":1}'), /must be a JSON array/);
    assert.throws(() => parseItems('nope'), /not JSON/);
  });
});
