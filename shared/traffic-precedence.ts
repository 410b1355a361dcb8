/**
 * Which item decides each traffic setting of an edge (`source -> service`), the one rule the runtime
 * applies and `mesh status` shows. Two axes, in this order:
 *
 * 1. **Owner.** An operator's item (`managedBy: "operator"`, or no `managedBy`: written by hand)
 *    overrides a deploy-time item (`managedBy: "deploy"`) for the same setting, so an incident
 *    response wins over whatever the last deploy declared.
 * 2. **Scope.** Within one owner, the edge's `allow#<source>` item overrides the service's `traffic`
 *    item (narrower over wider).
 *
 * So the layers, lowest first: DEFAULTS <- deploy `traffic` <- deploy `allow#<source>` <- operator
 * `traffic` <- operator `allow#<source>`, merged field by field. Where two valid layers clash once
 * merged, the tighter limit wins (a per-try timeout longer than the call's timeout is cut to it).
 * Pure, and on the runtime's init path: no imports beyond the policy model.
 */
import { MANAGED_BY } from './names';
import type { FallbackPolicy, TrafficPolicy } from './policy';
import { DEFAULTS, type RetryOn } from './policy-rules';

/**
 * One mesh-wide token bucket that applies to an edge: the service's (`traffic`, shared by all its
 * callers) or the edge's own (`allow#<source>`). Not merged like the other settings: a call takes a
 * token from each bucket that applies, so an edge limit never lifts the service's.
 */
export interface ResolvedRateLimit {
  /** The item's sort key: which bucket (the table keeps one per service and sort key). */
  readonly scope: string;
  readonly perSecond: number;
  readonly burst: number;
}

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
  /** The buckets a call takes a token from, the service's first; absent = no limit. */
  readonly rateLimits?: readonly ResolvedRateLimit[];
  /** Where the call goes when the target fails; a whole value (the highest layer that sets one). */
  readonly fallback?: FallbackPolicy;
}

/** An item that may carry traffic settings: a service's `traffic` item or an edge's `allow#` item. */
export interface TrafficItemLike extends TrafficPolicy {
  readonly pk?: string;
  readonly sk?: string;
  readonly managedBy?: string;
}

/** Where a setting's value comes from: an item (`pk/sk` and its owner), or the mesh's default. */
export type SettingOrigin =
  | { readonly from: 'default' }
  | { readonly from: 'item'; readonly item: string; readonly managedBy: 'deploy' | 'operator' };

/** Setting path (`timeoutMs`, `retries.maxAttempts`, ...) -> where its value comes from. */
export type SettingOrigins = Readonly<Record<string, SettingOrigin>>;

/** Whether an item is the deployment's; anything else (an operator's, or one written by hand) is the operator's. */
export function ownerOf(item: { readonly managedBy?: string }): 'deploy' | 'operator' {
  return item.managedBy === MANAGED_BY.deploy ? 'deploy' : 'operator';
}

/** The layers of an edge's traffic policy in the order they apply (lowest first), absent ones left out. */
export function trafficLayers(
  traffic: TrafficItemLike | undefined,
  allow: TrafficItemLike | undefined,
): TrafficItemLike[] {
  const layers: TrafficItemLike[] = [];
  for (const owner of ['deploy', 'operator'] as const) {
    if (traffic && ownerOf(traffic) === owner) layers.push(traffic);
    if (allow && ownerOf(allow) === owner) layers.push(allow);
  }
  return layers;
}

/** The settings that merge object by object; every other setting is a single value. */
const NESTED = ['retries', 'budget', 'breaker'] as const;

/**
 * DEFAULTS <- each layer in order, field by field (nested objects merged, not replaced). With
 * `origins`, also records which layer set each field.
 */
export function resolveTrafficPolicy(...layers: ReadonlyArray<TrafficItemLike | undefined>): ResolvedTrafficPolicy {
  return resolve(layers, undefined);
}

/** The edge's resolved settings and, for each, the item it comes from (for `mesh status`). */
export function resolveWithOrigins(layers: readonly TrafficItemLike[]): {
  readonly policy: ResolvedTrafficPolicy;
  readonly origins: SettingOrigins;
} {
  const origins: Record<string, SettingOrigin> = {};
  const policy = resolve(layers, origins);
  return { policy, origins };
}

/** The settings being merged: single values, nested objects, and (when asked) where each came from. */
interface Merge {
  readonly top: Record<string, unknown>;
  readonly nested: Record<(typeof NESTED)[number], Record<string, unknown>>;
  readonly origins: Record<string, SettingOrigin> | undefined;
}

function resolve(
  layers: ReadonlyArray<TrafficItemLike | undefined>,
  origins: Record<string, SettingOrigin> | undefined,
): ResolvedTrafficPolicy {
  const merge = defaults(origins);
  for (const layer of layers) if (layer) apply(merge, layer);
  tightenClashes(merge);
  return resolved(merge, rateLimitsOf(layers, origins));
}

