/**
 * The X-Ray filter expression (X-Ray Developer Guide, "Using filter expressions") for a trace filter,
 * so X-Ray narrows the traces down before any page comes back. `fault`, `error` and `throttle` alone
 * are the entry's answer; `service() { … }` finds them downstream too, where a caller carried on. The
 * mesh's calls carry `source` / `target` annotations, so a service is found as caller or callee.
 */
import { TRACE_SERVICE_PATTERN, type TraceFilter } from '../../shared/telemetry/trace-filter';

const ANY_FAILURE = 'fault OR error OR throttle';

/** Pure: the expression, or undefined for no filter. The time is GetTraceSummaries' StartTime, not here. */
export function xrayFilterExpression(f: TraceFilter): string | undefined {
  const parts: string[] = [];
  if (f.service !== undefined) {
    // Checked by the CLI already; a name with a quote must never reach the expression.
    if (!TRACE_SERVICE_PATTERN.test(f.service)) throw new Error(`not a service name: ${JSON.stringify(f.service)}`);
    const s = JSON.stringify(f.service);
    parts.push(`(service(${s}) OR annotation.source = ${s} OR annotation.target = ${s})`);
  }
  // A failed attempt is marked (fault, error or throttle) on its subsegment, retried or not.
  if (f.failed) parts.push(`(${ANY_FAILURE} OR service() { ${ANY_FAILURE} })`);
  return parts.length > 0 ? parts.join(' AND ') : undefined;
}
