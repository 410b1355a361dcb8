/**
 * Recognises the events a queue, a topic or a bus delivers and reads each record's mesh metadata and
 * payload (docs/async-edges.md): an SQS batch (`Records[].eventSource = "aws:sqs"`, the metadata in the
 * message attribute `lambda-mesh`), an SNS notification (`Records[].EventSource = "aws:sns"`, the same
 * attribute) and an EventBridge event (`detail-type`, its detail the mesh envelope). Rebuilds the event
 * a handler gets: only the records let in, without the mesh's attribute, an EventBridge detail opened.
 * Pure: an event in, records out.
 */
import { CHANNEL_KIND, type ChannelKind } from '../../../shared/channel';
import { META, type MeshMetadata } from '../../../shared/names';
import type { parseTraceHeader } from '../../../shared/trace-header';
import type { isEnvelope, jsonPayloadOf, openEnvelope, parseMetadata, vouchedMetadata } from '../metadata';

/**
 * The wrapper's readers of metadata, envelopes and trace headers, lent to the batch's code: wrapper.js
 * holds them for every invocation's check, and bundled again here they would be a second copy in the
 * layer (functions/mesh/build.ts).
 */
export interface Lent {
  readonly parseMetadata: typeof parseMetadata;
  readonly isEnvelope: typeof isEnvelope;
  readonly openEnvelope: typeof openEnvelope;
  readonly jsonPayloadOf: typeof jsonPayloadOf;
  readonly vouchedMetadata: typeof vouchedMetadata;
  readonly parseTraceHeader: typeof parseTraceHeader;
}

/** One record of a batch as the checks see it. */
export interface EventRecord {
  /** SQS messageId, SNS MessageId, EventBridge id: what a partial batch response names. */
  readonly id: string;
  /** The queue or topic the record came from (SQS eventSourceARN, SNS TopicArn); none for EventBridge. */
  readonly sourceArn?: string;
  /** The mesh metadata, when the record carries any. */
  readonly meta: MeshMetadata | undefined;
  /**
   * The bytes the sender's token binds: the message body, or the EventBridge payload as JSON (undefined
   * when nested too deep to write back: no sender signed it).
   */
  readonly payload: string | undefined;
  /** A FIFO queue's record: its message group, whose records are handled in the order sent. */
  readonly group?: string;
}

export interface EventBatch {
  readonly kind: ChannelKind;
  readonly records: readonly EventRecord[];
  /** The event the handler gets with the records at these indexes (in order). */
  rebuild(kept: readonly number[]): unknown;
}

type Raw = Record<string, unknown>;

/** The batch `event` is, if any: an event the wrapper's `mayCarryRecords` (metadata.ts) let through. */
export function readBatch(event: object, lent: Lent): EventBatch | undefined {
  const e = event as Raw;
  if (Array.isArray(e.Records) && e.Records.length > 0) {
    const records = e.Records as Raw[];
    if (records.every((r) => r?.eventSource === 'aws:sqs')) return sqsBatch(e, records, lent);
    if (records.every((r) => r?.EventSource === 'aws:sns' && typeof r.Sns === 'object'))
      return snsBatch(e, records, lent);
    return undefined;
  }
  if (typeof e['detail-type'] === 'string' && 'detail' in e) return eventBridgeBatch(e, lent);
  return undefined;
}

function sqsBatch(event: Raw, records: Raw[], lent: Lent): EventBatch {
  return {
    kind: CHANNEL_KIND.sqs,
    records: records.map((r) => {
      const attrs = (r.messageAttributes ?? {}) as Record<string, { stringValue?: unknown } | undefined>;
      return {
        id: String(r.messageId ?? ''),
        sourceArn: typeof r.eventSourceARN === 'string' ? r.eventSourceARN : undefined,
        meta: metadataOfAttribute(attrs[META.messageAttribute]?.stringValue, lent),
        payload: typeof r.body === 'string' ? r.body : '',
        ...fifoGroup(r),
      };
    }),
    rebuild: (kept) => ({
      ...event,
      Records: kept.map((i) => withoutAttribute(records[i]!, 'messageAttributes')),
    }),
  };
}

/**
 * The message group of a FIFO queue's record (a FIFO queue's name ends in `.fifo`). A standard queue's
 * record may carry a MessageGroupId too (fair queues), in no order: it has none here.
 */
function fifoGroup(r: Raw): { group?: string } {
  const group = (r.attributes as Raw | undefined)?.MessageGroupId;
  const fifo = typeof r.eventSourceARN === 'string' && r.eventSourceARN.endsWith('.fifo');
  return fifo && typeof group === 'string' ? { group } : {};
}

function snsBatch(event: Raw, records: Raw[], lent: Lent): EventBatch {
  return {
    kind: CHANNEL_KIND.sns,
    records: records.map((r) => {
      const sns = r.Sns as Raw;
      const attrs = (sns.MessageAttributes ?? {}) as Record<string, { Value?: unknown } | undefined>;
      return {
        id: String(sns.MessageId ?? ''),
        sourceArn: typeof sns.TopicArn === 'string' ? sns.TopicArn : undefined,
        meta: metadataOfAttribute(attrs[META.messageAttribute]?.Value, lent),
        payload: typeof sns.Message === 'string' ? sns.Message : '',
      };
    }),
    rebuild: (kept) => ({
      ...event,
      Records: kept.map((i) => {
        const r = records[i]!;
        return { ...r, Sns: withoutAttribute(r.Sns as Raw, 'MessageAttributes') };
      }),
    }),
  };
}

/** One event; a mesh message's detail is the envelope, opened for the handler. */
function eventBridgeBatch(event: Raw, lent: Lent): EventBatch {
  const envelope = lent.isEnvelope(event.detail) ? lent.openEnvelope(event.detail) : undefined;
  const record: EventRecord = {
    id: String(event.id ?? ''),
    meta: envelope?.meta,
    // The token binds the payload as the sender serialized it; JSON.stringify gives those bytes back.
    payload: lent.jsonPayloadOf(envelope ? envelope.payload : (event.detail ?? null)),
  };
  return {
    kind: CHANNEL_KIND.events,
    records: [record],
    rebuild: () => (envelope ? { ...event, detail: envelope.payload } : event),
  };
}

function metadataOfAttribute(value: unknown, lent: Lent): MeshMetadata | undefined {
  if (typeof value !== 'string' || value.length > 8192) return undefined;
  try {
    return lent.parseMetadata(JSON.parse(value));
  } catch {
    return undefined;
  }
}

/** The record without the mesh's attribute: the handler sees the attributes the sender set. */
function withoutAttribute(r: Raw, field: string): Raw {
  const attrs = r[field] as Record<string, unknown> | undefined;
  if (!attrs || !(META.messageAttribute in attrs)) return r;
  const { [META.messageAttribute]: _mesh, ...rest } = attrs;
  return { ...r, [field]: rest };
}
