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
import type { ChannelTarget } from '../../../shared/channel';
import { type AwsEnv, type AwsService, type AwsWireClient, awsError, EVENTBRIDGE, SNS, SQS, wireOrSdk } from '../aws';
import { type ChannelMessage, channelMessage, checkPutEvents } from './channel-message';
import { sdkChannelTransport } from './channel-sdk';
import type { InvokeRequest, InvokeResponse, InvokeTransport } from './invoke-transport';

export { CHANNEL_MAX_BYTES } from './channel-message';

const SERVICE: Record<ChannelTarget['kind'], AwsService> = { sqs: SQS, sns: SNS, events: EVENTBRIDGE };

export function channelTransport(channel: string, target: ChannelTarget, env: AwsEnv): InvokeTransport {
  return wireOrSdk(SERVICE[target.kind], env, {
    purpose: `send to ${channel}`,
    wire: (client) => wireTransport(channel, target, client),
    sdk: (config) => sdkChannelTransport(channel, target, config),
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
