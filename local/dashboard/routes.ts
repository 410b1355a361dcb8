/**
 * The `/_mesh/*` routes the local mesh serves (shared/telemetry/local-mesh-routes.ts): JSON for
 * `mesh stat` / `mesh trace` and the dashboard page. Read-only, so any caller on loopback may use them.
 */

import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { tracesToRead, withoutControlTraces } from '../../shared/telemetry/control-traces';
import { parseDuration } from '../../shared/telemetry/duration';
import { LOCAL_MESH_HEADER, MAX_TRACE_LIST, MESH_ROUTE_PREFIX } from '../../shared/telemetry/local-mesh-routes';
import { TRACE_SERVICE_PATTERN, type TraceFilter } from '../../shared/telemetry/trace-filter';
import type { AccessLogBuffer, SequencedAccess } from '../telemetry/access-log-buffer';
import type { TelemetryStore } from '../telemetry/telemetry-store';
import type { MeshView } from './mesh-view';

/** Longest stats window the API accepts; the store keeps 15 minutes by default. */
const MAX_WINDOW_MS = 60 * 60_000;

let page: Buffer | undefined;
function dashboardPage(): Buffer {
  // Read once, on the first visit: the page ships next to this file, no build step.
  page ??= readFileSync(join(__dirname, 'dashboard.html'));
  return page;
}

function send(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(head ? undefined : text);
}

/** An answer: a status and a JSON body (`{ message }` for errors). */
type Answer = readonly [status: number, body: unknown];

/** Handles a request under /_mesh/ and returns true; returns false (touching nothing) for any other path. */
export function handleMeshRequest(
  req: IncomingMessage,
  res: ServerResponse,
  store: TelemetryStore,
  view: MeshView,
): boolean {
  const url = new URL(req.url ?? '/', 'http://mesh.local');
  const path = url.pathname;
  if (path !== MESH_ROUTE_PREFIX && !path.startsWith(`${MESH_ROUTE_PREFIX}/`)) return false;
  res.setHeader(LOCAL_MESH_HEADER, '1');
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    res.setHeader('allow', 'GET, HEAD');
    send(res, 405, { message: `${req.method} is not allowed on ${path}; the mesh routes are read-only (GET)` }, head);
    return true;
  }
  if (path === MESH_ROUTE_PREFIX) {
    res.writeHead(308, { location: `${MESH_ROUTE_PREFIX}/` });
    res.end();
    return true;
  }
  const rest = path.slice(MESH_ROUTE_PREFIX.length + 1).replace(/\/+$/, '');
  if (rest === '' || rest === 'index.html') {
    const body = dashboardPage();
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': body.length,
      'cache-control': 'no-store',
    });
    res.end(head ? undefined : body);
    return true;
  }
  const answer = route(rest, url.searchParams, store, view) ?? [
    404,
    {
      message: `no mesh route ${path}; try ${MESH_ROUTE_PREFIX}/, ${MESH_ROUTE_PREFIX}/stats, ${MESH_ROUTE_PREFIX}/traces, ${MESH_ROUTE_PREFIX}/aliases or ${MESH_ROUTE_PREFIX}/policy`,
    },
  ];
  void Promise.resolve(answer).then(([status, body]) => send(res, status, body, head));
  return true;
}

/** The JSON routes; undefined for a path that is none of them. */
function route(
  rest: string,
  query: URLSearchParams,
  store: TelemetryStore,
  view: MeshView,
): Answer | Promise<Answer> | undefined {
  if (rest === 'stats') return stats(query, store);
  if (rest === 'traces') return traces(query, store, view);
  if (rest === 'aliases') return [200, { aliases: view.liveAliases() }];
  if (rest === 'policy') return policy(view);
  if (rest === 'access') return access(query, store);
  if (rest.startsWith('traces/')) return trace(decodedSegment(rest.slice('traces/'.length)), store);
  return undefined;
}

/** A path segment decoded; one whose escapes make no UTF-8 (`%E0%A4%A`) stays as sent and names nothing. */
function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** `?window=60s`, and `&mesh=<name>` for one mesh's metrics where the local mesh runs several. */
function stats(query: URLSearchParams, store: TelemetryStore): Answer {
  const window = query.get('window');
  const windowMs = window === null ? 60_000 : parseDuration(window);
  if (windowMs === undefined || windowMs > MAX_WINDOW_MS) {
    return [
      400,
      { message: `window must be a duration up to 1h like 60s, 5m or 500ms, got ${JSON.stringify(window)}` },
    ];
  }
  return [200, store.stats({ windowMs, mesh: query.get('mesh') ?? undefined })];
}

/**
 * `?limit=n`: the newest traces; `&service=s`, those through s (as caller or callee); `&failed=1`, those
 * that failed somewhere or needed a retry; `&since=5m`, those started since. With `control=hide`, the
 * app's traces only, and how many of the mesh's control functions' were left out (`hidden`): the
 * dashboard's default, as `mesh trace`'s.
 */
