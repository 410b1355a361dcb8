/**
 * What a trace says about its request, as X-Ray's trace summary says it (X-Ray API Reference,
 * "TraceSummary"): HasFault and HasError are the root segment's own marks (the answer the caller got),
 * HasThrottle is any segment's 429, and the root causes name where the failures happened. Beside that,
 * what only the mesh knows from its annotations: a call that succeeded after a failed attempt.
 */
import type { Trace, TraceSpan } from './trace-assembler';

/**
 * The one word a list shows for a trace, worst first: `fault` / `error` (the entry answered 5xx / 4xx),
 * `refused` (the mesh refused a call on the way), `handled` (a call failed and its caller carried on
 * without a retry, as with a fallback), `retried` (a call succeeded after a failed attempt), `partial`
 * (hops still arriving), `ok`.
 */
export const TRACE_OUTCOMES = ['fault', 'error', 'refused', 'handled', 'retried', 'partial', 'ok'] as const;

export type TraceOutcome = (typeof TRACE_OUTCOMES)[number];

/** The call outcomes (shared/telemetry/call-outcomes.ts) that mean the mesh refused the call. */
export const REFUSALS: ReadonlySet<unknown> = new Set([
  'denied',
  'unauthenticated',
  'rate-limited',
  'circuit-open',
  'deadline-exceeded',
]);

export interface TraceMarks {
  /** X-Ray's HasFault: the root segment answered with a fault (5xx). */
  readonly fault: boolean;
  /** X-Ray's HasError: the root segment answered with an error (4xx). */
  readonly error: boolean;
  /** X-Ray's HasThrottle: any segment was throttled (429). */
  readonly throttle: boolean;
  readonly outcome: TraceOutcome;
  /** Where failures began: the names of marked spans none of whose children is marked. */
  readonly rootCauses: string[];
}

/** Every span of a tree, each before its children. */
export function flattenSpans(spans: readonly TraceSpan[]): TraceSpan[] {
  return spans.flatMap((s) => [s, ...flattenSpans(s.children)]);
}

const marked = (s: TraceSpan) => s.fault || s.error || s.throttle;

/** A call's key in the annotations: who called whom. Attempts of one call share it. */
const callOf = (s: TraceSpan) => `${s.annotations.source}\u0000${s.annotations.target}`;

/** Pure: the trace's marks and outcome. */
export function traceMarks(t: Pick<Trace, 'roots' | 'complete'>): TraceMarks {
  const spans = flattenSpans(t.roots);
  const root = t.roots[0];
  const failed = spans.filter(marked);
  const rootCauses = [...new Set(failed.filter((s) => !s.children.some(marked)).map((s) => s.name))];
  return {
    fault: root?.fault === true,
    error: root?.error === true || root?.throttle === true,
    throttle: failed.some((s) => s.throttle),
    outcome: outcomeOf(spans, root, t.complete),
    rootCauses,
  };
}

function outcomeOf(spans: readonly TraceSpan[], root: TraceSpan | undefined, complete: boolean): TraceOutcome {
  if (root?.fault) return 'fault';
  if (root?.error || root?.throttle) return 'error';
  if (spans.some((s) => REFUSALS.has(s.annotations.outcome))) return 'refused';
  // Calls of the mesh's (annotated) that had a failed attempt: each either recovered by a retry or not.
  const failedCalls = new Set(spans.filter((s) => marked(s) && s.annotations.attempt !== undefined).map(callOf));
  const recovered = new Set(
    spans.filter((s) => s.annotations.outcome === 'success' && Number(s.annotations.attempt) > 1).map(callOf),
  );
  if ([...failedCalls].some((c) => !recovered.has(c))) return 'handled';
  if (failedCalls.size > 0) return 'retried';
  if (spans.some(marked)) return 'handled';
  return complete ? 'ok' : 'partial';
}
