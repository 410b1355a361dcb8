/** Typed errors, the outcome classification of remote refusals, and the endpoint's error bodies. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  errorBody,
  MeshCircuitOpenError,
  MeshDeadlineExceededError,
  MeshDeniedError,
  MeshError,
  MeshRemoteError,
  MeshThrottledError,
  MeshTimeoutError,
  MeshUnauthenticatedError,
} from '../../functions/mesh/errors';
import { parseRemoteError } from '../../functions/mesh/pipeline/classify';
import { classifyOutcome } from '../../functions/mesh/resilience/retry-decision';

describe('runtime errors', () => {
  test('every error extends MeshError with a code and an HTTP status', () => {
    const cases: Array<[MeshError, string, number]> = [
      [new MeshDeniedError('x'), 'MeshDenied', 403],
      [new MeshUnauthenticatedError('x'), 'MeshUnauthenticated', 401],
      [new MeshTimeoutError('x'), 'MeshTimeout', 504],
      [new MeshDeadlineExceededError('x'), 'MeshDeadlineExceeded', 504],
      [new MeshCircuitOpenError('payments', '2', 'x'), 'MeshCircuitOpen', 503],
      [new MeshRemoteError('CardDeclined', 'no'), 'MeshRemoteError', 502],
      [new MeshThrottledError('x'), 'MeshThrottled', 429],
    ];
    for (const [e, code, status] of cases) {
      assert.ok(e instanceof MeshError && e instanceof Error);
      assert.equal(e.code, code);
      assert.equal(e.status, status);
      assert.equal(errorBody(e).status, status);
    }
  });

  test("the callee's refusals, seen as errorType, classify as the caller's outcomes", () => {
    // The Node runtime reports error.name as errorType; the wrapper's refusals carry these names.
    const seen = (e: Error) => classifyOutcome({ statusCode: 200, functionError: 'Unhandled', errorType: e.name });
    assert.equal(seen(new MeshDeniedError('x')), 'denied');
    assert.equal(seen(new MeshUnauthenticatedError('x')), 'unauthenticated');
    assert.equal(seen(new MeshDeadlineExceededError('x')), 'timeout');
    assert.equal(seen(Object.assign(new Error('boom'), { name: 'TypeError' })), 'function-error');
    assert.equal(classifyOutcome({ errorName: 'TooManyRequestsException', statusCode: 429 }), 'throttled');
    assert.equal(
      classifyOutcome({ statusCode: 200, functionError: 'Unhandled', errorType: 'Sandbox.Timedout' }),
      'timeout',
    );
  });

  test('remote error bodies: Node shape, other shapes, garbage', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.deepEqual(parseRemoteError(enc('{"errorType":"TypeError","errorMessage":"x is undefined","trace":[]}')), {
      errorType: 'TypeError',
      errorMessage: 'x is undefined',
    });
    assert.deepEqual(parseRemoteError(enc('{"errorMessage":"m"}')), { errorType: 'Error', errorMessage: 'm' });
    assert.deepEqual(parseRemoteError(enc('not json')), { errorType: 'Error', errorMessage: 'not json' });
  });

  test('endpoint bodies carry the remote type and message, never more', () => {
    const b = errorBody(new MeshRemoteError('CardDeclined', 'card declined'));
    assert.deepEqual(b, {
      status: 502,
      body: {
        code: 'MeshRemoteError',
        errorType: 'CardDeclined',
        errorMessage: 'card declined',
        message: 'CardDeclined: card declined',
      },
    });
    assert.equal(errorBody(new Error('boom')).status, 500);
  });
});
