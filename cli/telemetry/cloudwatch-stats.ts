/**
 * Golden metrics from CloudWatch: the runtime's EMF metrics in the mesh's own namespace, read with
 * ListMetrics and GetMetricData, turned into the same snapshot the local mesh serves
 * (shared/telemetry/golden-metrics.ts). CloudWatch keeps percentiles per series and cannot merge
 * them, so a group's latency is that of its busiest series.
 */
import type { CloudWatchClient, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { METRICS, metricNamespace } from '../../shared/names';
import {
  ALL_VERSIONS,
  type EdgeTallies,
  emptyCollectorCounters,
  goldenSnapshot,
  SeriesLatency,
  type StatsSnapshot,
  Tally,
  UNKNOWN_LABEL,
  type VersionTally,
} from '../../shared/telemetry/golden-metrics';
import { awsCall } from '../errors';

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

/** The metrics golden metrics are made of. */
const WANTED: ReadonlySet<string> = new Set([
  METRICS.requestsTotal,
  METRICS.requestDurationMs,
  METRICS.requestErrorsTotal,
  METRICS.deniedTotal,
  METRICS.breakerOpenTotal,
  METRICS.retriesTotal,
  METRICS.mirrorRequestsTotal,
  METRICS.rateLimitedTotal,
  METRICS.fallbackTotal,
]);

/** GetMetricData caps one request at 500 queries. */
const MAX_QUERIES = 500;

/** Which of the runtime's dimension sets a stream is in, by its dimension names. */
type StreamSet = 'edge' | 'version' | 'versionCode' | 'other';

const setKey = (names: readonly string[]) => [...names].sort().join(',');
const SETS: ReadonlyMap<string, StreamSet> = new Map([
  [setKey(METRICS.edgeDimensions), 'edge'],
  [setKey(METRICS.versionDimensions[0]), 'version'],
  [setKey(METRICS.versionDimensions[1]), 'versionCode'],
]);

function setOf(stream: MetricStream): StreamSet {
  return SETS.get(setKey(Object.keys(stream.dims))) ?? 'other';
}

/**
 * Pure: CloudWatch results -> the snapshot. Edges come from the per-edge set (every version of the
 * callee together); services and their versions from the callee's per-version sets: requests and
 * codes from the set with response_code, latency and mirror copies from the one without. The
 * `detailed` set (and any other) is left out: the default sets already count every call once.
 */
export function snapshotFromCloudWatch(
  streams: readonly { stream: MetricStream; values: StreamValues }[],
  windowMs: number,
  now: number,
): StatsSnapshot {
  const tallies = new StreamTallies();
  for (const { stream, values } of streams) addStream(tallies, stream, values);
  return goldenSnapshot(
    tallies.edges.values(),
    () => new SeriesLatency(),
    { at: now, windowMs, rateSeconds: windowMs / 1000 },
    emptyCollectorCounters(),
    tallies.versions.values(),
  );
}

type Dims = Readonly<Record<string, string>>;

/** An edge as the streams fill it: a tally per reporter. */
type StreamEdge = EdgeTallies<SeriesLatency> & { byReporter: Map<string, Tally<SeriesLatency>> };

/** The tallies the streams fill, made on first use: per edge and reporter, and per callee version. */
class StreamTallies {
  readonly edges = new Map<string, StreamEdge>();
  readonly versions = new Map<string, VersionTally<SeriesLatency>>();

  /** The tally of the edge and reporter a per-edge stream's dimensions name. */
  edge(d: Dims): Tally<SeriesLatency> {
    const source = d.source_workload ?? UNKNOWN_LABEL;
    const destination = d.destination_workload ?? UNKNOWN_LABEL;
    const key = `${source}\u0000${destination}`;
    let edge = this.edges.get(key);
    if (!edge) {
      edge = { source, destination, version: ALL_VERSIONS, byReporter: new Map() };
      this.edges.set(key, edge);
    }
    const reporter = d.reporter ?? UNKNOWN_LABEL;
    let tally = edge.byReporter.get(reporter);
    if (!tally) {
      tally = new Tally(new SeriesLatency());
      edge.byReporter.set(reporter, tally);
    }
    return tally;
  }

  /** The tally of the callee version a per-version stream's dimensions name. */
  version(d: Dims): Tally<SeriesLatency> {
    const service = d.destination_workload ?? UNKNOWN_LABEL;
    const version = d.destination_version ?? UNKNOWN_LABEL;
    const key = `${service}\u0000${version}`;
    let v = this.versions.get(key);
    if (!v) {
      v = { service, version, tally: new Tally(new SeriesLatency()) };
      this.versions.set(key, v);
    }
    return v.tally;
  }
}

/** One stream into the tally its set and name go to; the streams no golden metric is made of are left out. */
function addStream(tallies: StreamTallies, stream: MetricStream, values: StreamValues): void {
  const set = setOf(stream);
  const d = stream.dims;
  if (set === 'edge') {
    addEdgeStream(tallies.edge(d), stream.name, values);
  } else if (set === 'version' && stream.name === METRICS.requestDurationMs) {
    const tally = tallies.version(d);
    tally.latency = tally.latency.plus(latencyOf(values));
  } else if (set === 'version' && stream.name === METRICS.mirrorRequestsTotal) {
    tallies.version(d).count(stream.name, UNKNOWN_LABEL, values.sum ?? 0);
  } else if (set === 'versionCode' && stream.name === METRICS.requestsTotal) {
    tallies.version(d).count(stream.name, d.response_code ?? UNKNOWN_LABEL, values.sum ?? 0);
  }
}

/** A per-edge stream into its edge's tally for its reporter. */
function addEdgeStream(tally: Tally<SeriesLatency>, name: string, values: StreamValues): void {
  if (name === METRICS.requestDurationMs) tally.latency = tally.latency.plus(latencyOf(values));
  else if (name === METRICS.requestErrorsTotal) tally.successes -= values.sum ?? 0;
  else if (name === METRICS.requestsTotal) {
    // Successes are requests less errors (the edge set has no response code).
    tally.requests += values.sum ?? 0;
    tally.successes += values.sum ?? 0;
  } else tally.count(name, UNKNOWN_LABEL, values.sum ?? 0);
}

function latencyOf(values: StreamValues): SeriesLatency {
  return new SeriesLatency(values.samples ?? 0, { p50: values.p50, p95: values.p95, p99: values.p99 });
}

/** Where each query's answer goes: the stream's index and the field it fills. */
export type QueryIndex = ReadonlyMap<string, { readonly i: number; readonly field: keyof StreamValues }>;

/** Pure: the GetMetricData queries for the streams of `namespace` (sums; percentiles and sample count of durations). */
export function metricQueries(
  streams: readonly MetricStream[],
  periodSeconds: number,
  namespace: string,
): { queries: MetricDataQuery[]; index: QueryIndex } {
  const queries: MetricDataQuery[] = [];
  const index = new Map<string, { i: number; field: keyof StreamValues }>();
  streams.forEach((s, i) => {
    const metric = {
      Namespace: namespace,
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
      queries.push({ Id: id, MetricStat: { Metric: metric, Period: periodSeconds, Stat: stat }, ReturnData: true });
    }
  });
  return { queries, index };
}

/**
 * Pure: what GetMetricData reads for the last `windowMs` at `now`. CloudWatch rounds a start time of
 * the last 15 days down to its minute ("GetMetricData", Amazon CloudWatch API Reference), so a 60 s
 * window at 12:33:34 holds what came from 12:32:00, and in 60 s periods that is two of them (percentiles
 * of the newest alone). So: ask from that minute, in one period reaching past now, and count over it.
 */
export function cloudWatchSpan(windowMs: number, now: number): { startMs: number; periodSeconds: number } {
  const startMs = Math.floor((now - windowMs) / 60_000) * 60_000;
  return { startMs, periodSeconds: Math.max(1, Math.ceil((now - startMs) / 60_000)) * 60 };
}

/**
 * Adapter: ListMetrics + GetMetricData over mesh `meshName`'s namespace (no other mesh's), from the
 * minute `windowMs` ago falls in.
 */
export async function cloudWatchStats(
  client: CloudWatchClient,
  meshName: string,
  windowMs: number,
  now = Date.now(),
): Promise<StatsSnapshot> {
  const namespace = metricNamespace(meshName);
  const streams = await listMeshStreams(client, namespace);
  const { startMs, periodSeconds } = cloudWatchSpan(windowMs, now);
  const { queries, index } = metricQueries(streams, periodSeconds, namespace);
  const values = await fetchValues(client, queries, index, streams.length, {
    start: new Date(startMs),
    end: new Date(now),
  });
  const snapshot = snapshotFromCloudWatch(
    streams.map((stream, i) => ({ stream, values: values[i]! })),
    now - startMs,
    now,
  );
  return { ...snapshot, namespace };
}

async function listMeshStreams(client: CloudWatchClient, namespace: string): Promise<MetricStream[]> {
  const { ListMetricsCommand } = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
  const streams: MetricStream[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall('CloudWatch ListMetrics', () =>
      client.send(new ListMetricsCommand({ Namespace: namespace, NextToken: token, RecentlyActive: 'PT3H' })),
    );
    for (const m of page.Metrics ?? []) {
      if (!m.MetricName || !WANTED.has(m.MetricName)) continue;
      streams.push({
        name: m.MetricName,
        dims: Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? ''])),
      });
    }
    token = page.NextToken || undefined;
  } while (token);
  return streams;
}

async function fetchValues(
  client: CloudWatchClient,
  queries: readonly MetricDataQuery[],
  index: QueryIndex,
  streamCount: number,
  range: { start: Date; end: Date },
): Promise<StreamValues[]> {
  const { GetMetricDataCommand } = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
  const values: StreamValues[] = Array.from({ length: streamCount }, () => ({}));
  for (let at = 0; at < queries.length; at += MAX_QUERIES) {
    const batch = queries.slice(at, at + MAX_QUERIES);
    let next: string | undefined;
    do {
      const res = await awsCall('CloudWatch GetMetricData', () =>
        client.send(
          new GetMetricDataCommand({
            MetricDataQueries: batch,
            StartTime: range.start,
            EndTime: range.end,
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
  return values;
}
