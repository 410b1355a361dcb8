/**
 * `mesh.send` to a channel, on the wire with the function's credentials (docs/async-edges.md):
 * SQS SendMessage (JSON protocol, `X-Amz-Target: AmazonSQS.SendMessage`) and SNS Publish (query
 * protocol) carry the mesh metadata as the message attribute `lambda-mesh`, the body being the caller's
 * JSON as is; EventBridge PutEvents has no attributes, so its detail is the mesh envelope. The pipeline
 * hands each attempt in the InvokeTransport shape (`functionName` = the channel's ARN); the answer's
 * body is the service's output (its message or event id). Each service's size limit is checked first.
 */
import { CHANNEL_KIND, type ChannelTarget, MESH_EVENT_SOURCE } from '../../../shared/channel';
import { META, type MeshMetadata } from '../../../shared/names';
import { envelopeOf, tooLarge } from '../async/event-envelope';
import { type AwsEnv, type AwsService, AwsWireClient, awsError, awsRoute, EVENTBRIDGE, SNS, SQS } from '../aws';
import type { InvokeRequest, InvokeResponse, InvokeTransport } from './invoke-transport';

/**
 * Largest message, bytes, attributes included: SQS 1 MiB (Amazon SQS Developer Guide, "Amazon SQS
 * message quotas"); SNS 256 KiB (Amazon SNS Developer Guide, "Amazon SNS message size"); EventBridge
 * 256 KiB per PutEvents entry (Amazon EventBridge User Guide, "Calculating PutEvents event entry size").
 */
export const CHANNEL_MAX_BYTES = { sqs: 1024 * 1024, sns: 256 * 1024, events: 256 * 1024 } as const;

const SERVICE: Record<ChannelTarget['kind'], AwsService> = { sqs: SQS, sns: SNS, events: EVENTBRIDGE };

export function channelTransport(channel: string, target: ChannelTarget, env: AwsEnv): InvokeTransport {
  const service = SERVICE[target.kind];
  const route = awsRoute(service, env);
  if (!route.wire) {
    throw new Error(
      `mesh: cannot send to channel ${channel} (${target.kind}): the runtime reaches it on the wire only, and ${route.reason}`,
    );
  }
  const client = new AwsWireClient({
    url: route.url,
    region: route.region,
    service: service.name,
    env,
    purpose: `send to ${channel}`,
  });
  return {
    async invoke(req: InvokeRequest): Promise<InvokeResponse> {
      const meta = req.metadata;
      if (!meta) throw new Error(`mesh: a message to ${channel} needs its mesh metadata`);
      const { headers, body } = requestOf(channel, target, meta, req.payload, req.traceHeader);
      const res = await client.send({ method: 'POST', path: '/', headers, body, signal: req.signal });
      const text = res.body.toString('utf8');
      if (res.status >= 300) {
        throw awsError('awsJson', res.status, res.headers, target.kind === CHANNEL_KIND.sns ? queryError(text) : text);
      }
      if (target.kind === CHANNEL_KIND.events) checkPutEvents(text);
      return { statusCode: res.status, payload: res.body };
    },
  };
}

function requestOf(
  channel: string,
  target: ChannelTarget,
  meta: MeshMetadata,
  payload: Uint8Array,
  traceHeader: string | undefined,
): { headers: Record<string, string>; body: string | Buffer } {
  const text = Buffer.from(payload).toString('utf8');
  const metaJson = JSON.stringify(meta);
  const limit = CHANNEL_MAX_BYTES[target.kind];
  if (target.kind === CHANNEL_KIND.events) {
    const detail = envelopeOf(meta, payload).toString('utf8');
    const entry = { EventBusName: target.arn, Source: MESH_EVENT_SOURCE, DetailType: channel, Detail: detail };
    const size = Buffer.byteLength(detail) + MESH_EVENT_SOURCE.length + channel.length;
    if (size > limit) throw tooLarge(`the event to ${channel}`, size, limit);
    return { headers: json('1.1', 'AWSEvents.PutEvents'), body: JSON.stringify({ Entries: [entry] }) };
  }
  // An attribute's size is its name, type and value (SQS and SNS count them with the body).
  const size = payload.byteLength + META.messageAttribute.length + 'String'.length + Buffer.byteLength(metaJson);
  if (size > limit) throw tooLarge(`the message to ${channel}`, size, limit);
  if (target.kind === CHANNEL_KIND.sqs) {
    const body = JSON.stringify({
      QueueUrl: target.url,
      MessageBody: text,
      MessageAttributes: { [META.messageAttribute]: { DataType: 'String', StringValue: metaJson } },
      // SQS hands the trace header on to Lambda with the message (system attribute AWSTraceHeader).
      ...(traceHeader
        ? { MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: traceHeader } } }
        : {}),
    });
    return { headers: json('1.0', 'AmazonSQS.SendMessage'), body };
  }
  const form = new URLSearchParams({
    Action: 'Publish',
    Version: '2010-03-31',
    TopicArn: target.arn,
    Message: text,
    'MessageAttributes.entry.1.Name': META.messageAttribute,
    'MessageAttributes.entry.1.Value.DataType': 'String',
    'MessageAttributes.entry.1.Value.StringValue': metaJson,
  });
  return { headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: form.toString() };
}

function json(version: '1.0' | '1.1', target: string): Record<string, string> {
  return { 'content-type': `application/x-amz-json-${version}`, 'x-amz-target': target };
}

/** A query-protocol (SNS) error document as the JSON `awsError` reads: its Code and Message. */
function queryError(xml: string): string {
  const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
  return JSON.stringify({ Code: tag('Code'), Message: tag('Message') ?? xml.slice(0, 500) });
}

/** PutEvents answers 200 with a failed entry inside (Amazon EventBridge API Reference, "PutEvents"). */
function checkPutEvents(text: string): void {
  const out = JSON.parse(text || '{}') as {
    FailedEntryCount?: number;
    Entries?: { ErrorCode?: string; ErrorMessage?: string }[];
  };
  if (!out.FailedEntryCount) return;
  const e = out.Entries?.find((x) => x.ErrorCode) ?? {};
  throw Object.assign(new Error(`PutEvents failed: ${e.ErrorCode ?? 'unknown'}: ${e.ErrorMessage ?? ''}`), {
    name: e.ErrorCode === 'ThrottlingException' ? 'ThrottlingException' : 'InternalException',
  });
}
