/**
 * Stage `failover`: a call whose target failed goes once to the fallback the edge (or the target's
 * `traffic` item) declares: another service, another version of the target, or the same function in
 * another region. The decision is resilience/failover-decision.ts (unavailable targets only, never a
 * repeated side effect on an edge that is not idempotent). The fallback call runs the whole pipeline
 * again (its own authorization, rate limits, breakers and retries) with the same idempotency key, and
 * has no fallback of its own. The target's failure stays recorded as it ended; the fallback's line
 * names the target it stood in for and counts in `fallback_total`.
 */
import type { FallbackPolicy } from '../../../shared/policy';
import { decideFailover, splitFunctionArn } from '../resilience/failover-decision';
import type { AttemptOutcome, AuthorizedCall, CallContext, CallMeta, Detour, ReadyCall } from './call-context';
import { startCall } from './call-context';

/** A call that answered, and the outcome of its last attempt. */
export interface Served {
  readonly call: ReadyCall;
  readonly answer: AttemptOutcome;
}

/**
 * After `primary` failed with `error`: the fallback's answer, or `error` again when the call does not
 * fail over (or the fallback's own error when it failed too).
 */
export async function failover(
  primary: CallContext,
  error: unknown,
  run: (call: CallContext) => Promise<Served>,
): Promise<Served> {
  const { traffic, alias } = primary as Partial<AuthorizedCall>;
  if (!traffic || primary.outcome === undefined || primary.detour) throw error;
  const decision = decideFailover({
    fallback: traffic.fallback,
    outcome: primary.outcome,
    idempotent: traffic.idempotent,
    lastDelivery: primary.lastDelivery,
    mayHaveRun: primary.mayHaveRun,
  });
  if (!decision.failover) throw error;
  const { target, detour } = fallbackOf(primary.target, traffic.fallback!, alias);
  const options = { ...primary.options, idempotencyKey: primary.idempotencyKey };
  return run(startCall(primary.client, target, primary.payload, options, 'call', detour));
}

/** Where the fallback goes: a service, a version of the target, or the target's function in a region. */
function fallbackOf(
  primary: string,
  fb: FallbackPolicy,
  alias: string | undefined,
): { target: string; detour: Detour } {
  if (fb.service !== undefined) return { target: fb.service, detour: { primary } };
  if (fb.version !== undefined) return { target: primary, detour: { primary, qualifier: fb.version } };
  const arn = splitFunctionArn(fb.functionArn!);
  return {
    target: primary,
    detour: { primary, functionArn: arn.unqualified, region: arn.region, qualifier: arn.qualifier ?? alias },
  };
}

/** Who answered, for `call(..., { withMeta: true })`. */
export function metaOf(served: Served): CallMeta {
  const { call, answer } = served;
  const d = call.detour;
  return {
    target: call.target,
    version: answer.version,
    ...(d?.region ? { region: d.region } : {}),
    fallback: d !== undefined,
    ...(d ? { primary: d.primary } : {}),
    attempts: call.attempts,
  };
}
