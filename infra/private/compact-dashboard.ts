/**
 * The dashboard's compact form, for a mesh too big for widgets of each edge and service: graphs whose lines
 * are edges or versions, one row of them for each group of services. Each SEARCH names the group's
 * services, so the graphs keep to the mesh and every edge and service has its line; a group is as many
 * services as one query holds (CloudWatch takes a SEARCH of at most 1,024 characters) and a graph reads
 * well (at most 100 declared edges: a graph draws at most 500 series, and edges nobody declared may come).
 */
import type { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS } from '../../shared/names';
import { graphExpression, type MeshQuerySchemas, q, searchExpression } from './dashboard-queries';

/** An edge and the side that reports its metrics: the caller, or the callee for a caller that reports nothing. */
export interface ReportedEdge {
  readonly source: string;
  readonly target: string;
  readonly reporter: 'source' | 'destination';
}

/** What the compact form graphs. */
export interface CompactDashboardInput {
  /** Every service, sorted. */
  readonly services: readonly string[];
  readonly edges: readonly ReportedEdge[];
  readonly period: Duration;
  /** The mesh's namespace, as its queries name it. */
  readonly schemas: MeshQuerySchemas;
  /** A service's alarms, if it has any. */
  readonly alarmsOf: (service: string) => readonly cloudwatch.IAlarm[];
}

/** The longest SEARCH CloudWatch takes ("CloudWatch search expression syntax"). */
const QUERY_CHARS_MAX = 1024;
/** What a query holds besides its list of services: schema, metric, reporter, statistic, period. */
const QUERY_OVERHEAD_CHARS = 200;
/** Declared edges one graph draws at most, leaving room for undeclared ones within a graph's 500 series. */
const EDGES_PER_GRAPH_MAX = 100;
/** Services one row holds at most: their two alarms each fill an alarm status widget's 100. */
const SERVICES_PER_GROUP_MAX = 50;

// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudWatch dynamic label, filled in by CloudWatch
const EDGE_LABEL = "${PROP('Dim.source_workload')} → ${PROP('Dim.destination_workload')}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudWatch dynamic label, filled in by CloudWatch
const VERSION_LABEL = "${PROP('Dim.destination_workload')} v${PROP('Dim.destination_version')}";

/** `(dim="a" OR dim="b")`: any of the services. */
function anyOf(dimension: string, services: readonly string[]): string {
  return `(${services.map((s) => `${dimension}=${q(s)}`).join(' OR ')})`;
}

/** The service whose lines hold an edge's metrics: the caller, or the callee that reports for it. */
const reportingService = (e: ReportedEdge) => (e.reporter === 'source' ? e.source : e.target);

