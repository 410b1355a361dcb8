/**
 * The terminal's live view of a running local mesh: per edge requests/s, success rate, p50/p99 and each
 * service's version split (the canary's share). Pure: it renders a StatsSnapshot (the telemetry store's, from the
 * runtime's EMF) or, while no EMF has arrived, the invoker's own invocation records.
 */

import type { StatsSnapshot } from '../shared/telemetry/golden-metrics';
import { percentileOfSorted } from '../shared/telemetry/percentile';
import { printable } from '../shared/terminal-text';
import type { InvocationRecord } from './runtime/invoker';

export interface EdgeRow {
  readonly source: string;
  readonly destination: string;
  readonly version: string;
  readonly rps: number;
  readonly successRate: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly requests: number;
  /** Calls the policy refused on this edge (the caller's mesh or the callee's wrapper). */
  readonly denied: number;
}

/** The `live` alias as configured: what `mesh shift` / `mesh rollout` set. */
export interface AliasRow {
  readonly service: string;
  readonly stable: string;
  /** version -> fraction 0-1 (AdditionalVersionWeights). */
  readonly weights: Readonly<Record<string, number>>;
}

export interface SplitRow {
  readonly service: string;
  readonly shares: readonly { version: string; share: number }[];
}

export interface LiveRows {
  readonly from: 'emf' | 'invoker';
  readonly edges: readonly EdgeRow[];
  readonly splits: readonly SplitRow[];
}

/** Rows from the telemetry store, or from invocation records in the window when the store has no edges. */
export function liveRows(
  stats: StatsSnapshot | undefined,
  records: readonly InvocationRecord[],
  now: number,
  windowMs: number,
): LiveRows {
  return stats && stats.edges.length > 0 ? rowsFromStats(stats) : rowsFromRecords(records, now, windowMs);
}

const byEdge = (a: EdgeRow, b: EdgeRow) =>
  `${a.source}>${a.destination}`.localeCompare(`${b.source}>${b.destination}`) || a.version.localeCompare(b.version);

function rowsFromStats(stats: StatsSnapshot): LiveRows {
  return {
    from: 'emf',
    edges: stats.edges.map((e) => ({ ...e, denied: e.denied ?? 0 })).sort(byEdge),
    splits: stats.services
      .filter((s) => s.versions.length > 1)
      .map((s) => ({ service: s.service, shares: s.versions.map((v) => ({ version: v.version, share: v.share })) })),
  };
}

/** Before any EMF line has arrived: what the invoker saw, per caller, function and version. */
function rowsFromRecords(records: readonly InvocationRecord[], now: number, windowMs: number): LiveRows {
  const groups = new Map<string, InvocationRecord[]>();
  for (const r of records) {
    if (r.start < now - windowMs) continue;
    const key = `${r.source}\0${r.functionName}\0${r.version}`;
    const g = groups.get(key) ?? [];
    g.push(r);
    groups.set(key, g);
  }
  const edges: EdgeRow[] = [];
  const perFn = new Map<string, Map<string, number>>();
  for (const [key, rs] of groups) {
    const [source, destination, version] = key.split('\0');
    const served = rs.filter((r) => r.outcome !== 'throttled');
    const durations = served.map((r) => r.durationMs).sort((a, b) => a - b);
    edges.push({
      source,
      destination,
      version,
      requests: rs.length,
      rps: rs.length / (windowMs / 1000),
      successRate: rs.length ? rs.filter((r) => r.outcome === 'ok').length / rs.length : null,
      p50: percentileOfSorted(durations, 50) ?? null,
      p99: percentileOfSorted(durations, 99) ?? null,
      denied: 0,
    });
    const m = perFn.get(destination) ?? new Map<string, number>();
    m.set(version, (m.get(version) ?? 0) + served.length);
    perFn.set(destination, m);
  }
  const splits: SplitRow[] = [];
  for (const [service, m] of perFn) {
    if (m.size < 2) continue;
    const total = [...m.values()].reduce((a, b) => a + b, 0) || 1;
    splits.push({
      service,
      shares: [...m].sort(([a], [b]) => a.localeCompare(b)).map(([version, n]) => ({ version, share: n / total })),
    });
  }
  return { from: 'invoker', edges: edges.sort(byEdge), splits };
}

