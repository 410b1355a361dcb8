/**
 * The mesh's access log as `mesh tap` follows it: the JSON line the runtime prints per call
 * (`{"type":"mesh-access",...}`, functions/mesh/telemetry/mesh-telemetry.ts), read back from the local
 * mesh or from CloudWatch Logs, and the filters an operator follows it with. Pure.
 */
import { ANY_FAILURE } from './call-outcomes';
import { callerReportsItself } from './metric-dimensions';

/**
 * What the runtime's record of one call and its access-log line both hold (the record's type,
 * functions/mesh/telemetry/mesh-telemetry.ts `CallRecord`, adds what the line does not always carry).
 */
export interface CallLine {
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
  /** Why the callee refused (identity check), for its own log only: never sent to the caller. */
  readonly reason?: string;
  /** A fallback call: the target it stood in for (counted in fallback_total). */
  readonly fallbackFor?: string;
  /** A mirror copy: counted as mirror_requests_total, apart from real traffic. */
  readonly mirror?: boolean;
  /**
   * A record a consumer took from a channel: its sender counted the send under the channel's name, so
   * the consumer's line is the only one of the sender -> consumer edge and publishes the per-edge sets.
   */
  readonly throughChannel?: boolean;
}

/** One access-log line; fields the runtime adds later pass through untouched. */
export interface AccessEntry extends CallLine {
  readonly type: 'mesh-access';
  /** Epoch ms. */
  readonly time: number;
}

/** Cheap test for a log line, run on every line a function prints. */
export function looksLikeAccessLine(line: string): boolean {
  return line.startsWith('{"type":"mesh-access"');
}

/**
 * The entry a log line holds, or undefined for any other line. Any function can print a line that starts
 * like one, so a line is an entry only when every field has the type the runtime writes: `mesh tap`
 * formats each field as that type, and one line of another shape must not end it.
 */
export function parseAccessLine(line: string): AccessEntry | undefined {
  if (!looksLikeAccessLine(line)) return undefined;
  try {
    const e: unknown = JSON.parse(line);
    return isAccessEntry(e) ? e : undefined;
  } catch {
    return undefined;
  }
}

const REQUIRED: Readonly<Record<string, 'string' | 'number'>> = {
  source: 'string',
  destination: 'string',
  version: 'string',
  outcome: 'string',
  code: 'number',
  time: 'number',
  durationMs: 'number',
};
const OPTIONAL: Readonly<Record<string, 'string' | 'number' | 'boolean'>> = {
  attempts: 'number',
  traceId: 'string',
  error: 'string',
  reason: 'string',
  fallbackFor: 'string',
  mirror: 'boolean',
  throughChannel: 'boolean',
};

/** Pure: the fields the runtime writes, each of its type (numbers finite); other fields pass through. */
function isAccessEntry(e: unknown): e is AccessEntry {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return false;
  const fields = e as Record<string, unknown>;
  const ofType = (v: unknown, type: string) => typeof v === type && (type !== 'number' || Number.isFinite(v));
  return (
    (fields.reporter === 'source' || fields.reporter === 'destination') &&
    Object.entries(REQUIRED).every(([k, type]) => ofType(fields[k], type)) &&
    // A time a Date holds (at most 8.64e15 ms either side of 1970): tap prints it as one.
    !Number.isNaN(new Date(fields.time as number).getTime()) &&
    Object.entries(OPTIONAL).every(([k, type]) => fields[k] === undefined || ofType(fields[k], type))
  );
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
