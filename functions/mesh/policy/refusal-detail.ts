/**
 * How a refused admission is worded: the reason and the detail the callee logs (a refused caller learns
 * only that it was refused). Its own file in the layer, required on the first refusal
 * (effective-policy.ts `refusals`): an admitted cold sandbox neither loads nor compiles these texts.
 */
import { EXTERNAL, SORT_KEY } from '../../../shared/names';
import type { DenyItem } from '../../../shared/policy';
import type { Refused } from './effective-policy';
import type { ServicePolicy } from './service-policy';

export function unknownService(policy: ServicePolicy | undefined): Refused {
  const name = policy?.service ?? 'the target';
  return {
    allowed: false,
    reason: 'unknown-service',
    detail: `no policy is known for ${name}; is it a mesh service, and can this function read the policy table?`,
  };
}

export function deniedBy(policy: ServicePolicy, source: string, deny: DenyItem | undefined): Refused {
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

export function noEdge(policy: ServicePolicy, source: string): Refused {
  const fix =
    source === EXTERNAL
      ? `add ${SORT_KEY.allow(EXTERNAL)} to ${policy.service} to accept calls from outside the mesh`
      : `declare the edge (${source}.allowCallsTo(${policy.service})) or add ${policy.service}/${SORT_KEY.allow(source)}`;
  return { allowed: false, reason: 'no-edge', detail: `${source} may not call ${policy.service}: ${fix}` };
}

/** A copy older than authorization accepts, after the table could not be read. */
export function staleCopy(policy: ServicePolicy, age: number, maxAgeMs: number): Refused {
  return {
    allowed: false,
    reason: 'stale-policy',
    detail:
      `the policy of ${policy.service} is ${Math.round(age)} ms old, over the ${maxAgeMs} ms that ` +
      'authorization accepts, and the policy table could not be read',
  };
}

/**
 * A copy past the bound, or none, after IAM refused this function's read of the target's partition. Its
 * role names the partitions of its declared targets only, so the likely cause is an undeclared edge.
 */
export function readRefused(policy: ServicePolicy, source: string): Refused {
  const target = policy.service;
  return {
    allowed: false,
    reason: 'policy-read-refused',
    detail: `the role of ${source} may not read the policy of ${target} (IAM refused it): most likely no edge ${source} -> ${target} is declared; declare the edge (${source}.allowCallsTo(${target})) in CDK`,
  };
}
