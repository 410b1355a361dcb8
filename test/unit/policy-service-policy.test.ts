import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectivePolicy } from '../../functions/mesh/policy/effective-policy';
import { groupSnapshot } from '../../functions/mesh/policy/policy-snapshot';
import { buildServicePolicy, type InvalidItem, sealedServicePolicy } from '../../functions/mesh/policy/service-policy';
import { checkPolicyItem } from '../../shared/policy-item-check';

const good = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments', alias: 'live' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders', timeoutMs: 800 },
  { pk: 'payments', sk: 'deny#frontend', source: 'frontend' },
  { pk: 'payments', sk: 'traffic', timeoutMs: 2_000 },
  { pk: 'payments', sk: 'route', weights: { '1': 0.9, '2': 0.1 } },
  { pk: 'payments', sk: 'fault', abort: { percent: 5 } },
  { pk: 'breaker#payments', sk: 'breaker#2', version: '2', state: 'open', openedAt: 1 },
];

describe('buildServicePolicy', () => {
  it('sorts valid items by kind', () => {
    const p = buildServicePolicy('payments', good, { check: checkPolicyItem, origin: 'table', loadedAt: 7 });
    assert.equal(p.serviceItem?.functionName, 'shop-payments');
    assert.deepEqual([...p.allows.keys()], ['orders']);
    assert.deepEqual([...p.denies.keys()], ['frontend']);
    assert.equal(p.traffic?.timeoutMs, 2_000);
    assert.deepEqual(p.route?.weights, { '1': 0.9, '2': 0.1 });
    assert.equal(p.fault?.abort?.percent, 5);
    assert.equal(p.breakers.get('2')?.state, 'open');
    assert.equal(p.items.size, good.length);
    assert.equal(p.origin, 'table');
    assert.equal(p.loadedAt, 7);
  });

  it('keeps the last good version of an item that turns malformed, and reports it', () => {
    // Prepare
    const before = buildServicePolicy('payments', good, { check: checkPolicyItem, origin: 'table', loadedAt: 0 });
    const broken = good.map((i) => (i.sk === 'route' ? { ...i, weights: { '1': 0.5, '2': 1.5 } } : i));
    const seen: InvalidItem[] = [];
    // Act
    const after = buildServicePolicy('payments', broken, {
      check: checkPolicyItem,
      origin: 'table',
      loadedAt: 1,
      previous: before,
      onInvalid: (e) => seen.push(e),
    });
    // Assess
    assert.deepEqual(after.route?.weights, { '1': 0.9, '2': 0.1 });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].sk, 'route');
    assert.equal(seen[0].keptLastGood, true);
    assert.match(seen[0].error, /payments\/route: weights\.2 = 1\.5 must be between 0 and 1/);
  });

  it('drops a malformed item with no good version, never applying part of it', () => {
    const items = [good[0], { pk: 'payments', sk: 'allow#orders', source: 'orders', timeoutMs: -1 }];
    const seen: InvalidItem[] = [];
    const p = buildServicePolicy('payments', items, {
      check: checkPolicyItem,
      origin: 'table',
      loadedAt: 0,
      onInvalid: (e) => seen.push(e),
    });
    assert.equal(p.allows.size, 0);
    assert.equal(seen[0].keptLastGood, false);
    assert.equal(effectivePolicy(p, 'orders').allowed, false);
  });

  it('fails closed on a malformed deny with no good version: the source stays denied', () => {
    const items = [good[0], good[1], { pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 7 }];
    const p = buildServicePolicy('payments', items, { check: checkPolicyItem, origin: 'table', loadedAt: 0 });
    const res = effectivePolicy(p, 'orders');
    assert.equal(!res.allowed && res.reason, 'denied');
    assert.match(!res.allowed ? res.detail : '', /malformed/);
  });

  it("ignores items of another service's partition", () => {
    const seen: InvalidItem[] = [];
    const p = buildServicePolicy('payments', [{ ...good[1], pk: 'orders' }], {
      check: checkPolicyItem,
      origin: 'table',
      loadedAt: 0,
      onInvalid: (e) => seen.push(e),
    });
    assert.equal(p.allows.size, 0);
    assert.match(seen[0].error, /does not belong to service "payments"/);
  });

  it("takes only breaker state from the breaker partition, and only its own service's", () => {
    const seen: InvalidItem[] = [];
    const p = buildServicePolicy(
      'payments',
      [
        good[0],
        // A caller that may write breaker state tries to admit itself there.
        { pk: 'breaker#payments', sk: 'allow#frontend', source: 'frontend' },
        { pk: 'breaker#orders', sk: 'breaker#1', version: '1', state: 'open', openedAt: 1 },
        good[6],
      ],
      { check: checkPolicyItem, origin: 'table', loadedAt: 0, onInvalid: (e) => seen.push(e) },
    );
    assert.equal(effectivePolicy(p, 'frontend').allowed, false);
    assert.deepEqual([...p.breakers.keys()], ['2']);
    assert.equal(seen.length, 2);
    assert.match(seen[0].error, /pk = "breaker#payments" must be a service name/);
    assert.match(seen[1].error, /does not belong to service "payments"/);
  });

  it('removes an item that is gone from the table', () => {
    const before = buildServicePolicy('payments', good, { check: checkPolicyItem, origin: 'table', loadedAt: 0 });
    const after = buildServicePolicy(
      'payments',
      good.filter((i) => i.sk !== 'route'),
      { check: checkPolicyItem, origin: 'table', loadedAt: 1, previous: before },
    );
    assert.equal(after.route, undefined);
  });
});

