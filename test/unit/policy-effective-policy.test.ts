import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectivePolicy, resolveTrafficPolicy } from '../../functions/mesh/policy/effective-policy';
import { buildServicePolicy, emptyServicePolicy } from '../../functions/mesh/policy/service-policy';
import { authorize, decide } from '../../functions/mesh/policy-decision';
import { DEFAULTS } from '../../shared/policy';
import { checkPolicyItem } from '../../shared/policy-item-check';

function policy(items: unknown[]) {
  return buildServicePolicy('payments', items, { check: checkPolicyItem, origin: 'table', loadedAt: 0 });
}
const service = { pk: 'payments', sk: 'service', functionName: 'shop-payments' };

describe('effectivePolicy', () => {
  it('denies a source without an allow item (deny by default)', () => {
    const res = effectivePolicy(
      policy([service, { pk: 'payments', sk: 'allow#orders', source: 'orders' }]),
      'frontend',
    );
    assert.equal(res.allowed, false);
    assert.equal(!res.allowed && res.reason, 'no-edge');
    assert.match(!res.allowed ? res.detail : '', /frontend may not call payments.*allow#frontend/);
  });

  it('allows a source with an allow item, with every field of the traffic policy filled', () => {
    const res = effectivePolicy(policy([service, { pk: 'payments', sk: 'allow#orders', source: 'orders' }]), 'orders');
    assert.deepEqual(res, {
      allowed: true,
      policy: {
        timeoutMs: DEFAULTS.timeoutMs,
        perTryTimeoutMs: DEFAULTS.perTryTimeoutMs,
        idempotent: DEFAULTS.idempotent,
        retries: { ...DEFAULTS.retries, retryOn: [...DEFAULTS.retries.retryOn] },
        budget: { ...DEFAULTS.budget },
        breaker: { ...DEFAULTS.breaker },
      },
    });
  });

  it('lets deny#source win over allow#source', () => {
    const p = policy([
      service,
      { pk: 'payments', sk: 'allow#orders', source: 'orders' },
      { pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 'incident 42' },
    ]);
    const res = effectivePolicy(p, 'orders');
    assert.equal(res.allowed, false);
    assert.equal(!res.allowed && res.reason, 'denied');
    assert.match(!res.allowed ? res.detail : '', /incident 42/);
  });

  it('admits external callers only with allow#external', () => {
    const closed = policy([service, { pk: 'payments', sk: 'allow#orders', source: 'orders' }]);
    const open = policy([service, { pk: 'payments', sk: 'allow#external', source: 'external' }]);
    const refused = effectivePolicy(closed, 'external');
    assert.equal(!refused.allowed && refused.reason, 'no-edge');
    assert.match(!refused.allowed ? refused.detail : '', /allow#external/);
    assert.equal(effectivePolicy(open, 'external').allowed, true);
  });

  it('fails closed for an unknown service (no policy, or nothing in it)', () => {
    for (const p of [undefined, emptyServicePolicy('payments'), policy([])]) {
      const res = effectivePolicy(p, 'orders');
      assert.equal(!res.allowed && res.reason, 'unknown-service');
    }
  });

  it('merges DEFAULTS <- traffic item <- allow item, field by field', () => {
    const p = policy([
      service,
      {
        pk: 'payments',
        sk: 'traffic',
        timeoutMs: 2_000,
        perTryTimeoutMs: 800,
        retries: { maxAttempts: 5, retryOn: ['timeout'] },
        breaker: { openMs: 10_000 },
      },
      {
        pk: 'payments',
        sk: 'allow#orders',
        source: 'orders',
        idempotent: true,
        perTryTimeoutMs: 400,
        retries: { baseDelayMs: 50 },
        budget: { ratio: 0.1 },
      },
    ]);
    const res = effectivePolicy(p, 'orders');
    assert.ok(res.allowed);
    assert.deepEqual(res.policy, {
      timeoutMs: 2_000, // traffic
      perTryTimeoutMs: 400, // allow over traffic
      idempotent: true, // allow
      retries: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: DEFAULTS.retries.maxDelayMs, retryOn: ['timeout'] },
      budget: { ratio: 0.1, minPerSecond: DEFAULTS.budget.minPerSecond },
      breaker: { ...DEFAULTS.breaker, openMs: 10_000 },
    });
  });

  it('keeps merged limits consistent: per-try within the overall timeout, base delay within the cap', () => {
    const r = resolveTrafficPolicy({ timeoutMs: 500 }, { retries: { maxDelayMs: 10 } });
    assert.equal(r.perTryTimeoutMs, 500);
    assert.equal(r.retries.baseDelayMs, 10);
  });

  it('does not let a later layer share arrays with DEFAULTS', () => {
    const r = resolveTrafficPolicy();
    assert.notEqual(r.retries.retryOn, DEFAULTS.retries.retryOn);
  });

  it('treats a source named like an Object property as any other name', () => {
    const res = effectivePolicy(policy([service]), 'constructor');
    assert.equal(!res.allowed && res.reason, 'no-edge');
  });
});

describe('authorize: the decision on a copy no older than the bound', () => {
  const T0 = 1_700_000_000_000;
  const copy = buildServicePolicy('payments', [service, { pk: 'payments', sk: 'allow#orders', source: 'orders' }], {
    check: checkPolicyItem,
    origin: 'table',
    loadedAt: T0,
  });

  it('decides on a copy exactly as old as the bound, and memoises the decision per copy and source', () => {
    const at = authorize(copy, 'orders', { now: T0 + 30_000, maxAgeMs: 30_000 });
    assert.equal(at.allowed, true);
    assert.equal(at, decide(copy, 'orders'), 'the same decision object, computed once');
    assert.equal(decide(copy, 'frontend'), decide(copy, 'frontend'));
    assert.notEqual(decide(copy, 'frontend'), at, 'another source, another decision');
  });

  it('refuses on a copy one millisecond past the bound, saying how old it is', () => {
    assert.deepEqual(authorize(copy, 'orders', { now: T0 + 30_001, maxAgeMs: 30_000 }), {
      allowed: false,
      reason: 'stale-policy',
      detail:
        'the policy of payments is 30001 ms old, over the 30000 ms that authorization accepts, and the policy ' +
        'table could not be read',
    });
  });
});
