/**
 * `mesh tap [service]`: the mesh's calls as they happen, one line each, like `linkerd viz tap`: who called
 * whom, the version that answered, the status, the outcome, the latency. Follows the access log the mesh
 * writes (one line per call from each end): the local mesh's (GET <endpoint>/_mesh/access), or, where no
 * /_mesh/ route answers, CloudWatch Logs (FilterLogEvents over the mesh functions' log groups).
 */
import { didYouMean } from '../../shared/suggest';
import { type AccessEntry, isCallRecord, matchesTap, type TapFilter } from '../../shared/telemetry/access-log';
import { ANY_FAILURE, CALL_OUTCOMES } from '../../shared/telemetry/call-outcomes';
import { formatDuration } from '../../shared/telemetry/duration';
import { ACCESS_LOG_CAPACITY } from '../../shared/telemetry/local-mesh-routes';
import { AWS_OPTIONS, type AwsFlags, awsFlags, countFlag, durationFlag, parseCommandArgs } from '../args';
import { type Paint, painter, plain, visibleLength } from '../colour';
import type { CliContext } from '../context';
import { EXIT, UsageError } from '../errors';
import { fitHelp } from '../help-fit';
import { sleep, untilCtrlC } from '../interrupt';
import { fmtMs, wrapWords } from '../table-format';
import { type AccessSource, cloudWatchAccessSource, LocalAccessSource } from '../telemetry/access-source';
import { localMeshEndpoint } from '../telemetry/local-mesh-telemetry';
import { printableLine } from '../terminal-text';
import { checkTrafficName } from '../traffic-names';

/** The outcomes the runtime records, a few to a line (help text). */
function outcomeList(lineBreak: string): string {
  const rows: string[] = [];
  for (let i = 0; i < CALL_OUTCOMES.length; i += 4) rows.push(CALL_OUTCOMES.slice(i, i + 4).join(', '));
  return rows.join(`,${lineBreak}`);
}

/** The longest --since: a day of CloudWatch Logs is already many pages for each function. */
const MAX_SINCE_MS = 24 * 3_600_000;

export const TAP_HELP = `mesh tap [<service>] [--to s] [--from s] [--outcome o] [--since d [--no-follow]] [--count n]
         [--json] [AWS flags]

Follows the mesh's calls as they happen, one line per call: time, source -> destination, the version
that answered, status code, outcome, latency, attempts, and the trace id (or the error). With
<service>, only the calls into or out of it. Runs until Ctrl-C (exit 0) or --count lines. With
--since, starts with the calls of that window, oldest first (a refused call just seen shows its reason).

Each end of a call logs it; a call shows once, as its caller logged it (as the callee logged it when the
caller is outside the mesh, unverified, the pre-traffic check, or a channel's sender).

Reads the local mesh's access log (GET <endpoint>/_mesh/access) when --endpoint-url / AWS_ENDPOINT_URL
points at one; otherwise CloudWatch Logs: FilterLogEvents on each mesh function's log group every 2 s,
lines appearing as CloudWatch Logs receives them (seconds after the call). Needs lambda:ListFunctions
and logs:FilterLogEvents on the functions' log groups.

Flags:
  --to <service>         only calls to this service (or channel)
  --from <service>       only calls from this caller (external: callers outside the mesh)
  --outcome <o>[,<o>]    only these outcomes: ${outcomeList('\n                         ')};
                         ${ANY_FAILURE} = every outcome but success; any other word exits 2
  --since <duration>     start with the calls of the last 30s, 5m or 1h (at most ${formatDuration(MAX_SINCE_MS)}); the
                         local mesh keeps its newest ${ACCESS_LOG_CAPACITY} lines, and says when the window's oldest are gone
  --no-follow            with --since: print the window's calls and exit
  --count <n>            stop after n lines (those of the window count)
  --json                 one access-log line per line, as the mesh wrote it
  --no-color             no colour at a terminal either (also NO_COLOR=1)
  --mesh, --region, --endpoint-url   as for every mesh command

Examples:
  mesh tap --endpoint-url http://127.0.0.1:4566
  mesh tap payments --outcome failure
  mesh tap payments --since 5m --outcome denied
  mesh tap --from orders --to payments --json`;

const OPTIONS = {
  ...AWS_OPTIONS,
  to: { type: 'string' },
  from: { type: 'string' },
  outcome: { type: 'string' },
  count: { type: 'string' },
  since: { type: 'string' },
  'no-follow': { type: 'boolean' },
} as const;

