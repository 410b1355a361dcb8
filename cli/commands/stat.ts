/**
 * `mesh stat`: golden metrics per service and per edge (source -> destination, per destination
 * version), like `linkerd viz stat`. Against the local mesh it reads `<endpoint>/_mesh/stats`; where no
 * /_mesh/ route answers (AWS, LocalStack) it reads CloudWatch (GetMetricData over the EMF metrics in the
 * mesh's own namespace, LambdaMesh/<meshName>). Both through cli/telemetry/telemetry-source.ts.
 */

import { isPublishedVersion, METRICS } from '../../shared/names';
import { formatDuration } from '../../shared/telemetry/duration';
import type {
  EdgeStats,
  GoldenMetrics,
  ServiceStats,
  StatsSnapshot,
  VersionStats,
} from '../../shared/telemetry/golden-metrics';
import type { TelemetrySource } from '../../shared/telemetry/telemetry-source';
import { AWS_OPTIONS, awsFlags, durationFlag, parseCommandArgs } from '../args';
import { type Paint, painter, plain, type Style } from '../colour';
import type { CliContext } from '../context';
import { EXIT, UsageError } from '../errors';
import { fitHelp } from '../help-fit';
import {
  callerLines,
  fitLayouts,
  fmtMs,
  fmtPct,
  paintRate,
  type TableColumn,
  type TableLayout,
  wrapWords,
} from '../table-format';
import { pickTelemetrySource } from '../telemetry/telemetry-source';
import { checkTrafficName } from '../traffic-names';
import { frameMode, WATCH_OPTIONS, watchLoop, watchSettings } from '../watch';

export const STAT_HELP = `mesh stat [--window 60s] [--watch [--interval 2s] [--count n]] [--wide] [--json] [AWS flags]

Golden metrics per service (inbound, all callers) and per edge (source -> destination, per
destination version): requests, rps, success rate, p50/p95/p99 latency, denied calls, breaker opens,
retries, calls refused over a rate limit (LIMITED: the caller's own 429s, no Invoke sent; also in REQ),
calls a declared fallback served (FALLBACK, on the edge to the fallback: another service, version, or
<version>@<region>), and mirror copies (MIRROR: copies a route item's mirror sent to a shadow version,
counted apart: never in REQ, the success rate or the latency).

Reads the local mesh (GET <endpoint>/_mesh/stats) when --endpoint-url / AWS_ENDPOINT_URL points at one;
otherwise CloudWatch metrics in the mesh's namespace, ${METRICS.namespacePrefix}/<mesh> (GetMetricData).

Flags:
  --window <duration>    window the numbers cover: 30s, 60s, 5m, 1h (default 60s; CloudWatch's starts on the
                         minute the window starts in, and the heading says what it covers)
  --service <name>       only this service and the edges into or out of it
  --watch                refresh until Ctrl-C
  --interval <duration>  time between refreshes with --watch (default 2s)
  --count <n>            with --watch, stop after n refreshes
  --wide                 every column, however wide the terminal (at a terminal the tables fit its
                         width: columns that read 0 on every row go first, then P95 and RPS)
  --json                 print the snapshot as JSON (one object per refresh with --watch)
  --no-color             no colour at a terminal either (also NO_COLOR=1)
  --mesh, --region, --endpoint-url   as for every mesh command

Examples:
  mesh stat --endpoint-url http://127.0.0.1:4566
  mesh stat --window 5m --json
  mesh stat --watch --service payments`;

const OPTIONS = {
  ...AWS_OPTIONS,
  ...WATCH_OPTIONS,
  window: { type: 'string' },
  service: { type: 'string' },
  wide: { type: 'boolean' },
} as const;

/** Where the numbers came from. */
export type StatSource = 'local' | 'cloudwatch';

export interface StatResult extends StatsSnapshot {
  readonly source: StatSource;
}

// ---------------------------------------------------------------------------------------------
// Rendering (pure)

function fmtRps(v: number): string {
  return v >= 100 ? String(Math.round(v)) : v.toFixed(1);
}

function versionSplit(versions: readonly VersionStats[]): string {
  if (versions.length === 0) return '-';
  return versions
    .map(
      (v) =>
        `${isPublishedVersion(v.version) ? 'v' : ''}${v.version} ${Math.round(v.share * 100)}% (${fmtPct(v.successRate)})`,
    )
    .join('  ');
}

