/**
 * Stage `route`: where one attempt goes. Breakers eject versions (this sandbox's, and the shared
 * `breaker#<version>` items of other sandboxes); the target's route picks among the rest (header
 * match, sticky key, weights) or leaves the draw to Lambda behind the alias. Behind the alias an
 * ejected version is avoided by pinning the attempt to a healthy version seen running there.
 */
import { sharedEjected } from '../resilience/shared-breaker';
import { chooseRoute } from '../routing/route-choice';
import type { AttemptContext, ReadyCall } from './call-context';
import type { AttemptPlan } from './retry';

export function route(call: ReadyCall, plan: AttemptPlan): AttemptContext {
  const { client, target, policy } = call;
  const { now } = plan;
  const ejected = client.breakers.ejected(call.key, now);
  // A fallback pinned to a version, or to another region's alias: the route's versions are not its own.
  const pinned = call.detour?.qualifier;
  if (pinned !== undefined) {
    const base = { call, number: plan.number, now, timeout: plan.timeout, ejected, seen: undefined };
    return { ...base, qualifier: pinned, routeVersion: pinned, behindAlias: false };
  }
  for (const v of sharedEjected(policy.breakers, now, call.traffic.breaker.openMs)) ejected.add(v);
  const choice = chooseRoute({
    target,
    route: policy.route,
    headers: call.routeHeaders,
    stickyKey: call.options.stickyKey,
    ejected,
    alias: call.alias,
    balancers: client.balancers,
  });
  let qualifier = choice.qualifier;
  let behindAlias = false;
  let seen: Set<string> | undefined;
  if (choice.version === undefined) {
    // Lambda draws the version behind the alias (also when every weighted version is ejected: choice
    // fallback 'all-ejected'); the alias's own breaker guards it, unless a pin avoids an ejected one.
    seen = client.aliases.seen(target, choice.qualifier);
    const pinned = client.aliases.pin(seen, ejected);
    if (pinned === undefined) behindAlias = true;
    else qualifier = pinned;
  }
  return {
    call,
    number: plan.number,
    now,
    timeout: plan.timeout,
    ejected,
    qualifier,
    routeVersion: qualifier,
    behindAlias,
    seen,
  };
}
