/**
 * `mesh trace`: recent traces through the mesh, and one trace as a waterfall of its hops (bars scaled
 * to time, with the mesh's annotations: source, target, version, attempt, outcome). Reads the local
 * mesh's /_mesh/traces; where no /_mesh/ route answers it reads X-Ray (GetTraceSummaries,
 * BatchGetTraces) and assembles the segments with the same code the local mesh uses.
 */

import { TelemetryStore, type Trace, type TraceSpan, type TraceSummary } from '../../local/telemetry/telemetry-store';
import { AWS_OPTIONS, type AwsFlags, awsFlags, parseCommandArgs } from '../args';
import type { CliContext } from '../context';
import { AwsCallError, awsCall, EXIT, MeshError, UsageError } from '../errors';
import { countFlag, durationFlag, fmtMs, localMeshGet, meshEndpoint, sdkConfig, table } from './stat';

export const TRACE_HELP = `mesh trace [<trace-id> | --last] [--limit n] [--since 15m] [--width n] [--json] [AWS flags]

Without an id: lists recent traces (newest first). With an id, or --last for the newest complete one
(every hop arrived; a trace still filling in is skipped): prints the
trace as a waterfall, one line per hop, bars scaled to time, with the mesh annotations
(source, target, version, attempt, outcome) of each call.

Reads the local mesh (GET <endpoint>/_mesh/traces) when --endpoint-url / AWS_ENDPOINT_URL points at one;
otherwise X-Ray (GetTraceSummaries, BatchGetTraces).

Flags:
  --last               the newest complete trace
  --limit <n>          how many traces to list (default 20)
  --since <duration>   X-Ray only: how far back to look (default 15m, at most 6h)
  --width <n>          width of the waterfall's time axis in characters (default 50)
  --json               print the trace (or the list) as JSON
  --mesh, --region, --endpoint-url   as for every mesh command

Examples:
  mesh trace --endpoint-url http://127.0.0.1:4566
  mesh trace --last
  mesh trace 1-6581c2b4-3f0e8d1b2c4a5e6f7a8b9c0d --json`;

const OPTIONS = {
  ...AWS_OPTIONS,
  last: { type: 'boolean' },
  limit: { type: 'string' },
  since: { type: 'string' },
  width: { type: 'string' },
} as const;

const TRACE_ID = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
/** The annotations the runtime puts on each call, in the order the waterfall shows them. */
const MESH_ANNOTATIONS = ['source', 'target', 'version', 'attempt', 'outcome'] as const;

// ---------------------------------------------------------------------------------------------
// Rendering (pure)

function flatten(spans: readonly TraceSpan[]): TraceSpan[] {
  return spans.flatMap((s) => [s, ...flatten(s.children)]);
}

/** A bar of `width` cells for [start, end] within [t0, t0 + total], eighth-block precise at the edges. */
export function bar(t0: number, total: number, start: number, end: number, width: number): string {
  const scale = total > 0 ? width / total : 0;
  const a = Math.max(0, Math.min(width, (start - t0) * scale));
  const b = Math.max(a, Math.min(width, (end - t0) * scale));
  const from = Math.floor(a);
  // At least one cell, so a sub-millisecond hop still shows.
  const to = Math.max(from + 1, Math.round(b));
  return (
    ' '.repeat(from) + '█'.repeat(Math.min(width, to) - from) + ' '.repeat(Math.max(0, width - Math.min(width, to)))
  );
}

