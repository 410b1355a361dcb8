/**
 * `mesh trace`: recent traces through the mesh, and one trace as a waterfall of its hops (bars scaled
 * to time, with the mesh's annotations: source, target, version, attempt, outcome). Reads the local
 * mesh's /_mesh/traces; where no /_mesh/ route answers it reads X-Ray (GetTraceSummaries,
 * BatchGetTraces), assembled with the same code the local mesh uses (cli/telemetry/telemetry-source.ts).
 */

import { functionsOutsideMeshes, tracesToRead, withoutControlTraces } from '../../shared/telemetry/control-traces';
import { MAX_TRACE_LIST } from '../../shared/telemetry/local-mesh-routes';
import type { TelemetrySource } from '../../shared/telemetry/telemetry-source';
import type { Trace, TraceSpan, TraceSummary } from '../../shared/telemetry/trace-assembler';
import { TRACE_SERVICE_PATTERN, type TraceFilter } from '../../shared/telemetry/trace-filter';
import { type TraceOutcome, traceMarks } from '../../shared/telemetry/trace-outcome';
import { printable } from '../../shared/terminal-text';
import { TRACE_ID_PATTERN } from '../../shared/trace-header';
import { AWS_OPTIONS, awsFlags, countFlag, durationFlag, parseCommandArgs } from '../args';
import { type Paint, painter, plain } from '../colour';
import type { CliContext } from '../context';
import { CommandError, EXIT, UsageError } from '../errors';
import { fitHelp } from '../help-fit';
import { listFunctions } from '../mesh-discovery';
import { fmtMs, formatTable, wrapWords } from '../table-format';
import { pickTelemetrySource } from '../telemetry/telemetry-source';
import { printableLine } from '../terminal-text';

export const TRACE_HELP = `mesh trace [<trace-id> | --last] [--service s] [--failed] [--all] [--limit n] [--since 15m]
           [--width n] [--json] [AWS flags]

Without an id: lists recent traces, newest first, each with its outcome: fault or error (the entry
answered 5xx or 4xx, what X-Ray marks HasFault and HasError), refused (the mesh refused a call on the
way), handled (a call failed and its caller carried on), retried (a call succeeded after a failed
attempt), partial (hops still arriving), ok.
With an id, or --last for the newest complete one (every hop arrived; a trace still filling in is
skipped): prints the trace as a waterfall, one line per hop, bars scaled to time, with the mesh
annotations (source, target, version, attempt, outcome) of each call.

The list and --last leave out traces started by a function that is no mesh service: the mesh's own
control functions (policy seeder and version bumper, identity issuer, the pre-traffic check of gated
deployments). --all shows them too.

Reads the local mesh (GET <endpoint>/_mesh/traces) when --endpoint-url / AWS_ENDPOINT_URL points at one;
otherwise X-Ray (GetTraceSummaries with a filter expression, BatchGetTraces). The local mesh keeps
traces 15 minutes: the newest ${MAX_TRACE_LIST} that went well, and apart from them the newest ${MAX_TRACE_LIST} that
failed somewhere or needed a retry, so a failure outlives the busy minute after it.

Flags:
  --last               the newest complete trace (of those --service and --failed leave)
  --service <name>     only traces through this service or function, as caller or callee
  --failed             only traces whose outcome is not ok or partial
  --all                include the traces of the mesh's control functions
  --limit <n>          how many traces to list (default 20, at most ${MAX_TRACE_LIST})
  --since <duration>   only traces started this long ago or later (default: all the local mesh keeps;
                       X-Ray: 15m, at most 6h)
  --width <n>          width of the waterfall's time axis in characters (default 50; at a terminal
                       narrower ones fit its width, each hop's annotations on a line under its bar)
  --json               print the trace (or the list) as JSON
  --no-color           no colour at a terminal either (also NO_COLOR=1)
  --mesh, --region, --endpoint-url   as for every mesh command

Examples:
  mesh trace --endpoint-url http://127.0.0.1:4566
  mesh trace --last
  mesh trace --service payments --failed --since 5m
  mesh trace 1-6581c2b4-3f0e8d1b2c4a5e6f7a8b9c0d --json`;

const OPTIONS = {
  ...AWS_OPTIONS,
  last: { type: 'boolean' },
  all: { type: 'boolean' },
  service: { type: 'string' },
  failed: { type: 'boolean' },
  limit: { type: 'string' },
  since: { type: 'string' },
  width: { type: 'string' },
} as const;

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

/** What a span's line holds beside its name and bar: the duration, 7 wide after `| ` (the bar's end). */
const DURATION_WIDTH = 9;