function traces(query: URLSearchParams, store: TelemetryStore, view: MeshView): Answer {
  const limitParam = query.get('limit');
  const limit = limitParam === null ? 20 : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TRACE_LIST) {
    return [
      400,
      { message: `limit must be a whole number from 1 to ${MAX_TRACE_LIST}, got ${JSON.stringify(limitParam)}` },
    ];
  }
  const filter = traceFilter(query);
  if (typeof filter === 'string') return [400, { message: filter }];
  if (query.get('control') !== 'hide') return [200, { traces: store.traces(limit, { filter }) }];
  const read = store.traces(tracesToRead(limit), { filter });
  const { traces: list, hidden } = withoutControlTraces(read, view.controlFunctions());
  return [200, { traces: list.slice(0, limit), hidden }];
}

/** The list's filter out of the query, or what is wrong with it. */
function traceFilter(query: URLSearchParams): TraceFilter | string {
  const [service, failed, since] = ['service', 'failed', 'since'].map((k) => query.get(k) ?? undefined);
  if (service !== undefined && !TRACE_SERVICE_PATTERN.test(service))
    return `service must be a service or function name (letters, digits, - _ .), got ${JSON.stringify(service)}`;
  if (failed !== undefined && failed !== '1') return `failed must be 1 (or left out), got ${JSON.stringify(failed)}`;
  const sinceMs = sinceParam(since);
  if (typeof sinceMs === 'string') return sinceMs;
  return { service, failed: failed === '1', sinceMs };
}

/** `since=<duration>` in ms (undefined when absent), or what is wrong with it. */
function sinceParam(since: string | undefined): number | undefined | string {
  const sinceMs = since === undefined ? undefined : parseDuration(since);
  if (since !== undefined && sinceMs === undefined)
    return `since must be a duration like 90s, 5m or 500ms, got ${JSON.stringify(since)}`;
  return sinceMs;
}

/** Who may call whom as the policy tables say: a deny shows here before any call is refused. */
async function policy(view: MeshView): Promise<Answer> {
  try {
    return [200, { edges: await view.policyEdges() }];
  } catch (err) {
    return [503, { message: `the policy table could not be read: ${(err as Error).message}` }];
  }
}

/** The most access-log lines one answer holds: a follower asks again from the last one it got. */
const MAX_ACCESS_LINES = 1_000;

/**
 * `?after=<seq>`: the access-log lines after that one, oldest first, and `next`, the cursor to ask from
 * next. Without `after`, no lines and the cursor of the newest: a follower starts from now. With
 * `?since=<duration>` instead, the lines from the first of that window on, and `droppedUntil` when the
 * mesh has already dropped lines of it (the time of the newest it dropped).
 */
function access(query: URLSearchParams, store: TelemetryStore): Answer {
  const log = store.accessLog;
  const afterParam = query.get('after');
  const sinceMs = sinceParam(query.get('since') ?? undefined);
  if (typeof sinceMs === 'string') return [400, { message: sinceMs }];
  if (sinceMs !== undefined && afterParam !== null)
    return [400, { message: 'give after (a cursor) or since (a duration), not both' }];
  if (sinceMs !== undefined) return accessSince(Date.now() - sinceMs, log);
  if (afterParam === null) return [200, { entries: [], next: log.latest }];
  const after = Number(afterParam);
  if (!Number.isInteger(after) || after < 0) {
    return [
      400,
      { message: `after must be a whole number (a cursor from an earlier answer), got ${JSON.stringify(afterParam)}` },
    ];
  }
  // A cursor past the newest line is one from before the mesh restarted: follow from its newest.
  return [200, accessPage(log.after(after, MAX_ACCESS_LINES), Math.min(after, log.latest))];
}

/** The lines from `start` on, and when lines of that window are gone, the time up to which they may be. */
function accessSince(start: number, log: AccessLogBuffer): Answer {
  const dropped = log.droppedUntil;
  const page = accessPage(log.since(start, MAX_ACCESS_LINES), log.latest);
  return [200, dropped !== undefined && dropped >= start ? { ...page, droppedUntil: dropped } : page];
}

/** An answer's lines and the cursor after the last of them (`empty`, the cursor when there is none). */
function accessPage(lines: readonly SequencedAccess[], empty: number) {
  return { entries: lines.map((l) => l.entry), next: lines.length ? lines[lines.length - 1]!.seq : empty };
}

/** One trace; `last` = the newest whose every hop has arrived, never one still filling in. */
function trace(id: string, store: TelemetryStore): Answer {
  const found = id === 'last' ? store.lastComplete() : id ? store.trace(id) : undefined;
  if (found) return [200, found];
  const message =
    id === 'last'
      ? `no complete trace yet in the local mesh; list them at ${MESH_ROUTE_PREFIX}/traces`
      : `no trace ${JSON.stringify(id)} in the local mesh (traces are kept 15 minutes); list them at ${MESH_ROUTE_PREFIX}/traces`;
  return [404, { message }];
}