export function renderWaterfall(t: Trace, width = 50): string {
  const spans = flatten(t.roots);
  const total = Math.max(t.durationMs, 0.001);
  const label = (s: TraceSpan) => `${'  '.repeat(s.depth)}${s.name}`;
  const nameWidth = Math.min(48, Math.max(4, ...spans.map((s) => label(s).length)));
  const status = t.fault ? 'FAULT' : t.error ? 'ERROR' : 'ok';
  const lines = [
    `trace ${t.id}  ${fmtMs(t.durationMs)}  ${status}  ${t.services.join(' -> ')}`,
    `${' '.repeat(nameWidth)}  |${'0'.padEnd(Math.floor(width / 2))}${fmtMs(total / 2).padEnd(width - Math.floor(width / 2) - fmtMs(total).length)}${fmtMs(total)}|`,
  ];
  for (const s of spans) {
    const end = s.end ?? t.end;
    const ann = MESH_ANNOTATIONS.filter((k) => s.annotations[k] !== undefined).map((k) => `${k}=${s.annotations[k]}`);
    const flags = [
      s.fault ? 'fault' : s.error ? 'error' : s.throttle ? 'throttled' : '',
      s.httpStatus ? `http ${s.httpStatus}` : '',
      s.inProgress ? 'in progress' : '',
    ].filter(Boolean);
    const name = label(s).length > nameWidth ? `${label(s).slice(0, nameWidth - 1)}…` : label(s).padEnd(nameWidth);
    lines.push(
      `${name}  |${bar(t.start, total, s.start, end, width)}| ${fmtMs(s.durationMs).padStart(7)}${[...flags, ...ann].length ? `  ${[...flags, ...ann].join(' ')}` : ''}`,
    );
  }
  return lines.join('\n');
}

export function renderTraceList(list: readonly TraceSummary[]): string {
  if (list.length === 0) return 'no traces yet: send a request through the mesh (traces are kept 15 minutes locally)';
  return table(
    ['TRACE', 'STARTED', 'DURATION', 'SPANS', 'STATUS', 'PATH'],
    list.map((t) => [
      t.id,
      new Date(t.start).toISOString().slice(11, 23),
      fmtMs(t.durationMs),
      String(t.spanCount),
      t.fault ? 'fault' : t.error ? 'error' : 'ok',
      t.services.join(' -> ') || t.root,
    ]),
    [0, 1, 4, 5],
  );
}

// ---------------------------------------------------------------------------------------------
// X-Ray

type XRay = typeof import('@aws-sdk/client-xray');

async function xrayClient(
  flags: AwsFlags,
  ctx: CliContext,
): Promise<{ x: XRay; client: import('@aws-sdk/client-xray').XRayClient }> {
  const x = require('@aws-sdk/client-xray') as XRay;
  return { x, client: new x.XRayClient(await sdkConfig(flags, ctx, 'XRAY')) };
}

/** Adapter: GetTraceSummaries over the last `sinceMs`, newest first. */
export async function xraySummaries(
  flags: AwsFlags,
  ctx: CliContext,
  sinceMs: number,
  limit: number,
): Promise<TraceSummary[]> {
  const { x, client } = await xrayClient(flags, ctx);
  try {
    const now = Date.now();
    const out: TraceSummary[] = [];
    let token: string | undefined;
    do {
      const page = await awsCall('X-Ray GetTraceSummaries', () =>
        client.send(
          new x.GetTraceSummariesCommand({
            StartTime: new Date(now - sinceMs),
            EndTime: new Date(now),
            Sampling: false,
            NextToken: token,
          }),
        ),
      );
      for (const s of page.TraceSummaries ?? []) {
        if (!s.Id) continue;
        const services = (s.ServiceIds ?? []).map((v) => v.Name ?? '').filter(Boolean);
        out.push({
          id: s.Id,
          start: s.StartTime ? s.StartTime.getTime() : parseInt(s.Id.split('-')[1] ?? '0', 16) * 1000,
          durationMs: Math.round((s.Duration ?? 0) * 1000 * 1000) / 1000,
          root: s.EntryPoint?.Name ?? services[0] ?? '',
          services,
          spanCount: 0,
          error: s.HasError === true,
          fault: s.HasFault === true,
          // X-Ray marks a trace with a segment still in progress as partial.
          complete: s.IsPartial !== true,
        });
      }
      token = page.NextToken || undefined;
      // Pages come in no particular order; stop paging once there is plenty to pick the newest from.
    } while (token && out.length < Math.max(limit * 5, 100));
    return out.sort((a, b) => b.start - a.start).slice(0, limit);
  } finally {
    client.destroy();
  }
}

/** Adapter: BatchGetTraces for one id, assembled by the local mesh's own trace code. */
export async function xrayTrace(flags: AwsFlags, ctx: CliContext, id: string): Promise<Trace | undefined> {
  const { x, client } = await xrayClient(flags, ctx);
  try {
    const res = await awsCall('X-Ray BatchGetTraces', () =>
      client.send(new x.BatchGetTracesCommand({ TraceIds: [id] })),
    );
    const trace = res.Traces?.find((t) => t.Id === id);
    if (!trace) return undefined;
    const store = new TelemetryStore({ maxSpansPerTrace: 10_000 });
    for (const seg of trace.Segments ?? []) if (seg.Document) store.recordSegment(seg.Document);
    return store.trace(id);
  } finally {
    client.destroy();
  }
}

