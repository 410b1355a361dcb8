/**
 * `ServicePolicy`: the parsed items of one service's partition, and of its breaker partition
 * (`breakerPartition(service)`), by kind. Built from raw items with `buildServicePolicy`, which checks
 * each item with the check it is given (`checkPolicyItem`, the schemas' rules without zod, for table
 * items and a snapshot synth did not seal) and, for an item that fails, keeps the last good version of
 * that same item (by sort key) — never a half-applied item; or, from the items of a snapshot synth
 * checked and sealed, with `sealedServicePolicy`, which checks nothing. The schema ties each kind to
 * its partition: only breaker state is read from the breaker partition, and breaker state only from there.
 */
import { breakerPartition, SORT_KEY } from '../../../shared/names';
import type {
  AllowItem,
  BreakerStateItem,
  DenyItem,
  FaultItem,
  PolicyItem,
  RouteItem,
  ServiceItem,
  TrafficItem,
} from '../../../shared/policy';
import { itemKind, type ParseResult } from '../../../shared/policy-rules';

/** Checks one raw item: `checkPolicyItem` (shared/policy-item-check.ts). */
export type ItemCheck = (raw: unknown) => ParseResult;

export interface ServicePolicy {
  readonly service: string;
  readonly serviceItem?: ServiceItem;
  /** allow#<source> items by source. */
  readonly allows: ReadonlyMap<string, AllowItem>;
  /** deny#<source> items by source. */
  readonly denies: ReadonlyMap<string, DenyItem>;
  readonly traffic?: TrafficItem;
  readonly route?: RouteItem;
  readonly fault?: FaultItem;
  /** breaker#<version> items (shared breaker state) by version. */
  readonly breakers: ReadonlyMap<string, BreakerStateItem>;
  /** Every valid item by sort key (what the next build keeps for an item that turns bad). */
  readonly items: ReadonlyMap<string, PolicyItem>;
  /**
   * Sources denied only because their deny#<source> item is malformed and no good copy exists:
   * authorization fails closed rather than dropping a deny.
   */
  readonly brokenDenies: ReadonlySet<string>;
  /** Where this copy came from. `none` = nothing is known (no snapshot entry, table unreadable). */
  readonly origin: 'snapshot' | 'table' | 'none';
  /** When this copy was read (epoch ms). */
  readonly loadedAt: number;
}

export interface InvalidItem {
  readonly service: string;
  /** The item's sort key, when it has a string one. */
  readonly sk?: string;
  /** The parse error, naming the field, the value and the allowed range. */
  readonly error: string;
  /** Whether a last good version of the item was kept in its place. */
  readonly keptLastGood: boolean;
}

export interface BuildOptions {
  readonly origin: ServicePolicy['origin'];
  readonly loadedAt: number;
  /** The previous copy: the source of last good items. */
  readonly previous?: ServicePolicy;
  /** Called once per malformed item. */
  readonly onInvalid?: (invalid: InvalidItem) => void;
  /** How each raw item is checked. */
  readonly check: ItemCheck;
}

/** An empty policy: nothing known, so every authorization fails closed. */
export function emptyServicePolicy(service: string, loadedAt = 0): ServicePolicy {
  return {
    service,
    allows: new Map(),
    denies: new Map(),
    breakers: new Map(),
    items: new Map(),
    brokenDenies: new Set(),
    origin: 'none',
    loadedAt,
  };
}

export function buildServicePolicy(service: string, rawItems: readonly unknown[], opts: BuildOptions): ServicePolicy {
  const { items, brokenDenies } = checkItems(service, rawItems, opts);
  return policyOfItems(service, items, brokenDenies, opts.origin, opts.loadedAt);
}

/** What checking a service's raw items leaves: the items to use, and the denies no item could stand for. */
export interface CheckedItems {
  readonly items: Map<string, PolicyItem>;
  readonly brokenDenies: Set<string>;
}

