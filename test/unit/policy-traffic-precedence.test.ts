/**
 * The precedence of traffic settings (shared/traffic-precedence.ts): an operator's item over a
 * deploy-time item, the edge over the service within one owner; and where each value comes from.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectivePolicy } from '../../functions/mesh/policy/effective-policy';
import { buildServicePolicy } from '../../functions/mesh/policy/service-policy';
import { DEFAULTS } from '../../shared/policy';
import { checkPolicyItem } from '../../shared/policy-item-check';
import { resolveWithOrigins, trafficLayers } from '../../shared/traffic-precedence';

const service = { pk: 'payments', sk: 'service', functionName: 'shop-payments', managedBy: 'deploy' };
const deployAllow = {
  pk: 'payments',
  sk: 'allow#orders',
  source: 'orders',
  managedBy: 'deploy',
  timeoutMs: 5000,
  retries: { maxAttempts: 3 },
};

function resolved(items: unknown[]) {
  const p = buildServicePolicy('payments', [service, ...items], {
    check: checkPolicyItem,
    origin: 'table',
    loadedAt: 0,
  });
  const r = effectivePolicy(p, 'orders');
  assert.ok(r.allowed);
  return r.policy;
}

describe('traffic precedence', () => {
  it("an operator's traffic item overrides the deploy-time edge for the same setting (an incident wins over the last deploy)", () => {
    const p = resolved([
      deployAllow,
      { pk: 'payments', sk: 'traffic', managedBy: 'operator', retries: { maxAttempts: 1 } },
    ]);
    assert.equal(p.retries.maxAttempts, 1);
    // A setting the operator did not touch keeps the deploy's value.
    assert.equal(p.timeoutMs, 5000);
  });

  it('within one owner the edge overrides the service', () => {
    const deployTraffic = {
      pk: 'payments',
      sk: 'traffic',
      managedBy: 'deploy',
      timeoutMs: 9000,
      retries: { maxAttempts: 2 },
    };
    assert.equal(resolved([deployAllow, deployTraffic]).retries.maxAttempts, 3);
    const opTraffic = { ...deployTraffic, managedBy: 'operator' };
    const opAllow = { ...deployAllow, managedBy: 'operator' };
    assert.equal(resolved([opAllow, opTraffic]).retries.maxAttempts, 3);
    assert.equal(resolved([opAllow, opTraffic]).timeoutMs, 5000);
  });

  it('an item without managedBy (written by hand) counts as the operator’s', () => {
    const p = resolved([deployAllow, { pk: 'payments', sk: 'traffic', timeoutMs: 1000 }]);
    assert.equal(p.timeoutMs, 1000);
  });

  it('orders the layers deploy traffic, deploy edge, operator traffic, operator edge', () => {
    const t = { pk: 'p', sk: 'traffic', managedBy: 'deploy' };
    const a = { pk: 'p', sk: 'allow#o', managedBy: 'operator' };
    assert.deepEqual(trafficLayers(t, a), [t, a]);
    const t2 = { ...t, managedBy: 'operator' };
    const a2 = { ...a, managedBy: 'deploy' };
    assert.deepEqual(trafficLayers(t2, a2), [a2, t2]);
    assert.deepEqual(trafficLayers(undefined, undefined), []);
  });

  it('says where each value comes from, the clamp included', () => {
    const opTraffic = {
      pk: 'payments',
      sk: 'traffic',
      managedBy: 'operator',
      timeoutMs: 1000,
      retries: { maxAttempts: 1 },
    };
    const { policy, origins } = resolveWithOrigins(trafficLayers(opTraffic, deployAllow));
    assert.equal(policy.retries.maxAttempts, 1);
    assert.deepEqual(origins['retries.maxAttempts'], { from: 'item', item: 'payments/traffic', managedBy: 'operator' });
    assert.deepEqual(origins.timeoutMs, { from: 'item', item: 'payments/traffic', managedBy: 'operator' });
    assert.deepEqual(origins['retries.baseDelayMs'], { from: 'default' });
    // The default 3 s per-try timeout is cut to the operator's 1 s call timeout: the cut comes from there.
    assert.equal(policy.perTryTimeoutMs, 1000);
    assert.deepEqual(origins.perTryTimeoutMs, origins.timeoutMs);
    assert.equal(policy.breaker.openMs, DEFAULTS.breaker.openMs);
  });
});
