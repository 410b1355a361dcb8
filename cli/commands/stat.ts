/**
 * `mesh stat`: golden metrics per service and per edge (source -> destination, per destination
 * version), like `linkerd viz stat`. Against the local mesh it reads `<endpoint>/_mesh/stats`; where no
 * /_mesh/ route answers (AWS, LocalStack) it reads CloudWatch (GetMetricData over the EMF metrics in the
 * LambdaMesh namespace). Also home of the helpers `mesh trace` and `mesh check` share: where the local
 * mesh is, and SDK settings for the services D's clients do not cover.
 */

import { LOCAL_MESH_HEADER } from '../../local/dashboard/routes';
import { formatDuration, parseDuration } from '../../local/telemetry/duration';
import type {
  EdgeStats,
  GoldenMetrics,
  ServiceStats,
  StatsSnapshot,
  VersionStats,
} from '../../local/telemetry/telemetry-store';
import { METRICS } from '../../shared/names';
import { AWS_OPTIONS, type AwsFlags, awsFlags, parseCommandArgs } from '../args';
import type { CliContext } from '../context';
import { AwsCallError, awsCall, EXIT, MeshError, UsageError } from '../errors';

export const STAT_HELP = `mesh stat [--window 60s] [--watch [--interval 2s] [--count n]] [--json] [AWS flags]

Golden metrics per service (inbound, all callers) and per edge (source -> destination, per
destination version): requests, rps, success rate, p50/p95/p99 latency, denied calls, breaker opens.

Reads the local mesh (GET <endpoint>/_mesh/stats) when --endpoint-url / AWS_ENDPOINT_URL points at one;
otherwise CloudWatch metrics in the ${METRICS.namespace} namespace (GetMetricData).

Flags:
  --window <duration>    window the numbers cover: 30s, 60s, 5m, 1h (default 60s; CloudWatch rounds up to minutes)
  --service <name>       only this service and the edges into or out of it
  --watch                refresh until Ctrl-C
  --interval <duration>  time between refreshes with --watch (default 2s)
  --count <n>            with --watch, stop after n refreshes
  --json                 print the snapshot as JSON (one object per refresh with --watch)
  --mesh, --region, --endpoint-url   as for every mesh command

Examples:
  mesh stat --endpoint-url http://127.0.0.1:4566
  mesh stat --window 5m --json
  mesh stat --watch --service payments`;

const OPTIONS = {
  ...AWS_OPTIONS,
  window: { type: 'string' },
  service: { type: 'string' },
  watch: { type: 'boolean' },
  interval: { type: 'string' },
  count: { type: 'string' },
} as const;

/** Where the numbers came from. */
export type StatSource = 'local' | 'cloudwatch';

export interface StatResult extends StatsSnapshot {
  readonly source: StatSource;
}

// ---------------------------------------------------------------------------------------------
// Shared with trace.ts and check.ts

/** The endpoint the mesh commands talk to (--endpoint-url, AWS_ENDPOINT_URL), or undefined for AWS. */
export function meshEndpoint(flags: Pick<AwsFlags, 'region' | 'endpointUrl'>, ctx: CliContext): string | undefined {
  return ctx.clients(flags).settings.endpoints.LAMBDA?.replace(/\/+$/, '');
}

export type LocalAnswer<T> =
  | { readonly kind: 'local'; readonly status: number; readonly body: T }
  | { readonly kind: 'absent' };

/**
 * GETs a /_mesh/ route. `absent` when the endpoint is not a local mesh (it answers, but not with
 * the mesh's JSON) — the caller then goes to AWS. An unreachable endpoint is an error.
 */
export async function localMeshGet<T>(endpoint: string, path: string): Promise<LocalAnswer<T>> {
  let res: Response;
  try {
    res = await fetch(`${endpoint}${path}`, {
      signal: AbortSignal.timeout(10_000),
      headers: { accept: 'application/json' },
    });
  } catch (err) {
    const e = err as { cause?: { code?: string; message?: string }; message?: string };
    throw new MeshError(
      `cannot reach ${endpoint} (${e.cause?.code ?? e.cause?.message ?? e.message}); is the local mesh running (npm start)? or check --endpoint-url`,
    );
  }
  const text = await res.text();
  // The local mesh marks every /_mesh/ answer; anything else (LocalStack's 404, AWS) means no local mesh.
  if (res.headers.get(LOCAL_MESH_HEADER) === null) return { kind: 'absent' };
  try {
    return { kind: 'local', status: res.status, body: JSON.parse(text) as T };
  } catch {
    throw new MeshError(
      `${endpoint}${path} answered ${res.status} with something that is not JSON; is it a local mesh of this version?`,
    );
  }
}

