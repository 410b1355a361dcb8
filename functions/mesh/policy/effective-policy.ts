/**
 * Whether `source` may call a service, and with which traffic policy. Deny by default:
 * only an allow#<source> item opens an edge (`external` callers too, through allow#external);
 * a deny#<source> item wins over it. The traffic policy is DEFAULTS <- the service's traffic item
 * <- the edge's allow item, field by field, with every field filled.
 */
import { EXTERNAL, SORT_KEY } from '../../../shared/names';
import { DEFAULTS, type RetryOn, type TrafficPolicy } from '../../../shared/policy';
import type { ServicePolicy } from './service-policy';

export interface ResolvedTrafficPolicy {
  readonly timeoutMs: number;
  readonly perTryTimeoutMs: number;
  readonly idempotent: boolean;
  readonly retries: {
    readonly maxAttempts: number;
    readonly baseDelayMs: number;
    readonly maxDelayMs: number;
    readonly retryOn: readonly RetryOn[];
  };
  readonly budget: { readonly ratio: number; readonly minPerSecond: number };
  readonly breaker: {
    readonly consecutiveFailures: number;
    readonly failureRateThreshold: number;
    readonly windowSize: number;
    readonly openMs: number;
  };
}

/** `stale-policy`: the copy is older than the cache allows for authorization and the table could not be read. */
export type DenyReason = 'no-edge' | 'denied' | 'unknown-service' | 'stale-policy';

export type EffectivePolicy =
  | { readonly allowed: true; readonly policy: ResolvedTrafficPolicy }
  | { readonly allowed: false; readonly reason: DenyReason; readonly detail: string };

/** `policy` is the target's policy (undefined or empty = unknown service: fail closed). */
export function effectivePolicy(policy: ServicePolicy | undefined, source: string): EffectivePolicy {
  if (!policy || (policy.items.size === 0 && policy.brokenDenies.size === 0)) {
    const name = policy?.service ?? 'the target';
    return {
      allowed: false,
      reason: 'unknown-service',
      detail: `no policy is known for ${name}; is it a mesh service, and can this function read the policy table?`,
    };
  }
  const deny = policy.denies.get(source);
  if (deny || policy.brokenDenies.has(source)) {
    const why = deny?.reason
      ? `: ${deny.reason}`
      : policy.brokenDenies.has(source)
        ? ' (its deny item is malformed; denying to be safe)'
        : '';
    return {
      allowed: false,
      reason: 'denied',
      detail: `${source} is denied by ${policy.service}/${SORT_KEY.deny(source)}${why}`,
    };
  }
  const allow = policy.allows.get(source);
  if (!allow) {
    const fix =
      source === EXTERNAL
        ? `add ${SORT_KEY.allow(EXTERNAL)} to ${policy.service} to accept calls from outside the mesh`
        : `declare the edge (${source}.allowCallsTo(${policy.service})) or add ${policy.service}/${SORT_KEY.allow(source)}`;
    return { allowed: false, reason: 'no-edge', detail: `${source} may not call ${policy.service}: ${fix}` };
  }
  return { allowed: true, policy: resolveTrafficPolicy(policy.traffic, allow) };
}

/** DEFAULTS <- each layer in order, field by field (nested objects merged, not replaced). */
export function resolveTrafficPolicy(...layers: ReadonlyArray<TrafficPolicy | undefined>): ResolvedTrafficPolicy {
  const d = DEFAULTS;
  let timeoutMs: number = d.timeoutMs;
  let perTryTimeoutMs: number = d.perTryTimeoutMs;
  let idempotent: boolean = d.idempotent;
  const retries = { ...d.retries, retryOn: d.retries.retryOn as readonly RetryOn[] } as {
    maxAttempts: number;
    baseDelayMs: number;
    maxDelayMs: number;
    retryOn: readonly RetryOn[];
  };
  const budget = { ...d.budget } as { ratio: number; minPerSecond: number };
  const breaker = { ...d.breaker } as ResolvedTrafficPolicy['breaker'] & Record<string, number>;
  for (const l of layers) {
    if (!l) continue;
    if (l.timeoutMs !== undefined) timeoutMs = l.timeoutMs;
    if (l.perTryTimeoutMs !== undefined) perTryTimeoutMs = l.perTryTimeoutMs;
    if (l.idempotent !== undefined) idempotent = l.idempotent;
    assignDefined(retries, l.retries);
    assignDefined(budget, l.budget);
    assignDefined(breaker, l.breaker);
  }
  // Layers are valid one by one but may clash once merged (a 500 ms timeout over the default
  // 3 s per-try): the tighter limit wins.
  perTryTimeoutMs = Math.min(perTryTimeoutMs, timeoutMs);
  retries.baseDelayMs = Math.min(retries.baseDelayMs, retries.maxDelayMs);
  return {
    timeoutMs,
    perTryTimeoutMs,
    idempotent,
    retries: { ...retries, retryOn: [...retries.retryOn] },
    budget,
    breaker,
  };
}

function assignDefined<T extends object>(target: T, src: Partial<T> | undefined): void {
  if (!src) return;
  for (const [k, v] of Object.entries(src)) {
    if (v !== undefined) (target as Record<string, unknown>)[k] = v;
  }
}
