/** The circuit-open message says why the breaker opened (its state change's reason). */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker, describeOpen } from '../../functions/mesh/resilience/circuit-breaker';

test('consecutive failures: "N failures in a row" and the time left until the probe', () => {
  const b = new CircuitBreaker({ consecutiveFailures: 3, openMs: 1000 });
  for (let i = 0; i < 3; i++) b.failure(100);
  assert.equal(b.openReason, 'consecutive-failures');
  assert.equal(describeOpen(b, 400), '3 failures in a row; a probe goes through in 700 ms');
});

test('failure rate: names the threshold and the window, not a run of failures', () => {
  const b = new CircuitBreaker({ consecutiveFailures: 100, windowSize: 4, failureRateThreshold: 0.5, openMs: 1000 });
  b.failure(0);
  b.success(0);
  b.failure(0);
  b.failure(0);
  assert.equal(b.state, 'open');
  assert.equal(b.openReason, 'failure-rate');
  assert.match(describeOpen(b, 0), /^failure rate above 50% of the last 4 calls/);
  assert.doesNotMatch(describeOpen(b, 0), /in a row/);
});

test('a failed probe, and a probe in flight', () => {
  const b = new CircuitBreaker({ consecutiveFailures: 1, openMs: 1000 });
  b.failure(0);
  assert.ok(b.canPass(1000));
  assert.match(describeOpen(b, 1000), /a probe is in flight/);
  b.failure(1001);
  assert.equal(b.openReason, 'probe-failed');
  assert.match(describeOpen(b, 1001), /^its half-open probe failed; a probe goes through in 1000 ms/);
  b.canPass(2001);
  b.success(2001);
  assert.equal(b.openReason, undefined);
});
