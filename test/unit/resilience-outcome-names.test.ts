/**
 * Every error name and status the outcome classifier knows (resilience/retry-decision.ts
 * `classifyOutcome`), one by one and through each field that may carry it, and the order in which
 * they win: a name the classifier forgot would turn a throttle into a breaker failure, or a refusal
 * into a retry.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { MeshDeadlineExceededError, MeshDeniedError, MeshUnauthenticatedError } from '../../functions/mesh/errors';
import { classifyDelivery } from '../../functions/mesh/resilience/delivery';
import { type AttemptResult, classifyOutcome, type Outcome } from '../../functions/mesh/resilience/retry-decision';

const NAMES: Record<string, Outcome> = {
  TooManyRequestsException: 'throttled',
  ThrottlingException: 'throttled',
  Throttling: 'throttled',
  ThrottledException: 'throttled',
  RequestLimitExceeded: 'throttled',
  ProvisionedThroughputExceededException: 'throttled',
  RequestThrottledException: 'throttled',
  SlowDown: 'throttled',
  EC2ThrottledException: 'throttled',
  RequestThrottled: 'throttled',
  KmsThrottled: 'throttled',
  KMSThrottlingException: 'throttled',
  AbortError: 'timeout',
  TimeoutError: 'timeout',
  ETIMEDOUT: 'timeout',
  ESOCKETTIMEDOUT: 'timeout',
  RequestTimeout: 'timeout',
  RequestTimeoutException: 'timeout',
  'Sandbox.Timedout': 'timeout',
  MeshTimeoutError: 'timeout',
  MeshDeadlineExceededError: 'timeout',
  ResourceNotFoundException: 'client-error',
  InvalidParameterValueException: 'client-error',
  InvalidRequestContentException: 'client-error',
  RequestTooLargeException: 'client-error',
  UnsupportedMediaTypeException: 'client-error',
  ValidationException: 'client-error',
  InvalidRuntimeException: 'client-error',
  RequestEntityTooLargeException: 'client-error',
  AccessDeniedException: 'denied',
  AccessDenied: 'denied',
  MeshDeniedError: 'denied',
  'Mesh.Denied': 'denied',
  UnrecognizedClientException: 'unauthenticated',
  InvalidSignatureException: 'unauthenticated',
  ExpiredTokenException: 'unauthenticated',
  MeshUnauthenticatedError: 'unauthenticated',
  'Mesh.Unauthenticated': 'unauthenticated',
  ECONNRESET: 'service-error',
  SomethingNew: 'service-error',
};

/**
 * The 4xx errors of Lambda's Invoke, SQS SendMessage and SNS Publish that no list above names, with the
 * status the AWS SDK's service model gives each: judged by that status (the request is wrong), unless
 * the target cannot take any request now. The 408s are timeouts by their status.
 */
const UNLISTED_4XX: [string, number, Outcome][] = [
  ['ResourceConflictException', 409, 'service-error'],
  ['SnapStartNotReadyException', 409, 'service-error'],
  ['SnapStartRegenerationFailureException', 409, 'service-error'],
  ['CodeArtifactUserPendingException', 409, 'service-error'],
  ['CodeArtifactUserDeletedException', 409, 'service-error'],
  ['CodeArtifactUserFailedException', 409, 'service-error'],
  ['SnapStartException', 400, 'service-error'],
  ['EFSIOException', 410, 'service-error'],
  ['EFSMountFailureException', 403, 'service-error'],
  ['S3FilesMountFailureException', 403, 'service-error'],
  ['ServiceQuotaExceededException', 402, 'service-error'],
  ['EFSMountConnectivityException', 408, 'timeout'],
  ['EFSMountTimeoutException', 408, 'timeout'],
  ['S3FilesMountConnectivityException', 408, 'timeout'],
  ['S3FilesMountTimeoutException', 408, 'timeout'],
  ['SnapStartTimeoutException', 408, 'timeout'],
  ['DurableExecutionAlreadyStartedException', 409, 'client-error'],
  ['ModeNotSupportedException', 400, 'client-error'],
  ['NoPublishedVersionException', 400, 'client-error'],
  ['RecursiveInvocationException', 400, 'client-error'],
  ['SerializedRequestEntityTooLargeException', 413, 'client-error'],
  // SQS
  ['OverLimit', 403, 'service-error'],
  ['KmsDisabled', 400, 'service-error'],
  ['KmsInvalidState', 400, 'service-error'],
  ['KmsNotFound', 400, 'service-error'],
  ['KmsInvalidKeyUsage', 400, 'service-error'],
  ['InvalidAddress', 404, 'client-error'],
  ['InvalidMessageContents', 400, 'client-error'],
  ['QueueDoesNotExist', 400, 'client-error'],
  ['UnsupportedOperation', 400, 'client-error'],
  ['KmsAccessDenied', 400, 'client-error'],
  ['InvalidParameterValue', 400, 'client-error'],
  ['MissingParameter', 400, 'client-error'],
  ['InvalidSecurity', 403, 'denied'],
  ['KmsOptInRequired', 403, 'denied'],
  // SNS
  ['KMSDisabledException', 400, 'service-error'],
  ['KMSInvalidStateException', 400, 'service-error'],
  ['KMSNotFoundException', 400, 'service-error'],
  ['NotFoundException', 404, 'client-error'],
  ['InvalidParameterException', 400, 'client-error'],
  ['KMSAccessDeniedException', 400, 'client-error'],
  ['EndpointDisabledException', 400, 'client-error'],
  ['PlatformApplicationDisabledException', 400, 'client-error'],
  ['AuthorizationErrorException', 403, 'denied'],
  ['InvalidSecurityException', 403, 'denied'],
  ['KMSOptInRequired', 403, 'denied'],
];