describe('buildServicePolicy on what is not an item', () => {
  it('reports null, undefined and plain values as not of this service, and keeps nothing of them', () => {
    const invalid: InvalidItem[] = [];
    const p = buildServicePolicy('payments', [null, undefined, 7, 'allow#orders'], {
      check: checkPolicyItem,
      origin: 'table',
      loadedAt: 0,
      onInvalid: (i) => invalid.push(i),
    });
    assert.equal(p.items.size, 0);
    assert.deepEqual(invalid[0], {
      service: 'payments',
      sk: undefined,
      error: 'undefined/undefined: pk = undefined does not belong to service "payments"',
      keptLastGood: false,
    });
    assert.equal(invalid.length, 4);
  });

  it('a malformed item of another kind is dropped without denying anyone', () => {
    const p = buildServicePolicy('payments', [{ pk: 'payments', sk: 'allow#orders', source: 'Not A Name' }], {
      check: checkPolicyItem,
      origin: 'table',
      loadedAt: 0,
    });
    assert.deepEqual([...p.brokenDenies], []);
    assert.equal(p.allows.size, 0);
  });
});

describe('sealedServicePolicy', () => {
  it('sorts the items of a sealed snapshot by kind as the checked build does, checking none', () => {
    const own = good.filter((i) => i.pk === 'payments');
    const sealed = sealedServicePolicy('payments', own, 9);
    const checked = buildServicePolicy('payments', own, { check: checkPolicyItem, origin: 'snapshot', loadedAt: 9 });
    assert.deepEqual(sealed, checked);
    assert.equal(sealed.serviceItem?.functionName, 'shop-payments');
    assert.deepEqual([...sealed.allows.keys()], ['orders']);
    assert.deepEqual([...sealed.denies.keys()], ['frontend']);
    assert.equal(sealed.fault?.abort?.percent, 5);
    assert.equal(sealed.items.size, own.length);
    assert.equal(sealed.origin, 'snapshot');
    assert.equal(sealed.loadedAt, 9);
  });

  it('keeps the last of two items with one sort key, as the table would hold one', () => {
    const first = { pk: 'payments', sk: 'allow#orders', source: 'orders', timeoutMs: 1 };
    const last = { pk: 'payments', sk: 'allow#orders', source: 'orders', timeoutMs: 2 };
    assert.equal(sealedServicePolicy('payments', [first, last], 0).allows.get('orders'), last);
  });
});

describe('groupSnapshot', () => {
  it('leaves out null, undefined and plain values, and takes a snapshot without items as empty', () => {
    const g = groupSnapshot({ mesh: 'shop', items: [undefined, null, 7, { pk: 'orders', sk: 'service' }] } as never);
    assert.deepEqual(g.services, ['orders']);
    assert.deepEqual(groupSnapshot({ mesh: 'shop' } as never).services, []);
  });

  it('refuses a snapshot whose items do not match its seal, naming it a policy snapshot', () => {
    assert.throws(
      () => groupSnapshot({ mesh: 'shop', items: good, itemsDigest: 'sha256:0' } as never),
      (e: Error) =>
        e.message.startsWith('policy snapshot: its items do not match the itemsDigest synth sealed them with'),
    );
  });

  it('groups raw items by service and skips items without a pk', () => {
    const policy = good.filter((i) => i.pk === 'payments');
    const g = groupSnapshot({
      mesh: 'shop',
      generatedAt: 'x',
      items: [...policy, { pk: 'orders', sk: 'service', functionName: 'o' }, { sk: 'route' }, null],
    });
    assert.equal(g.itemsOf('payments')?.length, policy.length);
    assert.equal(g.itemsOf('orders')?.length, 1);
    assert.equal(g.itemsOf('ledger'), undefined);
    assert.deepEqual(g.services, ['payments', 'orders']);
  });
});
