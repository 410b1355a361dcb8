import { type Duration, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { RetryOn, TrafficPolicy } from '../shared/policy';
import { MeshErrorCode, MeshValidationError } from './mesh-validation-error';

/** Retries of one call: attempts and full-jitter backoff. Absent fields use the mesh defaults. */
export interface RetryOptions {
  /**
   * Attempts in total, the first one included, 1 to 10.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * Base of the exponential backoff.
   * @default Duration.millis(25)
   */
  readonly baseDelay?: Duration;
  /**
   * Cap of the backoff.
   * @default Duration.seconds(1)
   */
  readonly maxDelay?: Duration;
  /**
   * Outcomes that are retried; `function-error` only on idempotent edges.
   * @default ['throttled', 'service-error', 'timeout']
   */
  readonly retryOn?: RetryOn[];
}

/** Circuit breaker per target version. Absent fields use the mesh defaults. */
export interface BreakerOptions {
  /**
   * Consecutive failures that open the breaker.
   * @default 5
   */
  readonly consecutiveFailures?: number;
  /**
   * Failure rate over the window that opens the breaker, 0 to 1.
   * @default 0.5
   */
  readonly failureRateThreshold?: number;
  /**
   * Calls in the failure-rate window.
   * @default 20
   */
  readonly windowSize?: number;
  /**
   * How long an open breaker ejects the version before one probe.
   * @default Duration.seconds(30)
   */
  readonly openDuration?: Duration;
}

/** Retry budget: retries allowed as a share of requests plus a floor per second. */
export interface BudgetOptions {
  /**
   * Retries as a share of requests, 0 to 1.
   * @default 0.2
   */
  readonly ratio?: number;
  /**
   * Retries always allowed per second.
   * @default 10
   */
  readonly minPerSecond?: number;
}

/**
 * A mesh-wide rate limit: requests per second across every sandbox of the callers it covers (each
 * sandbox leases slices of it from the policy table), plus a burst.
 */
export interface RateLimitOptions {
  /** Requests per second, mesh-wide, 0.01 to 100000. */
  readonly perSecond: number;
  /**
   * Requests admitted at once above the steady rate, 1 to 100000.
   * @default - one second's worth (perSecond, rounded up)
   */
  readonly burst?: number;
}

/** Traffic settings of an edge (or of all a service's callers). Absent fields use the mesh defaults. */
export interface TrafficOptions {
  /**
   * Whole-call deadline, all attempts included.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Deadline of one attempt (never more than `timeout`).
   * @default Duration.seconds(3)
   */
  readonly perTryTimeout?: Duration;
  /**
   * Retries of a failed attempt.
   * @default - 3 attempts, full-jitter backoff 25 ms to 1 s
   */
  readonly retries?: RetryOptions;
  /**
   * The call is safe to repeat, so function errors may be retried too.
   * @default false
   */
  readonly idempotent?: boolean;
  /**
   * Circuit breaker settings.
   * @default - 5 consecutive failures or 50% of 20 calls open it for 30 s
   */
  readonly breaker?: BreakerOptions;
  /**
   * Retry budget.
   * @default - 20% of requests plus 10 retries per second
   */
  readonly budget?: BudgetOptions;
  /**
   * Mesh-wide rate limit: on a service (`traffic`), shared by all its callers; on an edge, the
   * caller's own. Calls over it fail fast with MeshRateLimitedError (429) and nothing is sent.
   * @default - no limit
   */
  readonly rateLimit?: RateLimitOptions;
}

/** Options of `allowCallsTo` / `allowExternal`: the edge's traffic settings and a note. */
export interface EdgeOptions extends TrafficOptions {
  /**
   * Why this edge exists; stored on the policy item.
   * @default - none
   */
  readonly description?: string;
}

/**
 * The policy-item fields for traffic options (milliseconds, as `shared/policy.ts` stores them).
 * Only set fields appear, so the table item stays minimal and defaults keep living in one place.
 */
export function trafficFields(o: TrafficOptions | undefined, scope: IConstruct): TrafficPolicy {
  if (!o) return {};
  const millis = (d: Duration, name: string) => literalMillis(d, name, scope);
  const out: Record<string, unknown> = {};
  if (o.timeout) out.timeoutMs = millis(o.timeout, 'timeout');
  if (o.perTryTimeout) out.perTryTimeoutMs = millis(o.perTryTimeout, 'perTryTimeout');
  if (o.idempotent !== undefined) out.idempotent = o.idempotent;
  if (o.retries) {
    const r: Record<string, unknown> = {};
    if (o.retries.maxAttempts !== undefined) r.maxAttempts = o.retries.maxAttempts;
    if (o.retries.baseDelay) r.baseDelayMs = millis(o.retries.baseDelay, 'retries.baseDelay');
    if (o.retries.maxDelay) r.maxDelayMs = millis(o.retries.maxDelay, 'retries.maxDelay');
    if (o.retries.retryOn) r.retryOn = [...o.retries.retryOn];
    out.retries = r;
  }
  if (o.breaker) {
    const b: Record<string, unknown> = {};
    if (o.breaker.consecutiveFailures !== undefined) b.consecutiveFailures = o.breaker.consecutiveFailures;
    if (o.breaker.failureRateThreshold !== undefined) b.failureRateThreshold = o.breaker.failureRateThreshold;
    if (o.breaker.windowSize !== undefined) b.windowSize = o.breaker.windowSize;
    if (o.breaker.openDuration) b.openMs = millis(o.breaker.openDuration, 'breaker.openDuration');
    out.breaker = b;
  }
  if (o.rateLimit) {
    out.rateLimit = {
      perSecond: o.rateLimit.perSecond,
      ...(o.rateLimit.burst !== undefined ? { burst: o.rateLimit.burst } : {}),
    };
  }
  if (o.budget) {
    const b: Record<string, unknown> = {};
    if (o.budget.ratio !== undefined) b.ratio = o.budget.ratio;
    if (o.budget.minPerSecond !== undefined) b.minPerSecond = o.budget.minPerSecond;
    out.budget = b;
  }
  return out as TrafficPolicy;
}

function literalMillis(d: Duration, name: string, scope: IConstruct): number {
  if (Token.isUnresolved(d.toMilliseconds({ integral: false }))) {
    throw new MeshValidationError(
      MeshErrorCode.UNRESOLVED_DURATION,
      `${scope.node.path}: ${name} must be a literal duration (policy items are written at synth), got a token`,
      scope,
    );
  }
  return d.toMilliseconds({ integral: false });
}
