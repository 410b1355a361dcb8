import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { itemKind, LIMITS, parsePolicyItem } from '../../shared/policy';

function error(raw: unknown): string {
  const res = parsePolicyItem(raw);
  assert.equal(res.ok, false, `expected ${JSON.stringify(raw)} to be rejected`);
  return (res as { error: string }).error;
}

describe('policy item schemas', () => {
  it('accepts a valid item of every kind', () => {
    const items = [
      { pk: 'payments', sk: 'service', functionName: 'shop-payments', alias: 'live' },
      { pk: 'payments', sk: 'allow#orders', source: 'orders', idempotent: true, timeoutMs: 800 },
      { pk: 'payments', sk: 'allow#external', source: 'external' },
      { pk: 'payments', sk: 'deny#frontend', source: 'frontend', reason: 'PCI scope' },
      { pk: 'payments', sk: 'traffic', timeoutMs: 2000, perTryTimeoutMs: 500, retries: { maxAttempts: 3 } },
      { pk: 'payments', sk: 'route', weights: { '1': 0.9, '2': 0.1 }, sticky: { header: 'x-user' } },
      { pk: 'payments', sk: 'route', matches: [{ header: 'x-canary', exact: 'yes', version: '2' }] },
      { pk: 'payments', sk: 'fault', abort: { percent: 5 }, delay: { percent: 10, ms: 200 } },
      { pk: 'breaker#payments', sk: 'breaker#2', version: '2', state: 'open', openedAt: 1, ttl: 2 },
    ];
    for (const item of items) {
      const res = parsePolicyItem(item);
      assert.ok(res.ok, `rejected ${JSON.stringify(item)}: ${(res as { error?: string }).error}`);
    }
  });

  it('names the field, the value and the range of an out-of-range weight', () => {
    const msg = error({ pk: 'payments', sk: 'route', weights: { '1': 0.5, '2': 1.5 } });
    assert.match(msg, /payments\/route: weights\.2 = 1\.5 must be between 0 and 1/);
  });

  it('rejects weights that do not sum to 1', () => {
    assert.match(
      error({ pk: 'payments', sk: 'route', weights: { '1': 0.5, '2': 0.1 } }),
      /sum to 0\.6; they must sum to 1/,
    );
  });

  it('rejects a negative timeout with its allowed range', () => {
    assert.match(
      error({ pk: 'orders', sk: 'traffic', timeoutMs: -1 }),
      new RegExp(`timeoutMs = -1 must be between ${LIMITS.timeoutMs.min} and ${LIMITS.timeoutMs.max}`),
    );
  });

  it('rejects unknown fields by name', () => {
    assert.match(error({ pk: 'orders', sk: 'traffic', timeotMs: 5 }), /unknown field timeotMs/);
  });

  it('rejects $LATEST as a version', () => {
    assert.match(error({ pk: 'orders', sk: 'route', weights: { $LATEST: 1 } }), /published version number/);
  });

  it('rejects an allow item whose sort key names another source', () => {
    assert.match(error({ pk: 'payments', sk: 'allow#orders', source: 'frontend' }), /must be "allow#frontend"/);
  });

  it('rejects a service allowing itself', () => {
    assert.match(error({ pk: 'payments', sk: 'allow#payments', source: 'payments' }), /is the service itself/);
  });

  it('rejects a per-try timeout above the overall timeout', () => {
    assert.match(
      error({ pk: 'payments', sk: 'traffic', timeoutMs: 100, perTryTimeoutMs: 200 }),
      /perTryTimeoutMs = 200 must not exceed timeoutMs = 100/,
    );
  });

  it('rejects a header match with both or neither of exact and prefix', () => {
    assert.match(
      error({ pk: 'a', sk: 'route', matches: [{ header: 'h', version: '1' }] }),
      /exactly one of exact or prefix/,
    );
  });

  it('rejects unknown kinds, bad service names and non-objects', () => {
    assert.match(error({ pk: 'a', sk: 'weights' }), /not a policy item kind/);
    assert.match(error({ pk: 'Payments!', sk: 'traffic' }), /pk = "Payments!" must be a service name/);
    assert.match(error(null), /must be an object, got null/);
    assert.match(error([1]), /must be an object/);
  });

  it('keeps breaker state in its own partition, and nothing else there', () => {
    // Breaker state in the service's partition: a caller with write access there could write its policy.
    assert.match(
      error({ pk: 'payments', sk: 'breaker#2', version: '2', state: 'open', openedAt: 1 }),
      /payments\/breaker#2: pk = "payments" must be "breaker#<service>"/,
    );
    // Policy in the breaker partition: the grant that lets callers write breaker state must not reach it.
    assert.match(
      error({ pk: 'breaker#payments', sk: 'service', functionName: 'shop-payments' }),
      /pk = "breaker#payments" must be a service name/,
    );
    assert.match(
      error({ pk: 'breaker#payments', sk: 'breaker#2', version: '3', state: 'open', openedAt: 1 }),
      /sk = "breaker#2" must be "breaker#3"/,
    );
    assert.match(
      error({ pk: 'breaker#Pay!', sk: 'breaker#2', version: '2', state: 'open', openedAt: 1 }),
      /must be "breaker#<service>"/,
    );
  });

  it('derives the kind from the sort key', () => {
    assert.equal(itemKind('allow#orders'), 'allow');
    assert.equal(itemKind('allow#'), undefined);
    assert.equal(itemKind('route'), 'route');
    assert.equal(itemKind('route#x'), undefined);
    assert.equal(itemKind(7), undefined);
  });
});
