/**
 * Traces from X-Ray: GetTraceSummaries for the list, BatchGetTraces for one trace, whose segment
 * documents are assembled by the same code the local mesh uses (shared/telemetry/trace-assembler.ts).
 */
import type { XRayClient } from '@aws-sdk/client-xray';
import { type Trace, type TraceSummary, traceFromDocuments } from '../../shared/telemetry/trace-assembler';
import { awsCall } from '../errors';

type XRay = typeof import('@aws-sdk/client-xray');

/** GetTraceSummaries over the last `sinceMs`, newest first. */
export async function xraySummaries(client: XRayClient, sinceMs: number, limit: number): Promise<TraceSummary[]> {
  const { GetTraceSummariesCommand } = require('@aws-sdk/client-xray') as XRay;
  const now = Date.now();
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