// ---------------------------------------------------------------------------------------------

interface Found<T> {
  readonly source: 'local' | 'xray';
  readonly value: T;
}

async function listTraces(
  flags: AwsFlags,
  ctx: CliContext,
  limit: number,
  sinceMs: number,
): Promise<Found<TraceSummary[]>> {
  const endpoint = meshEndpoint(flags, ctx);
  if (endpoint) {
    const local = await localMeshGet<{ traces: TraceSummary[]; message?: string }>(
      endpoint,
      `/_mesh/traces?limit=${limit}`,
    );
    if (local.kind === 'local') {
      if (local.status !== 200)
        throw new AwsCallError('GET /_mesh/traces', String(local.status), local.body.message ?? 'unexpected answer');
      return { source: 'local', value: local.body.traces };
    }
  }
  return { source: 'xray', value: await xraySummaries(flags, ctx, sinceMs, limit) };
}

async function getTrace(
  flags: AwsFlags,
  ctx: CliContext,
  id: string | 'last',
  sinceMs: number,
): Promise<Found<Trace | undefined>> {
  const endpoint = meshEndpoint(flags, ctx);
  if (endpoint) {
    const local = await localMeshGet<Trace & { message?: string }>(endpoint, `/_mesh/traces/${encodeURIComponent(id)}`);
    if (local.kind === 'local') {
      if (local.status === 404) return { source: 'local', value: undefined };
      if (local.status !== 200)
        throw new AwsCallError('GET /_mesh/traces', String(local.status), local.body.message ?? 'unexpected answer');
      return { source: 'local', value: local.body };
    }
  }
  let traceId = id;
  if (id === 'last') {
    const newest = (await xraySummaries(flags, ctx, sinceMs, 20)).find((t) => t.complete);
    if (!newest) return { source: 'xray', value: undefined };
    traceId = newest.id;
  }
  return { source: 'xray', value: await xrayTrace(flags, ctx, traceId) };
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('trace', args, OPTIONS);
  if (values.help) {
    ctx.out(TRACE_HELP);
    return EXIT.ok;
  }
  const flags = awsFlags(values);
  if (positionals.length > 1)
    throw new UsageError(`\`mesh trace\` takes one trace id, got ${positionals.length}: ${positionals.join(' ')}`);
  const id = positionals[0];
  if (id !== undefined && !TRACE_ID.test(id)) {
    throw new UsageError(
      `trace id must look like 1-5759e988-bd862e3fe1be46a994272793 (1-<8 hex>-<24 hex>), got ${JSON.stringify(id)}`,
    );
  }
  if (id !== undefined && values.last) throw new UsageError('give a trace id or --last, not both');
  const limit = countFlag('trace', 'limit', values.limit, 1000) ?? 20;
  const sinceMs = durationFlag('trace', 'since', values.since, 15 * 60_000, 6 * 3_600_000);
  const width = countFlag('trace', 'width', values.width, 400) ?? 50;
  if (width < 10) throw new UsageError(`--width must be at least 10, got ${width}`);

  if (id === undefined && !values.last) {
    const list = await listTraces(flags, ctx, limit, sinceMs);
    ctx.out(
      flags.json ? JSON.stringify({ source: list.source, traces: list.value }, null, 2) : renderTraceList(list.value),
    );
    return EXIT.ok;
  }
  const found = await getTrace(flags, ctx, id ?? 'last', sinceMs);
  if (!found.value) {
    const where =
      found.source === 'local'
        ? 'the local mesh (traces are kept 15 minutes)'
        : `X-Ray (looked back ${Math.round(sinceMs / 60_000)} minutes)`;
    throw new MeshError(
      id
        ? `no trace ${id} in ${where}; list recent ones with \`mesh trace\``
        : `no traces yet in ${where}; send a request through the mesh`,
    );
  }
  ctx.out(
    flags.json
      ? JSON.stringify({ source: found.source, ...found.value }, null, 2)
      : renderWaterfall(found.value, width),
  );
  return EXIT.ok;
}
