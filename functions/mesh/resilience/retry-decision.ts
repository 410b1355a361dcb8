/**
 * What an attempt's result means, and whether to try again. Pure: the runtime passes in what the
 * transport saw and what the policy says. Whether the attempt reached the handler is delivery.ts.
 */
import type { RetryOn } from '../../../shared/policy-rules';
import type { CallOutcome } from '../../../shared/telemetry/call-outcomes';
import type { Delivery } from './delivery';

/**
 * The outcome of one attempt. `client-error` = the request itself is wrong (404 no such function,
 * 400 bad parameter, 413 too large): never retried. `denied` / `unauthenticated` = refused by the
 * mesh (local policy check, or the callee's wrapper); `circuit-open` = the breaker held the call;
 * `rate-limited` = the caller's mesh-wide rate limit held it (nothing sent). Every outcome the runtime
 * records but the callee's own `deadline-exceeded` (one list, shared/telemetry/call-outcomes.ts).
 */
export type Outcome = Exclude<CallOutcome, 'deadline-exceeded'>;

/** What the transport observed for one attempt (fill what you know). */
export interface AttemptResult {
  /** The runtime aborted the attempt at its timeout. */
  readonly timedOut?: boolean;
  /** Refused before leaving the process: local policy check or open breaker. */
  readonly local?: 'denied' | 'circuit-open' | 'unauthenticated';
  /** HTTP status (Invoke answers 200 even when the function threw; HTTP targets: the status). */
  readonly statusCode?: number;
  /** `X-Amz-Function-Error` ('Unhandled'), or an HTTP target's equivalent: the function threw. */
  readonly functionError?: string;
  /** `errorType` of the function's error body (`Sandbox.Timedout`, or the mesh's own refusals). */
  readonly errorType?: string;
  /** Name / code of a thrown SDK or network error (`TooManyRequestsException`, `ECONNRESET`, `AbortError`). */
  readonly errorName?: string;
  readonly errorCode?: string;
}

const THROTTLE = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestThrottledException',
  'SlowDown',
  'EC2ThrottledException',
  // A channel's send: SQS's throttling and its KMS key's, as the SDK names them (its error shapes), and SNS's KMS key's.
  'RequestThrottled',
  'KmsThrottled',
  'KMSThrottlingException',
]);
const TIMEOUT = new Set([
  'AbortError',
  'TimeoutError',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'RequestTimeout',
  'RequestTimeoutException',
  'Sandbox.Timedout',
  // The callee's mesh wrapper stopped waiting for its handler at the function's timeout (a moment
  // before Lambda's Sandbox.Timedout would), or the handler ended on a call of its own that ran out of time.
  'MeshTimeoutError',
  // The callee refused work whose deadline had passed.
  'MeshDeadlineExceededError',
]);
const CLIENT = new Set([
  'ResourceNotFoundException',
  'InvalidParameterValueException',
  'InvalidRequestContentException',
  'RequestTooLargeException',
  'RequestEntityTooLargeException',
  'UnsupportedMediaTypeException',
  'ValidationException',
  'InvalidRuntimeException',
]);
/**
 * 4xx answers that say the target cannot take any request now, not that this request is wrong: a name
 * the lists above do not know is otherwise judged by its 4xx status (`classifyOutcome`). These stay
 * service errors: retried where retryOn allows, counted against the breaker, a reason to fail over.
 * Gone through: the Errors of Lambda's Invoke, SQS SendMessage and SNS Publish (PutEvents models none in
 * 4xx), with the statuses of the AWS SDK's service models; test/unit/resilience-outcome-names.test.ts
 * holds each with its outcome. The others are the request's or the caller's fault and fail the same way
 * every time: a missing queue, a bad parameter, a recursive loop Lambda stopped (a retry would carry it
 * on), the caller's rights on a queue's key. The reads of DynamoDB and Secrets Manager retry on their
 * own (aws/aws-json-call.ts) and never come here.
 */
const TARGET_UNABLE = new Set([
  // Lambda, 409: the function is being updated, its SnapStart snapshot is being made or made again,
  // its code artifact user is being provisioned (again, after it was deleted or failed).
  'ResourceConflictException',
  'SnapStartNotReadyException',
  'SnapStartRegenerationFailureException',
  'CodeArtifactUserPendingException',
  'CodeArtifactUserDeletedException',
  'CodeArtifactUserFailedException',
  // Lambda: the function's afterRestore hook failed (400), its file system failed (EFS I/O 410, EFS or
  // S3 Files mount 403; the mount timeouts are 408, a timeout by status), as its VPC and KMS errors
  // (502) say the function cannot run, whatever the request.
  'SnapStartException',
  'EFSIOException',
  'EFSMountFailureException',
  'S3FilesMountFailureException',
  // Lambda, 402: an account quota, which frees as its use falls, as concurrency does.
  'ServiceQuotaExceededException',
  // SQS, 403: a limit of the queue (ReceiveMessage's in-flight messages), which its consumers free. Not
  // throttling: sending slower does not free it. SendMessage does not list it; kept a service error.
  'OverLimit',
  // SQS and SNS, 400: the queue's or topic's own KMS key cannot be used (disabled, pending deletion,
  // deleted, of the wrong kind): no message is accepted until it is fixed, as Lambda's KMS errors (502).
  'KmsDisabled',
  'KmsInvalidState',
  'KmsNotFound',
  'KmsInvalidKeyUsage',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
]);
const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'MeshDeniedError', 'Mesh.Denied']);
const UNAUTHENTICATED = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'MeshUnauthenticatedError',
  'Mesh.Unauthenticated',
]);

