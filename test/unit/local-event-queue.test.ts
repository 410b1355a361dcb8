/**
 * The local event queue's decision after a failed Event invoke (local/endpoint/invoke.ts `nextAttempt`)
 * against the AWS Lambda Developer Guide, "Asynchronous invocation": a function error is retried 1 and
 * then 2 minutes later, up to MaximumRetryAttempts; a throttled event waits 1 s and then exponentially
 * longer, at most 5 minutes, without using a retry; nothing is scheduled past the maximum event age.
 * Durations here are on Lambda's own clock (`toLocal` is the identity).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextAttempt, type QueuedFailure } from '../../local/endpoint/invoke';

const HOUR_MS = 3_600_000;
const failure = (over: Partial<QueuedFailure>): QueuedFailure => ({
  kind: 'function-error',
  functionErrors: 1,
  throttles: 0,
  maximumRetryAttempts: 2,
  maximumEventAgeMs: 6 * HOUR_MS,
  ageMs: 0,
  toLocal: (ms) => ms,
  ...over,
});

describe('local event queue: the next attempt of a failed Event invoke', () => {
  it('a function error is retried after 1 minute, then 2, then given up as RetriesExhausted', () => {
    // Act
    const waits = [1, 2, 3].map((functionErrors) => nextAttempt(failure({ functionErrors })));

    // Assess
    assert.deepEqual(waits, [{ waitMs: 60_000 }, { waitMs: 120_000 }, { giveUp: 'RetriesExhausted' }]);
  });

  it('MaximumRetryAttempts 0 gives up after the first attempt', () => {
    assert.deepEqual(nextAttempt(failure({ maximumRetryAttempts: 0 })), { giveUp: 'RetriesExhausted' });
  });

  it('a throttled event waits 1 s after the first attempt, doubling to at most 5 minutes', () => {
    // Act
    const waits = [1, 2, 3, 9, 10, 30].map(
      (throttles) =>
        (nextAttempt(failure({ kind: 'throttle', functionErrors: 0, throttles })) as { waitMs: number }).waitMs,
    );

    // Assess
    assert.deepEqual(waits, [1000, 2000, 4000, 256_000, 300_000, 300_000]);
  });

  it('a retry that would fall past the maximum event age is not scheduled: EventAgeExceeded', () => {
    // Act
    const late = nextAttempt(failure({ ageMs: 90_000, maximumEventAgeMs: 120_000 }));
    const inTime = nextAttempt(failure({ ageMs: 60_000, maximumEventAgeMs: 120_000 }));

    // Assess
    assert.deepEqual(late, { giveUp: 'EventAgeExceeded' });
    assert.deepEqual(inTime, { waitMs: 60_000 });
  });

  it('zero reserved concurrency gives up at once', () => {
    assert.deepEqual(nextAttempt(failure({ kind: 'zero-concurrency', functionErrors: 0, throttles: 1 })), {
      giveUp: 'ZeroReservedConcurrency',
    });
  });
});
