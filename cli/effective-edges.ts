/**
 * Pure: what the mesh applies to each edge, and which item decides each part, for `mesh status`.
 * The same rules the runtime applies, from the same shared code: a deny wins over an allow, the
 * split comes from the route item's weights when it has some (for callers in the mesh) and from the
 * `live` alias otherwise (`routeDecidesSplit`), and each traffic setting from the item the
 * precedence puts on top (shared/traffic-precedence.ts). Items that fail the schema are left out, as
 * the runtime leaves them out.
 */
import { EXTERNAL, LIVE_ALIAS, TABLE } from '../shared/names';
import {
  type AllowItem,
  type DenyItem,
  parsePolicyItem,
  type RouteItem,
  routeDecidesSplit,
  type TrafficItem,
} from '../shared/policy';
import {
  ownerOf,
  RATE_LIMIT_SETTING,
  resolveWithOrigins,
  type SettingOrigin,
  trafficLayers,
} from '../shared/traffic-precedence';
import type { RawItem } from './policy-plan';
import { formatTable, wrapWords } from './table-format';
import { weightToPercent } from './weight';

/** The `live` alias of a service as `mesh status` read it: version -> percent. */
export type AliasTraffic = Readonly<Record<string, number>>;

export interface EffectiveSplit {
  /** version -> percent of the calls on this edge (header matches aside). */
  readonly traffic: Readonly<Record<string, number>>;
  /** The item that decides it (`payments/route (operator)`) or the alias (`alias live`). */
  readonly from: string;
  /** The alias's own split when a route item overrides it for this edge. */
  readonly aliasOverridden?: Readonly<Record<string, number>>;
  /** Header matches that take calls to their versions before the split. */
  readonly matches?: number;
  /** `v3 5%`: a copy of that share of calls goes to that version. */
  readonly mirror?: string;
}

export interface EffectiveSetting {
  /** The setting's path in a traffic item (`timeoutMs`, `retries.maxAttempts`). */
  readonly setting: string;
  readonly value: unknown;
  readonly origin: SettingOrigin;
}

export interface EffectiveEdge {
  readonly from: string;
  readonly to: string;
  readonly state: 'allowed' | 'denied';
  /** The item that decides whether the call is let in. */
  readonly decidedBy: string;
  readonly reason?: string;
  readonly split?: EffectiveSplit;
  /** Every traffic setting with its origin; none for callers outside the mesh (they call Lambda directly). */
  readonly settings?: readonly EffectiveSetting[];
}

interface Partition {
  allows: Map<string, AllowItem>;
  denies: Map<string, DenyItem>;
  traffic?: TrafficItem;
  route?: RouteItem;
}

const itemName = (item: { pk: string; sk: string; managedBy?: string }) => `${item.pk}/${item.sk} (${ownerOf(item)})`;

function partitions(items: readonly RawItem[]): Map<string, Partition> {
  const out = new Map<string, Partition>();
  for (const raw of items) {
    const res = parsePolicyItem(raw);
    if (!res.ok) continue;
    const pk = String(raw[TABLE.partitionKey]);
    const p: Partition = out.get(pk) ?? { allows: new Map(), denies: new Map() };
    out.set(pk, p);
    if (res.kind === 'allow') p.allows.set((res.item as AllowItem).source, res.item as AllowItem);
    else if (res.kind === 'deny') p.denies.set((res.item as DenyItem).source, res.item as DenyItem);
    else if (res.kind === 'traffic') p.traffic = res.item as TrafficItem;
    else if (res.kind === 'route') p.route = res.item as RouteItem;
  }
  return out;
}

function percents(weights: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(weights).map(([v, w]) => [v, weightToPercent(w)]));
}

/** Who decides the split on an edge into `to`: its route item for mesh callers, else the alias. */
export function effectiveSplit(
  from: string,
  route: RouteItem | undefined,
  alias: AliasTraffic | undefined,
): EffectiveSplit | undefined {
  const extras = {
    ...(from !== EXTERNAL && route?.matches?.length ? { matches: route.matches.length } : {}),
    ...(from !== EXTERNAL && route?.mirror ? { mirror: `v${route.mirror.version} ${route.mirror.percent}%` } : {}),
  };
  // Callers outside the mesh invoke the alias themselves: no route item reaches them.
  if (from !== EXTERNAL && routeDecidesSplit(route)) {
    return {
      traffic: percents(route!.weights!),
      from: itemName(route!),
      ...(alias ? { aliasOverridden: alias } : {}),
      ...extras,
    };
  }
  return alias ? { traffic: alias, from: `alias ${LIVE_ALIAS}`, ...extras } : undefined;
}