/** Consecutive services, as many as one query and one graph hold. */
export function serviceGroups(services: readonly string[], edges: readonly ReportedEdge[]): string[][] {
  const edgesOf = new Map<string, number>();
  for (const e of edges) edgesOf.set(reportingService(e), (edgesOf.get(reportingService(e)) ?? 0) + 1);
  const groups: string[][] = [];
  let group: string[] = [];
  let edgeCount = 0;
  for (const s of services) {
    const next = [...group, s];
    const full =
      anyOf('destination_workload', next).length > QUERY_CHARS_MAX - QUERY_OVERHEAD_CHARS ||
      edgeCount + (edgesOf.get(s) ?? 0) > EDGES_PER_GRAPH_MAX ||
      next.length > SERVICES_PER_GROUP_MAX;
    if (full && group.length > 0) {
      groups.push(group);
      group = [s];
      edgeCount = edgesOf.get(s) ?? 0;
    } else {
      group = next;
      edgeCount += edgesOf.get(s) ?? 0;
    }
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** The rows of the compact form: per group, its edges' graphs, then its versions and alarms. */
export function compactRows(input: CompactDashboardInput): cloudwatch.IWidget[][] {
  return serviceGroups(input.services, input.edges).flatMap((group) => {
    const title = group.length > 1 ? `${group[0]} … ${group.at(-1)}` : group[0]!;
    const edges = input.edges.filter((e) => group.includes(reportingService(e)));
    const rows = edges.length > 0 ? [edgeWidgets(input, title, edges)] : [];
    return [...rows, serviceWidgets(input, title, group)];
  });
}

/** A SEARCH of one metric over the edges `reporter` reports, of its `services` (callers or callees). */
function edgeSearch(
  input: CompactDashboardInput,
  reporter: ReportedEdge['reporter'],
  services: readonly string[],
  metric: string,
  stat: string,
): string {
  const by = reporter === 'source' ? 'source_workload' : 'destination_workload';
  return searchExpression(input.schemas.edge, metric, { reporter }, stat, input.period, anyOf(by, services));
}

/** Graphs of a group's edges: a line per edge, by the caller's report or by the callee's. */
function edgeWidgets(
  input: CompactDashboardInput,
  title: string,
  edges: readonly ReportedEdge[],
): cloudwatch.IWidget[] {
  const { period } = input;
  const callers = [...new Set(edges.filter((e) => e.reporter === 'source').map((e) => e.source))];
  const callees = [...new Set(edges.filter((e) => e.reporter === 'destination').map((e) => e.target))];
  const searches = (metric: string, stat: string, bySourceOnly = false) => [
    ...(callers.length > 0 ? [edgeSearch(input, 'source', callers, metric, stat)] : []),
    ...(callees.length > 0 && !bySourceOnly ? [edgeSearch(input, 'destination', callees, metric, stat)] : []),
  ];
  const graph = (what: string, metric: string, stat: string) =>
    new cloudwatch.GraphWidget({
      title: `${title}: ${what} per edge`,
      width: 6,
      left: searches(metric, stat).map((s) => graphExpression(s, EDGE_LABEL, period)),
    });
  const widgets: cloudwatch.IWidget[] = [
    graph('requests', METRICS.requestsTotal, 'Sum'),
    graph('errors (status 400 and up)', METRICS.requestErrorsTotal, 'Sum'),
    graph('p99 ms', METRICS.requestDurationMs, 'p99'),
  ];
  // Retries, breakers, rate limits and fallbacks belong to a mesh caller's client.
  if (callers.length > 0) {
    const counters: [string, string][] = [
      ['retries', METRICS.retriesTotal],
      ['breaker opens', METRICS.breakerOpenTotal],
      ['rate limited', METRICS.rateLimitedTotal],
      ['fallbacks', METRICS.fallbackTotal],
    ];
    widgets.push(
      new cloudwatch.GraphWidget({
        title: `${title}: retries, breaker opens, rate limited, fallbacks per edge`,
        width: 6,
        left: counters.flatMap(([what, metric]) =>
          searches(metric, 'Sum', true).map((s) => graphExpression(s, `${what} ${EDGE_LABEL}`, period)),
        ),
      }),
    );
  }
  return widgets;
}

/** A group's requests and mirror copies by version, and its services' alarms. */
function serviceWidgets(input: CompactDashboardInput, title: string, group: readonly string[]): cloudwatch.IWidget[] {
  const byVersion = (metric: string) =>
    searchExpression(
      input.schemas.version,
      metric,
      { reporter: 'destination' },
      'Sum',
      input.period,
      anyOf('destination_workload', group),
    );
  const widgets: cloudwatch.IWidget[] = [
    new cloudwatch.GraphWidget({
      title: `${title}: requests by version (mirror copies right, not requests)`,
      width: 12,
      left: [graphExpression(byVersion(METRICS.requestsTotal), VERSION_LABEL, input.period)],
      right: [graphExpression(byVersion(METRICS.mirrorRequestsTotal), `mirror ${VERSION_LABEL}`, input.period)],
    }),
  ];
  const alarms = group.flatMap((s) => input.alarmsOf(s));
  if (alarms.length > 0) {
    widgets.push(
      new cloudwatch.AlarmStatusWidget({ title: `${title}: alarms`, width: 12, height: 6, alarms: [...alarms] }),
    );
  }
  return widgets;
}