describe('outcome classification by name and status', () => {
  for (const [name, outcome] of Object.entries(NAMES)) {
    it(`${name} is ${outcome}, whichever field carries it`, () => {
      for (const field of ['errorType', 'errorName', 'errorCode'] as const) {
        assert.equal(classifyOutcome({ [field]: name }), outcome, field);
      }
    });
  }

  it('a name no list knows is judged by its 4xx status, unless the target cannot take any request now', () => {
    for (const [name, statusCode, outcome] of UNLISTED_4XX) {
      for (const field of ['errorType', 'errorName', 'errorCode'] as const) {
        assert.equal(classifyOutcome({ [field]: name, statusCode }), outcome, `${field} ${name} ${statusCode}`);
      }
    }
  });

  it('a name no list knows, under any other status, is a service error', () => {
    for (const statusCode of [undefined, 200, 399, 500, 502, 503]) {
      assert.equal(classifyOutcome({ errorName: 'SomethingNew', statusCode }), 'service-error', String(statusCode));
    }
    // The same name answered by Lambda (502, the function's key) and by SNS (400, the caller's rights).
    assert.equal(classifyOutcome({ errorName: 'KMSAccessDeniedException', statusCode: 502 }), 'service-error');
  });

  it('statuses without a name: 2xx succeed, 1xx and 3xx are client errors, 401/403 refuse, 408/504 time out, 429 throttles', () => {
    const cases: [number | undefined, Outcome][] = [
      [undefined, 'success'],
      [200, 'success'],
      [299, 'success'],
      [300, 'client-error'],
      [399, 'client-error'],
      [199, 'client-error'],
      [400, 'client-error'],
      [401, 'unauthenticated'],
      [403, 'denied'],
      [404, 'client-error'],
      [408, 'timeout'],
      [429, 'throttled'],
      [499, 'client-error'],
      [500, 'service-error'],
      [502, 'service-error'],
      [504, 'timeout'],
    ];
    for (const [statusCode, outcome] of cases)
      assert.equal(classifyOutcome({ statusCode }), outcome, String(statusCode));
  });

  it('what wins when several say something', () => {
    const cases: [AttemptResult, Outcome][] = [
      [{ local: 'circuit-open', timedOut: true }, 'circuit-open'],
      [{ timedOut: true, errorName: 'MeshDeniedError' }, 'timeout'],
      [{ errorType: 'MeshDeniedError', errorName: 'TooManyRequestsException' }, 'denied'],
      [{ errorType: 'MeshUnauthenticatedError', statusCode: 429 }, 'unauthenticated'],
      [{ errorName: 'TooManyRequestsException', functionError: 'Unhandled' }, 'throttled'],
      [{ errorType: 'Sandbox.Timedout', functionError: 'Unhandled' }, 'timeout'],
      [{ errorType: 'TypeError', functionError: 'Unhandled', statusCode: 200 }, 'function-error'],
      [{ functionError: 'Unhandled', errorName: 'ResourceNotFoundException' }, 'function-error'],
      [{ errorName: 'ResourceNotFoundException', statusCode: 500 }, 'client-error'],
      [{ errorName: 'ECONNREFUSED', statusCode: 200 }, 'service-error'],
      [{ statusCode: 429, errorType: '' }, 'throttled'],
    ];
    for (const [r, outcome] of cases) assert.equal(classifyOutcome(r), outcome, JSON.stringify(r));
  });
});

/**
 * Lambda's Invoke errors as the AWS SDK's service model lists them (the `@throws` of the Invoke command's
 * declaration; the Invoke API reference's "Errors"): read from the installed SDK, so an error Lambda
 * adds reaches this test with the SDK that brings it.
 */
function invokeErrors(): string[] {
  const sdk = dirname(require.resolve('@aws-sdk/client-lambda/package.json'));
  const declaration = readFileSync(join(sdk, 'dist-types/commands/InvokeCommand.d.ts'), 'utf8');
  return [...declaration.matchAll(/@throws \{@link (\w+)\} \((?:client|server) fault\)/g)].map((m) => m[1]);
}

