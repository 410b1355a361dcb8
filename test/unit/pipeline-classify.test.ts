/** Stage `classify`: what an attempt came to, and the error a call that stops there ends with. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MeshCallError,
  MeshDeniedError,
  MeshOutcomeUnknownError,
  MeshRemoteError,
  MeshThrottledError,
  MeshTimeoutError,
  MeshUnauthenticatedError,
} from '../../functions/mesh/errors';
import type { AttemptContext, AttemptOutcome } from '../../functions/mesh/pipeline/call-context';
import { answerOf, classify, errorOf, parseRemoteError, unknownOutcome } from '../../functions/mesh/pipeline/classify';
import { route } from '../../functions/mesh/pipeline/route';
import type { Sent } from '../../functions/mesh/pipeline/send';
import type { InvokeResponse } from '../../functions/mesh/transport/lambda-invoke';
import { fixture, functionError, ok, planOf, readyCall, T0 } from '../support/pipeline-fixture';

async function attempt(): Promise<AttemptContext> {
  const { state } = fixture();
  const call = await readyCall(state);
  return route(call, planOf(call));
}
const answer = (response: InvokeResponse): Sent => ({ response, endedAt: T0 + 3 });
const failure = (error: unknown, timedOut = false): Sent => ({ error, timedOut, endedAt: T0 + 3 });

describe('pipeline stage: classify', () => {
  test('an answer: success under the version that ran, its body decoded', async () => {
    const o = classify(await attempt(), answer(ok({ paid: 1 }, '4')));
    assert.deepEqual([o.outcome, o.version, o.endedAt], ['success', '4', T0 + 3]);
    assert.deepEqual(answerOf(o), { paid: 1 });
    assert.equal(answerOf(classify(await attempt(), answer({ statusCode: 200, payload: Buffer.from('') }))), undefined);
    assert.equal(answerOf(classify(await attempt(), answer({ statusCode: 200, payload: Buffer.from('hi') }))), 'hi');
  });

  test("a function error: the callee's error type and message; no executed version: the route's", async () => {
    const o = classify(
      await attempt(),
      answer({ ...functionError('CardDeclined', 'no funds'), executedVersion: undefined }),
    );
    assert.deepEqual([o.outcome, o.version, o.remote?.errorType], ['function-error', 'live', 'CardDeclined']);
    const err = errorOf('payments', o, planOf((await attempt()).call).timeout);
    assert.ok(err instanceof MeshRemoteError && err.errorType === 'CardDeclined' && err.errorMessage === 'no funds');
  });

  test('an HTTP status: 503 a service error with the body as message; 401 unauthenticated', async () => {
    const a = await attempt();
    const o = classify(a, answer({ statusCode: 503, payload: Buffer.from('{"errorMessage":"busy"}') }));
    assert.deepEqual([o.outcome, o.remote?.errorMessage], ['service-error', 'busy']);
    const failed = errorOf('payments', o, a.timeout);
    assert.ok(failed instanceof MeshRemoteError);
    assert.equal(failed.message, 'mesh: payments failed (503): busy');
    const denied = classify(a, answer({ statusCode: 401, payload: Buffer.from('x') }));
    assert.equal(denied.outcome, 'unauthenticated');
    assert.equal(errorOf('payments', denied, a.timeout).message, 'mesh: payments refused the call: unauthenticated');
    const bad = classify(a, answer({ statusCode: 400, payload: Buffer.from('{"errorMessage":"no sku"}') }));
    assert.equal(bad.remote?.errorMessage, 'no sku', 'from 400 on, the body is the message');
    assert.equal(classify(a, answer({ statusCode: 399, payload: Buffer.from('{}') })).remote, undefined);
  });

  test("a handler's own error named like an AWS refusal is a function error; a fault item's abort keeps its name", async () => {
    const a = await attempt();
    // The handler's own class may carry a mesh word inside its name (ShopMeshDeniedError): only a name
    // that starts with one of the mesh's or Lambda's is theirs.
    const own = ['TooManyRequestsException', 'ThrottlingException', 'AccessDeniedException', 'TimeoutError'];
    for (const name of [...own, 'ShopMeshDeniedError', 'Shop.Runtime.Error']) {
      const o = classify(a, answer(functionError(name, 'Rate exceeded')));
      assert.deepEqual([o.outcome, o.result.errorType, o.remote?.errorType], ['function-error', undefined, name]);
    }
    const injected = classify(
      a,
      answer(functionError('TooManyRequestsException', "fault injected by payments's fault item (abort)")),
    );
    assert.equal(injected.outcome, 'throttled');
    assert.equal(
      classify(a, answer(functionError('Runtime.ImportModuleError', 'x'))).result.errorType,
      'Runtime.ImportModuleError',
    );
  });

  test("Lambda's own timeout (Sandbox.Timedout) and a dropped connection: named in the error", async () => {
    const a = await attempt();
    const timedOut = classify(a, answer(functionError('Sandbox.Timedout', 'Task timed out after 3.00 seconds')));
    const err = errorOf('payments', timedOut, a.timeout);
    assert.ok(err instanceof MeshTimeoutError);
    assert.equal(err.message, 'mesh: call to payments timed out (Sandbox.Timedout): Task timed out after 3.00 seconds');
    const reset = classify(
      a,
      failure(Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' })),
    );
    const e2 = errorOf('payments', reset, a.timeout);
    assert.ok(e2 instanceof MeshRemoteError);
    assert.equal(e2.message, 'mesh: payments failed (Error): socket hang up');
  });

  test("a transport error: timed out at the attempt's timeout, or its name and status", async () => {
    const a = await attempt();
    assert.equal(classify(a, failure(new Error('aborted'), true)).outcome, 'timeout');
    const throttled = Object.assign(new Error('slow down'), {
      name: 'TooManyRequestsException',
      $metadata: { httpStatusCode: 429 },
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
    });
    const o = classify(a, failure(throttled));
    assert.deepEqual([o.outcome, o.version, o.result.statusCode], ['throttled', 'live', 429]);
    const err = errorOf('payments', o, a.timeout);
    assert.ok(err instanceof MeshThrottledError);
    assert.equal(err.reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    assert.equal(err.message, 'mesh: payments is throttled (429 TooManyRequestsException): slow down');
  });

  test("the call's error: refusals say only what and the callee's request id", async () => {
    const a = await attempt();
    const refusal = (errorType: string) =>
      errorOf(
        'payments',
        classify(
          a,
          answer(functionError(errorType, 'mesh: payments refused the call: denied (request r-42) because of x')),
        ),
        a.timeout,
      );
    const denied = refusal('MeshDeniedError');
    assert.ok(denied instanceof MeshDeniedError);
    assert.equal(denied.message, 'mesh: payments refused the call: denied (request r-42)');
    assert.ok(refusal('MeshUnauthenticatedError') instanceof MeshUnauthenticatedError);
  });

  test('timeouts name their bound; a bad request keeps its status', async () => {
    const a = await attempt();
    const timedOut = errorOf('payments', classify(a, failure(new Error('aborted'), true)), a.timeout);
    assert.ok(timedOut instanceof MeshTimeoutError && /per-try timeout of 3000 ms/.test(timedOut.message));
    const notFound = Object.assign(new Error('Function not found'), {
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
    const err = errorOf('payments', classify(a, failure(notFound)), a.timeout);
    assert.ok(err instanceof MeshCallError && err.status === 404);
    assert.equal(
      err.message,
      'mesh: the Invoke of payments was rejected (ResourceNotFoundException): Function not found',
    );
  });

  test('an error the classifier does not know, under a 4xx: a bad request with its name and status', async () => {
    const a = await attempt();
    // SQS through the AWS SDK: an error its model lacks, named after the `x-amzn-query-error` code.
    const sqsError = Object.assign(new Error('Value x for parameter DelaySeconds is invalid.'), {
      name: 'InvalidParameterValue',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    const o = classify(a, failure(sqsError));
    assert.equal(o.outcome, 'client-error');
    const err = errorOf('orders', o, a.timeout);
    assert.ok(err instanceof MeshCallError && err.status === 400);
    assert.equal(
      err.message,
      'mesh: the Invoke of orders was rejected (InvalidParameterValue): Value x for parameter DelaySeconds is invalid.',
    );
  });

  test('a body that is not an error object: its first 1000 characters are the message, the type is Error', () => {
    const text = `${'a'.repeat(999)}bc`;
    assert.deepEqual(parseRemoteError(Buffer.from(text)), { errorType: 'Error', errorMessage: text.slice(0, 1000) });
    const json = JSON.stringify({ errorType: 7, detail: 'x'.repeat(1200) });
    const parsed = parseRemoteError(Buffer.from(json));
    assert.deepEqual(parsed, { errorType: 'Error', errorMessage: json.slice(0, 1000) });
    assert.equal(parsed.errorMessage.length, 1000);
  });

  test('an outcome that names nothing: the errors fall back to Error, ServiceError and status 400', async () => {
    const a = await attempt();
    const bare = (outcome: AttemptOutcome['outcome']) =>
      errorOf('payments', { result: {}, outcome, version: 'live', endedAt: T0 }, a.timeout);
    const fnError = bare('function-error');
    assert.ok(fnError instanceof MeshRemoteError);
    assert.deepEqual([fnError.errorType, fnError.errorMessage], ['Error', '']);
    const failed = bare('service-error');
    assert.ok(failed instanceof MeshRemoteError);
    assert.deepEqual([failed.errorType, failed.errorMessage], ['ServiceError', '']);
    const rejected = bare('client-error');
    assert.ok(rejected instanceof MeshCallError);
    assert.equal(rejected.status, 400);
  });

  test('outcome unknown: the last error, the attempts and the key to reconcile with', () => {
    const last = new MeshTimeoutError('mesh: call to payments timed out');
    const err = unknownOutcome('payments', 'k-5', 2, last);
    assert.ok(err instanceof MeshOutcomeUnknownError);
    assert.equal(err.status, last.status);
    assert.match(err.message, /unknown after 2 attempt\(s\) \(last: mesh: call to payments timed out\)/);
    assert.match(err.message, /Reconcile with idempotency key k-5$/);
  });
});