/** Keeps the services and edges that touch `service`, and the callers of those edges. */
export function filterSnapshot<T extends StatsSnapshot>(s: T, service: string | undefined): T {
  if (!service) return s;
  const edges = s.edges.filter((e) => e.source === service || e.destination === service);
  return {
    ...s,
    services: s.services.filter((x) => x.service === service),
    edges,
    callers: s.callers.filter((c) => edges.some((e) => e.source === c.name)),
  };
}

/**
 * Pure: the snapshot as text; `paint` colours failures red and degraded numbers yellow (plain by default).
 * With `width` (a terminal's, unless `--wide`), each table fits it: first without the event columns that
 * are 0 on every row (nothing happened), then with an edge in one column, then without P95, then RPS;
 * a note under the tables names what is not shown.
 */
export function renderStats(s: StatResult, paint: Paint = plain, width?: number): string {
  const lines = [heading(s)];
  if (s.services.length === 0 && s.edges.length === 0) {
    lines.push('', 'no traffic in this window: send some requests through the mesh, or widen --window');
    return lines.join('\n');
  }
  const tables = fitLayouts([serviceLayouts(s.services, paint), edgeLayouts(s.edges, paint)], width);
  const notes = callerLines(s.callers).map((l) => wrapWords(l, width));
  lines.push('', tables[0]!.text, '', tables[1]!.text, ...notes);
  const quietOnes = [...new Set(tables.flatMap((t) => t.quiet ?? []))];
  const dropped = tables[0]!.dropped ?? [];
  if (quietOnes.length + dropped.length > 0) {
    const parts = [...(quietOnes.length ? [`${quietOnes.join(', ')} (0 on every row)`] : []), ...dropped];
    lines.push(
      '',
      wrapWords(`not shown to fit ${width} columns: ${parts.join(', ')}; --wide shows every column`, width),
    );
  }
  return lines.join('\n');
}

/** Where the numbers come from and what span they cover; CloudWatch's starts on a minute (cloudWatchSpan). */
function heading(s: StatResult): string {
  if (s.source === 'local') return `local mesh, last ${formatDuration(s.windowMs)}`;
  const from = new Date(s.at - s.windowMs).toISOString().slice(11, 19);
  const span = formatDuration(Math.round(s.windowMs / 1000) * 1000);
  return `CloudWatch ${s.namespace ?? METRICS.namespacePrefix}, last ${span} (from ${from} UTC, the minute the window starts in)`;
}

const column = (header: string, cells: readonly string[], left?: boolean): TableColumn => ({ header, cells, left });

/** The golden-metric columns of a table's rows. */
function goldenColumns(rows: readonly GoldenMetrics[], paint: Paint): TableColumn[] {
  return [
    column(
      'REQ',
      rows.map((m) => String(m.requests)),
    ),
    column(
      'SUCCESS',
      rows.map((m) => paintRate(paint, m.successRate)),
    ),
    column(
      'RPS',
      rows.map((m) => fmtRps(m.rps)),
    ),
    column(
      'P50',
      rows.map((m) => fmtMs(m.p50)),
    ),
    column(
      'P95',
      rows.map((m) => fmtMs(m.p95)),
    ),
    column(
      'P99',
      rows.map((m) => fmtMs(m.p99)),
    ),
  ];
}

/** A count, coloured when it is not 0. */
const count = (paint: Paint, style: Style) => (n: number) => (n > 0 ? paint(style, String(n)) : String(n));

/** A column of counts that reads 0 on every row: nothing happened. */
const quiet = (c: TableColumn) => c.cells.every((cell) => cell === '0');

/**
 * Pure: the ways to lay out a table, widest first: every column; without the quiet `events`; then also
 * with `merge` in place of the columns it joins (if any); then without P95, then without RPS.
 */
