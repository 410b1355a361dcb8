/**
 * Stage `record`: what the caller's telemetry says of a call and its attempts. One access-log line
 * and the EMF metrics per call (its outcome, the version it ended on, attempts, retries), one X-Ray
 * subsegment per attempt when the invocation's trace is sampled.
 */
import { formatTraceHeader, newSegmentId, type TraceContext } from '../../../shared/trace-header';
import type { Outcome } from '../resilience/retry-decision';
import { monotonicMs } from '../telemetry/monotonic-ms';
import type { AttemptContext, AttemptOutcome, CallContext } from './call-context';
import type { MeshError } from './errors';

/** The HTTP-like status of each outcome, as the access log and the `response_code` label give it. */
export const STATUS: Readonly<Record<Outcome, number>> = {
  success: 200,
  denied: 403,
  unauthenticated: 401,
  throttled: 429,
  timeout: 504,
  'circuit-open': 503,
  'rate-limited': 429,
  'function-error': 502,
  'service-error': 502,
  'client-error': 400,
};

/** How X-Ray marks a subsegment by its status (X-Ray Developer Guide, "Segment documents"): 4xx error, 429 also throttle, 5xx fault. */
const THROTTLE = { throttle: true, error: true } as const;
const ERROR = { error: true } as const;
const FAULT = { fault: true } as const;
const NO_MARK = {} as const;

export function segmentMarks(outcome: Outcome): { throttle?: true; error?: true; fault?: true } {
  const status = STATUS[outcome];
  if (status === 429) return THROTTLE;
  if (status >= 500) return FAULT;
  return status >= 400 ? ERROR : NO_MARK;
}

/** Records the successful end of a call. */
export function recordSuccess(call: CallContext): void {
  recordCall(call, 'success');
}

/**
 * Records how a call ended and hands back its error, to throw: `throw ended(call, …)`.
 * `refused`: the mesh refused the call (counted in `denied_total`); `reason`: for this log only.
 */
export function ended<E extends MeshError>(
  call: CallContext,
  outcome: Outcome,
  error: E,
  extra: { readonly refused?: boolean; readonly reason?: string } = {},
): E {
  call.outcome = outcome;
  recordCall(call, outcome, error, extra.refused, extra.reason);
  // Ended before any attempt (refused, no time left): a subsegment of its own (attempt 0) shows it in the trace.
  if (!call.attempts) {
    const a = { call, number: 0 } as AttemptContext;
    recordAttempt(a, openSpan(a), { outcome, version: call.version } as AttemptOutcome);
  }
  return error;
}

function recordCall(call: CallContext, outcome: Outcome, err?: Error, refused = false, reason?: string): void {
  const { deps } = call.client;
  deps.telemetry.record({
    reporter: 'source',
    source: deps.service,
    destination: call.target,
    // The same function in another region: its versions are that region's, and the line says where.
    version: call.detour?.region ? `${call.version}@${call.detour.region}` : call.version,
    ...(call.detour ? { fallbackFor: call.detour.primary } : {}),
    code: STATUS[outcome],
    outcome,
    durationMs: monotonicMs() - call.t0,
    attempts: call.attempts,
    retries: call.retries,
    denied: refused || outcome === 'denied',
    idempotencyKey: call.idempotencyKey,
    traceId: call.scope?.trace?.root,
    error: err ? `${err.name}: ${err.message}` : undefined,
    reason,
  });
}

/** An attempt's place in the invocation's trace: its subsegment id and the header the callee continues. */
export interface AttemptSpan {
  readonly trace: TraceContext;
  /**
   * This attempt's subsegment id, drawn for a sampled trace only: Lambda hands every invocation a
   * trace header, mostly unsampled, and an unsampled attempt sends no subsegment to name.
   */
  readonly id?: string;
  /** X-Amzn-Trace-Id for the callee: Parent = this subsegment when sampled, else the caller's. */
  readonly header: string;
  readonly startS: number;
}

export function openSpan(a: AttemptContext): AttemptSpan | undefined {
  const trace = a.call.scope?.trace;
  if (!trace) return undefined;
  const id = trace.sampled ? newSegmentId() : undefined;
  const header = formatTraceHeader({ root: trace.root, parent: id ?? trace.parent, sampled: trace.sampled });
  return { trace, ...(id ? { id } : {}), header, startS: Date.now() / 1000 };
}

/** Sends the attempt's subsegment (sampled traces only). */
export function recordAttempt(a: AttemptContext, span: AttemptSpan | undefined, o: AttemptOutcome): void {
  // The document is built apart: a call in an unsampled trace never compiles it.
  if (span?.id) sendSegment(a, span, span.id, o);
}

function sendSegment(a: AttemptContext, span: AttemptSpan, id: string, o: AttemptOutcome): void {
  const { deps } = a.call.client;
  const target = a.call.target;
  deps.telemetry.segment({
    name: target,
    id,
    trace_id: span.trace.root,
    ...(span.trace.parent ? { parent_id: span.trace.parent } : {}),
    type: 'subsegment',
    namespace: 'remote',
    start_time: span.startS,
    end_time: Date.now() / 1000,
    annotations: {
      source: deps.service,
      target,
      version: o.version,
      attempt: a.number,
      outcome: o.outcome,
      ...(a.call.detour ? { fallback_for: a.call.detour.primary } : {}),
      ...(a.call.detour?.region ? { region: a.call.detour.region } : {}),
    },
    ...segmentMarks(o.outcome),
    ...(o.remote
      ? {
          cause: {
            exceptions: [
              { id: newSegmentId(), type: o.remote.errorType, message: o.remote.errorMessage.slice(0, 500) },
            ],
          },
        }
      : {}),
  });
}
