/**
 * Traces from X-Ray: GetTraceSummaries for the list, BatchGetTraces for one trace, whose segment
 * documents are assembled by the same code the local mesh uses (shared/telemetry/trace-assembler.ts).
 */
import type { XRayClient, TraceSummary as XRayTraceSummary } from '@aws-sdk/client-xray';
import { type Trace, type TraceSummary, traceFromDocuments } from '../../shared/telemetry/trace-assembler';
import type { TraceFilter } from '../../shared/telemetry/trace-filter';
import { REFUSALS, type TraceMarks, type TraceOutcome } from '../../shared/telemetry/trace-outcome';
import { awsCall } from '../errors';
import { xrayFilterExpression } from './xray-filter';

type XRay = typeof import('@aws-sdk/client-xray');

/** GetTraceSummaries over the last `sinceMs` that match `filter`, newest first. */
export async function xraySummaries(
  client: XRayClient,
  sinceMs: number,
  limit: number,
  filter: TraceFilter = {},
): Promise<TraceSummary[]> {
  const { GetTraceSummariesCommand } = require('@aws-sdk/client-xray') as XRay;
  const now = Date.now();
  const expression = xrayFilterExpression(filter);
  const out: TraceSummary[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall('X-Ray GetTraceSummaries', () =>
      client.send(
        new GetTraceSummariesCommand({
          StartTime: new Date(now - sinceMs),
          EndTime: new Date(now),
          Sampling: false,
          NextToken: token,
          ...(expression ? { FilterExpression: expression } : {}),
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
        ...xrayMarks(s),
        // X-Ray marks a trace with a segment still in progress as partial.
        complete: s.IsPartial !== true,
      });
    }
    token = page.NextToken || undefined;
    // Pages come in no particular order; stop paging once there is plenty to pick the newest from.
  } while (token && out.length < Math.max(limit * 5, 100));
  return out.sort((a, b) => b.start - a.start).slice(0, limit);
}

/** The values X-Ray indexed for one annotation over the trace's segments. */
function annotationValues(s: XRayTraceSummary, key: string): unknown[] {
  return (s.Annotations?.[key] ?? []).map(
    (v) => v.AnnotationValue?.StringValue ?? v.AnnotationValue?.NumberValue ?? v.AnnotationValue?.BooleanValue,
  );
}

/** Pure: X-Ray's marks as they are, and the outcome the mesh's annotations add (trace-outcome.ts). */
export function xrayMarks(s: XRayTraceSummary): TraceMarks {
  const causes = [...(s.FaultRootCauses ?? []), ...(s.ErrorRootCauses ?? [])];
  const rootCauses = [...new Set(causes.flatMap((c) => (c.Services ?? []).map((v) => v.Name ?? '')).filter(Boolean))];
  return {
    fault: s.HasFault === true,
    error: s.HasError === true,
    throttle: s.HasThrottle === true,
    outcome: xrayOutcome(s, rootCauses.length > 0),
    rootCauses,
  };
}

/** The outcome out of X-Ray's marks and the values it indexed for the calls' `outcome` and `attempt`. */
function xrayOutcome(s: XRayTraceSummary, failedDownstream: boolean): TraceOutcome {
  if (s.HasFault) return 'fault';
  if (s.HasError) return 'error';
  const outcomes = annotationValues(s, 'outcome');
  if (outcomes.some((o) => REFUSALS.has(o))) return 'refused';
  // Indexed values are per trace, not per call: a success at a later attempt beside a failed one is a retry.
  if (outcomes.some((o) => o !== 'success')) {
    const laterAttempt = annotationValues(s, 'attempt').some((n) => Number(n) > 1);
    return outcomes.includes('success') && laterAttempt ? 'retried' : 'handled';
  }
  if (s.HasThrottle || failedDownstream) return 'handled';
  return s.IsPartial ? 'partial' : 'ok';
}

/** BatchGetTraces for one id, assembled into its tree. */
export async function xrayTrace(client: XRayClient, id: string): Promise<Trace | undefined> {
  const { BatchGetTracesCommand } = require('@aws-sdk/client-xray') as XRay;
  const res = await awsCall('X-Ray BatchGetTraces', () => client.send(new BatchGetTracesCommand({ TraceIds: [id] })));
  const trace = res.Traces?.find((t) => t.Id === id);
  if (!trace) return undefined;
  return traceFromDocuments(
    id,
    (trace.Segments ?? []).map((s) => s.Document),
  );
}