/**
 * Pure: the trace as a waterfall. `width` is the time axis's; with `columns` (a terminal's, or COLUMNS,
 * and no --width), the axis narrows to fit it (50 at most, 10 at least), each span's annotations go on
 * a line of their own under its bar, and the heading breaks between words.
 */
export function renderWaterfall(t: Trace, width = 50, columns?: number): string {
  const spans = flatten(t.roots);
  const total = Math.max(t.durationMs, 0.001);
  // Names and annotations are what the traced functions wrote: shown as printable text, measured as shown.
  const label = (s: TraceSpan) => `${'  '.repeat(s.depth)}${printable(s.name)}`;
  // At a terminal too narrow for the names beside the narrowest axis, the name column narrows too.
  const room = columns === undefined ? 48 : Math.max(4, columns - 4 - 10 - DURATION_WIDTH);
  const nameWidth = Math.min(48, room, Math.max(4, ...spans.map((s) => label(s).length)));
  if (columns !== undefined) width = Math.max(10, Math.min(width, columns - nameWidth - 4 - DURATION_WIDTH));
  // A failed answer shouts; the rest do not.
  const { outcome } = traceMarks(t);
  const status = outcome === 'fault' || outcome === 'error' ? outcome.toUpperCase() : outcome;
  // Names and annotations are shown as printable text before a line breaks: a newline of theirs is no break.
  const fitted = (line: string, indent?: string) => wrapWords(printableLine(line), columns, indent);
  const lines = [
    fitted(`trace ${t.id}  ${fmtMs(t.durationMs)}  ${status}  ${t.services.join(' -> ')}`, '  '),
    `${' '.repeat(nameWidth)}  |${axisLabels(total, width)}|`,
  ];
  for (const s of spans) {
    const end = s.end ?? t.end;
    const ann = MESH_ANNOTATIONS.filter((k) => s.annotations[k] !== undefined).map((k) => `${k}=${s.annotations[k]}`);
    const flags = [
      s.fault ? 'fault' : s.error ? 'error' : s.throttle ? 'throttled' : '',
      s.httpStatus ? `http ${s.httpStatus}` : '',
      s.inProgress ? 'in progress' : '',
    ].filter(Boolean);
    // A name wider than its column: whole on a line of its own at a terminal, shortened in a pipe (as before).
    const long = label(s).length > nameWidth;
    if (long && columns !== undefined) lines.push(printableLine(label(s)));
    const name = !long
      ? label(s).padEnd(nameWidth)
      : columns === undefined
        ? `${label(s).slice(0, nameWidth - 1)}…`
        : ''.padEnd(nameWidth);
    const row = printableLine(
      `${name}  |${bar(t.start, total, s.start, end, width)}| ${fmtMs(s.durationMs).padStart(7)}`,
    );
    const notes = [...flags, ...ann].join(' ');
    if (!notes) lines.push(row);
    else if (columns === undefined) lines.push(`${row}  ${printableLine(notes)}`);
    else lines.push(row, fitted(`${' '.repeat(nameWidth + 3)}${notes}`));
  }
  return lines.join('\n');
}

/** The time axis's labels: 0, the middle and the end; the middle left out where the three do not fit. */
function axisLabels(total: number, width: number): string {
  const [mid, end] = [fmtMs(total / 2), fmtMs(total)];
  const half = Math.floor(width / 2);
  if (half + mid.length + end.length > width) return `${'0'.padEnd(width - end.length)}${end}`;
  return `${'0'.padEnd(half)}${mid.padEnd(width - half - end.length)}${end}`;
}

/** How each outcome (shared/telemetry/trace-outcome.ts) shows: a failed answer red, one that failed on the way yellow. */
const OUTCOME_COLOUR = {
  fault: 'red',
  error: 'red',
  refused: 'yellow',
  handled: 'yellow',
  retried: 'yellow',
  partial: 'dim',
  ok: 'green',
} as const satisfies Record<TraceOutcome, string>;