/**
 * Classifies one attempt. An error name not known here is judged by its status when it is a 4xx: the
 * service refused the request as it is (401 unauthenticated, 403 denied, any other client-error),
 * unless the name says the target cannot take any request now (TARGET_UNABLE). Without a status (a
 * network fault) or with a 5xx it is a `service-error` (retryable).
 */
export function classifyOutcome(r: AttemptResult): Outcome {
  if (r.local) return r.local;
  if (r.timedOut) return 'timeout';
  const names = [r.errorType, r.errorName, r.errorCode].filter((n): n is string => !!n);
  const has = (set: Set<string>) => names.some((n) => set.has(n));
  if (has(DENIED)) return 'denied';
  if (has(UNAUTHENTICATED)) return 'unauthenticated';
  if (has(THROTTLE) || r.statusCode === 429) return 'throttled';
  if (has(TIMEOUT) || r.statusCode === 408 || r.statusCode === 504) return 'timeout';
  if (r.functionError) return 'function-error';
  if (has(CLIENT)) return 'client-error';
  // The AWS SDK names an error its model lacks after the service's code, which may differ from the
  // wire's (SQS: `InvalidParameterValue`, `InvalidParameterValueException`): the status is what both share.
  if (names.length > 0 && ((r.statusCode ?? 0) < 400 || has(TARGET_UNABLE))) return 'service-error';
  const s = r.statusCode;
  // A 3xx is no answer: an HTTP target's redirect is not followed (its URL is the deployment's), nor taken for one.
  if (s === undefined || (s >= 200 && s < 300)) return 'success';
  if (s === 401) return 'unauthenticated';
  if (s === 403) return 'denied';
  if (s >= 500) return 'service-error';
  return 'client-error';
}

/**
 * Whether the outcome counts against the target's breaker. Throttling does not: it is the target
 * protecting itself, and ejecting it would only shift the load. Mesh refusals are not the target's fault.
 */
export function countsAsFailure(outcome: Outcome): boolean {
  return outcome === 'service-error' || outcome === 'timeout' || outcome === 'function-error';
}

export interface RetryDecisionInput {
  readonly outcome: Outcome;
  /** The attempt that just ended, 1-based. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly retryOn: readonly RetryOn[];
  /** The edge is idempotent: an attempt that may have run the handler may be repeated. */
  readonly idempotent: boolean;
  /** Whether the attempt reached the handler (`classifyDelivery`). */
  readonly delivery: Delivery;
  /** Epoch ms. */
  readonly now: number;
  /** The backoff before the next attempt (see backoff.ts). */
  readonly delayMs: number;
  /** When the call must be over (see `callEndsBy`); undefined = no limit. */
  readonly endsBy?: number;
  /** Time an attempt needs at the least to be worth starting. @default 1 */
  readonly minAttemptMs?: number;
  /** The target's retry budget; asked last, and only asked (call `recordRetry` when you retry). */
  readonly budget?: { canRetry(now: number): boolean };
}

export type NoRetryReason =
  | 'success'
  | 'not-retryable'
  | 'not-idempotent'
  | 'outcome-unknown'
  | 'attempts-exhausted'
  | 'deadline'
  | 'budget-exhausted';

export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly reason: NoRetryReason };

export function decideRetry(input: RetryDecisionInput): RetryDecision {
  const { outcome } = input;
  if (outcome === 'success') return { retry: false, reason: 'success' };
  // retryOn holds only retryable outcomes (the policy check allows no other): one lookup answers both.
  if (!(input.retryOn as readonly Outcome[]).includes(outcome)) return { retry: false, reason: 'not-retryable' };
  // Not idempotent: repeat only what provably never reached the handler. A function error ran it
  // (its own failure); a timeout, a dropped connection or a 5xx may have run it.
  if (!input.idempotent && input.delivery !== 'not-delivered') {
    return { retry: false, reason: input.delivery === 'delivered' ? 'not-idempotent' : 'outcome-unknown' };
  }
  if (input.attempt >= input.maxAttempts) return { retry: false, reason: 'attempts-exhausted' };
  const delayMs = Math.max(0, input.delayMs);
  if (input.endsBy !== undefined && input.now + delayMs + (input.minAttemptMs ?? 1) > input.endsBy) {
    return { retry: false, reason: 'deadline' };
  }
  if (input.budget && !input.budget.canRetry(input.now)) return { retry: false, reason: 'budget-exhausted' };
  return { retry: true, delayMs };
}

/**
 * Whether a call that failed ends "outcome unknown" rather than with its last attempt's error:
 * - not idempotent, and the last attempt may have reached the handler without a known end (it is
 *   not repeated); idempotent edges report a timeout or a 5xx as what it is;
 * - any edge, when the last attempt never reached the handler (throttled, circuit open, refused) but
 *   an earlier one may have run: "throttled" would claim nothing happened.
 */
export function isOutcomeUnknown(idempotent: boolean, last: Delivery, earlierMayHaveRun = false): boolean {
  if (last === 'not-delivered') return earlierMayHaveRun;
  return !idempotent && last === 'unknown';
}
