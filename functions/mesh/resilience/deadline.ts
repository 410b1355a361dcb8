/**
 * Deadlines: how long one attempt may take, whether a callee should still start work, and what
 * deadline travels to the next hop (metadata `dl`, epoch ms). Pure: `now` comes in.
 */

/** Which limit set the attempt's timeout (named in timeout errors). */
export type DeadlineBound = 'per-try' | 'overall' | 'propagated' | 'lambda';

/**
 * Time kept back from `getRemainingTimeInMillis()`, so a call times out and the function reports it
 * (error, telemetry flush) before Lambda kills the sandbox with `Task timed out`.
 */
export const LAMBDA_SAFETY_MARGIN_MS = 200;

/**
 * Time the wrapper keeps back from the function's own timeout, so it reports a handler's timeout (and an
 * injected delay ends) before Lambda kills the sandbox.
 */
export const INBOUND_TIMEOUT_MARGIN_MS = 50;

export interface AttemptTimeoutInput {
  /** Epoch ms. */
  readonly now: number;
  /** The edge's per-try timeout. */
  readonly perTryTimeoutMs: number;
  /** Absolute end of the whole call (start + the edge's timeoutMs), epoch ms; see `callDeadline`. */
  readonly overallDeadline?: number;
  /** The deadline this invocation received from its caller (metadata `dl`), epoch ms. */
  readonly propagatedDeadline?: number;
  /** `context.getRemainingTimeInMillis()` read at `now`; undefined outside Lambda. */
  readonly remainingTimeMs?: number;
  /** @default LAMBDA_SAFETY_MARGIN_MS */
  readonly safetyMarginMs?: number;
}

export interface AttemptTimeout {
  /** Ms the attempt may take; 0 when no time is left (never negative, always an integer). */
  readonly timeoutMs: number;
  /** The limit that won (ties go to the first of per-try, overall, propagated, lambda). */
  readonly bound: DeadlineBound;
  /** `now + timeoutMs`: the absolute deadline of this attempt, to send to the callee as `dl`. */
  readonly deadline: number;
  /** True when no time is left: do not start the attempt. */
  readonly expired: boolean;
}

/** The absolute end of a call that started at `startedAt` with the edge timeout `timeoutMs`. */
export function callDeadline(startedAt: number, timeoutMs: number): number {
  return startedAt + timeoutMs;
}

/** The timeout of one attempt: the smallest of the per-try, overall, propagated and Lambda limits. */
export function attemptTimeout(input: AttemptTimeoutInput): AttemptTimeout {
  const { now } = input;
  const candidates: Array<[DeadlineBound, number | undefined]> = [
    ['per-try', input.perTryTimeoutMs],
    ['overall', input.overallDeadline === undefined ? undefined : input.overallDeadline - now],
    ['propagated', input.propagatedDeadline === undefined ? undefined : input.propagatedDeadline - now],
    [
      'lambda',
      input.remainingTimeMs === undefined
        ? undefined
        : input.remainingTimeMs - (input.safetyMarginMs ?? LAMBDA_SAFETY_MARGIN_MS),
    ],
  ];
  let bound: DeadlineBound = 'per-try';
  let best = Infinity;
  for (const [name, ms] of candidates) {
    if (ms === undefined || Number.isNaN(ms)) continue;
    if (ms < best) {
      best = ms;
      bound = name;
    }
  }
  const timeoutMs = best === Infinity ? 0 : Math.max(0, Math.floor(best));
  return { timeoutMs, bound, deadline: now + timeoutMs, expired: timeoutMs <= 0 };
}

/**
 * The latest moment any attempt of this call may end: the earliest of the overall, propagated and
 * Lambda limits (the per-try limit restarts with every attempt, so it is not part of it). Retry
 * decisions check that a backoff still leaves room before it.
 */
export function callEndsBy(input: Omit<AttemptTimeoutInput, 'perTryTimeoutMs'>): number {
  const { overallDeadline = Infinity, propagatedDeadline = Infinity, remainingTimeMs: left } = input;
  const lambdaEnd =
    left === undefined ? Infinity : input.now + left - (input.safetyMarginMs ?? LAMBDA_SAFETY_MARGIN_MS);
  return Math.min(overallDeadline, propagatedDeadline, lambdaEnd);
}

/** For the callee: true when the caller's deadline has passed, so the work would be thrown away. */
export function isExpired(deadline: number | undefined, now: number): boolean {
  return deadline !== undefined && Number.isFinite(deadline) && deadline <= now;
}

/** Ms left until `deadline` (never negative; Infinity without a deadline). */
export function remainingMs(deadline: number | undefined, now: number): number {
  if (deadline === undefined || !Number.isFinite(deadline)) return Infinity;
  return Math.max(0, deadline - now);
}

/** Human text for a timeout error, e.g. `per-try timeout of 500 ms` (the bound and its value). */
export function describeBound(t: AttemptTimeout): string {
  switch (t.bound) {
    case 'per-try':
      return `per-try timeout of ${t.timeoutMs} ms (perTryTimeoutMs; raise it in the edge's policy)`;
    case 'overall':
      return `overall call timeout (timeoutMs), ${t.timeoutMs} ms left`;
    case 'propagated':
      return `caller's deadline, ${t.timeoutMs} ms left`;
    case 'lambda':
      return `this function's own Lambda timeout, ${t.timeoutMs} ms left before the safety margin`;
  }
}