/** Pure: the list as a table; with `columns`, a path too long for the line breaks under its column, or its row. */
export function renderTraceList(
  list: readonly TraceSummary[],
  hidden = 0,
  paint: Paint = plain,
  columns?: number,
): string {
  const note =
    hidden > 0
      ? `\n${wrapWords(`(${hidden} trace${hidden === 1 ? '' : 's'} of the mesh's control functions left out; --all lists them)`, columns, ' ')}`
      : '';
  if (list.length === 0)
    return `${wrapWords('no traces yet: send a request through the mesh (traces are kept 15 minutes locally)', columns, '  ')}${note}`;
  return `${formatTable(
    ['TRACE', 'STARTED', 'DURATION', 'SPANS', 'OUTCOME', 'PATH'],
    list.map((t) => [
      t.id,
      new Date(t.start).toISOString().slice(11, 23),
      fmtMs(t.durationMs),
      String(t.spanCount),
      paint(OUTCOME_COLOUR[t.outcome], t.outcome),
      t.services.join(' -> ') || t.root,
    ]),
    { left: [0, 1, 4, 5], width: columns },
  )}${note}`;
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('trace', args, OPTIONS);
  if (values.help) {
    ctx.out(fitHelp(TRACE_HELP, ctx.columns));
    return EXIT.ok;
  }
  const flags = awsFlags(values);
  if (positionals.length > 1)
    throw new UsageError(`\`mesh trace\` takes one trace id, got ${positionals.length}: ${positionals.join(' ')}`);
  const id = positionals[0];
  if (id !== undefined && !TRACE_ID_PATTERN.test(id)) {
    throw new UsageError(
      `trace id must look like 1-5759e988-bd862e3fe1be46a994272793 (1-<8 hex>-<24 hex>), got ${JSON.stringify(id)}`,
    );
  }
  if (id !== undefined && values.last) throw new UsageError('give a trace id or --last, not both');
  const limit = countFlag('trace', 'limit', values.limit, MAX_TRACE_LIST) ?? 20;
  const sinceMs = durationFlag('trace', 'since', values.since, 15 * 60_000, 6 * 3_600_000);
  const filter = traceFilterFlags(values);
  const width = countFlag('trace', 'width', values.width, 400) ?? 50;
  if (width < 10) throw new UsageError(`--width must be at least 10, got ${width}`);

  const source = await pickTelemetrySource(flags, ctx, { traceWindowMs: sinceMs });
  const sourceName = source.kind === 'local' ? 'local' : 'xray';
  // Without --all, the functions outside the mesh's services: their traces are the mesh's own.
  const outside =
    id === undefined && !values.all ? functionsOutsideMeshes(await listFunctions(ctx.clients(flags))) : undefined;
  if (id === undefined && !values.last) {
    const read = await source.traces(outside ? tracesToRead(limit) : limit, filter);
    const { traces, hidden } = withoutControlTraces(read, outside ?? new Set());
    const list = traces.slice(0, limit);
    ctx.out(
      flags.json
        ? JSON.stringify({ source: sourceName, traces: list, hidden }, null, 2)
        : list.length === 0 && narrowed(filter)
          ? wrapWords('no trace matches --service, --failed and --since as given', ctx.columns, '  ')
          : renderTraceList(list, hidden, painter(ctx, flags), ctx.columns),
    );
    return EXIT.ok;
  }
  const traceId =
    id ?? (outside || narrowed(filter) ? await lastAppTrace(source, outside ?? new Set(), filter) : 'last');
  const trace = traceId === undefined ? undefined : await source.trace(traceId);
  if (!trace) {
    const where =
      source.kind === 'local'
        ? 'the local mesh (traces are kept 15 minutes)'
        : `X-Ray (looked back ${Math.round(sinceMs / 60_000)} minutes)`;
    throw new CommandError(
      id
        ? `no trace ${id} in ${where}; list recent ones with \`mesh trace\``
        : `no traces yet in ${where}; send a request through the mesh`,
    );
  }
  // An axis width asked for with --width is kept as asked; otherwise the waterfall fits the terminal.
  const fit = values.width === undefined ? ctx.columns : undefined;
  ctx.out(flags.json ? JSON.stringify({ source: sourceName, ...trace }, null, 2) : renderWaterfall(trace, width, fit));
  return EXIT.ok;
}

/** How many of the newest traces `--last` looks through for one a mesh service started. */
const LAST_TRACE_CANDIDATES = 100;

/** The id of the newest complete trace a mesh service started that the filter leaves, if any. */
async function lastAppTrace(
  source: TelemetrySource,
  outside: ReadonlySet<string>,
  filter: TraceFilter,
): Promise<string | undefined> {
  const { traces } = withoutControlTraces(await source.traces(LAST_TRACE_CANDIDATES, filter), outside);
  return traces.find((t) => t.complete)?.id;
}

function narrowed(f: TraceFilter): boolean {
  return f.service !== undefined || f.failed === true || f.sinceMs !== undefined;
}

/** --service, --failed and --since (as given: without it, the local mesh lists all it keeps). */
function traceFilterFlags(values: { service?: string; failed?: boolean; since?: string }): TraceFilter {
  const { service, failed, since } = values;
  if (service !== undefined && !TRACE_SERVICE_PATTERN.test(service)) {
    throw new UsageError(
      `--service must be a mesh service or function name (letters, digits, - _ .; up to 64), got ${JSON.stringify(service)}; \`mesh status\` lists the services`,
    );
  }
  const sinceMs = since === undefined ? undefined : durationFlag('trace', 'since', since, 0, 6 * 3_600_000);
  return { service, failed: failed === true, sinceMs };
}
