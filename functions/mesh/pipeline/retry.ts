/**
 * Stage `retry`: attempts until one succeeds or the call must stop. Each attempt gets the smallest of
 * its limits (per-try timeout, the call's timeout, the caller's deadline, this function's remaining
 * time); a failed one is tried again when the retry decision allows it (retryable outcome, attempts
 * left, room before the deadline, the target's retry budget; on an edge that is not idempotent only
 * an attempt that never reached the handler), after a full-jitter backoff. A call that may have run
 * the handler without a known end ends "outcome unknown".
 */

import { backoffDelay } from '../resilience/backoff';
import {
  type AttemptTimeout,
  type AttemptTimeoutInput,
  attemptTimeout,
  callEndsBy,
  describeBound,
} from '../resilience/deadline';
import { classifyDelivery } from '../resilience/delivery';
import { decideRetry, isOutcomeUnknown } from '../resilience/retry-decision';
import type { AttemptOutcome, ReadyCall } from './call-context';
import { errorOf, unknownOutcome } from './classify';
import { MeshTimeoutError } from './errors';
import { tokenForRetry } from './limit';
import { ended } from './record';

/** What the retry stage hands each attempt: its number (1-based), start and timeout. */
export interface AttemptPlan {
  readonly number: number;
  readonly now: number;
  readonly timeout: AttemptTimeout;
}

/** Runs `attempt` until it succeeds (its outcome) or the call ends (throws the call's error). */
export async function retry(
  call: ReadyCall,
  attempt: (plan: AttemptPlan) => Promise<AttemptOutcome>,
): Promise<AttemptOutcome> {
  const { client, scope } = call;
  for (let n = 1; ; n++) {
    const now = client.now();
    const limits = {
      now,
      overallDeadline: call.overallDeadline,
      propagatedDeadline: scope?.deadline,
      remainingTimeMs: scope?.getRemainingTimeInMillis?.(),
    };
    const timeout = attemptTimeout({ ...limits, perTryTimeoutMs: call.traffic.perTryTimeoutMs });
    if (timeout.expired) {
      throw ended(
        call,
        'timeout',
        new MeshTimeoutError(`mesh: call to ${call.target} has no time left: ${describeBound(timeout)}`),
      );
    }
    const o = await attempt({ number: n, now, timeout });
    // Counted once the attempt went out: a retry the breaker held or the deadline left no room for
    // (both end the call before this line) was planned, never sent.
    call.attempts = n;
    call.retries = n - 1;
    call.version = o.version;
    if (o.outcome === 'success') return o;
    // What follows a failed attempt is its own function: a first call that succeeds never compiles it.
    const delayMs = await afterFailure(call, n, o, limits, timeout);
    if (delayMs > 0) await client.sleep(delayMs);
  }
}

/** The limits an attempt was planned within (`retry`). */
type Limits = Omit<AttemptTimeoutInput, 'perTryTimeoutMs'>;

/**
 * After failed attempt `n`: the pause before the next one, or the call's error thrown when there is
 * none (the retry decision refused, or the target's rate limit has no token for it).
 */
async function afterFailure(
  call: ReadyCall,
  n: number,
  o: AttemptOutcome,
  limits: Limits,
  timeout: AttemptTimeout,
): Promise<number> {
  const { client, traffic, target } = call;
  const after = o.endedAt;
  const delivery = classifyDelivery(o.result);
  call.lastDelivery = delivery;
  const remaining = limits.remainingTimeMs;
  const decision = decideRetry({
    outcome: o.outcome,
    attempt: n,
    maxAttempts: traffic.retries.maxAttempts,
    retryOn: traffic.retries.retryOn,
    idempotent: traffic.idempotent,
    delivery,
    now: after,
    delayMs: backoffDelay(n, traffic.retries, client.random),
    endsBy: callEndsBy({
      ...limits,
      now: after,
      remainingTimeMs: remaining === undefined ? undefined : remaining - (after - limits.now),
    }),
    budget: call.budget,
  });
  // A retry is one more request to the target: it needs a token of the target's rate limits too (none: taken).
  if (!decision.retry || !(await tokenForRetry(call))) {
    const last = errorOf(target, o, timeout);
    const unknown = isOutcomeUnknown(traffic.idempotent, delivery, call.mayHaveRun);
    throw ended(call, o.outcome, unknown ? unknownOutcome(target, call.idempotencyKey, n, last) : last);
  }
  if (delivery === 'unknown') call.mayHaveRun = true;
  // Taken from the budget when decided, not when sent: calls failing together cannot all pass the
  // budget's check during their backoffs. A retry that is then held still spent its share.
  call.budget.recordRetry(after);
  return decision.delayMs;
}