/**
 * Invoke errors that do not say the function never started whatever the status: EFSIOException (its
 * file system failed, which may happen while the handler runs), ServiceException (Lambda's own 500), and
 * refusals judged by their 4xx status like any named 4xx (UNLISTED_4XX and the test below).
 */
const INVOKE_ERRORS_BY_STATUS = new Set([
  'EFSIOException',
  'ServiceException',
  ...['CodeArtifactUserDeletedException', 'CodeArtifactUserFailedException', 'CodeArtifactUserPendingException'],
  ...['S3FilesMountConnectivityException', 'S3FilesMountFailureException', 'S3FilesMountTimeoutException'],
  ...['DurableExecutionAlreadyStartedException', 'ModeNotSupportedException', 'NoPublishedVersionException'],
  ...['SerializedRequestEntityTooLargeException', 'ServiceQuotaExceededException'],
  'SnapStartRegenerationFailureException',
]);

/**
 * Errors that say the handler never ran: each one, by name, is what lets a call on an edge that is not
 * idempotent be tried again.
 */
const NEVER_STARTED = [
  // Lambda refused the Invoke before it started the function.
  ...invokeErrors().filter((name) => !INVOKE_ERRORS_BY_STATUS.has(name)),
  // Any AWS API's throttling and signature refusals (Common Errors of the AWS API references).
  ...['ThrottlingException', 'Throttling', 'ThrottledException', 'RequestLimitExceeded'],
  ...['AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException'],
  // The function's module failed to load (Lambda's runtime names; the wrapper's handler loader raises the first three).
  ...['Runtime.ImportModuleError', 'Runtime.HandlerNotFound', 'Runtime.MalformedHandlerName'],
  'Runtime.UserCodeSyntaxError',
  // SQS's throttles (its own and its KMS key's), SNS's KMS key's.
  ...['RequestThrottled', 'KmsThrottled', 'KMSThrottlingException'],
  // The callee's mesh wrapper refused the call before its handler, with these errors.
  ...[MeshDeniedError, MeshUnauthenticatedError, MeshDeadlineExceededError].map((E) => new E('refused').name),
];

/** Socket errors raised before a byte was written: refused, unreachable, no such host, a TLS peer refused. */
const NEVER_CONNECTED = [
  ...['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'],
  ...['ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED'],
  ...['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN'],
];

describe('delivery by name and status', () => {
  it('every error Lambda or the callee raises before the handler runs is not-delivered, in any field', () => {
    assert.ok(NEVER_STARTED.includes('TooManyRequestsException'), 'the Invoke errors were read from the SDK');
    for (const name of NEVER_STARTED) {
      for (const field of ['errorType', 'errorName', 'errorCode'] as const) {
        assert.equal(classifyDelivery({ [field]: name, statusCode: 500 }), 'not-delivered', `${field} ${name}`);
      }
    }
  });

  it('a connection that never opened is not-delivered; the same code after sending is unknown', () => {
    for (const code of NEVER_CONNECTED) {
      assert.equal(classifyDelivery({ errorCode: code }), 'not-delivered', code);
    }
    assert.equal(classifyDelivery({ errorCode: 'ECONNRESET' }), 'unknown');
    assert.equal(classifyDelivery({ errorName: 'TypeError' }), 'unknown', 'any other error after the request left');
  });

  it('a named 4xx refused the request before acting on it, but a 408 or a file system error while running', () => {
    for (const [name, statusCode] of UNLISTED_4XX) {
      const mayHaveRun = !NEVER_STARTED.includes(name) && (statusCode === 408 || name === 'EFSIOException');
      const expected = mayHaveRun ? 'unknown' : 'not-delivered';
      for (const field of ['errorType', 'errorName', 'errorCode'] as const) {
        assert.equal(classifyDelivery({ [field]: name, statusCode }), expected, `${field} ${name} ${statusCode}`);
      }
    }
    for (const statusCode of [undefined, 200, 399, 500, 502, 503]) {
      assert.equal(classifyDelivery({ errorName: 'SomethingNew', statusCode }), 'unknown', String(statusCode));
    }
    assert.equal(classifyDelivery({ errorName: 'SomethingNew', statusCode: 499 }), 'not-delivered');
  });

  it('statuses without a name: 401, 403 and 429 never reached the handler; 5xx and 408 may have', () => {
    const cases: [number | undefined, string][] = [
      [200, 'delivered'],
      [404, 'delivered'],
      [401, 'not-delivered'],
      [403, 'not-delivered'],
      [429, 'not-delivered'],
      [408, 'unknown'],
      [499, 'delivered'],
      [500, 'unknown'],
      [501, 'unknown'],
      [undefined, 'unknown'],
    ];
    for (const [statusCode, delivery] of cases) {
      assert.equal(classifyDelivery({ statusCode }), delivery, String(statusCode));
    }
  });
});
