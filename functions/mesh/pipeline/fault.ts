/**
 * Stage `fault`: the target's `fault` item, drawn per attempt (resilience/fault-injection.ts): a
 * delay before the attempt, within its timeout, and an abort that fails it without sending anything.
 */
import { decideFault } from '../resilience/fault-injection';
import { type AttemptResult, classifyOutcome } from '../resilience/retry-decision';
import type { AttemptContext, AttemptOutcome } from './call-context';

/** The injected abort's outcome, or undefined to send the attempt (after any injected delay). */
export async function injectFault(a: AttemptContext): Promise<AttemptOutcome | undefined> {
  const { call } = a;
  if (!call.policy.fault) return undefined;
  const fault = decideFault(call.policy.fault, call.client.random);
  if (fault.delayMs > 0) await call.client.sleep(Math.min(fault.delayMs, a.timeout.timeoutMs));
  if (!fault.abort) return undefined;
  const errorType = fault.abort.errorType;
  const result: AttemptResult = { statusCode: 200, functionError: 'Unhandled', errorType };
  return {
    result,
    outcome: classifyOutcome(result),
    version: a.routeVersion,
    remote: { errorType, errorMessage: `fault injected by ${call.target}'s fault item (abort)` },
    endedAt: call.client.now(),
  };
}
