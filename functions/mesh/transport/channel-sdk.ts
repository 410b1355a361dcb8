/**
 * `mesh.send` to a channel through the AWS SDK, where the wire path does not go (aws/wire-or-sdk.ts:
 * FIPS or dual-stack endpoints, container credentials, other partitions): the same message
 * (channel-message.ts) sent with SendMessage, Publish or PutEvents. The clients come
 * with the Lambda Node.js runtime and are required here, on the first send: the layer bundles none. Their
 * own retries are off (maxAttempts 1): the mesh retries with its budget and backoff.
 */
import type { ChannelTarget } from '../../../shared/channel';
import type { SdkClientConfig } from '../aws';
import { channelMessage, checkPutEvents } from './channel-message';
import type { InvokeRequest, InvokeResponse, InvokeTransport } from './invoke-transport';

/** A channel's SDK client and the command that sends one message. */
interface ChannelSdk {
  readonly client: {
    send(command: unknown, options: { abortSignal: AbortSignal }): Promise<{ $metadata?: unknown }>;
  };
  readonly Command: new (input: never) => unknown;
}

export function sdkChannelTransport(channel: string, target: ChannelTarget, config: SdkClientConfig): InvokeTransport {
  const { client, Command } = sdkOf(target.kind, { ...config, maxAttempts: 1 });
  return {
    async invoke(req: InvokeRequest): Promise<InvokeResponse> {
      const message = channelMessage(channel, target, req);
      const sent = await client.send(new Command(message.input as never), { abortSignal: req.signal });
      // The output as the service sent it, without the SDK's own fields.
      const { $metadata: _, ...output } = sent;
      if (message.kind === 'events') checkPutEvents(output);
      return { statusCode: 200, payload: Buffer.from(JSON.stringify(output)) };
    },
  };
}

function sdkOf(kind: ChannelTarget['kind'], config: SdkClientConfig & { readonly maxAttempts: number }): ChannelSdk {
  if (kind === 'sqs') {
    const sdk = require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs');
    return { client: new sdk.SQSClient(config) as never, Command: sdk.SendMessageCommand };
  }
  if (kind === 'sns') {
    const sdk = require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns');
    return { client: new sdk.SNSClient(config) as never, Command: sdk.PublishCommand };
  }
  const sdk = require('@aws-sdk/client-eventbridge') as typeof import('@aws-sdk/client-eventbridge');
  return { client: new sdk.EventBridgeClient(config) as never, Command: sdk.PutEventsCommand };
}
