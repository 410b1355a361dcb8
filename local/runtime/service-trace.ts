/**
 * The trace decision the Lambda service makes for an invocation, which the local mesh makes in its
 * place: continue the caller's trace (the Invoke's X-Amzn-Trace-Id, else the mesh metadata's header),
 * or start a new one. A header without a sampling decision is decided here, by the service receiving
 * it (AWS X-Ray Developer Guide, "AWS X-Ray concepts": "Tracing header", "Sampling"); the local mesh's
 * rule is to trace every such request. The decision then travels to the function in
 * _X_AMZN_TRACE_ID, so the runtime never has to decide (functions/mesh/telemetry/invocation-trace.ts).
 */
import { newTraceId, parseTraceHeader, type TraceContext } from '../../shared/trace-header';

export function serviceTrace(
  requestHeader: string | undefined,
  metadataHeader: string | undefined,
  now: number,
): TraceContext {
  const header = parseTraceHeader(requestHeader) ?? parseTraceHeader(metadataHeader);
  if (!header) return { root: newTraceId(now), sampled: true };
  return { ...header, sampled: header.sampled ?? true };
}
