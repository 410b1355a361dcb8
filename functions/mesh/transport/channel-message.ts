/**
 * One message of `mesh.send` to a channel, in the shape of the AWS SDK's input (SendMessage, Publish,
 * PutEvents), whichever path sends it (docs/async-edges.md): SQS and SNS carry the mesh metadata as the
 * message attribute `lambda-mesh`, the body being the caller's JSON as is; EventBridge PutEvents has no
 * attributes, so its detail is the mesh envelope. Each service's size limit is checked here, before
 * anything is sent. Pure: a request in, a message out.
 */
import { CHANNEL_KIND, type ChannelTarget, MESH_EVENT_SOURCE } from '../../../shared/channel';
import { META, type MeshMetadata } from '../../../shared/names';
import { envelopeOf, tooLarge } from '../async/event-envelope';
import type { InvokeRequest } from './invoke-transport';

/**
 * Largest message, bytes, attributes included: SQS 1 MiB (Amazon SQS Developer Guide, "Amazon SQS
 * message quotas"); SNS 256 KiB (Amazon SNS Developer Guide, "Amazon SNS message size"); EventBridge
 * 256 KiB per PutEvents entry (Amazon EventBridge User Guide, "Calculating PutEvents event entry size").
 */
export const CHANNEL_MAX_BYTES = { sqs: 1024 * 1024, sns: 256 * 1024, events: 256 * 1024 } as const;

/** A string message attribute, as SQS and SNS take it. */
interface StringAttribute {
  readonly DataType: 'String';
  readonly StringValue: string;
}

/** One message in the shape of the SDK's input (SendMessage, Publish, PutEvents). */
export type ChannelMessage =
  | {
      readonly kind: 'sqs';
      readonly input: {
        readonly QueueUrl: string | undefined;
        readonly MessageBody: string;
        readonly MessageAttributes: Record<string, StringAttribute>;
        readonly MessageSystemAttributes?: { readonly AWSTraceHeader: StringAttribute };
      };
    }
  | {
      readonly kind: 'sns';
      readonly input: {
        readonly TopicArn: string;
        readonly Message: string;
        readonly MessageAttributes: Record<string, StringAttribute>;
      };
    }
  | {
      readonly kind: 'events';
      readonly input: {
        readonly Entries: readonly {
          readonly EventBusName: string;
          readonly Source: string;
          readonly DetailType: string;
          readonly Detail: string;
        }[];
      };
    };

/** The message of one attempt, or the error of a message over its channel's limit (nothing sent). */
export function channelMessage(channel: string, target: ChannelTarget, req: InvokeRequest): ChannelMessage {
  const meta = req.metadata;
  if (!meta) throw new Error(`mesh: a message to ${channel} needs its mesh metadata`);
  const limit = CHANNEL_MAX_BYTES[target.kind];
  if (target.kind === CHANNEL_KIND.events) {
    const detail = envelopeOf(meta, req.payload).toString('utf8');
    const size = Buffer.byteLength(detail) + MESH_EVENT_SOURCE.length + Buffer.byteLength(channel);
    if (size > limit) throw tooLarge(`the event to ${channel}`, size, limit);
    const entry = { EventBusName: target.arn, Source: MESH_EVENT_SOURCE, DetailType: channel, Detail: detail };
    return { kind: 'events', input: { Entries: [entry] } };
  }
  const text = Buffer.from(req.payload).toString('utf8');
  const attributes = { [META.messageAttribute]: meshAttribute(meta) };
  // An attribute's size is its name, type and value (SQS and SNS count them with the body).
  const size =
    req.payload.byteLength +
    META.messageAttribute.length +
    'String'.length +
    Buffer.byteLength(attributes[META.messageAttribute]!.StringValue);
  if (size > limit) throw tooLarge(`the message to ${channel}`, size, limit);
  if (target.kind === CHANNEL_KIND.sns) {
    return { kind: 'sns', input: { TopicArn: target.arn, Message: text, MessageAttributes: attributes } };
  }
  const trace = req.traceHeader;
  return {
    kind: 'sqs',
    input: {
      QueueUrl: target.url,
      MessageBody: text,
      MessageAttributes: attributes,
      // SQS hands the trace header on to Lambda with the message (system attribute AWSTraceHeader).
      ...(trace ? { MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: trace } } } : {}),
    },
  };
}

function meshAttribute(meta: MeshMetadata): StringAttribute {
  return { DataType: 'String', StringValue: JSON.stringify(meta) };
}

/** PutEvents answers 200 with a failed entry inside (Amazon EventBridge API Reference, "PutEvents"). */
export function checkPutEvents(out: {
  FailedEntryCount?: number;
  Entries?: readonly { ErrorCode?: string; ErrorMessage?: string }[];
}): void {
  if (!out.FailedEntryCount) return;
  const e = out.Entries?.find((x) => x.ErrorCode) ?? {};
  throw Object.assign(new Error(`PutEvents failed: ${e.ErrorCode ?? 'unknown'}: ${e.ErrorMessage ?? ''}`), {
    name: e.ErrorCode === 'ThrottlingException' ? 'ThrottlingException' : 'InternalException',
  });
}
