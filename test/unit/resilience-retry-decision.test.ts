import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyDelivery } from '../../functions/mesh/resilience/delivery';
import { RetryBudget } from '../../functions/mesh/resilience/retry-budget';
import {
  classifyOutcome,
  countsAsFailure,
  decideRetry,
  isOutcomeUnknown,
  type RetryDecisionInput,
} from '../../functions/mesh/resilience/retry-decision';
import { DEPENDENCY_TIMEOUT } from '../../shared/names';
import { DEFAULTS } from '../../shared/policy';

const NOW = 1_700_000_000_000;

function input(over: Partial<RetryDecisionInput>): RetryDecisionInput {
  return {
    outcome: 'service-error',
    attempt: 1,
    maxAttempts: 3,
    retryOn: DEFAULTS.retries.retryOn,
    idempotent: false,
    delivery: 'not-delivered',
    now: NOW,
    delayMs: 20,
    endsBy: NOW + 5_000,
    ...over,
  };
}

describe('classifyOutcome', () => {
  const cases: Array<[string, Parameters<typeof classifyOutcome>[0], string]> = [
    ['a 200 without function error', { statusCode: 200 }, 'success'],
    ['Invoke throttling', { errorName: 'TooManyRequestsException', statusCode: 429 }, 'throttled'],
    ['an HTTP 429', { statusCode: 429 }, 'throttled'],
    ['the per-try abort', { timedOut: true, errorName: 'AbortError' }, 'timeout'],
    [
      'a Lambda sandbox timeout',
      { statusCode: 200, functionError: 'Unhandled', errorType: 'Sandbox.Timedout' },
      'timeout',
    ],
    [
      "the callee's wrapper at the function's timeout",
      { statusCode: 200, functionError: 'Unhandled', errorType: 'MeshTimeoutError' },
      'timeout',
    ],
    ['a handler that threw', { statusCode: 200, functionError: 'Unhandled', errorType: 'TypeError' }, 'function-error'],
    [
      'a handler that ended on a call of its own that ran out of time',
      { statusCode: 200, functionError: 'Unhandled', errorType: DEPENDENCY_TIMEOUT },
      'function-error',
    ],
    ['a 5xx from the service', { errorName: 'ServiceException', statusCode: 500 }, 'service-error'],
    ['a reset connection', { errorCode: 'ECONNRESET' }, 'service-error'],
    ['an HTTP 503', { statusCode: 503 }, 'service-error'],
    ['no such function', { errorName: 'ResourceNotFoundException', statusCode: 404 }, 'client-error'],
    ['an HTTP 400', { statusCode: 400 }, 'client-error'],
    // An HTTP target's redirect is not its answer, and the mesh does not follow it: the deployment names the URL.
    ['an HTTP 299, the last success', { statusCode: 299 }, 'success'],
    ['an HTTP 300', { statusCode: 300 }, 'client-error'],
    ['an HTTP 307 redirect', { statusCode: 307 }, 'client-error'],
    ['an HTTP 399', { statusCode: 399 }, 'client-error'],
    // SQS's errors it does not model: the SDK names them after `x-amzn-query-error`, the wire after `__type`.
    ['an SQS error as the SDK names it', { errorName: 'InvalidParameterValue', statusCode: 400 }, 'client-error'],
    ['a queue that does not exist', { errorName: 'QueueDoesNotExist', statusCode: 400 }, 'client-error'],
    [
      'a queue that does not exist, by its query code',
      { errorName: 'AWS.SimpleQueueService.NonExistentQueue', statusCode: 400 },
      'client-error',
    ],
    ['a stopped recursive loop', { errorName: 'RecursiveInvocationException', statusCode: 400 }, 'client-error'],
    ['an SNS publish IAM refuses', { errorName: 'AuthorizationErrorException', statusCode: 403 }, 'denied'],
    ['an error it does not know, under a 401', { errorName: 'UnlistedException', statusCode: 401 }, 'unauthenticated'],
    ['a function being updated', { errorName: 'ResourceConflictException', statusCode: 409 }, 'service-error'],
    ['a SnapStart snapshot not ready', { errorName: 'SnapStartNotReadyException', statusCode: 409 }, 'service-error'],
    ["a function's file system failing", { errorName: 'EFSIOException', statusCode: 410 }, 'service-error'],
    [
      "a function's file system not mounted",
      { errorName: 'EFSMountFailureException', statusCode: 403 },
      'service-error',
    ],
    ['a queue over its limit', { errorName: 'OverLimit', statusCode: 403 }, 'service-error'],
    ["a queue's disabled key", { errorName: 'KmsDisabled', statusCode: 400 }, 'service-error'],
    ["a topic's disabled key", { errorName: 'KMSDisabledException', statusCode: 400 }, 'service-error'],
    ['an error it does not know, under a 500', { errorName: 'UnlistedException', statusCode: 500 }, 'service-error'],
    ['an error it does not know, under a 502', { errorName: 'UnlistedException', statusCode: 502 }, 'service-error'],
    ['an error it does not know, under a 503', { errorName: 'UnlistedException', statusCode: 503 }, 'service-error'],
    ['an error it does not know, without a status', { errorName: 'UnlistedException' }, 'service-error'],
    ['IAM refusing the Invoke', { errorName: 'AccessDeniedException', statusCode: 403 }, 'denied'],
    [
      'the callee refusing the edge',
      { statusCode: 200, functionError: 'Unhandled', errorType: 'MeshDeniedError' },
      'denied',
    ],
    [
      'the callee rejecting the token',
      { statusCode: 200, functionError: 'Unhandled', errorType: 'MeshUnauthenticatedError' },
      'unauthenticated',
    ],
    ['an HTTP 401', { statusCode: 401 }, 'unauthenticated'],
    ['the local policy check', { local: 'denied' }, 'denied'],
    ['an open breaker', { local: 'circuit-open' }, 'circuit-open'],
  ];
  for (const [name, result, expected] of cases) {
    it(`classifies ${name} as ${expected}`, () => {
      assert.equal(classifyOutcome(result), expected);
    });
  }

  it('counts only target faults against the breaker', () => {
    assert.deepEqual(
      (
        [
          'success',
          'throttled',
          'service-error',
          'timeout',
          'function-error',
          'denied',
          'circuit-open',
          'unauthenticated',
          'client-error',
        ] as const
      ).filter(countsAsFailure),
      ['service-error', 'timeout', 'function-error'],
    );
  });
});

