/**
 * PutEvents' entries written out as EventBridge's refusal of too many lists them: each entry as
 * `PutEventsRequestEntry(time=null, source=..., ...)`, its values as sent, `null` for those not given,
 * the list in brackets. Recorded for entries with Source, DetailType, Detail and EventBusName; how
 * EventBridge writes a given Time, Resources or TraceHeader is not on record (Time as an ISO instant and
 * Resources as `[a, b]` here). Pure.
 */

type Entry = Record<string, unknown>;

export function entriesListing(entries: readonly unknown[]): string {
  return `[${entries.map((e) => entryListing((e ?? {}) as Entry)).join(', ')}]`;
}

function entryListing(e: Entry): string {
  const fields: [string, string][] = [
    ['time', timeText(e.Time)],
    ['source', text(e.Source)],
    ['resources', Array.isArray(e.Resources) ? `[${e.Resources.map(text).join(', ')}]` : 'null'],
    ['detailType', text(e.DetailType)],
    ['detail', text(e.Detail)],
    ['eventBusName', text(e.EventBusName)],
    ['traceHeader', text(e.TraceHeader)],
    ['kmsKeyIdentifier', 'null'],
    ['internalMetadata', 'null'],
  ];
  return `PutEventsRequestEntry(${fields.map(([k, v]) => `${k}=${v}`).join(', ')})`;
}

function text(v: unknown): string {
  return v === undefined || v === null ? 'null' : String(v);
}

/** The SDK sends Time as epoch seconds. */
function timeText(v: unknown): string {
  if (typeof v !== 'number') return text(v);
  const d = new Date(v * 1000);
  return Number.isNaN(d.getTime()) ? String(v) : d.toISOString().replace('.000Z', 'Z');
}
