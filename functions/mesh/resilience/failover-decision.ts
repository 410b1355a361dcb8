/**
 * Whether a call whose target failed goes to the target's declared fallback. Pure: the pipeline
 * passes in how the call ended and what the edge declares.
 *
 * - Taken when the target is unavailable: its breaker is open, it stayed throttled past the
 *   retries, or it failed with a service error or a timeout.
 * - A function error (the handler ran and threw) only when the fallback says `onFunctionError`.
 * - Never for a refusal (denied, unauthenticated), a bad request, or the caller's own rate limit.
 * - On an edge that is not idempotent only when no attempt may have reached the handler: the
 *   fallback would repeat its side effects (delivery.ts decides what "provably never arrived" means).
 */
import type { FallbackPolicy } from '../../../shared/policy';
import type { Delivery } from './delivery';
import type { Outcome } from './retry-decision';

export interface FailoverInput {
  readonly fallback: FallbackPolicy | undefined;
  readonly outcome: Outcome;
  readonly idempotent: boolean;
  /** Whether the last attempt reached the handler. */
  readonly lastDelivery: Delivery;
  /** An earlier attempt may have run the handler. */
  readonly mayHaveRun: boolean;
}

export type NoFailoverReason = 'no-fallback' | 'not-unavailable' | 'function-error' | 'may-have-run';

export type FailoverDecision =
  | { readonly failover: true }
  | { readonly failover: false; readonly reason: NoFailoverReason };

const UNAVAILABLE: ReadonlySet<Outcome> = new Set(['circuit-open', 'throttled', 'service-error', 'timeout']);

export function decideFailover(input: FailoverInput): FailoverDecision {
  const { fallback, outcome } = input;
  if (!fallback) return { failover: false, reason: 'no-fallback' };
  if (outcome === 'function-error') {
    if (!fallback.onFunctionError) return { failover: false, reason: 'function-error' };
  } else if (!UNAVAILABLE.has(outcome)) {
    return { failover: false, reason: 'not-unavailable' };
  }
  if (!input.idempotent && (input.lastDelivery !== 'not-delivered' || input.mayHaveRun)) {
    return { failover: false, reason: 'may-have-run' };
  }
  return { failover: true };
}

/** The region of a Lambda function ARN and the ARN without its qualifier, and the qualifier. */
export function splitFunctionArn(arn: string): { region: string; unqualified: string; qualifier?: string } {
  const parts = arn.split(':');
  const unqualified = parts.slice(0, 7).join(':');
  return { region: parts[3]!, unqualified, ...(parts[7] ? { qualifier: parts[7] } : {}) };
}