describe('classifyDelivery', () => {
  const cases: Array<[string, Parameters<typeof classifyDelivery>[0], string]> = [
    ['Invoke throttling', { errorName: 'TooManyRequestsException', statusCode: 429 }, 'not-delivered'],
    ['an HTTP 429', { statusCode: 429 }, 'not-delivered'],
    ['a refused connection', { errorName: 'Error', errorCode: 'ECONNREFUSED' }, 'not-delivered'],
    ['an unknown host', { errorCode: 'ENOTFOUND' }, 'not-delivered'],
    ['a function not ready yet', { errorName: 'ResourceNotReadyException', statusCode: 502 }, 'not-delivered'],
    [
      'a VPC function without an interface',
      { errorName: 'ENILimitReachedException', statusCode: 502 },
      'not-delivered',
    ],
    ['a stopped recursive loop', { errorName: 'RecursiveInvocationException', statusCode: 400 }, 'not-delivered'],
    [
      'a module that failed to load',
      { statusCode: 200, functionError: 'Unhandled', errorType: 'Runtime.ImportModuleError' },
      'not-delivered',
    ],
    [
      "the callee's wrapper refusing the caller",
      { statusCode: 200, functionError: 'Unhandled', errorType: 'MeshUnauthenticatedError' },
      'not-delivered',
    ],
    [
      "the callee's wrapper refusing a passed deadline",
      { statusCode: 200, functionError: 'Unhandled', errorType: 'MeshDeadlineExceededError' },
      'not-delivered',
    ],
    ['no credentials to sign with', { errorName: 'CredentialsProviderError' }, 'not-delivered'],
    ['an endpoint that is not a URL', { errorName: 'InvalidEndpointError' }, 'not-delivered'],
    ['the local policy check', { local: 'denied' }, 'not-delivered'],
    ['an open breaker', { local: 'circuit-open' }, 'not-delivered'],
    ['a 200', { statusCode: 200 }, 'delivered'],
    ['a handler that threw', { statusCode: 200, functionError: 'Unhandled', errorType: 'TypeError' }, 'delivered'],
    ['the per-try abort', { timedOut: true, errorName: 'AbortError' }, 'unknown'],
    ['the per-try abort while connecting', { timedOut: true, errorCode: 'ECONNREFUSED' }, 'unknown'],
    [
      'a Lambda sandbox timeout',
      { statusCode: 200, functionError: 'Unhandled', errorType: 'Sandbox.Timedout' },
      'unknown',
    ],
    [
      "the callee's wrapper at the function's timeout, the handler still running",
      { statusCode: 200, functionError: 'Unhandled', errorType: 'MeshTimeoutError' },
      'unknown',
    ],
    [
      'a handler that ended on a call of its own that ran out of time, whose callee may still be at work',
      { statusCode: 200, functionError: 'Unhandled', errorType: DEPENDENCY_TIMEOUT },
      'unknown',
    ],
    ['a reset connection', { errorCode: 'ECONNRESET' }, 'unknown'],
    ['a socket hang up', { errorName: 'Error', errorCode: 'ECONNRESET' }, 'unknown'],
    ['a reset named a timeout, as the SDK names it', { errorName: 'TimeoutError', errorCode: 'ECONNRESET' }, 'unknown'],
    ['a 5xx from the service', { errorName: 'ServiceException', statusCode: 500 }, 'unknown'],
    // An error name it does not know is never taken for a delivery: under a 4xx it is the service
    // refusing the request before acting on it (an HTTP target's 4xx has no name), under a 5xx unknown.
    [
      'a service error it does not know, under a 4xx',
      { errorName: 'UnlistedException', statusCode: 400 },
      'not-delivered',
    ],
    ['a service error it does not know, under a 5xx', { errorName: 'UnlistedException', statusCode: 503 }, 'unknown'],
    ['an HTTP 502 from a target', { statusCode: 502 }, 'unknown'],
    ['an HTTP 504 from a target', { statusCode: 504 }, 'unknown'],
  ];
  for (const [name, result, expected] of cases) {
    it(`classifies ${name} as ${expected}`, () => {
      assert.equal(classifyDelivery(result), expected);
    });
  }
});

