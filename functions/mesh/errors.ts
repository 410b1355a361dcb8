/**
 * Typed errors of the mesh. Apps catch them from `call()`; the wrapper throws the refusals so
 * Lambda reports them as the function error's `errorType` (the Node runtime uses `error.name`), and
 * the caller's classification (resilience/retry-decision) recognises them by that name.
 *
 * Their fields are declared (`declare`), not defined: each constructor assigns them, in the same order.
 * A defined field gives its class an initializer function, which V8 builds when the class is defined:
 * every cold sandbox defines these classes, and almost none constructs one.
 */

/** Every mesh error: `code` names what happened, `status` is the HTTP status the local endpoint answers. */
export class MeshError extends Error {
  declare readonly code: string;
  declare readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
    this.name = 'MeshError';
  }
}

/** The policy refused the call (locally, or the callee's wrapper did: errorType `MeshDeniedError`). */
export class MeshDeniedError extends MeshError {
  constructor(message: string) {
    super('MeshDenied', 403, message);
    this.name = 'MeshDeniedError';
  }
}

/** The callee could not verify the caller's identity token. */
export class MeshUnauthenticatedError extends MeshError {
  constructor(message: string) {
    super('MeshUnauthenticated', 401, message);
    this.name = 'MeshUnauthenticatedError';
  }
}

/** The call ran out of time (per-try, overall, the propagated deadline or this function's own). */
export class MeshTimeoutError extends MeshError {
  constructor(message: string) {
    super('MeshTimeout', 504, message);
    this.name = 'MeshTimeoutError';
  }
}

/** The callee refused work whose propagated deadline had already passed (the caller sees a timeout). */
export class MeshDeadlineExceededError extends MeshError {
  constructor(message: string) {
    super('MeshDeadlineExceeded', 504, message);
    this.name = 'MeshDeadlineExceededError';
  }
}

/** Every version the call could go to has an open breaker. */
export class MeshCircuitOpenError extends MeshError {
  declare readonly target: string;
  declare readonly version: string;
  constructor(target: string, version: string, message: string) {
    super('MeshCircuitOpen', 503, message);
    this.name = 'MeshCircuitOpenError';
    this.target = target;
    this.version = version;
  }
}

/** The remote function failed: its own `errorType` and `errorMessage`. */
export class MeshRemoteError extends MeshError {
  declare readonly errorType: string;
  declare readonly errorMessage: string;
  constructor(errorType: string, errorMessage: string, message?: string) {
    super('MeshRemoteError', 502, message ?? `${errorType}: ${errorMessage}`);
    this.name = 'MeshRemoteError';
    this.errorType = errorType;
    this.errorMessage = errorMessage;
  }
}

/**
 * On an edge that is not idempotent, the last attempt may have run the callee's handler but its
 * result never arrived (a per-try timeout, a dropped connection, a 5xx after the request was sent).
 * The mesh does not repeat it: the callee may have done the work. Reconcile with the callee using
 * `idempotencyKey`, which every attempt of the call carried.
 */
export class MeshOutcomeUnknownError extends MeshError {
  declare readonly target: string;
  declare readonly idempotencyKey: string;
  constructor(target: string, idempotencyKey: string, message: string, status = 504) {
    super('MeshOutcomeUnknown', status, message);
    this.name = 'MeshOutcomeUnknownError';
    this.target = target;
    this.idempotencyKey = idempotencyKey;
  }
}

/** Lambda throttled the call (429 TooManyRequestsException) and retries did not get through. */
export class MeshThrottledError extends MeshError {
  declare readonly reason?: string;
  constructor(message: string, reason?: string) {
    super('MeshThrottled', 429, message);
    this.name = 'MeshThrottledError';
    this.reason = reason;
  }
}

/**
 * The caller's mesh-wide rate limit for the target (a `rateLimit` on its `traffic` or `allow#` item)
 * has no token for this call: nothing was sent. `retryAfterMs`: when this sandbox may ask again.
 */
export class MeshRateLimitedError extends MeshError {
  /** The target the call was for. */
  declare readonly target: string;
  /** How long until this sandbox may have a token again, in milliseconds. */
  declare readonly retryAfterMs: number;
  constructor(target: string, retryAfterMs: number, message: string) {
    super('MeshRateLimited', 429, message);
    this.name = 'MeshRateLimitedError';
    this.target = target;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The call could not be made at all (bad target, metadata too large, Lambda client error). */
export class MeshCallError extends MeshError {
  constructor(message: string, status = 400) {
    super('MeshCallError', status, message);
    this.name = 'MeshCallError';
  }
}

/**
 * This function has no identity yet (its secret is missing, unreadable or holds none), so it cannot
 * sign: the call is refused before anything is sent. It goes through once the identity appears.
 */
export class MeshIdentityUnavailableError extends MeshError {
  constructor(message: string) {
    super('MeshIdentityUnavailable', 503, message);
    this.name = 'MeshIdentityUnavailableError';
  }
}

/** The JSON body the local HTTP endpoint answers for an error. Never carries a token or secret. */
export function errorBody(err: unknown): { status: number; body: Record<string, unknown> } {
  if (err instanceof MeshRemoteError) {
    return {
      status: err.status,
      body: { code: err.code, errorType: err.errorType, errorMessage: err.errorMessage, message: err.message },
    };
  }
  if (err instanceof MeshError)
    return { status: err.status, body: { code: err.code, errorType: err.name, message: err.message } };
  const e = err as { name?: string; message?: string } | undefined;
  return {
    status: 500,
    body: { code: 'MeshInternal', errorType: e?.name ?? 'Error', message: e?.message ?? String(err) },
  };
}
