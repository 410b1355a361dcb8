import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryBudget } from '../../functions/mesh/resilience/retry-budget';
import {
  classifyOutcome,
  countsAsFailure,
  decideRetry,
  type RetryDecisionInput,
} from '../../functions/mesh/resilience/retry-decision';
import { DEFAULTS } from '../../shared/policy';

const NOW = 1_700_000_000_000;

function input(over: Partial<RetryDecisionInput>): RetryDecisionInput {
  return {
    outcome: 'service-error',
    attempt: 1,
    maxAttempts: 3,
    retryOn: DEFAULTS.retries.retryOn,
    idempotent: false,
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
    ['a handler that threw', { statusCode: 200, functionError: 'Unhandled', errorType: 'TypeError' }, 'function-error'],
    ['a 5xx from the service', { errorName: 'ServiceException', statusCode: 500 }, 'service-error'],
    ['a reset connection', { errorCode: 'ECONNRESET' }, 'service-error'],
    ['an HTTP 503', { statusCode: 503 }, 'service-error'],
    ['no such function', { errorName: 'ResourceNotFoundException', statusCode: 404 }, 'client-error'],
    ['an HTTP 400', { statusCode: 400 }, 'client-error'],
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
    assert.deepEqual(decideRetry(input({ outcome: 'function-error', retryOn: [...retryOn], idempotent: false })), {
      retry: false,
      reason: 'not-idempotent',
    });
    assert.deepEqual(decideRetry(input({ outcome: 'function-error', retryOn: [...retryOn], idempotent: true })), {
      retry: true,
      delayMs: 20,
    });
    assert.deepEqual(
      decideRetry(input({ outcome: 'function-error', idempotent: true })),
      {
        retry: false,
        reason: 'not-retryable',
      },
      'the defaults do not list function-error',
    );
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