describe('decideRetry', () => {
  it('does not retry a success', () => {
    assert.deepEqual(decideRetry(input({ outcome: 'success' })), { retry: false, reason: 'success' });
  });

  it('retries a retryable outcome with the backoff delay', () => {
    assert.deepEqual(decideRetry(input({ outcome: 'throttled', delayMs: 40 })), { retry: true, delayMs: 40 });
    assert.deepEqual(decideRetry(input({ outcome: 'timeout' })), { retry: true, delayMs: 20 });
  });

  it('never retries mesh refusals or bad requests', () => {
    for (const outcome of ['denied', 'unauthenticated', 'circuit-open', 'client-error'] as const) {
      assert.deepEqual(decideRetry(input({ outcome })), { retry: false, reason: 'not-retryable' });
    }
  });

  it('retries only what retryOn lists', () => {
    assert.deepEqual(decideRetry(input({ outcome: 'throttled', retryOn: ['timeout'] })), {
      retry: false,
      reason: 'not-retryable',
    });
  });

  it('retries a function error only on an idempotent edge that lists it', () => {
    const retryOn = ['function-error', 'service-error'] as const;
    const ran = { outcome: 'function-error', delivery: 'delivered', retryOn: [...retryOn] } as const;
    assert.deepEqual(decideRetry(input({ ...ran, idempotent: false })), {
      retry: false,
      reason: 'not-idempotent',
    });
    assert.deepEqual(decideRetry(input({ ...ran, idempotent: true })), {
      retry: true,
      delayMs: 20,
    });
    assert.deepEqual(
      decideRetry(input({ outcome: 'function-error', delivery: 'delivered', idempotent: true })),
      {
        retry: false,
        reason: 'not-retryable',
      },
      'the defaults do not list function-error',
    );
  });

  describe('on an edge that is not idempotent', () => {
    const retryOn = ['throttled', 'service-error', 'timeout', 'function-error'] as const;
    const notIdempotent = (outcome: RetryDecisionInput['outcome'], delivery: RetryDecisionInput['delivery']) =>
      decideRetry(input({ outcome, delivery, idempotent: false, retryOn: [...retryOn] }));

    it('retries a throttled attempt (it never reached the handler)', () => {
      assert.deepEqual(notIdempotent('throttled', 'not-delivered'), { retry: true, delayMs: 20 });
    });

    it('retries a connection refused before the request was written', () => {
      assert.deepEqual(notIdempotent('service-error', 'not-delivered'), { retry: true, delayMs: 20 });
    });

    it('retries a function that did not start', () => {
      assert.deepEqual(notIdempotent('function-error', 'not-delivered'), { retry: true, delayMs: 20 });
    });

    it('does not retry a per-try timeout: the handler may still be running', () => {
      assert.deepEqual(notIdempotent('timeout', 'unknown'), { retry: false, reason: 'outcome-unknown' });
    });

    it('does not retry a dropped connection or a 5xx after sending', () => {
      assert.deepEqual(notIdempotent('service-error', 'unknown'), { retry: false, reason: 'outcome-unknown' });
    });

    it('does not retry a handler that threw', () => {
      assert.deepEqual(notIdempotent('function-error', 'delivered'), { retry: false, reason: 'not-idempotent' });
    });

    it('ends "outcome unknown" only when the last attempt may have run without a known end', () => {
      assert.equal(isOutcomeUnknown(false, 'unknown'), true);
      assert.equal(isOutcomeUnknown(false, 'delivered'), false);
      assert.equal(isOutcomeUnknown(false, 'not-delivered'), false);
      assert.equal(isOutcomeUnknown(true, 'unknown'), false, 'idempotent edges report the outcome as it is');
    });

    it('ends "outcome unknown" when a last refusal follows an attempt that may have run (any edge)', () => {
      for (const idempotent of [true, false]) {
        assert.equal(isOutcomeUnknown(idempotent, 'not-delivered', true), true, 'throttled after a timeout');
        assert.equal(isOutcomeUnknown(idempotent, 'not-delivered', false), false, 'throttled only');
      }
      assert.equal(isOutcomeUnknown(true, 'delivered', true), false, 'the handler answered at last');
    });
  });

  it('keeps retrying timeouts and dropped connections on an idempotent edge', () => {
    for (const outcome of ['timeout', 'service-error'] as const) {
      assert.deepEqual(decideRetry(input({ outcome, delivery: 'unknown', idempotent: true })), {
        retry: true,
        delayMs: 20,
      });
    }
  });

  it('stops when the attempts are used up', () => {
    assert.equal(decideRetry(input({ attempt: 2, maxAttempts: 3 })).retry, true);
    assert.deepEqual(decideRetry(input({ attempt: 3, maxAttempts: 3 })), {
      retry: false,
      reason: 'attempts-exhausted',
    });
  });

  it('stops when the backoff would leave no time before the deadline', () => {
    assert.deepEqual(decideRetry(input({ delayMs: 300, endsBy: NOW + 300 })), { retry: false, reason: 'deadline' });
    assert.equal(decideRetry(input({ delayMs: 300, endsBy: NOW + 400, minAttemptMs: 50 })).retry, true);
    assert.deepEqual(decideRetry(input({ delayMs: 300, endsBy: NOW + 400, minAttemptMs: 150 })), {
      retry: false,
      reason: 'deadline',
    });
  });

  it('stops when the retry budget is spent, and only asks it (the runtime records the retry)', () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0.1 }); // 1 retry per 10 s
    assert.equal(decideRetry(input({ budget })).retry, true);
    assert.equal(decideRetry(input({ budget })).retry, true, 'asking does not spend');
    budget.recordRetry(NOW);
    assert.deepEqual(decideRetry(input({ budget })), { retry: false, reason: 'budget-exhausted' });
  });
});