// ---------------------------------------------------------------------------------------------
// Rendering (pure)

/** What a line holds beside its edge: time, version, code, outcome and duration, with their spaces. */
const BESIDE_EDGE = 51;

/**
 * One call as a line; columns padded to fixed widths, so lines stay aligned as they stream. Any function
 * can print a line shaped like an access-log line: what it holds is shown as printable text. With
 * `columns` (a terminal's, or COLUMNS) under 32 + 51, the edge's column narrows to fit (16 at least),
 * and what follows the duration (trace id, attempts, error) goes on lines of its own under the edge.
 * Narrower still, every edge takes a line of its own; under 51, what follows it starts 2 in, not under it.
 */
export function renderTapLine(e: AccessEntry, paint: Paint = plain, columns?: number): string {
  const time = new Date(e.time).toISOString().slice(11, 23);
  const edgeWidth = columns === undefined ? 32 : Math.min(32, columns - BESIDE_EDGE);
  const indent = ' '.repeat(columns !== undefined && columns < BESIDE_EDGE ? 2 : time.length + 2);
  const edgeCellWidth = edgeWidth < 16 ? 0 : edgeWidth;
  const { head, edge } = edgeCell(`${e.source} -> ${e.destination}`, time, edgeCellWidth, columns, indent);
  const version = (/^\d+$/.test(e.version) ? `v${e.version}` : e.version).padEnd(6);
  const tail = [
    e.attempts !== undefined && e.attempts > 1 ? `attempts=${e.attempts}` : '',
    e.fallbackFor ? `fallback-for=${e.fallbackFor}` : '',
    e.mirror ? 'mirror' : '',
    e.error ? `error=${JSON.stringify(e.error)}` : e.traceId ? `trace=${e.traceId}` : '',
    // Why the callee's mesh refused the call: the caller's error says only that it was refused.
    e.reason ? `reason=${JSON.stringify(e.reason)}` : '',
  ].filter(Boolean);
  // Failures red (5xx: the callee or the way to it failed), refusals yellow (4xx: denied, limited), success green.
  const style = e.outcome === 'success' ? 'green' : e.code >= 500 ? 'red' : 'yellow';
  const result = paint(style, `${String(e.code)}  ${e.outcome.padEnd(15)}`);
  const line = head + printableLine(`${edge} ${version} ${result} ${fmtMs(e.durationMs).padStart(8)}`);
  const rest = printableLine(tail.join(' '));
  if (!rest) return line;
  const fits = columns === undefined || visibleLength(line) + 2 + visibleLength(rest) <= columns;
  return fits ? `${line}  ${rest}` : `${line}\n${wrapWords(`${indent}${rest}`, columns)}`;
}

/**
 * The start of a tap line up to its edge's column. An edge wider than its column at a terminal (a long
 * service name) goes on a line of its own after the time, breaking at its arrow, and the columns after
 * it start under it: the line keeps its width and its alignment, and the edge keeps every character.
 */
function edgeCell(text: string, time: string, width: number, columns: number | undefined, indent: string) {
  const shown = printableLine(text);
  if (columns === undefined || visibleLength(shown) <= width) return { head: `${time}  `, edge: shown.padEnd(width) };
  const under = ' '.repeat(time.length + 2);
  return { head: `${wrapWords(`${time}  ${shown}`, columns, under)}\n${indent}`, edge: ''.padEnd(width) };
}

/** The filter out of the flags and the positional. */
export function tapFilter(
  positionals: readonly string[],
  values: { to?: string; from?: string; outcome?: string },
): TapFilter {
  if (positionals.length > 1)
    throw new UsageError(`\`mesh tap\` takes one service, got ${positionals.length}: ${positionals.join(' ')}`);
  const outcomes = values.outcome?.split(',').map((o) => o.trim());
  for (const o of outcomes ?? []) checkOutcome(o);
  return {
    ...(positionals[0] !== undefined ? { service: positionals[0] } : {}),
    ...(values.to !== undefined ? { to: values.to } : {}),
    ...(values.from !== undefined ? { from: values.from } : {}),
    ...(outcomes ? { outcomes } : {}),
  };
}

/** What `--outcome` accepts: an outcome the runtime records, or `failure`. */
const TAP_OUTCOMES: readonly string[] = [...CALL_OUTCOMES, ANY_FAILURE];

