/**
 * `effectivePolicy` (the pure decision, policy/effective-policy.ts) memoised per policy copy and
 * source: the policy cache hands out the same ServicePolicy object until it is re-read, so the merge
 * of DEFAULTS, traffic and allow item runs once per copy instead of on every call. `authorize` adds
 * the copy's age: authorization never decides on a copy older than the cache's bound.
 */
import {
  type Admission,
  admission,
  type EffectivePolicy,
  effectivePolicy,
  type Refused,
  refusals,
} from './policy/effective-policy';
import type { ServicePolicy } from './policy/service-policy';

const memo = new WeakMap<ServicePolicy, Map<string, EffectivePolicy>>();

export function decide(policy: ServicePolicy, source: string): EffectivePolicy {
  let bySource = memo.get(policy);
  if (!bySource) {
    bySource = new Map();
    memo.set(policy, bySource);
  }
  let d = bySource.get(source);
  if (!d) {
    d = effectivePolicy(policy, source);
    bySource.set(source, d);
  }
  return d;
}

/** How old a copy authorization may use (PolicyCache.maxAuthorizationAgeMs) and the time now. */
export interface Freshness {
  readonly now: number;
  readonly maxAgeMs: number;
  /** IAM refused this function's last read of the target's policy (PolicyCache.freshness of a call). */
  readonly readRefused?: boolean;
}

/**
 * `decide`, refused when the copy is older than `maxAgeMs`: the cache reads the table before it hands
 * out such a copy, so an older one means the table could not be read. Authorization then fails closed.
 * When IAM refused that read (a copy past the bound, or none at all), the refusal says so: the table is
 * not the cause, the caller's role is (it names the partitions of its declared targets only).
 */
export function authorize(policy: ServicePolicy, source: string, freshness: Freshness): EffectivePolicy {
  const stale = staleRefusal(policy, freshness);
  if (freshness.readRefused && (stale || policy.origin === 'none')) return refusals().readRefused(policy, source);
  return stale ?? decide(policy, source);
}

/** `authorize` without the traffic policy: what the inbound check needs (no traffic merge to load or run). */
export function admit(policy: ServicePolicy, source: string, freshness: Freshness): Admission {
  return staleRefusal(policy, freshness) ?? admission(policy, source);
}

function staleRefusal(policy: ServicePolicy, freshness: Freshness): Refused | undefined {
  const age = freshness.now - policy.loadedAt;
  return age <= freshness.maxAgeMs ? undefined : refusals().staleCopy(policy, age, freshness.maxAgeMs);
}
