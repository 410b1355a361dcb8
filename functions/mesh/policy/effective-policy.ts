/**
 * Whether `source` may call a service (`admission`), and with which traffic policy (`effectivePolicy`).
 * Deny by default: only an allow#<source> item opens an edge (`external` callers too, through
 * allow#external); a deny#<source> item wins over it. The traffic policy merges DEFAULTS, the service's
 * traffic item and the edge's allow item field by field, in the order shared/traffic-precedence.ts
 * defines (an operator's item over a deploy-time one, the edge over the service), with every field
 * filled. The inbound check asks only for admission: the traffic policy is the caller's to apply.
 */

import type { AllowItem } from '../../../shared/policy';
import { type ResolvedTrafficPolicy, resolveTrafficPolicy, trafficLayers } from '../../../shared/traffic-precedence';
import type { ServicePolicy } from './service-policy';

export { type ResolvedTrafficPolicy, resolveTrafficPolicy };

/**
 * `stale-policy`: the copy is older than the cache allows for authorization and the table could not be
 * read. `policy-read-refused`: the same, or nothing known, after IAM refused the caller's read of it.
 */
export type DenyReason = 'no-edge' | 'denied' | 'unknown-service' | 'stale-policy' | 'policy-read-refused';

/** Why a caller is refused: the reason, and the detail for the callee's log. */
export interface Refused {
  readonly allowed: false;
  readonly reason: DenyReason;
  readonly detail: string;
}

export type EffectivePolicy = { readonly allowed: true; readonly policy: ResolvedTrafficPolicy } | Refused;

/** Whether the edge is open, and the allow item that opens it. */
export type Admission = { readonly allowed: true; readonly allow: AllowItem } | Refused;

/** `policy` is the target's policy (undefined or empty = unknown service: fail closed). */
export function effectivePolicy(policy: ServicePolicy | undefined, source: string): EffectivePolicy {
  const a = admission(policy, source);
  if (!a.allowed) return a;
  return { allowed: true, policy: resolveTrafficPolicy(...trafficLayers(policy!.traffic, a.allow)) };
}

/**
 * Whether `source` may call the service of `policy`, without its traffic policy. The refusals are
 * worded in their own file (refusal-detail.ts), loaded on the first refusal: an admitted first request
 * neither loads nor compiles their texts.
 */
export function admission(policy: ServicePolicy | undefined, source: string): Admission {
  if (!policy || (policy.items.size === 0 && policy.brokenDenies.size === 0)) return refusals().unknownService(policy);
  const deny = policy.denies.get(source);
  if (deny || policy.brokenDenies.has(source)) return refusals().deniedBy(policy, source, deny);
  const allow = policy.allows.get(source);
  return allow ? { allowed: true, allow } : refusals().noEdge(policy, source);
}

/** The refusals' wording. */
export function refusals(): typeof import('./refusal-detail') {
  return require('./refusal-detail') as typeof import('./refusal-detail');
}
