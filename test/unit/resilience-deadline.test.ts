import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  attemptTimeout,
  callDeadline,
  callEndsBy,
  describeBound,
  isExpired,
  LAMBDA_SAFETY_MARGIN_MS,
  remainingMs,
} from '../../functions/mesh/resilience/deadline';

const NOW = 1_700_000_000_000;

describe('attemptTimeout', () => {
  it('is the per-try timeout when that is the tightest bound', () => {
    const t = attemptTimeout({
      now: NOW,
      perTryTimeoutMs: 500,
      overallDeadline: callDeadline(NOW, 10_000),
      propagatedDeadline: NOW + 5_000,
      remainingTimeMs: 20_000,
    });
    assert.deepEqual(t, { timeoutMs: 500, bound: 'per-try', deadline: NOW + 500, expired: false });
  });

  it('is what is left of the overall call timeout on a late attempt', () => {
    const started = NOW - 9_800;
    const t = attemptTimeout({ now: NOW, perTryTimeoutMs: 3_000, overallDeadline: callDeadline(started, 10_000) });
    assert.equal(t.timeoutMs, 200);
    assert.equal(t.bound, 'overall');
  });

  it("is the caller's propagated deadline when that comes first", () => {
    const t = attemptTimeout({
      now: NOW,
      perTryTimeoutMs: 3_000,
      overallDeadline: NOW + 10_000,
      propagatedDeadline: NOW + 1_234,
    });
    assert.deepEqual(t, { timeoutMs: 1_234, bound: 'propagated', deadline: NOW + 1_234, expired: false });
  });

  it("is this function's remaining Lambda time less the safety margin", () => {
    const t = attemptTimeout({
      now: NOW,
      perTryTimeoutMs: 3_000,
      overallDeadline: NOW + 10_000,
      remainingTimeMs: 1_000,
    });
    assert.equal(t.timeoutMs, 1_000 - LAMBDA_SAFETY_MARGIN_MS);
    assert.equal(t.bound, 'lambda');
    const custom = attemptTimeout({ now: NOW, perTryTimeoutMs: 3_000, remainingTimeMs: 1_000, safetyMarginMs: 500 });
    assert.equal(custom.timeoutMs, 500);
  });

  it('is 0 and expired, never negative, when a bound has passed', () => {
    const t = attemptTimeout({ now: NOW, perTryTimeoutMs: 3_000, propagatedDeadline: NOW - 50 });
    assert.deepEqual(t, { timeoutMs: 0, bound: 'propagated', deadline: NOW, expired: true });
    const lambda = attemptTimeout({ now: NOW, perTryTimeoutMs: 3_000, remainingTimeMs: 100 });
    assert.equal(lambda.timeoutMs, 0);
    assert.equal(lambda.expired, true);
  });

  it('rounds down to whole ms and resolves ties to the first bound in order', () => {
    const t = attemptTimeout({ now: NOW + 0.7, perTryTimeoutMs: 100, overallDeadline: NOW + 100.7 });
    assert.equal(t.timeoutMs, 100);
    assert.equal(t.bound, 'per-try');
  });

  it('names the bound that won in its message', () => {
    const t = attemptTimeout({ now: NOW, perTryTimeoutMs: 500 });
    assert.match(describeBound(t), /per-try timeout of 500 ms/);
    assert.match(describeBound({ ...t, bound: 'lambda' }), /Lambda timeout/);
  });
});

describe('deadline helpers', () => {
  it('tells a callee whether its deadline has passed', () => {
    assert.equal(isExpired(undefined, NOW), false);
    assert.equal(isExpired(NOW + 1, NOW), false);
    assert.equal(isExpired(NOW, NOW), true);
    assert.equal(isExpired(NOW - 1, NOW), true);
  });

  it('computes the end of the whole call from the earliest bound, without the per-try limit', () => {
    assert.equal(callEndsBy({ now: NOW, overallDeadline: NOW + 5_000, propagatedDeadline: NOW + 4_000 }), NOW + 4_000);
    assert.equal(callEndsBy({ now: NOW, remainingTimeMs: 1_000 }), NOW + 1_000 - LAMBDA_SAFETY_MARGIN_MS);
    assert.equal(callEndsBy({ now: NOW }), Infinity);
  });

  it('reports the time left, never negative', () => {
    assert.equal(remainingMs(NOW + 300, NOW), 300);
    assert.equal(remainingMs(NOW - 300, NOW), 0);
    assert.equal(remainingMs(undefined, NOW), Infinity);
  });
});
