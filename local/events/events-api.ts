/**
 * EventBridge's JSON protocol on the local endpoint (awsJson1_1, `X-Amz-Target: AWSEvents.<Op>`; Amazon
 * EventBridge API Reference): PutEvents, DescribeEventBus and ListRules. PutEvents takes 1 to 10
 * entries of at most 256 KB together ("Calculating Amazon EventBridge PutEvents event entry size") and
 * answers each entry on its own: an event id, or an error code and message, with FailedEntryCount. The
 * events accepted go to the bus's matching rules once the answer is on its way; an event for a bus that
 * does not exist is answered an id and dropped, as EventBridge was recorded doing.
 */
import { AwsError, unsupported } from '../endpoint/errors';
import type { JsonService } from '../endpoint/server';
import { entriesListing } from './entries-listing';
import { busEvent, DEFAULT_BUS, type EventBuses } from './event-buses';

/** The most a PutEvents request may carry, all its entries together. */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;
const MAX_ENTRIES = 10;

type Input = Record<string, unknown>;
type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export function eventsJsonServices(buses: EventBuses): Record<string, JsonService> {
  const events: JsonService = {
    protocol: 'awsJson1_1',
    handle: (op, input, region) => handleEvents(buses, op, input, region),
  };
  return { events, AWSEvents: events };
}

export function handleEvents(buses: EventBuses, op: string, input: Input, region: string): unknown {
  switch (op) {
    case 'PutEvents':
      return putEvents(buses, input, region);
    case 'DescribeEventBus':
      return describeEventBus(buses, input, region);
    case 'ListRules':
      return listRules(buses, input, region);
    default:
      throw unsupported('events', op, 'awsJson1_1');
  }
}

function putEvents(buses: EventBuses, input: Input, region: string) {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
    const given = Array.isArray(entries) ? entries : [];
    throw validation(
      `1 validation error detected: Value '${entriesListing(given)}' at 'entries' failed to satisfy constraint: ` +
        `Member must have length ${given.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ENTRIES}`}`,
    );
  }
  const size = entries.reduce((sum: number, e) => sum + entrySize(e as Input), 0);
  if (size > PUT_EVENTS_MAX_BYTES) throw validation('Total size of the entries in the request is over the limit.');
  const results = entries.map((e) => putEntry(buses, e as Input, region));
  return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
}

/** An entry's size as EventBridge counts it: Time 14 bytes, then Source, DetailType, Detail and Resources in UTF-8. */
export function entrySize(e: Input): number {
  const text = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  const resources = Array.isArray(e.Resources) ? e.Resources.reduce((s: number, r) => s + text(r), 0) : 0;
  return (e.Time !== undefined ? 14 : 0) + text(e.Source) + text(e.DetailType) + text(e.Detail) + resources;
}

function putEntry(buses: EventBuses, e: Input, region: string): EntryResult {
  const invalid = entryError(e);
  if (invalid) return invalid;
  // A bus that does not exist takes the event all the same, and drops it: EventBridge answers it an id.
  const bus = busOf(e.EventBusName, region);
  const event = busEvent(
    {
      source: String(e.Source),
      detailType: String(e.DetailType),
      detail: JSON.parse(String(e.Detail)),
      resources: Array.isArray(e.Resources) ? e.Resources.map(String) : [],
      time: timeOf(e.Time),
    },
    { region: bus.region, account: buses.accountId },
  );
  // Delivered after the answer, as EventBridge delivers: PutEvents never waits for a target.
  setImmediate(() => void buses.deliver(bus.region, bus.name, event));
  return { EventId: event.id };
}

/** An entry EventBridge takes no event from, in its words. */
function entryError(e: Input): EntryResult | undefined {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof e[field] !== 'string' || e[field] === '') {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
      };
    }
  }
  if (!isJsonObject(String(e.Detail))) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  // Events of AWS services' sources are theirs to send ("Amazon EventBridge events": the aws. prefix).
  if (String(e.Source).startsWith('aws.')) {
    return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
  }
  return undefined;
}

function isJsonObject(text: string): boolean {
  try {
    const v = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** A bus by name or ARN (whose region it is in); the default bus when none is named. */
function busOf(named: unknown, region: string): { region: string; name: string } {
  const text = typeof named === 'string' && named !== '' ? named : DEFAULT_BUS;
  const arn = /^arn:aws[a-z-]*:events:([^:]+):[^:]*:event-bus\/(.+)$/.exec(text);
  return arn ? { region: arn[1]!, name: arn[2]! } : { region, name: text };
}

/** Time as the SDK sends it (epoch seconds) or as text; none or unreadable: now. */
function timeOf(v: unknown): Date | undefined {
  const d = typeof v === 'number' ? new Date(v * 1000) : typeof v === 'string' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

function describeEventBus(buses: EventBuses, input: Input, region: string) {
  const bus = busOf(input.Name, region);
  if (!buses.hasBus(bus.region, bus.name)) throw notFound(bus.name);
  const created = buses.createdAt(bus.region, bus.name).getTime() / 1000;
  return {
    Name: bus.name,
    Arn: buses.busArn(bus.region, bus.name),
    CreationTime: created,
    LastModifiedTime: created,
  };
}

function listRules(buses: EventBuses, input: Input, region: string) {
  const bus = busOf(input.EventBusName, region);
  if (!buses.hasBus(bus.region, bus.name)) throw notFound(bus.name);
  const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
  const rules = buses
    .rules(bus.region, bus.name)
    .filter((r) => r.name.startsWith(prefix))
    .map((r) => ({
      Name: r.name,
      Arn: buses.ruleArn(bus.region, r),
      EventPattern: JSON.stringify(r.pattern),
      State: r.enabled ? 'ENABLED' : 'DISABLED',
      EventBusName: r.busName,
      ...(r.description ? { Description: r.description } : {}),
    }));
  return { Rules: rules };
}

function notFound(bus: string): AwsError {
  return new AwsError('ResourceNotFoundException', 400, `Event bus ${bus} does not exist.`);
}

function validation(message: string): AwsError {
  return new AwsError('ValidationException', 400, message);
}
