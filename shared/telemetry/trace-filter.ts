/**
 * Narrowing a trace list down: traces through one service (as caller or callee), traces that failed
 * somewhere, traces started within a time. The local mesh applies it to what it keeps (/_mesh/traces
 * query parameters); against AWS the CLI hands X-Ray the same filter as a filter expression
 * (cli/telemetry/xray-filter.ts).
 */
import type { Trace } from './trace-assembler';
import { flattenSpans, type TraceOutcome } from './trace-outcome';

export interface TraceFilter {
  /** A mesh service (its calls' `source` / `target`) or a function (its segment's name). */
  readonly service?: string;
  /** Only traces whose outcome is not `ok` or `partial`: a fault, error, throttle or refusal anywhere. */
  readonly failed?: boolean;
  /** Only traces started this long ago or later. */
  readonly sinceMs?: number;
}

/**
 * What `service` accepts: a mesh service name or a Lambda function name. Nothing that could close a
 * quoted string of a filter expression.
 */
export const TRACE_SERVICE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** The outcomes that are no failure: what a filter for failed traces leaves out. */
export const UNFAILED: ReadonlySet<TraceOutcome> = new Set(['ok', 'partial']);

/** Pure: whether the trace crossed `service`, as caller or callee. */
export function throughService(t: Pick<Trace, 'roots'>, service: string): boolean {
  return flattenSpans(t.roots).some(
    (s) =>
      (s.kind === 'segment' && s.name === service) ||
      s.annotations.source === service ||
      s.annotations.target === service,
  );
}

/** The query string of /_mesh/traces for this filter (empty parts left out). */
export function traceFilterQuery(f: TraceFilter): string {
  return [
    f.service === undefined ? '' : `&service=${encodeURIComponent(f.service)}`,
    f.failed ? '&failed=1' : '',
    f.sinceMs === undefined ? '' : `&since=${f.sinceMs}ms`,
  ].join('');
}
