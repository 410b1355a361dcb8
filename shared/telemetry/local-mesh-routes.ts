/**
 * The read-only routes the local mesh serves under /_mesh/ (local/dashboard/routes.ts) and the CLI
 * reads (cli/telemetry/local-mesh-telemetry.ts):
 *
 *   GET /_mesh/                  the dashboard (one self-contained HTML page)
 *   GET /_mesh/stats?window=60s  StatsSnapshot
 *   GET /_mesh/traces?limit=20   { traces: TraceSummary[] }; with &control=hide, the app's traces only
 *                                and `hidden`, how many of the mesh's control functions' were left out;
 *                                &service=s, &failed=1, &since=5m narrow it down (TraceFilter)
 *   GET /_mesh/aliases           { aliases: { service, stable, weights }[] }: each `live` alias as configured
 *   GET /_mesh/access?after=n    { entries: AccessEntry[], next }: the access-log lines after cursor n
 *                                (without `after`: none, and the cursor of the newest line)
 *   GET /_mesh/access?since=5m   the same from the first line of the last 5 minutes; `droppedUntil`, the
 *                                time of the newest line dropped, when the mesh no longer holds them all
 *   GET /_mesh/traces/<id>       Trace (`last` = the newest complete one); 404 when there is none
 *
 * The local mesh serves two more beside them: `/_mesh/local`, its runtime's own state (workers,
 * counters, deployments: local/mesh-local.ts), and `/_mesh/deployments`, the CodeDeploy deployments
 * as the CLI's rollout view reads them (local/codedeploy/deployment-view.ts).
 *
 * Every answer carries LOCAL_MESH_HEADER, which tells a client it talks to a local mesh and not to
 * LocalStack or AWS behind the same endpoint URL. Errors are `{ message }` with a 4xx status.
 */
import { formatDuration } from './duration';
import { type TraceFilter, traceFilterQuery } from './trace-filter';

export const MESH_ROUTE_PREFIX = '/_mesh';

/** Header on every /_mesh/ answer. */
export const LOCAL_MESH_HEADER = 'x-lambda-mesh-local';

/**
 * The most traces one list answers, and what `mesh trace --limit` accepts: as many as the local mesh
 * keeps of those that went well (TelemetryStore's `maxTraces`), and of those that failed.
 */
export const MAX_TRACE_LIST = 1_000;

/** How many access-log lines the local mesh keeps: `mesh tap --since` looks back no further than them. */
export const ACCESS_LOG_CAPACITY = 5_000;

export const MESH_ROUTES = {
  stats: (windowMs: number, mesh?: string) =>
    `${MESH_ROUTE_PREFIX}/stats?window=${formatDuration(windowMs)}${mesh === undefined ? '' : `&mesh=${encodeURIComponent(mesh)}`}`,
  traces: (limit: number, filter: TraceFilter = {}) =>
    `${MESH_ROUTE_PREFIX}/traces?limit=${limit}${traceFilterQuery(filter)}`,
  trace: (id: string) => `${MESH_ROUTE_PREFIX}/traces/${encodeURIComponent(id)}`,
  access: (after: number | undefined) => `${MESH_ROUTE_PREFIX}/access${after === undefined ? '' : `?after=${after}`}`,
  accessSince: (sinceMs: number) => `${MESH_ROUTE_PREFIX}/access?since=${formatDuration(sinceMs)}`,
} as const;
