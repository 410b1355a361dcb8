/**
 * A retry needs room before the call's deadline (decideRetry in resilience/retry-decision.ts): the
 * backoff plus the shortest useful attempt must end by the deadline, exactly at it included, and the
 * budget is asked only once everything else allows the retry.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRetry, type RetryDecisionInput } from '../../functions/mesh/resilience/retry-decision';

const NOW = 1_700_000_000_000;
const input = (over: Partial<RetryDecisionInput>): RetryDecisionInput => ({
  outcome: 'throttled',
  attempt: 1,
  maxAttempts: 3,
  retryOn: ['throttled'],
  idempotent: false,
  delivery: 'not-delivered',
  now: NOW,
  delayMs: 300,
  ...over,
});

describe('retry: room before the deadline', () => {
  it('retries when backoff + the shortest attempt end exactly at the deadline, not a millisecond later', () => {
    assert.deepEqual(decideRetry(input({ endsBy: NOW + 350, minAttemptMs: 50 })), { retry: true, delayMs: 300 });
    assert.deepEqual(decideRetry(input({ endsBy: NOW + 349, minAttemptMs: 50 })), { retry: false, reason: 'deadline' });
  });

  it('wants 1 ms for the attempt by default', () => {
    assert.equal(decideRetry(input({ endsBy: NOW + 301 })).retry, true);
    assert.deepEqual(decideRetry(input({ endsBy: NOW + 300 })), { retry: false, reason: 'deadline' });
  });

  it('a negative backoff counts as none', () => {
    assert.deepEqual(decideRetry(input({ delayMs: -50, endsBy: NOW + 1 })), { retry: true, delayMs: 0 });
  });

  it('has no limit without a deadline', () => {
    assert.deepEqual(decideRetry(input({ delayMs: 1e9 })), { retry: true, delayMs: 1e9 });
  });

  it('asks the budget last: not when attempts or time have run out, and its no is final', () => {
    let asked = 0;
    const budget = (answer: boolean) => ({
      canRetry: (now: number) => {
        asked++;
        assert.equal(now, NOW);
        return answer;
      },
    });
    assert.equal(decideRetry(input({ attempt: 3, budget: budget(true) })).retry, false);
    assert.equal(decideRetry(input({ endsBy: NOW, budget: budget(true) })).retry, false);
    assert.equal(decideRetry(input({ outcome: 'success', budget: budget(true) })).retry, false);
    assert.equal(asked, 0);
    assert.deepEqual(decideRetry(input({ budget: budget(false) })), { retry: false, reason: 'budget-exhausted' });
    assert.deepEqual(decideRetry(input({ budget: budget(true) })), { retry: true, delayMs: 300 });
    assert.equal(asked, 2);
  });

  it('the last attempt is the last: attempt == maxAttempts stops, one before retries', () => {
    assert.deepEqual(decideRetry(input({ attempt: 3 })), { retry: false, reason: 'attempts-exhausted' });
    assert.equal(decideRetry(input({ attempt: 2 })).retry, true);
  });
});