/** SDK client settings for a service D's clients do not cover (CloudWatch, X-Ray, Secrets Manager). */
export async function sdkConfig(
  flags: Pick<AwsFlags, 'region' | 'endpointUrl'>,
  ctx: CliContext,
  envSuffix: 'CLOUDWATCH' | 'XRAY' | 'SECRETS_MANAGER' | 'CODEDEPLOY',
): Promise<{ region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string } }> {
  const clients = ctx.clients(flags);
  const ignore = ctx.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true';
  const endpoint =
    flags.endpointUrl ||
    (ignore ? undefined : ctx.env[`AWS_ENDPOINT_URL_${envSuffix}`] || ctx.env.AWS_ENDPOINT_URL) ||
    undefined;
  return {
    region: await clients.region(),
    ...(endpoint ? { endpoint } : {}),
    ...(clients.settings.credentials ? { credentials: clients.settings.credentials } : {}),
  };
}

/** Parses a duration flag or throws a UsageError naming it. */
export function durationFlag(
  command: string,
  flag: string,
  value: string | undefined,
  fallback: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined || ms > max) {
    throw new UsageError(
      `--${flag} must be a duration up to ${formatDuration(max)} like 30s, 5m or 500ms, got ${JSON.stringify(value)}; see \`mesh ${command} --help\``,
    );
  }
  return ms;
}

export function countFlag(command: string, flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) {
    throw new UsageError(
      `--${flag} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}; see \`mesh ${command} --help\``,
    );
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Rendering (pure)

export function fmtPct(r: number | null): string {
  return r === null ? '-' : `${(r * 100).toFixed(r === 1 ? 0 : 1)}%`;
}

export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (v >= 1000) return `${(v / 1000).toFixed(2)}s`;
  return v >= 10 ? `${Math.round(v)}ms` : `${v.toFixed(1)}ms`;
}

function fmtRps(v: number): string {
  return v >= 100 ? String(Math.round(v)) : v.toFixed(1);
}

