/**
 * Whether an attempt's request reached the callee's handler, from what the transport saw. Pure.
 * On an edge that is not idempotent only `not-delivered` attempts may be repeated: anything else may
 * have run the handler (or may still be running it), so a retry could repeat its side effects.
 */
import { DEPENDENCY_TIMEOUT } from '../../../shared/names';
import type { AttemptResult } from './retry-decision';

/**
 * - `not-delivered`: provably never reached the handler (throttled, refused before the request was
 *   written, a Lambda error that says the function did not start, a mesh refusal by the callee's wrapper).
 * - `delivered`: the handler ran to an end the caller knows (it answered, or it threw).
 * - `unknown`: it may have run, may still be running, or not (a timeout, a dropped connection, a 5xx).
 */
export type Delivery = 'not-delivered' | 'delivered' | 'unknown';

/**
 * Errors Lambda answers before it runs the function: throttling, the function or its environment not
 * ready (VPC, EFS, KMS, SnapStart), a stopped recursive loop, IAM or the request itself being refused.
 * Names from the Invoke API reference ("Errors") of AWS Lambda.
 */
const NOT_STARTED = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'ResourceNotReadyException',
  'ResourceConflictException',
  'ResourceNotFoundException',
  'InvalidParameterValueException',
  'InvalidRequestContentException',
  'RequestTooLargeException',
  'UnsupportedMediaTypeException',
  'InvalidRuntimeException',
  'InvalidZipFileException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'EC2ThrottledException',
  'EC2UnexpectedException',
  'EC2AccessDeniedException',
  'ENILimitReachedException',
  'ENINotReadyException',
  'SubnetIPAddressLimitReachedException',
  'InvalidSubnetIDException',
  'InvalidSecurityGroupIDException',
  'EFSMountConnectivityException',
  'EFSMountFailureException',
  'EFSMountTimeoutException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'SnapStartException',
  'SnapStartNotReadyException',
  'SnapStartTimeoutException',
  'RecursiveInvocationException',
  // The function's module failed to load: its handler never ran.
  'Runtime.ImportModuleError',
  'Runtime.HandlerNotFound',
  'Runtime.MalformedHandlerName',
  'Runtime.UserCodeSyntaxError',
  // A channel refused the message before queueing it: SQS's throttling and its KMS key's, SNS's KMS
  // key's (SNS's own is ThrottledException, EventBridge's ThrottlingException, both above).
  'RequestThrottled',
  'KmsThrottled',
  'KMSThrottlingException',
  // The callee's mesh wrapper refused the call before the handler (identity, deadline, policy).
  'MeshDeniedError',
  'MeshUnauthenticatedError',
  'MeshDeadlineExceededError',
]);

/** Socket errors raised while connecting: no byte of the request was written. */
const NOT_CONNECTED = new Set<string | undefined>([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
]);

/**
 * Raised by the transport in this process before it wrote the request: the wire transport found no
 * credentials to sign with (aws/aws-credentials.ts, named as the AWS SDK names it) or no endpoint it
 * can parse (aws/aws-endpoint.ts).
 */
const NOT_SENT = new Set<string | undefined>(['CredentialsProviderError', 'InvalidEndpointError']);

/**
 * Function errors of a handler that ran out of time: it ran, with an end nobody saw. Lambda stopped it at
 * the function's timeout (`Sandbox.Timedout`); or the callee's mesh wrapper answered `MeshTimeoutError` at
 * that timeout less a margin, while the handler may still be running (and, the sandbox frozen, may finish
 * its work when the sandbox next thaws); or the handler ended on a call of its own that ran out of
 * time, whose callee may still be at work (DEPENDENCY_TIMEOUT).
 */
const OUT_OF_TIME = new Set<string | undefined>(['Sandbox.Timedout', 'MeshTimeoutError', DEPENDENCY_TIMEOUT]);

/**
 * A 4xx answer that names an error is an AWS API refusing the request before it acted on it: Lambda did
 * not start the function (a function's own errors answer 200), SQS queued nothing, SNS published nothing
 * (an HTTP target's 4xx comes without a name: its handler answered). Not so for a 408 (the request timed
 * out on its way) nor for Lambda's EFSIOException (410): its file system failed, which may happen while
 * the handler runs.
 */
function refusedBeforeActing(statusCode: number | undefined, names: readonly string[]): boolean {
  if (statusCode === undefined || statusCode < 400 || statusCode >= 500 || statusCode === 408) return false;
  return !names.includes('EFSIOException');
}

export function classifyDelivery(r: AttemptResult): Delivery {
  // Refused in this process (local policy check, open breaker): nothing was sent.
  if (r.local) return 'not-delivered';
  // The per-try timer fired: the request may be anywhere, the handler may still be running.
  if (r.timedOut) return 'unknown';
  // The sets hold no `undefined`: a name that is absent is in none of them.
  if (NOT_CONNECTED.has(r.errorCode) || NOT_SENT.has(r.errorName)) return 'not-delivered';
  const names = [r.errorType, r.errorName, r.errorCode].filter((n): n is string => !!n);
  if (names.some((n) => NOT_STARTED.has(n))) return 'not-delivered';
  const s = r.statusCode;
  if (r.functionError) return OUT_OF_TIME.has(r.errorType) ? 'unknown' : 'delivered';
  if (names.length > 0) return refusedBeforeActing(s, names) ? 'not-delivered' : 'unknown';
  // HTTP targets: 429 is the target shedding load before work; 401/403 refused before the handler.
  if (s === 429 || s === 401 || s === 403) return 'not-delivered';
  if (s === undefined || s >= 500 || s === 408) return 'unknown';
  return 'delivered';
}