/**
 * The checking half of `buildServicePolicy`: each raw item checked, a malformed one replaced by its last
 * good version from `opts.previous` (or, for a deny, remembered as broken) and reported.
 */
export function checkItems(
  service: string,
  rawItems: readonly unknown[],
  opts: Pick<BuildOptions, 'previous' | 'onInvalid' | 'check'>,
): CheckedItems {
  const items = new Map<string, PolicyItem>();
  const brokenDenies = new Set<string>();
  for (const raw of rawItems) {
    const sk = typeof raw === 'object' && raw !== null ? (raw as { sk?: unknown }).sk : undefined;
    const pk = typeof raw === 'object' && raw !== null ? (raw as { pk?: unknown }).pk : undefined;
    if (pk !== service && pk !== breakerPartition(service)) {
      opts.onInvalid?.({
        service,
        sk: typeof sk === 'string' ? sk : undefined,
        error: `${String(pk)}/${String(sk)}: pk = ${JSON.stringify(pk)} does not belong to service "${service}"`,
        keptLastGood: false,
      });
      continue;
    }
    const res = opts.check(raw);
    if (res.ok) {
      items.set(res.item.sk, res.item);
      continue;
    }
    const last = typeof sk === 'string' ? opts.previous?.items.get(sk) : undefined;
    if (last && typeof sk === 'string') items.set(sk, last);
    else if (itemKind(sk) === 'deny') brokenDenies.add((sk as string).slice(SORT_KEY.deny('').length));
    opts.onInvalid?.({ service, sk: typeof sk === 'string' ? sk : undefined, error: res.error, keptLastGood: !!last });
  }
  return { items, brokenDenies };
}

/**
 * The policy of one service's items in a sealed snapshot: synth checked each with the schemas and
 * grouped them by service before it sealed them (policy-snapshot.ts), so they are used as they are.
 * No check runs and the item checker is not even loaded: a cold sandbox's first request builds its
 * policy from the snapshot with this alone.
 */
export function sealedServicePolicy(service: string, sealed: readonly unknown[], loadedAt: number): ServicePolicy {
  const items = new Map<string, PolicyItem>();
  for (const item of sealed as readonly PolicyItem[]) items.set(item.sk, item);
  return policyOfItems(service, items, new Set(), 'snapshot', loadedAt);
}

/** A service's policy from its items, each filed by kind. */
export function policyOfItems(
  service: string,
  items: Map<string, PolicyItem>,
  brokenDenies: Set<string>,
  origin: ServicePolicy['origin'],
  loadedAt: number,
): ServicePolicy {
  const allows = new Map<string, AllowItem>();
  const denies = new Map<string, DenyItem>();
  const breakers = new Map<string, BreakerStateItem>();
  let serviceItem: ServiceItem | undefined;
  let traffic: TrafficItem | undefined;
  let route: RouteItem | undefined;
  let fault: FaultItem | undefined;
  // Each item is filed under its own sort key; the values alone, not [key, value] pairs (a destructuring
  // runs the iterator protocol, which V8 compiles at length on a cold sandbox's first request).
  for (const item of items.values()) {
    switch (itemKind(item.sk)) {
      case 'service':
        serviceItem = item as ServiceItem;
        break;
      case 'traffic':
        traffic = item as TrafficItem;
        break;
      case 'route':
        route = item as RouteItem;
        break;
      case 'fault':
        fault = item as FaultItem;
        break;
      case 'allow':
        allows.set((item as AllowItem).source, item as AllowItem);
        break;
      case 'deny':
        denies.set((item as DenyItem).source, item as DenyItem);
        break;
      case 'breaker':
        breakers.set((item as BreakerStateItem).version, item as BreakerStateItem);
        break;
    }
  }
  return {
    service,
    serviceItem,
    allows,
    denies,
    traffic,
    route,
    fault,
    breakers,
    items,
    brokenDenies,
    origin,
    loadedAt,
  };
}
