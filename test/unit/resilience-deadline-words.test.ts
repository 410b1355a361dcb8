/**
 * Deadlines in the words an operator reads and at the values that are not numbers
 * (resilience/deadline.ts): each bound's timeout text, infinite and missing deadlines, a NaN limit
 * skipped, a custom Lambda margin, and a deadline already behind.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  attemptTimeout,
  callDeadline,
  callEndsBy,
  describeBound,
  isExpired,
  remainingMs,
} from '../../functions/mesh/resilience/deadline';

const NOW = 1_700_000_000_000;

describe('deadline words and odd values', () => {
  it('names each bound and where to change it', () => {
    const t = attemptTimeout({ now: NOW, perTryTimeoutMs: 500 });
    assert.equal(describeBound(t), "per-try timeout of 500 ms (perTryTimeoutMs; raise it in the edge's policy)");
    assert.equal(describeBound({ ...t, bound: 'overall' }), 'overall call timeout (timeoutMs), 500 ms left');
    assert.equal(describeBound({ ...t, bound: 'propagated' }), "caller's deadline, 500 ms left");
    assert.equal(
      describeBound({ ...t, bound: 'lambda' }),
      "this function's own Lambda timeout, 500 ms left before the safety margin",
    );
  });

  it('skips a limit that is not a number, and with none at all has no time', () => {
    const t = attemptTimeout({ now: NOW, perTryTimeoutMs: Number.NaN, overallDeadline: NOW + 700 });
    assert.deepEqual(t, { timeoutMs: 700, bound: 'overall', deadline: NOW + 700, expired: false });
    assert.deepEqual(attemptTimeout({ now: NOW, perTryTimeoutMs: Number.NaN }), {
      timeoutMs: 0,
      bound: 'per-try',
      deadline: NOW,
      expired: true,
    });
  });

  it('a deadline behind us is 0 ms and expired; 1 ms left is not expired', () => {
    const behind = attemptTimeout({ now: NOW, perTryTimeoutMs: 1000, propagatedDeadline: NOW - 50 });
    assert.deepEqual(behind, { timeoutMs: 0, bound: 'propagated', deadline: NOW, expired: true });
    const oneLeft = attemptTimeout({ now: NOW, perTryTimeoutMs: 1000, propagatedDeadline: NOW + 1 });
    assert.deepEqual(oneLeft, { timeoutMs: 1, bound: 'propagated', deadline: NOW + 1, expired: false });
  });

  it('keeps a custom Lambda safety margin, in the attempt and in the call', () => {
    const t = attemptTimeout({ now: NOW, perTryTimeoutMs: 5000, remainingTimeMs: 2000, safetyMarginMs: 50 });
    assert.deepEqual([t.timeoutMs, t.bound], [1950, 'lambda']);
    assert.equal(callEndsBy({ now: NOW, remainingTimeMs: 2000, safetyMarginMs: 50 }), NOW + 1950);
    assert.equal(callEndsBy({ now: NOW, overallDeadline: NOW + 100, remainingTimeMs: 2000 }), NOW + 100);
  });

  it('infinite or missing deadlines never expire and leave unlimited time', () => {
    assert.equal(isExpired(Number.POSITIVE_INFINITY, NOW), false);
    assert.equal(isExpired(Number.NaN, NOW), false);
    assert.equal(remainingMs(Number.POSITIVE_INFINITY, NOW), Number.POSITIVE_INFINITY);
    assert.equal(remainingMs(NOW, NOW), 0);
    assert.equal(callDeadline(NOW, 250), NOW + 250);
  });
});
