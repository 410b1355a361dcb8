/**
 * Where one call goes: header matches, then the sticky key, then the weights, else the alias.
 * Pure: the only state is the per-target round-robin position, held in `RouteBalancers`.
 */
import { LIVE_ALIAS } from '../../../shared/names';
import type { RouteItem } from '../../../shared/policy';
import { routeDecidesSplit } from '../../../shared/policy-rules';
import { headerValue } from '../header-value';
import { rendezvousPick } from './sticky-hash';
import { signatureOf, WeightedRoundRobin } from './weighted-round-robin';

export type RouteReason = 'match' | 'sticky' | 'weighted' | 'alias';

export interface RouteChoice {
  /** What to pass as the Invoke `Qualifier`: a version number, or the alias. */
  readonly qualifier: string;
  /** The version chosen client-side; undefined when Lambda picks (alias). */
  readonly version?: string;
  readonly reason: RouteReason;
  /** Set when the route had weights but every weighted version is ejected, so the alias is used. */
  readonly fallback?: 'all-ejected';
}

export interface ChooseRouteInput {
  /** The target service (the key of its round-robin state). */
  readonly target: string;
  /** The target's `route` item; undefined = no client-side routing. */
  readonly route: RouteItem | undefined;
  /** The call's headers; names are matched case-insensitively. */
  readonly headers?: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** `call()` option `stickyKey`; wins over the route's sticky header. */
  readonly stickyKey?: string;
  /** Versions ejected by their breakers. */
  readonly ejected?: ReadonlySet<string>;
  /** The alias used when no version is chosen client-side. @default LIVE_ALIAS ('live') */
  readonly alias?: string;
  /** Round-robin state; @default the module's shared instance. */
  readonly balancers?: RouteBalancers;
}

/** Per-target smooth weighted round-robin state; rebuilt when a target's weights change. */
export class RouteBalancers {
  private readonly byTarget = new Map<string, { weights: object; wrr: WeightedRoundRobin }>();

  for(target: string, weights: Readonly<Record<string, number>>): WeightedRoundRobin {
    const current = this.byTarget.get(target);
    // Fast path: the cached policy hands over the same weights object until the item changes.
    if (current && current.weights === weights) return current.wrr;
    if (current && current.wrr.signature === signatureOf(weights)) {
      current.weights = weights; // re-read but unchanged: keep the cycle position
      return current.wrr;
    }
    const wrr = new WeightedRoundRobin(weights);
    this.byTarget.set(target, { weights, wrr });
    return wrr;
  }
}

const sharedBalancers = new RouteBalancers();

export function chooseRoute(input: ChooseRouteInput): RouteChoice {
  const alias = input.alias ?? LIVE_ALIAS;
  // The route's rules are walked apart: a target without a route item never compiles them.
  return input.route ? routed(input, input.route, alias) : { qualifier: alias, reason: 'alias' };
}

function routed(input: ChooseRouteInput, route: RouteItem, alias: string): RouteChoice {
  const ejected = input.ejected;

  // 1. Header matches: first match wins; an ejected match falls through to the weights.
  for (const m of route.matches ?? []) {
    const value = headerValue(input.headers, m.header);
    if (value === undefined) continue;
    const hit = m.exact !== undefined ? value === m.exact : m.prefix !== undefined && value.startsWith(m.prefix);
    if (!hit) continue;
    if (ejected?.has(m.version)) break;
    return { qualifier: m.version, version: m.version, reason: 'match' };
  }

  // Without weights the alias decides the split (Lambda applies its weights); with them, the route does.
  if (!routeDecidesSplit(route)) return { qualifier: alias, reason: 'alias' };
  const weights = route.weights!;

  // 2. Sticky key: the same key goes to the same version while the weights stay the same.
  const stickyKey = input.stickyKey ?? (route.sticky ? headerValue(input.headers, route.sticky.header) : undefined);
  if (stickyKey !== undefined && stickyKey !== '') {
    const version = rendezvousPick(stickyKey, weights, ejected);
    if (version === undefined) return { qualifier: alias, reason: 'alias', fallback: 'all-ejected' };
    return { qualifier: version, version, reason: 'sticky' };
  }

  // 3. Weights, by smooth weighted round-robin over the versions not ejected.
  const version = (input.balancers ?? sharedBalancers).for(input.target, weights).pick(ejected);
  if (version === undefined) return { qualifier: alias, reason: 'alias', fallback: 'all-ejected' };
  return { qualifier: version, version, reason: 'weighted' };
}

/**
 * The shadow version to mirror this call to, or undefined. `random` returns [0, 1) (injectable).
 * Mirrors are fire-and-forget; the caller drops their answers.
 */
export function chooseMirror(route: RouteItem | undefined, random: () => number = Math.random): string | undefined {
  const m = route?.mirror;
  if (!m || m.percent <= 0) return undefined;
  return random() * 100 < m.percent ? m.version : undefined;
}
