/**
 * `mesh.send` to a channel (docs/async-edges.md): SQS SendMessage and SNS Publish carry the mesh
 * metadata as the message attribute `lambda-mesh`, the body being the caller's JSON as is; EventBridge
 * PutEvents has no attributes, so its detail is the mesh envelope. Each message is built once, in the
 * shape of the AWS SDK's input, with its size checked against the service's limit; then it goes on the
 * wire with the function's credentials (SQS's JSON protocol, `X-Amz-Target: AmazonSQS.SendMessage`;
 * SNS's query protocol; EventBridge's awsJson1_1, `AWSEvents.PutEvents`), or through the SDK where the
 * wire does not go (channel-sdk.ts, aws/wire-or-sdk.ts). The pipeline hands each attempt in the
 * InvokeTransport shape (`functionName` = the channel's ARN); the answer's body is the service's
 * output (its message or event id).
 */
import { CHANNEL_KIND, type ChannelTarget, MESH_EVENT_SOURCE } from '../../../shared/channel';
import { META, type MeshMetadata } from '../../../shared/names';
import { envelopeOf, tooLarge } from '../async/event-envelope';
import { type AwsEnv, type AwsService, type AwsWireClient, awsError, EVENTBRIDGE, SNS, SQS } from '../aws';
import { wireOrSdk } from '../aws/wire-or-sdk';
import type { InvokeRequest, InvokeResponse, InvokeTransport } from './invoke-transport';

/**
 * Largest message, bytes, attributes included: SQS 1 MiB (Amazon SQS Developer Guide, "Amazon SQS
 * message quotas"); SNS 256 KiB (Amazon SNS Developer Guide, "Amazon SNS message size"); EventBridge
 * 256 KiB per PutEvents entry (Amazon EventBridge User Guide, "Calculating PutEvents event entry size").
 */
export const CHANNEL_MAX_BYTES = { sqs: 1024 * 1024, sns: 256 * 1024, events: 256 * 1024 } as const;

const SERVICE: Record<ChannelTarget['kind'], AwsService> = { sqs: SQS, sns: SNS, events: EVENTBRIDGE };

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

export function channelTransport(channel: string, target: ChannelTarget, env: AwsEnv): InvokeTransport {
  return wireOrSdk(SERVICE[target.kind], env, {
    purpose: `send to ${channel}`,
    wire: (client) => wireTransport(channel, target, client),
    sdk: (config) =>
      (require('./channel-sdk') as typeof import('./channel-sdk')).sdkChannelTransport(channel, target, config),
  });
}

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

function wireTransport(channel: string, target: ChannelTarget, client: AwsWireClient): InvokeTransport {
  return {
    async invoke(req: InvokeRequest): Promise<InvokeResponse> {
      const message = channelMessage(channel, target, req);
      const { headers, body } = wireRequest(message);
      const res = await client.send({ method: 'POST', path: '/', headers, body, signal: req.signal });
      const text = res.body.toString('utf8');
      if (res.status >= 300) {
        throw awsError('awsJson', res.status, res.headers, message.kind === 'sns' ? queryError(text) : text);
      }
      if (message.kind === 'events') checkPutEvents(JSON.parse(text || '{}'));
      return { statusCode: res.status, payload: res.body };
    },
  };
}

/** The request of a message: SQS and EventBridge take the input as JSON, SNS as a query-protocol form. */
function wireRequest(message: ChannelMessage): { headers: Record<string, string>; body: string } {
  if (message.kind === 'sqs')
    return { headers: json('1.0', 'AmazonSQS.SendMessage'), body: JSON.stringify(message.input) };
  if (message.kind === 'events')
    return { headers: json('1.1', 'AWSEvents.PutEvents'), body: JSON.stringify(message.input) };
  const { TopicArn, Message, MessageAttributes } = message.input;
  const form = new URLSearchParams({ Action: 'Publish', Version: '2010-03-31', TopicArn, Message });
  Object.entries(MessageAttributes).forEach(([name, value], i) => {
    form.set(`MessageAttributes.entry.${i + 1}.Name`, name);
    form.set(`MessageAttributes.entry.${i + 1}.Value.DataType`, value.DataType);
    form.set(`MessageAttributes.entry.${i + 1}.Value.StringValue`, value.StringValue);
  });
  return { headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: form.toString() };
}

function json(version: '1.0' | '1.1', target: string): Record<string, string> {
  return { 'content-type': `application/x-amz-json-${version}`, 'x-amz-target': target };
}

/**
 * Publish's modeled errors: the query protocol's code, whose SDK error is named `<code>Exception`
 * (`Throttled` -> `ThrottledException`, what resilience/retry-decision.ts knows as throttling), and
 * the one named otherwise. Other codes keep their name, as the SDK keeps them.
 */
const SNS_MODELED = new Set(
  (
    'AuthorizationError EndpointDisabled InternalError InvalidParameter InvalidSecurity KMSAccessDenied KMSDisabled ' +
    'KMSInvalidState KMSNotFound KMSOptInRequired KMSThrottling NotFound PlatformApplicationDisabled Throttled'
  ).split(' '),
);
const SNS_RENAMED: Record<string, string> = { ParameterValueInvalid: 'InvalidParameterValueException' };

/** A query-protocol (SNS) error document as the JSON `awsError` reads: the SDK's name and the Message. */
function queryError(xml: string): string {
  const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
  const code = tag('Code');
  const name = code && (SNS_RENAMED[code] ?? (SNS_MODELED.has(code) ? `${code}Exception` : code));
  return JSON.stringify({ Code: name, Message: tag('Message') ?? xml.slice(0, 500) });
}
