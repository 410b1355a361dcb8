import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryBudget, RetryBudgets } from '../../functions/mesh/resilience/retry-budget';

const T0 = 1_700_000_000_000;

function retriesAllowed(b: RetryBudget, now: number, max = 100_000): number {
  let n = 0;
  while (n < max && b.tryRetry(now)) n++;
  return n;
}

describe('RetryBudget', () => {
  it('allows minPerSecond * 10 s retries with no traffic (defaults: 10/s -> 100)', () => {
    const b = new RetryBudget();
    assert.equal(retriesAllowed(b, T0), 100);
    assert.equal(b.canRetry(T0), false);
  });

  it('adds ratio * requests on top of the floor', () => {
    // Prepare: floor 0 so only the ratio counts
    const b = new RetryBudget({ ratio: 0.2, minPerSecond: 0 });
    for (let i = 0; i < 50; i++) b.recordRequest(T0);
    // Act / Assess: 0.2 * 50 = 10
    assert.equal(retriesAllowed(b, T0), 10);
    for (let i = 0; i < 5; i++) b.recordRequest(T0);
    assert.equal(retriesAllowed(b, T0), 1, '55 requests allow 11 retries in all');
  });

  it('allows exactly ratio * requests when that is whole (no float shortfall)', () => {
    const b = new RetryBudget({ ratio: 0.2, minPerSecond: 0 });
    for (let i = 0; i < 5; i++) b.recordRequest(T0);
    assert.equal(retriesAllowed(b, T0), 1);
  });

  it('refills as old requests and retries slide out of the 10 s window', () => {
    // Prepare: spend the whole budget at T0
    const b = new RetryBudget({ ratio: 0, minPerSecond: 1 }); // 10 retries per window
    assert.equal(retriesAllowed(b, T0), 10);
    // Act / Assess
    assert.equal(b.canRetry(T0 + 9_999), false, 'still inside the window');
    assert.equal(retriesAllowed(b, T0 + 10_000), 10, 'the bucket of T0 has left the window');
  });

  it('refills gradually, bucket by bucket', () => {
    const b = new RetryBudget({ ratio: 0, minPerSecond: 1 });
    for (let s = 0; s < 10; s++) assert.ok(b.tryRetry(T0 + s * 1_000)); // one retry per second
    assert.equal(b.canRetry(T0 + 9_500), false);
    assert.equal(retriesAllowed(b, T0 + 10_000), 1, 'only the oldest second has left');
  });

  it('counts requests only within the window', () => {
    const b = new RetryBudget({ ratio: 1, minPerSecond: 0 });
    for (let i = 0; i < 10; i++) b.recordRequest(T0);
    assert.equal(b.snapshot(T0 + 5_000).requests, 10);
    assert.equal(b.snapshot(T0 + 10_000).requests, 0);
    assert.equal(b.canRetry(T0 + 10_000), false);
  });

  it('uses bounded memory however long it runs', () => {
    const b = new RetryBudget();
    for (let t = 0; t < 3_600_000; t += 250) b.recordRequest(T0 + t);
    const s = b.snapshot(T0 + 3_600_000);
    assert.ok(s.requests <= 10 * 4 + 4, `window holds ${s.requests} requests`);
    assert.equal((b as unknown as { stamps: number[] }).stamps.length, 10);
  });
});

describe('RetryBudgets', () => {
  it('keeps one budget per target and replaces it when the policy changes', () => {
    const reg = new RetryBudgets();
    const a = reg.get('payments');
    assert.equal(reg.get('payments'), a);
    assert.notEqual(reg.get('orders'), a);
    assert.notEqual(reg.get('payments', { ratio: 0.5 }), a);
  });
});

describe('RetryBudget edges', () => {
  it('admits the retry that float arithmetic leaves a hair short of the allowance', () => {
    // 1 - 1e-9 is one retry for the budget: the tolerance is inclusive.
    const b = new RetryBudget({ ratio: 1 - 1e-9, minPerSecond: 0 });
    b.recordRequest(T0);
    assert.equal(b.canRetry(T0), true);
    b.recordRetry(T0);
    assert.equal(b.canRetry(T0), false);
  });

  it('counts nothing recorded after the moment it is asked about (a clock that stepped back)', () => {
    const b = new RetryBudget({ ratio: 0, minPerSecond: 0.1 });
    b.recordRetry(T0 + 5_000);
    assert.deepEqual(b.snapshot(T0), { requests: 0, retries: 0, allowance: 1 });
    assert.equal(b.canRetry(T0), true, 'the later retry is not in the window ending at T0');
    assert.equal(b.canRetry(T0 + 5_000), false);
  });

  it('replaces a budget whose floor changed, and keeps it while nothing changed', () => {
    const reg = new RetryBudgets();
    const a = reg.get('payments', { ratio: 0.2, minPerSecond: 10 });
    assert.equal(reg.get('payments', { ratio: 0.2, minPerSecond: 10 }), a);
    const b = reg.get('payments', { ratio: 0.2, minPerSecond: 1 });
    assert.notEqual(b, a);
    assert.equal(b.minPerSecond, 1);
  });
});
