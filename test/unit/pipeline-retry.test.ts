/** Stage `retry`: attempts until one succeeds, or the call ends with the right error, within deadline and budget. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MeshOutcomeUnknownError,
  MeshRemoteError,
  MeshThrottledError,
  MeshTimeoutError,
} from '../../functions/mesh/errors';
import type { AttemptOutcome } from '../../functions/mesh/pipeline/call-context';
import { type AttemptPlan, retry } from '../../functions/mesh/pipeline/retry';
import type { Outcome } from '../../functions/mesh/resilience/retry-decision';
import { fixture, PAYMENTS, readyCall, T0 } from '../support/pipeline-fixture';

const RETRIES = { retries: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 40 } };

/** Attempts that come to `outcomes` in turn (each ending at its start), and the plans they were given. */
function attempts(...outcomes: { outcome: Outcome; timedOut?: boolean; errorName?: string }[]) {
  const plans: AttemptPlan[] = [];
  const run = async (plan: AttemptPlan): Promise<AttemptOutcome> => {
    plans.push(plan);
    const o = outcomes[plans.length - 1]!;
    return {
      result: { timedOut: o.timedOut, errorName: o.errorName, statusCode: o.outcome === 'throttled' ? 429 : 200 },
      outcome: o.outcome,
      version: '1',
      remote: o.outcome === 'function-error' ? { errorType: 'Boom', errorMessage: 'down' } : undefined,
      endedAt: plan.now,
    };
  };
  return { plans, run };
}

