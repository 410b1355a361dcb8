/**
 * The mesh's access log as `mesh tap` follows it: the JSON line the runtime prints per call
 * (`{"type":"mesh-access",...}`, functions/mesh/telemetry/mesh-telemetry.ts), read back from the local
 * mesh or from CloudWatch Logs, and the filters an operator follows it with. Pure.
 */
import { ANY_FAILURE } from './call-outcomes';
import { callerReportsItself } from './metric-dimensions';

/** One access-log line; fields the runtime adds later pass through untouched. */
export interface AccessEntry {
  readonly type: 'mesh-access';
  /** Epoch ms. */
  readonly time: number;
  readonly reporter: 'source' | 'destination';
  readonly source: string;
  readonly destination: string;
  readonly version: string;
  /** HTTP-like status of the outcome: 200, 403, 429, 502, 503, 504... */
  readonly code: number;
  readonly outcome: string;
  readonly durationMs: number;
  readonly attempts?: number;
  readonly traceId?: string;
  readonly error?: string;
  readonly reason?: string;
  readonly fallbackFor?: string;
  readonly mirror?: boolean;
  /** A record a consumer took from a channel: its line is the only one of the sender -> consumer edge. */
  readonly throughChannel?: boolean;
}

/** Cheap test for a log line, run on every line a function prints. */
export function looksLikeAccessLine(line: string): boolean {
  return line.startsWith('{"type":"mesh-access"');
}

/** The entry a log line holds, or undefined for any other line. */
export function parseAccessLine(line: string): AccessEntry | undefined {
  if (!looksLikeAccessLine(line)) return undefined;
  try {
    const e = JSON.parse(line) as AccessEntry;
    return typeof e.source === 'string' && typeof e.destination === 'string' && typeof e.code === 'number'
      ? e
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the line is the call's own record. Both ends of a call log it; as for the metrics, the
 * caller's line describes the call, and the callee's only when the caller logs none (a caller outside
 * the mesh, an unverified one, the pre-traffic check, a record taken from a channel).
 */
export function isCallRecord(e: AccessEntry): boolean {
  return e.reporter === 'source' || e.throughChannel === true || !callerReportsItself(e.source);
}

export interface TapFilter {
  /** Calls into or out of this service. */
  readonly service?: string;
  readonly to?: string;
  readonly from?: string;
  /** Outcomes to keep (`success`, `denied`, `timeout`...); `failure` stands for every outcome but success. */
  readonly outcomes?: readonly string[];
}

export function matchesTap(e: AccessEntry, f: TapFilter): boolean {
  if (f.service !== undefined && e.source !== f.service && e.destination !== f.service) return false;
  if (f.to !== undefined && e.destination !== f.to) return false;
  if (f.from !== undefined && e.source !== f.from) return false;
  if (f.outcomes && !f.outcomes.some((o) => o === e.outcome || (o === ANY_FAILURE && e.outcome !== 'success')))
    return false;
  return true;
}