/** The mesh's defaults, each recorded as coming from the default. */
function defaults(origins: Record<string, SettingOrigin> | undefined): Merge {
  const d = DEFAULTS;
  const merge: Merge = {
    top: { timeoutMs: d.timeoutMs, perTryTimeoutMs: d.perTryTimeoutMs, idempotent: d.idempotent, fallback: undefined },
    nested: { retries: { ...d.retries }, budget: { ...d.budget }, breaker: { ...d.breaker } },
    origins,
  };
  if (origins) {
    for (const k of Object.keys(merge.top)) origins[k] = { from: 'default' };
    // Every bucket is its own setting (`rateLimits.<item>`): a service's and an edge's limit both apply.
    origins.rateLimits = { from: 'default' };
    for (const n of NESTED) for (const k of Object.keys(merge.nested[n])) origins[`${n}.${k}`] = { from: 'default' };
  }
  return merge;
}

/** One layer over the merge so far, field by field (nested objects merged, not replaced). */
function apply(merge: Merge, layer: TrafficItemLike): void {
  const { top, nested, origins } = merge;
  const origin: SettingOrigin | undefined = origins
    ? { from: 'item', item: `${layer.pk ?? '?'}/${layer.sk ?? '?'}`, managedBy: ownerOf(layer) }
    : undefined;
  for (const k of Object.keys(top)) {
    const v = (layer as Record<string, unknown>)[k];
    if (v === undefined) continue;
    top[k] = v;
    if (origins && origin) origins[k] = origin;
  }
  for (const n of NESTED) {
    for (const [k, v] of Object.entries(layer[n] ?? {})) {
      if (v === undefined) continue;
      nested[n][k] = v;
      if (origins && origin) origins[`${n}.${k}`] = origin;
    }
  }
}

/**
 * Layers are valid one by one but may clash once merged (a 500 ms timeout over the default 3 s per-try):
 * the tighter limit wins, and so does its origin.
 */
function tightenClashes({ top, nested, origins }: Merge): void {
  if ((top.perTryTimeoutMs as number) > (top.timeoutMs as number)) {
    top.perTryTimeoutMs = top.timeoutMs;
    if (origins) origins.perTryTimeoutMs = origins.timeoutMs!;
  }
  const retries = nested.retries as unknown as ResolvedTrafficPolicy['retries'];
  if (retries.baseDelayMs > retries.maxDelayMs) {
    nested.retries.baseDelayMs = retries.maxDelayMs;
    if (origins) origins['retries.baseDelayMs'] = origins['retries.maxDelayMs']!;
  }
}

function resolved({ top, nested }: Merge, rateLimits: ResolvedRateLimit[]): ResolvedTrafficPolicy {
  const retries = nested.retries as unknown as ResolvedTrafficPolicy['retries'];
  return {
    timeoutMs: top.timeoutMs as number,
    perTryTimeoutMs: top.perTryTimeoutMs as number,
    idempotent: top.idempotent as boolean,
    ...(rateLimits.length > 0 ? { rateLimits } : {}),
    ...(top.fallback ? { fallback: top.fallback as FallbackPolicy } : {}),
    retries: { ...retries, retryOn: [...retries.retryOn] },
    budget: nested.budget as ResolvedTrafficPolicy['budget'],
    breaker: nested.breaker as ResolvedTrafficPolicy['breaker'],
  };
}

/** The origins' key of a bucket: `rateLimits.<sort key of its item>` (`rateLimits.traffic`, `rateLimits.allow#orders`). */
export const RATE_LIMIT_SETTING = 'rateLimits';

/**
 * The buckets of the layers: one per item (sort key). An operator's item and a deploy item never share
 * a sort key (one item per key), so each bucket comes from exactly one item.
 */
function rateLimitsOf(
  layers: ReadonlyArray<TrafficItemLike | undefined>,
  origins: Record<string, SettingOrigin> | undefined,
): ResolvedRateLimit[] {
  const out: ResolvedRateLimit[] = [];
  for (const l of layers) {
    if (!l?.rateLimit) continue;
    const scope = l.sk ?? 'traffic';
    const { perSecond } = l.rateLimit;
    out.push({ scope, perSecond, burst: l.rateLimit.burst ?? defaultBurst(perSecond) });
    if (origins) {
      delete origins.rateLimits;
      origins[`${RATE_LIMIT_SETTING}.${scope}`] = {
        from: 'item',
        item: `${l.pk ?? '?'}/${scope}`,
        managedBy: ownerOf(l),
      };
    }
  }
  // The service's bucket first: it is the one every caller shares.
  return out.sort((a, b) => Number(a.scope !== 'traffic') - Number(b.scope !== 'traffic'));
}

/** A second's worth of requests, at least one. */
export function defaultBurst(perSecond: number): number {
  return Math.max(1, Math.ceil(perSecond));
}
