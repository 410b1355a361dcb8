/**
 * `mesh stat`: golden metrics per service and per edge (source -> destination, per destination
 * version), like `linkerd viz stat`. Against the local mesh it reads `<endpoint>/_mesh/stats`; where no
 * /_mesh/ route answers (AWS, LocalStack) it reads CloudWatch (GetMetricData over the EMF metrics in the
 * LambdaMesh namespace). Both through cli/telemetry/telemetry-source.ts.
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
import { callerLines, fmtMs, fmtPct, formatTable, paintRate } from '../table-format';
import { pickTelemetrySource } from '../telemetry/telemetry-source';
import { checkTrafficName } from '../traffic-names';
import { frameMode, WATCH_OPTIONS, watchLoop, watchSettings } from '../watch';

export const STAT_HELP = `mesh stat [--window 60s] [--watch [--interval 2s] [--count n]] [--json] [AWS flags]

Golden metrics per service (inbound, all callers) and per edge (source -> destination, per
destination version): requests, rps, success rate, p50/p95/p99 latency, denied calls, breaker opens,
retries, calls refused over a rate limit (LIMITED: the caller's own 429s, no Invoke sent; also in REQ),
calls a declared fallback served (FALLBACK, on the edge to the fallback: another service, version, or
<version>@<region>), and mirror copies (MIRROR: copies a route item's mirror sent to a shadow version,
counted apart: never in REQ, the success rate or the latency).

Reads the local mesh (GET <endpoint>/_mesh/stats) when --endpoint-url / AWS_ENDPOINT_URL points at one;
otherwise CloudWatch metrics in the ${METRICS.namespace} namespace (GetMetricData).

Flags:
  --window <duration>    window the numbers cover: 30s, 60s, 5m, 1h (default 60s; CloudWatch rounds up to minutes)
  --service <name>       only this service and the edges into or out of it
  --watch                refresh until Ctrl-C
  --interval <duration>  time between refreshes with --watch (default 2s)
  --count <n>            with --watch, stop after n refreshes
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

/** Pure: the snapshot as text; `paint` colours failures red and degraded numbers yellow (plain by default). */
export function renderStats(s: StatResult, paint: Paint = plain): string {
  const from = s.source === 'local' ? 'local mesh' : `CloudWatch ${METRICS.namespace}`;
  const lines = [`${from}, last ${formatDuration(s.windowMs)}`];
  if (s.services.length === 0 && s.edges.length === 0) {
    lines.push('', 'no traffic in this window: send some requests through the mesh, or widen --window');
    return lines.join('\n');
  }
  const count = (n: number, style: Style) => (n > 0 ? paint(style, String(n)) : String(n));
  const g = (m: GoldenMetrics) => [
    String(m.requests),
    paintRate(paint, m.successRate),
    fmtRps(m.rps),
    fmtMs(m.p50),
    fmtMs(m.p95),
    fmtMs(m.p99),
  ];
  lines.push(
    '',
    formatTable(
      ['SERVICE', 'REQ', 'SUCCESS', 'RPS', 'P50', 'P95', 'P99', 'DENIED', 'VERSIONS'],
      s.services.map((x: ServiceStats) => [x.service, ...g(x), count(x.denied, 'red'), versionSplit(x.versions)]),
      { left: [0, 8] },
    ),
    '',
    formatTable(
      [
        'SOURCE',
        'DESTINATION',
        'VERSION',
        'REQ',
        'SUCCESS',
        'RPS',
        'P50',
        'P95',
        'P99',
        'DENIED',
        'BREAKER',
        'RETRIES',
        'LIMITED',
        'FALLBACK',
        'MIRROR',
      ],
      s.edges.map((e: EdgeStats) => [
        e.source,
        `-> ${e.destination}`,
        e.version,
        ...g(e),
        count(e.denied, 'red'),
        count(e.breakerOpens, 'red'),
        count(e.retries, 'yellow'),
        count(e.rateLimited, 'yellow'),
        count(e.fallbacks, 'yellow'),
        String(e.mirrored),
      ]),
      { left: [0, 1, 2] },
    ),
    ...callerLines(s.callers),
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

/** One snapshot from the source, marked with where it came from. */
export async function fetchStats(source: TelemetrySource, windowMs: number): Promise<StatResult> {
  return { source: source.kind === 'local' ? 'local' : 'cloudwatch', ...(await source.stats(windowMs)) };
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('stat', args, OPTIONS);
  if (values.help) {
    ctx.out(STAT_HELP);
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
    return flags.json ? JSON.stringify(s, null, watch ? 0 : 2) : renderStats(s, painter(ctx, flags));
  };
  if (watch) await watchLoop(ctx, watch, frameMode(ctx, flags), frame);
  else ctx.out(await frame());
  return EXIT.ok;
}
