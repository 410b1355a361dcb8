/**
 * What a refused caller's callee logs, word for word (functions/mesh/policy/effective-policy.ts): the
 * detail names the edge, the item and the fix for each reason, and a malformed deny item denies.
 * The caller itself only ever learns `denied` (tested in the wire tests).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectivePolicy } from '../../functions/mesh/policy/effective-policy';
import { buildServicePolicy, emptyServicePolicy } from '../../functions/mesh/policy/service-policy';
import { checkPolicyItem } from '../../shared/policy-item-check';

const service = { pk: 'payments', sk: 'service', functionName: 'shop-payments' };
const policy = (items: unknown[]) =>
  buildServicePolicy('payments', items, { check: checkPolicyItem, origin: 'table', loadedAt: 0 });
const refusal = (items: unknown[] | undefined, source: string) => {
  const r = effectivePolicy(items ? policy(items) : undefined, source);
  assert.equal(r.allowed, false);
  return r.allowed ? undefined : { reason: r.reason, detail: r.detail };
};

describe('policy refusal details', () => {
  it('no edge: how to declare it, or how to accept callers from outside', () => {
    assert.deepEqual(refusal([service], 'orders'), {
      reason: 'no-edge',
      detail:
        'orders may not call payments: declare the edge (orders.allowCallsTo(payments)) or add payments/allow#orders',
    });
    assert.deepEqual(refusal([service], 'external'), {
      reason: 'no-edge',
      detail: 'external may not call payments: add allow#external to payments to accept calls from outside the mesh',
    });
  });

  it('denied: by which item, with its reason when it gives one', () => {
    const allow = { pk: 'payments', sk: 'allow#orders', source: 'orders' };
    assert.deepEqual(refusal([service, allow, { pk: 'payments', sk: 'deny#orders', source: 'orders' }], 'orders'), {
      reason: 'denied',
      detail: 'orders is denied by payments/deny#orders',
    });
    assert.deepEqual(
      refusal(
        [service, allow, { pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 'incident 42' }],
        'orders',
      ),
      { reason: 'denied', detail: 'orders is denied by payments/deny#orders: incident 42' },
    );
  });

  it('a malformed deny item denies its source, and says so', () => {
    const allow = { pk: 'payments', sk: 'allow#orders', source: 'orders' };
    const broken = { pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 42 };
    assert.deepEqual(refusal([service, allow, broken], 'orders'), {
      reason: 'denied',
      detail: 'orders is denied by payments/deny#orders (its deny item is malformed; denying to be safe)',
    });
    // Even a policy holding nothing else valid: the broken deny alone is not an unknown service.
    assert.equal(refusal([broken], 'orders')?.reason, 'denied');
    assert.equal(refusal([broken], 'frontend')?.reason, 'no-edge');
  });

  it('unknown service: nothing known about it, or no policy at all', () => {
    const text = (name: string) =>
      `no policy is known for ${name}; is it a mesh service, and can this function read the policy table?`;
    assert.deepEqual(refusal([], 'orders'), { reason: 'unknown-service', detail: text('payments') });
    assert.deepEqual(refusal(undefined, 'orders'), { reason: 'unknown-service', detail: text('the target') });
    const empty = effectivePolicy(emptyServicePolicy('audit'), 'orders');
    assert.deepEqual(empty.allowed ? undefined : empty.detail, text('audit'));
  });

  it('items of another service are not this service policy', () => {
    const foreign = { pk: 'orders', sk: 'allow#frontend', source: 'frontend' };
    assert.equal(refusal([service, foreign], 'frontend')?.reason, 'no-edge');
  });
});