/**
 * Refuses an outcome the runtime never records: its filter would match no call, and `mesh tap` would
 * follow an empty stream until Ctrl-C with nothing to say why.
 */
function checkOutcome(outcome: string): void {
  if (TAP_OUTCOMES.includes(outcome)) return;
  throw new UsageError(
    `--outcome ${JSON.stringify(outcome)} is no outcome the mesh records${didYouMean(outcome, TAP_OUTCOMES)}; use ${CALL_OUTCOMES.join(', ')}, or ${ANY_FAILURE} for every outcome but success (several: separated by commas)`,
  );
}

// ---------------------------------------------------------------------------------------------

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('tap', args, OPTIONS);
  if (values.help) {
    ctx.out(fitHelp(TAP_HELP, ctx.columns));
    return EXIT.ok;
  }
  const filter = tapFilter(positionals, values);
  const count = countFlag('tap', 'count', values.count, 1_000_000);
  const window = tapWindow(values);
  const flags = awsFlags(values);
  const source = await pickAccessSource(flags, ctx, filter);
  const droppedUntil = await source.start(window.sinceMs);
  // Said once the start is marked (a call made after this line shows), on stderr: stdout stays lines of calls.
  ctx.err(startNote(source.kind, values.since, window.follow));
  if (droppedUntil !== undefined) ctx.err(wrapWords(gapNote(droppedUntil), ctx.columns));
  const paint = painter(ctx, flags);
  let shown = 0;
  const more = () => count === undefined || shown < count;
  try {
    await untilCtrlC(async (stopped) => {
      while (!stopped.aborted && more()) {
        const lines = await source.read();
        for (const e of lines.filter((x) => isCallRecord(x) && matchesTap(x, filter))) {
          if (!more()) break;
          ctx.out(flags.json ? JSON.stringify(e) : renderTapLine(e, paint, ctx.columns));
          shown++;
        }
        // Without following, the window is read once every read has caught up.
        if (!window.follow && lines.length === 0) break;
        if (more() && window.follow) await sleep(source.pollMs, stopped);
      }
    });
  } finally {
    source.close();
  }
  return EXIT.ok;
}

/** --since and --no-follow: the window to start with, and whether to go on after it. */
function tapWindow(values: { since?: string; 'no-follow'?: boolean }): { sinceMs?: number; follow: boolean } {
  const follow = values['no-follow'] !== true;
  if (values.since === undefined) {
    if (!follow)
      throw new UsageError('--no-follow prints the calls of a window: give it with --since, e.g. --since 5m');
    return { follow };
  }
  return { sinceMs: durationFlag('tap', 'since', values.since, 0, MAX_SINCE_MS), follow };
}

/** What tap reads, from when, and how it ends. */
function startNote(kind: AccessSource['kind'], since: string | undefined, follow: boolean): string {
  const log = `the access log of ${kind === 'local' ? 'the local mesh' : 'CloudWatch Logs'}`;
  if (!follow) return `reading ${log} of the last ${since}`;
  return `following ${log}${since === undefined ? '' : ` from ${since} ago`}; Ctrl-C to stop`;
}

/** The local mesh has dropped lines of the window: what tap shows of it starts later than asked. */
function gapNote(droppedUntil: number): string {
  const time = new Date(droppedUntil).toISOString().slice(11, 23);
  return `the local mesh keeps its newest ${ACCESS_LOG_CAPACITY} access-log lines: the window's calls up to ${time} are no longer there`;
}

/**
 * The local mesh's access log when the endpoint is one, else CloudWatch Logs for the mesh's functions.
 * A name to filter on must be one calls can carry: a typo would follow nothing until Ctrl-C.
 */
async function pickAccessSource(flags: AwsFlags, ctx: CliContext, filter: TapFilter): Promise<AccessSource> {
  const named: [string | undefined, string][] = [];
  if (filter.service !== undefined) named.push([undefined, filter.service]);
  if (filter.to !== undefined) named.push(['--to', filter.to]);
  if (filter.from !== undefined) named.push(['--from', filter.from]);
  const endpoint = await localMeshEndpoint(ctx.clients(flags));
  if (endpoint && named.length === 0) return new LocalAccessSource(endpoint);
  const { mesh, clients } = await ctx.discover(flags);
  for (const [flag, name] of named) checkTrafficName(mesh, flag, name);
  return endpoint ? new LocalAccessSource(endpoint) : cloudWatchAccessSource(clients, mesh.services);
}
