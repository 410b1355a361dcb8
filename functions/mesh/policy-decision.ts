/**
 * `effectivePolicy` (the pure decision, policy/effective-policy.ts) memoised per policy copy and
 * source: the policy cache hands out the same ServicePolicy object until it is re-read, so the merge
 * of DEFAULTS, traffic and allow item runs once per copy instead of on every call.
 */
import { type EffectivePolicy, effectivePolicy } from './policy/effective-policy';
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
