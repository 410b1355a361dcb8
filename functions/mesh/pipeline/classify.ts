/**
 * Stage `classify`: what an attempt came to (outcome, the version that ran, the callee's error), and
 * the error a call that stops there ends with. Pure: the transport's observations come in.
 */

import { type AttemptTimeout, describeBound } from '../resilience/deadline';
import { type AttemptResult, classifyOutcome } from '../resilience/retry-decision';
import type { AttemptContext, AttemptOutcome } from './call-context';
import {
  MeshCallError,
  MeshDeniedError,
  type MeshError,
  MeshOutcomeUnknownError,
  MeshRemoteError,
  MeshThrottledError,
  MeshTimeoutError,
  MeshUnauthenticatedError,
} from './errors';
import type { Sent } from './send';

const decoder = new TextDecoder();

export function classify(a: AttemptContext, sent: Sent): AttemptOutcome {
  const { endedAt } = sent;
  if (!('response' in sent)) {
    const e = sent.error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    const result: AttemptResult = {
      timedOut: sent.timedOut,
      statusCode: e.$metadata?.httpStatusCode,
      errorName: e.name,
      errorCode: e.code,
    };
    return { result, outcome: classifyOutcome(result), version: a.routeVersion, error: sent.error, endedAt };
  }
  const response = sent.response;
  const version = response.executedVersion ?? a.routeVersion;
  if (response.functionError) {
    const remote = parseRemoteError(response.payload);
    const result: AttemptResult = {
      statusCode: response.statusCode,
      functionError: response.functionError,
      // Only Lambda (`Sandbox.`, `Runtime.`) and the callee's mesh (its `Mesh…` errors, a fault item's
      // abort: inbound-fault.ts) say by the name whether the handler ran. Any other name is the handler's
      // own error, after whatever it did: an AWS SDK throttle of its own call is no throttle of this one.
      errorType:
        /^(Mesh|Sandbox\.|Runtime\.)/.test(remote.errorType) || remote.errorMessage.startsWith('fault injected')
          ? remote.errorType
          : undefined,
    };
    return { result, outcome: classifyOutcome(result), response, version, remote, endedAt };
  }
  // An HTTP target answers errors with a status (classified by it) and a body for the message.
  const result: AttemptResult = { statusCode: response.statusCode };
  const remote = response.statusCode >= 400 ? parseRemoteError(response.payload) : undefined;
  return { result, outcome: classifyOutcome(result), response, version, ...(remote ? { remote } : {}), endedAt };
}

/** The answer of a successful attempt: JSON, nothing, or (an HTTP target) plain text. */
export function answerOf<T>(o: AttemptOutcome): T {
  const text = decoder.decode(o.response!.payload);
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}

/** The error a call ends with when its last attempt came to `o` (`timeout` bounded the attempt). */
export function errorOf(target: string, o: AttemptOutcome, timeout: AttemptTimeout): MeshError {
  const remoteMsg = o.remote?.errorMessage ?? (o.error as Error | undefined)?.message ?? '';
  switch (o.outcome) {
    // A refusal says what and the callee's request id, never more (whatever the callee sent).
    case 'denied':
      return new MeshDeniedError(`mesh: ${target} refused the call: denied${requestIdIn(remoteMsg)}`);
    case 'unauthenticated':
      return new MeshUnauthenticatedError(`mesh: ${target} refused the call: unauthenticated${requestIdIn(remoteMsg)}`);
    case 'timeout':
      return new MeshTimeoutError(
        o.result.timedOut
          ? `mesh: call to ${target} timed out: ${describeBound(timeout)}`
          : `mesh: call to ${target} timed out (${o.remote?.errorType ?? o.result.errorName}): ${remoteMsg}`,
      );
    case 'throttled':
      return new MeshThrottledError(
        `mesh: ${target} is throttled (429 TooManyRequestsException): ${remoteMsg}`,
        (o.error as { Reason?: string } | undefined)?.Reason,
      );
    case 'function-error':
      return new MeshRemoteError(o.remote?.errorType ?? 'Error', o.remote?.errorMessage ?? '');
    case 'client-error':
      return new MeshCallError(
        `mesh: the Invoke of ${target} was rejected (${o.result.errorName ?? o.result.statusCode}): ${remoteMsg}`,
        o.result.statusCode ?? 400,
      );
    default:
      return new MeshRemoteError(
        o.result.errorName ?? o.remote?.errorType ?? 'ServiceError',
        remoteMsg,
        `mesh: ${target} failed (${o.result.errorName ?? o.result.statusCode}): ${remoteMsg}`,
      );
  }
}

/** The error of a call that may have run the handler without a known end (see `isOutcomeUnknown`). */
export function unknownOutcome(
  target: string,
  idk: string,
  attempts: number,
  seen: MeshError,
): MeshOutcomeUnknownError {
  return new MeshOutcomeUnknownError(
    target,
    idk,
    `mesh: the outcome of the call to ${target} is unknown after ${attempts} attempt(s) (last: ${seen.message}); ` +
      `an attempt may have run without an answer. Reconcile with idempotency key ${idk}`,
    seen.status,
  );
}

/** ` (request <id>)` as the callee's refusal quoted it, or nothing. */
function requestIdIn(message: string): string {
  const m = /\(request ([A-Za-z0-9_-]{1,128})\)/.exec(message);
  return m ? ` (request ${m[1]})` : '';
}

/** The `errorType` / `errorMessage` of a function error body (Node and other runtimes' shapes). */
export function parseRemoteError(payload: Uint8Array): { errorType: string; errorMessage: string } {
  const text = decoder.decode(payload);
  try {
    const b = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
    return {
      errorType: typeof b.errorType === 'string' ? b.errorType : 'Error',
      errorMessage: typeof b.errorMessage === 'string' ? b.errorMessage : text.slice(0, 1000),
    };
  } catch {
    return { errorType: 'Error', errorMessage: text.slice(0, 1000) };
  }
}