describe('pipeline stage: retry', () => {
  test('throttled twice, then served: three attempts, two retries after full-jitter backoff', async () => {
    const delays: number[] = [];
    const { state, accessLog } = fixture({
      items: [...PAYMENTS, { pk: 'payments', sk: 'traffic', ...RETRIES }],
      random: () => 0.99,
      sleep: async (ms) => void delays.push(ms),
    });
    const call = await readyCall(state);
    const { plans, run } = attempts({ outcome: 'throttled' }, { outcome: 'throttled' }, { outcome: 'success' });
    const o = await retry(call, run);
    assert.equal(o.outcome, 'success');
    assert.deepEqual(
      plans.map((p) => p.number),
      [1, 2, 3],
    );
    assert.deepEqual(delays, [10, 20], 'the ceiling doubles per retry');
    assert.deepEqual([call.attempts, call.retries, call.version], [3, 2, '1']);
    assert.equal(accessLog().length, 0, 'a success is recorded by the caller of the stage');
  });

  test('attempts run out: the last error, recorded with the attempts made', async () => {
    const { state, accessLog } = fixture({ items: [...PAYMENTS, { pk: 'payments', sk: 'traffic', ...RETRIES }] });
    const call = await readyCall(state);
    const { run } = attempts({ outcome: 'throttled' }, { outcome: 'throttled' }, { outcome: 'throttled' });
    await assert.rejects(retry(call, run), MeshThrottledError);
    const [line] = accessLog();
    assert.deepEqual([line?.outcome, line?.code, line?.attempts], ['throttled', 429, 3]);
  });

  test('a function error on an edge that is not idempotent is not repeated', async () => {
    const { state } = fixture({ items: [...PAYMENTS, { pk: 'payments', sk: 'traffic', ...RETRIES }] });
    const call = await readyCall(state);
    const { plans, run } = attempts({ outcome: 'function-error' });
    await assert.rejects(retry(call, run), MeshRemoteError);
    assert.equal(plans.length, 1);
  });

  test('a timeout after sending on an edge that is not idempotent: outcome unknown, with the key to reconcile', async () => {
    const { state } = fixture({ items: [...PAYMENTS, { pk: 'payments', sk: 'traffic', ...RETRIES }] });
    const call = await readyCall(state, 'payments', {}, { idempotencyKey: 'k-1' });
    const { run } = attempts({ outcome: 'timeout', timedOut: true });
    await assert.rejects(
      retry(call, run),
      (e: Error) => e instanceof MeshOutcomeUnknownError && /idempotency key k-1/.test(e.message),
    );
  });

  test("the caller's deadline bounds each attempt, and a retry that finds no time left ends the call", async () => {
    const { state, clock, accessLog } = fixture({
      items: [...PAYMENTS, { pk: 'payments', sk: 'traffic', perTryTimeoutMs: 500, ...RETRIES }],
      scope: { deadline: T0 + 300 },
    });
    const call = await readyCall(state);
    const { plans, run } = attempts({ outcome: 'throttled' });
    const throttledThenLate = async (plan: AttemptPlan) => {
      const o = await run(plan);
      clock.t = T0 + 300; // the deadline passes during the backoff
      return o;
    };
    await assert.rejects(
      retry(call, throttledThenLate),
      (e: Error) => e instanceof MeshTimeoutError && /no time left: caller's deadline/.test(e.message),
    );
    assert.equal(plans[0]?.timeout.bound, 'propagated');
    assert.equal(plans[0]?.timeout.deadline, T0 + 300);
    assert.equal(plans.length, 1);
    // The retry was planned (and slept for) but never sent: no retry is counted.
    assert.deepEqual([accessLog()[0]?.outcome, accessLog()[0]?.attempts, call.retries], ['timeout', 1, 0]);
  });

  test('a retry held before it goes out (an open breaker) is not counted: only attempts that went out', async () => {
    const { state } = fixture({
      items: [...PAYMENTS, { pk: 'payments', sk: 'traffic', idempotent: true, ...RETRIES }],
    });
    const call = await readyCall(state);
    const { plans, run } = attempts({ outcome: 'throttled' });
    const held = new Error('circuit open');
    const heldSecond = (plan: AttemptPlan) => (plan.number === 1 ? run(plan) : Promise.reject(held));
    await assert.rejects(retry(call, heldSecond), (e) => e === held);
    assert.equal(plans.length, 1);
    assert.deepEqual([call.attempts, call.retries], [1, 0]);
  });

  test('an attempt that may have run makes the end "outcome unknown", even when the last was only throttled', async () => {
    const { state } = fixture({
      items: [...PAYMENTS, { pk: 'payments', sk: 'traffic', idempotent: true, retries: { maxAttempts: 2 } }],
    });
    const call = await readyCall(state);
    const { run } = attempts({ outcome: 'timeout', timedOut: true }, { outcome: 'throttled' });
    await assert.rejects(retry(call, run), MeshOutcomeUnknownError);
  });

  test("no backoff drawn: no wait; this function's remaining time bounds the attempts", async () => {
    const delays: number[] = [];
    const { state, clock } = fixture({
      items: [...PAYMENTS, { pk: 'payments', sk: 'traffic', ...RETRIES }],
      sleep: async (ms) => void delays.push(ms),
      scope: { getRemainingTimeInMillis: () => 1_000 - (clock.t - T0) },
    });
    const call = await readyCall(state);
    const { plans, run } = attempts({ outcome: 'throttled' }, { outcome: 'success' });
    const slowFirst = async (plan: AttemptPlan) => {
      const o = await run(plan);
      clock.t = plan.now + 700; // the first attempt took 700 of the 800 ms left before the margin
      return { ...o, endedAt: clock.t };
    };
    await retry(call, slowFirst);
    assert.deepEqual(delays, [], 'random 0: a delay of 0, no sleep');
    assert.equal(plans[0]?.timeout.bound, 'lambda');
    assert.equal(plans[0]?.timeout.timeoutMs, 800);
    assert.equal(plans[1]?.timeout.timeoutMs, 100);
  });

  test("no retry once this function's remaining time, less what the attempt took, leaves no room", async () => {
    const { state, clock } = fixture({
      items: [...PAYMENTS, { pk: 'payments', sk: 'traffic', ...RETRIES }],
      scope: { getRemainingTimeInMillis: () => 900 - (clock.t - T0) },
    });
    const call = await readyCall(state);
    const { plans, run } = attempts({ outcome: 'throttled' }, { outcome: 'success' });
    const slowFirst = async (plan: AttemptPlan) => {
      const o = await run(plan);
      clock.t = plan.now + 700; // 200 ms left: the safety margin, nothing for another attempt
      return { ...o, endedAt: clock.t };
    };
    await assert.rejects(retry(call, slowFirst), MeshThrottledError);
    assert.equal(plans.length, 1);
  });

  test('the time is already up: a timeout with no attempt', async () => {
    const { state, accessLog } = fixture({ scope: { deadline: T0 } });
    const call = await readyCall(state);
    const { plans, run } = attempts();
    await assert.rejects(
      retry(call, run),
      (e: Error) => e instanceof MeshTimeoutError && /no time left/.test(e.message),
    );
    assert.equal(plans.length, 0);
    assert.deepEqual([accessLog()[0]?.outcome, accessLog()[0]?.attempts], ['timeout', 0]);
  });
});