const fmtMs = (v: number | null) => (v === null ? '-' : v < 10 ? v.toFixed(1) : String(Math.round(v)));
const fmtPct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

function table(cells: string[][]): string[] {
  const rows = cells.map((r) => r.map(printable));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}

const fmtShare = (w: number) => `${Math.round(w * 1000) / 10}%`;

/** "v1 90% / v2 10%" from the alias. */
export function describeAlias(a: AliasRow): string {
  const extra = Object.entries(a.weights).filter(([v]) => v !== a.stable);
  const rest = 1 - extra.reduce((t, [, w]) => t + w, 0);
  return [`v${a.stable} ${fmtShare(rest)}`, ...extra.map(([v, w]) => `v${v} ${fmtShare(w)}`)].join(' / ');
}

export function renderLiveView(
  rows: LiveRows,
  header: readonly string[],
  footer: readonly string[] = [],
  aliases: readonly AliasRow[] = [],
): string {
  const lines = [...header, ''];
  // An edge whose every call was refused has no latency or success to show: it goes to its own section.
  const served = rows.edges.filter((e) => !(e.denied > 0 && e.denied >= e.requests));
  if (served.length === 0) {
    lines.push('  (no traffic yet)');
  } else {
    lines.push(
      ...table([
        ['EDGE', 'VERSION', 'RPS', 'SUCCESS', 'P50 ms', 'P99 ms', 'REQS', 'DENIED'],
        ...served.map((e) => [
          `${e.source} -> ${e.destination}`,
          e.version,
          e.rps.toFixed(1),
          fmtPct(e.successRate),
          fmtMs(e.p50),
          fmtMs(e.p99),
          String(e.requests),
          String(e.denied),
        ]),
      ]).map((l) => `  ${l}`),
    );
  }
  lines.push(...deniedLines(rows.edges), ...splitLines(rows, aliases));
  lines.push(
    '',
    `  (metrics from ${rows.from === 'emf' ? "the runtime's EMF" : 'the local invoker; no EMF yet'})`,
    ...footer,
  );
  // Names and versions are what functions printed (EMF) or configured: each line shows them as text.
  return lines.map(printable).join('\n');
}

/** The edges the policy refused, each once with its count in the window (a blank line first). */
function deniedLines(edges: LiveRows['edges']): string[] {
  const denied = new Map<string, number>();
  for (const e of edges)
    if (e.denied > 0)
      denied.set(`${e.source} -> ${e.destination}`, (denied.get(`${e.source} -> ${e.destination}`) ?? 0) + e.denied);
  if (denied.size === 0) return [];
  return ['', ...[...denied].map(([edge, n]) => `  DENIED by policy: ${edge}  (${n} refused in the window)`)];
}

/** Each canary's live weights and each service's observed split (a blank line first). */
function splitLines(rows: LiveRows, aliases: readonly AliasRow[]): string[] {
  const canaries = aliases.filter((a) => Object.keys(a.weights).some((v) => v !== a.stable));
  const observed = new Map(rows.splits.map((s) => [s.service, s]));
  if (canaries.length === 0 && rows.splits.length === 0) return [];
  const names = new Set([...canaries.map((a) => a.service), ...observed.keys()]);
  return [
    '',
    ...[...names].map((service) => {
      const a = canaries.find((x) => x.service === service);
      const o = observed.get(service);
      const parts = [
        a ? `live ${describeAlias(a)}` : undefined,
        o
          ? `${a ? 'served ' : ''}${o.shares.map((v) => `v${v.version} ${(v.share * 100).toFixed(1)}%`).join('  ')}`
          : undefined,
      ].filter(Boolean);
      return `  ${a ? 'canary' : 'split'} ${service}: ${parts.join('   ')}`;
    }),
  ];
}