/** Every edge the table names (allow or deny items), with what decides it. */
export function effectiveEdges(items: readonly RawItem[], aliases: ReadonlyMap<string, AliasTraffic>): EffectiveEdge[] {
  const edges: EffectiveEdge[] = [];
  for (const [to, p] of partitions(items)) {
    for (const from of new Set([...p.allows.keys(), ...p.denies.keys()])) {
      const deny = p.denies.get(from);
      if (deny) {
        edges.push({
          from,
          to,
          state: 'denied',
          decidedBy: itemName(deny),
          ...(deny.reason ? { reason: deny.reason } : {}),
        });
        continue;
      }
      const allow = p.allows.get(from)!;
      const split = effectiveSplit(from, p.route, aliases.get(to));
      const settings = from === EXTERNAL ? undefined : settingsOf(resolveWithOrigins(trafficLayers(p.traffic, allow)));
      edges.push({
        from,
        to,
        state: 'allowed',
        decidedBy: itemName(allow),
        ...(split ? { split } : {}),
        ...(settings ? { settings } : {}),
      });
    }
  }
  return edges.sort((a, b) => `${a.to} ${a.from}`.localeCompare(`${b.to} ${b.from}`));
}

function settingsOf(r: ReturnType<typeof resolveWithOrigins>): EffectiveSetting[] {
  const value = (path: string): unknown => {
    // A bucket is named by its item's sort key, which may hold dots of its own: look it up by scope.
    if (path.startsWith(`${RATE_LIMIT_SETTING}.`)) {
      const scope = path.slice(RATE_LIMIT_SETTING.length + 1);
      const bucket = r.policy.rateLimits?.find((b) => b.scope === scope);
      return bucket && { perSecond: bucket.perSecond, burst: bucket.burst };
    }
    return path
      .split('.')
      .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], r.policy as unknown);
  };
  return Object.entries(r.origins).map(([setting, origin]) => ({ setting, value: value(setting), origin }));
}

function describeOrigin(o: SettingOrigin): string {
  return o.from === 'default' ? 'default' : `${o.item} (${o.managedBy})`;
}

function describeSplitOf(s: EffectiveSplit): string {
  const split = Object.entries(s.traffic)
    .map(([v, pct]) => `${pct}% v${v}`)
    .join(' / ');
  const notes = [
    s.matches ? `${s.matches} header match${s.matches > 1 ? 'es' : ''} first` : '',
    s.mirror ? `mirror ${s.mirror}` : '',
  ].filter(Boolean);
  return notes.length ? `${split} (${notes.join(', ')})` : split;
}

/**
 * A setting's value as JSON with a space after each comma, so a list or a bucket breaks between its
 * entries where the terminal is narrow.
 */
function describeValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(describeValue).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${describeValue(x)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(v) ?? '-';
}

/**
 * The edges as text: one heading line per edge, then what decides its split and every setting not at
 * its default. With `width`, a heading breaks between words and a long value onto lines of its own.
 */
export function renderEffectiveEdges(edges: readonly EffectiveEdge[], width?: number): string {
  const out: string[] = [];
  for (const e of edges) {
    const head = `${e.from} -> ${e.to}  ${e.state === 'denied' ? 'DENIED' : 'allowed'} by ${e.decidedBy}`;
    out.push(wrapWords(e.reason ? `${head}: ${e.reason}` : head, width, '  '));
    if (e.state === 'denied') continue;
    const rows: string[][] = [];
    if (e.split) {
      const over = e.split.aliasOverridden
        ? `; the alias's ${describeSplitOf({ traffic: e.split.aliasOverridden, from: '' })} reaches only callers outside the mesh`
        : '';
      rows.push(['split', describeSplitOf(e.split), `${e.split.from}${over}`]);
    }
    if (!e.settings) rows.push(['traffic', '-', 'none: callers outside the mesh invoke Lambda directly']);
    const set = (e.settings ?? []).filter((s) => s.origin.from !== 'default');
    for (const s of set) rows.push([s.setting, describeValue(s.value), describeOrigin(s.origin)]);
    if (e.settings) rows.push([set.length ? 'the rest' : 'settings', 'defaults', 'the mesh defaults']);
    out.push(
      formatTable(
        ['  SETTING', 'VALUE', 'FROM'],
        rows.map(([a, b, c]) => [`  ${a}`, b!, c!]),
        { width, wrap: 1, headless: true },
      ),
    );
  }
  return out.join('\n');
}