/** Columns padded to width: the ones listed in `left` (names) left-aligned, the rest (numbers) right-aligned. */
export function table(header: string[], rows: string[][], left: readonly number[] = [0]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (left.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function versionSplit(versions: readonly VersionStats[]): string {
  if (versions.length === 0) return '-';
  return versions
    .map(
      (v) =>
        `${/^\d+$/.test(v.version) ? 'v' : ''}${v.version} ${Math.round(v.share * 100)}% (${fmtPct(v.successRate)})`,
    )
    .join('  ');
}

/** Keeps the services and edges that touch `service`. */
export function filterSnapshot<T extends StatsSnapshot>(s: T, service: string | undefined): T {
  if (!service) return s;
  return {
    ...s,
    services: s.services.filter((x) => x.service === service),
    edges: s.edges.filter((e) => e.source === service || e.destination === service),
  };
}

export function renderStats(s: StatResult): string {
  const from = s.source === 'local' ? 'local mesh' : `CloudWatch ${METRICS.namespace}`;
  const lines = [`${from}, last ${formatDuration(s.windowMs)}`];
  if (s.services.length === 0 && s.edges.length === 0) {
    lines.push('', 'no traffic in this window: send some requests through the mesh, or widen --window');
    return lines.join('\n');
  }
  const g = (m: GoldenMetrics) => [
    String(m.requests),
    fmtPct(m.successRate),
    fmtRps(m.rps),
    fmtMs(m.p50),
    fmtMs(m.p95),
    fmtMs(m.p99),
  ];
  lines.push(
    '',
    table(
      ['SERVICE', 'REQ', 'SUCCESS', 'RPS', 'P50', 'P95', 'P99', 'DENIED', 'VERSIONS'],
      s.services.map((x: ServiceStats) => [x.service, ...g(x), String(x.denied), versionSplit(x.versions)]),
      [0, 8],
    ),
    '',
    table(
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
      ],
      s.edges.map((e: EdgeStats) => [
        e.source,
        `-> ${e.destination}`,
        e.version,
        ...g(e),
        String(e.denied),
        String(e.breakerOpens),
        String(e.retries),
      ]),
      [0, 1, 2],
    ),
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// CloudWatch

/** One metric stream as ListMetrics names it. */
export interface MetricStream {
  readonly name: string;
  readonly dims: Readonly<Record<string, string>>;
}

/** Values GetMetricData returned for one stream over the window. */
export interface StreamValues {
  sum?: number;
  p50?: number;
  p95?: number;
  p99?: number;
  samples?: number;
}

const UNKNOWN = 'unknown';

function isSuccessCode(code: string): boolean {
  return /^[23]\d\d$/.test(code) || code === 'ok' || code === 'success' || code === UNKNOWN;
}

/**
 * Pure: CloudWatch results -> the same snapshot the local mesh serves. CloudWatch cannot merge
 * percentiles across dimension sets, so an edge's latency is that of its busiest series (usually its
 * successful responses) and a service's that of its busiest edge.
 */
export function snapshotFromCloudWatch(
  streams: readonly { stream: MetricStream; values: StreamValues }[],
  windowMs: number,
  now: number,
): StatsSnapshot {
  type Side = {
    requests: number;
    ok: number;
    denied: number;
    breaker: number;
    retries: number;
    codes: Record<string, number>;
    lat?: StreamValues;
  };
  const edges = new Map<string, { source: string; destination: string; version: string; sides: Map<string, Side> }>();
  for (const { stream, values } of streams) {
    const d = stream.dims;
    const source = d.source_workload ?? UNKNOWN;
    const destination = d.destination_workload ?? UNKNOWN;
    const version = d.destination_version ?? UNKNOWN;
    const key = `${source}\u0000${destination}\u0000${version}`;
    let e = edges.get(key);
    if (!e) {
      e = { source, destination, version, sides: new Map() };
      edges.set(key, e);
    }
    const reporter = d.reporter ?? UNKNOWN;
    let side = e.sides.get(reporter);
    if (!side) {
      side = { requests: 0, ok: 0, denied: 0, breaker: 0, retries: 0, codes: {} };
      e.sides.set(reporter, side);
    }
    const sum = values.sum ?? 0;
    switch (stream.name) {
      case METRICS.requestsTotal: {
        const code = d.response_code ?? UNKNOWN;
        side.requests += sum;
        if (isSuccessCode(code)) side.ok += sum;
        side.codes[code] = (side.codes[code] ?? 0) + sum;
        break;
      }
      case METRICS.requestDurationMs:
        if ((values.samples ?? 0) > (side.lat?.samples ?? 0)) side.lat = values;
        break;
      case METRICS.deniedTotal:
        side.denied += sum;
        break;
      case METRICS.breakerOpenTotal:
        side.breaker += sum;
        break;
      case METRICS.retriesTotal:
        side.retries += sum;
        break;
    }
  }
  const windowSec = Math.max(1, windowMs / 1000);
  const golden = (x: {
    requests: number;
    ok: number;
    denied: number;
    breaker: number;
    retries: number;
    codes: Record<string, number>;
    lat?: StreamValues;
  }): GoldenMetrics => ({
    requests: x.requests,
    rps: Math.round((x.requests / windowSec) * 1000) / 1000,
    successRate: x.requests > 0 ? x.ok / x.requests : null,
    p50: x.lat?.p50 ?? null,
    p95: x.lat?.p95 ?? null,
    p99: x.lat?.p99 ?? null,
    denied: x.denied,
    breakerOpens: x.breaker,
    retries: x.retries,
    codes: { ...x.codes },
  });
  const edgeStats: EdgeStats[] = [];
  for (const e of edges.values()) {
    // The callee's side when it reported (every attempt on a version, see telemetry-store pickReporter).
    const dst = e.sides.get('destination');
    const [reporter, side] =
      dst && dst.requests > 0
        ? (['destination', dst] as const)
        : [...e.sides.entries()].sort((a, b) => b[1].requests - a[1].requests)[0]!;
    const merged = { ...side };
    for (const o of e.sides.values()) {
      merged.denied = Math.max(merged.denied, o.denied);
      merged.breaker = Math.max(merged.breaker, o.breaker);
      merged.retries = Math.max(merged.retries, o.retries);
      if (!merged.lat && o.lat) merged.lat = o.lat;
    }
    edgeStats.push({ source: e.source, destination: e.destination, version: e.version, reporter, ...golden(merged) });
  }
  const services = new Map<string, EdgeStats[]>();
  // As locally: a service the callee side reports on is described by those reports alone.
  const calleeReported = new Set(edgeStats.filter((e) => e.reporter === 'destination').map((e) => e.destination));
  for (const e of edgeStats) {
    if (!services.has(e.destination)) services.set(e.destination, []);
    if (!calleeReported.has(e.destination) || e.reporter === 'destination') services.get(e.destination)!.push(e);
    if (e.source !== 'external' && e.source !== UNKNOWN && !services.has(e.source)) services.set(e.source, []);
  }
  const sumOf = (list: EdgeStats[]) => {
    const busiest = [...list].sort((a, b) => b.requests - a.requests)[0];
    const requests = list.reduce((a, e) => a + e.requests, 0);
    const ok = list.reduce((a, e) => a + (e.successRate ?? 0) * e.requests, 0);
    const codes: Record<string, number> = {};
    for (const e of list) for (const [k, v] of Object.entries(e.codes)) codes[k] = (codes[k] ?? 0) + v;
    return {
      requests,
      ok,
      denied: list.reduce((a, e) => a + e.denied, 0),
      breaker: list.reduce((a, e) => a + e.breakerOpens, 0),
      retries: list.reduce((a, e) => a + e.retries, 0),
      codes,
      lat: busiest
        ? { p50: busiest.p50 ?? undefined, p95: busiest.p95 ?? undefined, p99: busiest.p99 ?? undefined }
        : undefined,
    };
  };
  const serviceStats: ServiceStats[] = [...services.entries()]
    .map(([service, list]) => {
      const all = sumOf(list);
      const byVersion = new Map<string, EdgeStats[]>();
      for (const e of list) byVersion.set(e.version, [...(byVersion.get(e.version) ?? []), e]);
      return {
        service,
        ...golden(all),
        versions: [...byVersion.entries()]
          .map(([version, l]) => {
            const v = sumOf(l);
            return { version, share: all.requests > 0 ? v.requests / all.requests : 0, ...golden(v) };
          })
          .sort((a, b) => a.version.localeCompare(b.version, undefined, { numeric: true })),
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service));
  edgeStats.sort(
    (a, b) =>
      a.source.localeCompare(b.source) ||
      a.destination.localeCompare(b.destination) ||
      a.version.localeCompare(b.version, undefined, { numeric: true }),
  );
  return {
    at: now,
    windowMs,
    services: serviceStats,
    edges: edgeStats,
    collector: { emfLines: 0, emfRejected: 0, segments: 0, segmentsRejected: 0, samplesDropped: 0, tracesDropped: 0 },
  };
}

/** GetMetricData caps one request at 500 queries. */
const MAX_QUERIES = 500;

/** Adapter: ListMetrics + GetMetricData over the mesh namespace. */
export async function cloudWatchStats(flags: AwsFlags, ctx: CliContext, windowMs: number): Promise<StatsSnapshot> {
  const cw = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
  const client = new cw.CloudWatchClient(await sdkConfig(flags, ctx, 'CLOUDWATCH'));
  try {
    const wanted = new Set<string>([
      METRICS.requestsTotal,
      METRICS.requestDurationMs,
      METRICS.deniedTotal,
      METRICS.breakerOpenTotal,
      METRICS.retriesTotal,
    ]);
    const streams: MetricStream[] = [];
    let token: string | undefined;
    do {
      const page = await awsCall('CloudWatch ListMetrics', () =>
        client.send(
          new cw.ListMetricsCommand({ Namespace: METRICS.namespace, NextToken: token, RecentlyActive: 'PT3H' }),
        ),
      );
      for (const m of page.Metrics ?? []) {
        if (!m.MetricName || !wanted.has(m.MetricName)) continue;
        streams.push({
          name: m.MetricName,
          dims: Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? ''])),
        });
      }
      token = page.NextToken || undefined;
    } while (token);
    // CloudWatch periods are whole minutes for standard-resolution metrics.
    const period = Math.max(60, Math.ceil(windowMs / 60_000) * 60);
    const now = Date.now();
    const queries: import('@aws-sdk/client-cloudwatch').MetricDataQuery[] = [];
    const index = new Map<string, { i: number; field: keyof StreamValues }>();
    streams.forEach((s, i) => {
      const metric = {
        Namespace: METRICS.namespace,
        MetricName: s.name,
        Dimensions: Object.entries(s.dims).map(([Name, Value]) => ({ Name, Value })),
      };
      const stats: [string, keyof StreamValues][] =
        s.name === METRICS.requestDurationMs
          ? [
              ['p50', 'p50'],
              ['p95', 'p95'],
              ['p99', 'p99'],
              ['SampleCount', 'samples'],
            ]
          : [['Sum', 'sum']];
      for (const [stat, field] of stats) {
        const id = `m${i}_${field}`;
        index.set(id, { i, field });
        queries.push({ Id: id, MetricStat: { Metric: metric, Period: period, Stat: stat }, ReturnData: true });
      }
    });
    const values: StreamValues[] = streams.map(() => ({}));
    for (let at = 0; at < queries.length; at += MAX_QUERIES) {
      const batch = queries.slice(at, at + MAX_QUERIES);
      let next: string | undefined;
      do {
        const res = await awsCall('CloudWatch GetMetricData', () =>
          client.send(
            new cw.GetMetricDataCommand({
              MetricDataQueries: batch,
              StartTime: new Date(now - period * 1000),
              EndTime: new Date(now),
              ScanBy: 'TimestampDescending',
              NextToken: next,
            }),
          ),
        );
        for (const r of res.MetricDataResults ?? []) {
          const ref = r.Id ? index.get(r.Id) : undefined;
          if (!ref || !r.Values?.length) continue;
          const v = values[ref.i]!;
          // Sums add over the periods returned; percentiles take the newest period.
          if (ref.field === 'sum' || ref.field === 'samples')
            v[ref.field] = (v[ref.field] ?? 0) + r.Values.reduce((a, b) => a + b, 0);
          else v[ref.field] ??= r.Values[0];
        }
        next = res.NextToken || undefined;
      } while (next);
    }
    return snapshotFromCloudWatch(
      streams.map((stream, i) => ({ stream, values: values[i]! })),
      period * 1000,
      now,
    );
  } finally {
    client.destroy();
  }
}

// ---------------------------------------------------------------------------------------------

/** One snapshot from wherever the mesh is. */
export async function fetchStats(flags: AwsFlags, ctx: CliContext, windowMs: number): Promise<StatResult> {
  const endpoint = meshEndpoint(flags, ctx);
  if (endpoint) {
    const local = await localMeshGet<StatsSnapshot & { message?: string }>(
      endpoint,
      `/_mesh/stats?window=${formatDuration(windowMs)}`,
    );
    if (local.kind === 'local') {
      if (local.status !== 200)
        throw new AwsCallError('GET /_mesh/stats', String(local.status), local.body.message ?? 'unexpected answer');
      return { source: 'local', ...local.body };
    }
  }
  return { source: 'cloudwatch', ...(await cloudWatchStats(flags, ctx, windowMs)) };
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
  const intervalMs = durationFlag('stat', 'interval', values.interval, 2_000, 3_600_000);
  const count = countFlag('stat', 'count', values.count, 1_000_000);
  if (!values.watch && (values.interval !== undefined || count !== undefined)) {
    throw new UsageError('--interval and --count only apply with --watch; see `mesh stat --help`');
  }
  const service = values.service;
  const once = async () => {
    const s = filterSnapshot(await fetchStats(flags, ctx, windowMs), service);
    ctx.out(flags.json ? JSON.stringify(s, null, values.watch ? 0 : 2) : renderStats(s));
  };
  if (!values.watch) {
    await once();
    return EXIT.ok;
  }
  let stop = false;
  const onSigint = () => (stop = true);
  process.once('SIGINT', onSigint);
  try {
    for (let i = 0; !stop && (count === undefined || i < count); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, intervalMs));
      if (stop) break;
      // Clear the screen between refreshes, like `watch`; JSON stays a plain stream of lines.
      if (!flags.json)
        ctx.out(`\x1b[2J\x1b[H${new Date().toISOString()}  (every ${formatDuration(intervalMs)}, Ctrl-C to stop)`);
      await once();
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  return EXIT.ok;
}