function narrowing(
  columns: readonly TableColumn[],
  events: readonly TableColumn[],
  merge?: { readonly joins: readonly string[]; readonly column: TableColumn },
): TableLayout[] {
  const quietOnes = events.filter(quiet).map((c) => c.header);
  const without = (cs: readonly TableColumn[], names: readonly string[]) => cs.filter((c) => !names.includes(c.header));
  const calm = without(columns, quietOnes);
  const merged = merge
    ? calm.flatMap((c) => (c.header === merge.joins[0] ? [merge.column] : without([c], merge.joins)))
    : calm;
  // Every table takes the same steps (fitLayouts narrows them together): one without a merge repeats one.
  const layouts: TableLayout[] = [
    { columns },
    { columns: calm, quiet: quietOnes },
    { columns: merged, quiet: quietOnes },
  ];
  for (const dropped of [['P95'], ['P95', 'RPS']]) {
    layouts.push({ columns: without(merged, dropped), quiet: quietOnes, dropped });
  }
  return layouts;
}

function serviceLayouts(rows: readonly ServiceStats[], paint: Paint): TableLayout[] {
  const denied = column('DENIED', rows.map((x) => x.denied).map(count(paint, 'red')));
  const columns = [
    column(
      'SERVICE',
      rows.map((x) => x.service),
      true,
    ),
    ...goldenColumns(rows, paint),
    denied,
    column(
      'VERSIONS',
      rows.map((x) => versionSplit(x.versions)),
      true,
    ),
  ];
  return narrowing(columns, [denied]);
}

function edgeLayouts(rows: readonly EdgeStats[], paint: Paint): TableLayout[] {
  const red = count(paint, 'red');
  const yellow = count(paint, 'yellow');
  const events = [
    column('DENIED', rows.map((e) => e.denied).map(red)),
    column('BREAKER', rows.map((e) => e.breakerOpens).map(red)),
    column('RETRIES', rows.map((e) => e.retries).map(yellow)),
    column('LIMITED', rows.map((e) => e.rateLimited).map(yellow)),
    column('FALLBACK', rows.map((e) => e.fallbacks).map(yellow)),
    column(
      'MIRROR',
      rows.map((e) => String(e.mirrored)),
    ),
  ];
  const columns = [
    column(
      'SOURCE',
      rows.map((e) => e.source),
      true,
    ),
    column(
      'DESTINATION',
      rows.map((e) => `-> ${e.destination}`),
      true,
    ),
    column(
      'VERSION',
      rows.map((e) => e.version),
      true,
    ),
    ...goldenColumns(rows, paint),
    ...events,
  ];
  // The edge breaks at its arrow where the numbers leave it too little room.
  const edge = {
    ...column(
      'EDGE',
      rows.map((e) => `${e.source} -> ${e.destination}@${e.version}`),
      true,
    ),
    wrap: true,
  };
  return narrowing(columns, events, { joins: ['SOURCE', 'DESTINATION', 'VERSION'], column: edge });
}

// ---------------------------------------------------------------------------------------------

/** One snapshot from the source, marked with where it came from. */
export async function fetchStats(source: TelemetrySource, windowMs: number): Promise<StatResult> {
  return { source: source.kind === 'local' ? 'local' : 'cloudwatch', ...(await source.stats(windowMs)) };
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('stat', args, OPTIONS);
  if (values.help) {
    ctx.out(fitHelp(STAT_HELP, ctx.columns));
    return EXIT.ok;
  }
  if (positionals.length > 0)
    throw new UsageError(
      `unexpected argument ${positionals[0]} for \`mesh stat\`; use --service <name> to pick a service`,
    );
  const flags = awsFlags(values);
  const windowMs = durationFlag('stat', 'window', values.window, 60_000, 3_600_000);
  const watch = watchSettings('stat', values);
  const service = values.service;
  const source = await pickTelemetrySource(flags, ctx);
  let checked = service === undefined;
  const frame = async () => {
    const s = filterSnapshot(await fetchStats(source, windowMs), service);
    // A --service no call touches: a typo exits 2 naming the closest name; a quiet service shows "no traffic".
    if (!checked && s.services.length === 0 && s.edges.length === 0) {
      checkTrafficName((await ctx.discover(flags)).mesh, '--service', service!);
    }
    checked = true;
    return flags.json
      ? JSON.stringify(s, null, watch ? 0 : 2)
      : renderStats(s, painter(ctx, flags), values.wide ? undefined : ctx.columns);
  };
  if (watch) await watchLoop(ctx, watch, frameMode(ctx, flags), frame);
  else ctx.out(await frame());
  return EXIT.ok;
}
