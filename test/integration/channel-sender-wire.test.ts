/**
 * What `mesh.send` puts on the wire for SNS and EventBridge, held to what the services accept: a
 * loopback stand-in parses each request with the service's rules (test/support/channel-services.ts),
 * and the AWS SDK's client, given the same message, must be read the same way. The runtime's wire path
 * loads none of those clients (they are required here only after it has sent). Errors come back under
 * the SDK's names, or, where the two paths name one differently (SQS), as the same outcome.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { classifyDelivery } from '../../functions/mesh/resilience/delivery';
import { classifyOutcome } from '../../functions/mesh/resilience/retry-decision';
import { sdkChannelTransport } from '../../functions/mesh/transport/channel-sdk';
import { CHANNEL_MAX_BYTES, channelTransport } from '../../functions/mesh/transport/channel-transport';
import type { InvokeRequest } from '../../functions/mesh/transport/invoke-transport';
import type { ChannelTarget } from '../../shared/channel';
import { META, type MeshMetadata } from '../../shared/names';
import { type ChannelServices, startChannelServices } from '../support/channel-services';

const CREDS = { accessKeyId: 'AKIDCHANNELWIRE', secretAccessKey: 'channel-wire-secret' };
const TOPIC: ChannelTarget = { kind: 'sns', arn: 'arn:aws:sns:eu-west-1:123456789012:order-news' };
const BUS: ChannelTarget = { kind: 'events', arn: 'arn:aws:events:eu-west-1:123456789012:event-bus/shop' };
const META_OF: MeshMetadata = { v: 1, src: 'orders', ch: 'order-news', att: 1, idk: 'k-1', tok: 'm2.a.b.c' };

const sdkLoaded = () => Object.keys(require.cache).filter((k) => /@aws-sdk[\\/]client-(sns|eventbridge)/.test(k));

describe('channel sends on the wire: SNS Publish and EventBridge PutEvents as the services read them', () => {
  let services: ChannelServices;
  let env: Record<string, string>;
  const request = (payload: string, meta = META_OF): InvokeRequest => ({
    functionName: 'unused',
    qualifier: '',
    payload: Buffer.from(payload),
    clientContext: '',
    metadata: meta,
    signal: new AbortController().signal,
  });
  const sdkConfig = () => ({ endpoint: services.url, region: 'eu-west-1', credentials: CREDS, maxAttempts: 1 });

  before(async () => {
    // A whole run may load several test files in one process: start from a module cache without these
    // clients, so that one the wire path loaded shows here (another file's copy stays its own).
    for (const k of sdkLoaded()) delete require.cache[k];
    services = await startChannelServices(CREDS);
    env = {
      AWS_ENDPOINT_URL: services.url,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    };
  });
  after(() => services.close());

  test('SNS Publish: the query form SNS reads, the same message as the SDK publishes', async () => {
    // Prepare
    const payload = JSON.stringify({ type: 'order-placed', orderId: 'o-1', note: 'é & = + \u2028' });
    const from = services.received.length;
    // Act
    const out = await channelTransport('order-news', TOPIC, env).invoke(request(payload));
    assert.deepEqual(sdkLoaded(), [], 'the wire path loads no SDK client');
    const { PublishCommand, SNSClient } = await import('@aws-sdk/client-sns');
    const sns = new SNSClient(sdkConfig());
    await sns.send(
      new PublishCommand({
        TopicArn: TOPIC.arn,
        Message: payload,
        MessageAttributes: { [META.messageAttribute]: { DataType: 'String', StringValue: JSON.stringify(META_OF) } },
      }),
    );
    sns.destroy();
    // Assess
    const [wire, sdk] = services.received.slice(from);
    assert.equal(wire?.signature.ok, true, wire?.signature.why);
    assert.equal(wire?.signature.service, 'sns');
    assert.deepEqual(wire?.accepted, {
      kind: 'sns',
      TopicArn: TOPIC.arn,
      Message: payload,
      attributes: { [META.messageAttribute]: { DataType: 'String', StringValue: JSON.stringify(META_OF) } },
    });
    assert.deepEqual(wire?.accepted, sdk?.accepted, 'the SDK publishes the same message');
    assert.match(Buffer.from(out.payload).toString('utf8'), /<MessageId>[^<]+<\/MessageId>/);
  });

  test('SNS: 256 KiB with the attributes; a message at the limit goes, one byte more is refused before sending', async () => {
    // Prepare: the size SNS counts, the message plus the attribute's name, type and value.
    const overhead = META.messageAttribute.length + 'String'.length + JSON.stringify(META_OF).length;
    const sized = (bytes: number) => {
      const frame = JSON.stringify({ pad: '' });
      return JSON.stringify({ pad: 'x'.repeat(bytes - overhead - frame.length) });
    };
    const transport = channelTransport('order-news', TOPIC, env);
    const from = services.received.length;
    // Act + Assess: at the limit, SNS accepts it.
    await transport.invoke(request(sized(CHANNEL_MAX_BYTES.sns)));
    assert.equal(services.received[from]?.accepted?.kind, 'sns');
    // One byte more: refused with the size and what to do, nothing sent...
    await assert.rejects(transport.invoke(request(sized(CHANNEL_MAX_BYTES.sns + 1))), (e: Error) => {
      assert.equal(e.name, 'RequestTooLargeException');
      assert.match(e.message, /262145 bytes with the mesh metadata, over the 262144-byte limit/);
      return true;
    });
    assert.equal(services.received.length, from + 1);
    // ...and SNS would have refused it too.
    const { PublishCommand, SNSClient } = await import('@aws-sdk/client-sns');
    const sns = new SNSClient(sdkConfig());
    const over = {
      TopicArn: TOPIC.arn,
      Message: sized(CHANNEL_MAX_BYTES.sns + 1),
      MessageAttributes: { [META.messageAttribute]: { DataType: 'String', StringValue: JSON.stringify(META_OF) } },
    };
    await assert.rejects(sns.send(new PublishCommand(over)), /Message too long/);
    sns.destroy();
  });

  test('SNS errors: the XML error answer is thrown under the name the SDK gives it', async () => {
    const { PublishCommand, SNSClient } = await import('@aws-sdk/client-sns');
    const sns = new SNSClient(sdkConfig());
    const transport = channelTransport('order-news', TOPIC, env);
    for (const [status, code] of [
      [429, 'Throttled'],
      [400, 'ParameterValueInvalid'],
      [403, 'AuthorizationError'],
      [403, 'SignatureDoesNotMatch'],
    ] as const) {
      services.failNext('sns', status, code);
      const wire = await transport.invoke(request('{"n":1}')).then(
        () => assert.fail(`${code}: the runtime sent it`),
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
      );
      services.failNext('sns', status, code);
      const sdk = await sns.send(new PublishCommand({ TopicArn: TOPIC.arn, Message: '{"n":1}' })).then(
        () => assert.fail(`${code}: the SDK sent it`),
        (e: Error) => e,
      );
      assert.equal(wire.name, sdk.name, `${code}: named as the SDK names it`);
      assert.equal(wire.message, sdk.message);
      assert.equal(wire.$metadata?.httpStatusCode, status);
    }
    sns.destroy();
  });

  test('SQS: an error its model lacks is named by __type on the wire, by its query code through the SDK: one outcome', async () => {
    const queue: ChannelTarget = {
      kind: 'sqs',
      arn: 'arn:aws:sqs:eu-west-1:123456789012:orders',
      url: `${services.url}/123456789012/orders`,
    };
    const outcomeOf = async (transport: ReturnType<typeof channelTransport>) => {
      services.failNext('sqs', 400, 'com.amazonaws.sqs#InvalidParameterValueException', 'InvalidParameterValue');
      const e = await transport.invoke(request('{"n":1}')).then(
        () => assert.fail('sent'),
        (err: Error & { $metadata?: { httpStatusCode?: number } }) => err,
      );
      const seen = { errorName: e.name, statusCode: e.$metadata?.httpStatusCode };
      return { name: e.name, outcome: classifyOutcome(seen), delivery: classifyDelivery(seen) };
    };
    const wire = await outcomeOf(channelTransport('orders', queue, env));
    const sdk = await outcomeOf(sdkChannelTransport('orders', queue, sdkConfig()));
    // Not delivered: a send that is not idempotent ends with the queue's refusal, not "outcome unknown".
    const refused = { outcome: 'client-error', delivery: 'not-delivered' };
    assert.deepEqual(wire, { name: 'InvalidParameterValueException', ...refused });
    assert.deepEqual(sdk, { name: 'InvalidParameterValue', ...refused });
  });

  test('EventBridge PutEvents: one entry the bus accepts, the same entry as the SDK puts', async () => {
    // Prepare
    const payload = JSON.stringify({ type: 'order-placed', orderId: 'o-2', lines: [1, 2.5] });
    const meta = { ...META_OF, ch: 'shop-bus' };
    const from = services.received.length;
    // Act
    const out = await channelTransport('shop-bus', BUS, env).invoke(request(payload, meta));
    assert.deepEqual(
      sdkLoaded().filter((k) => k.includes('eventbridge')),
      [],
      'the wire path loads no SDK client',
    );
    const wire = services.received[from];
    const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
    const events = new EventBridgeClient(sdkConfig());
    assert.equal(wire?.accepted?.kind, 'events', wire?.refused);
    const entries = wire.accepted.entries as readonly Record<string, string>[];
    await events.send(new PutEventsCommand({ Entries: entries as never }));
    events.destroy();
    // Assess: the detail is the mesh envelope around the payload, byte for byte.
    assert.equal(wire?.signature.ok, true, wire?.signature.why);
    assert.equal(wire?.signature.service, 'events');
    assert.equal(wire?.headers['content-type'], 'application/x-amz-json-1.1');
    assert.equal(wire?.headers['x-amz-target'], 'AWSEvents.PutEvents');
    assert.deepEqual(
      entries.map((e) => [e.EventBusName, e.Source, e.DetailType]),
      [[BUS.arn, 'lambda-mesh', 'shop-bus']],
    );
    assert.equal(
      entries[0]!.Detail,
      `{"${META.envelopeKey}":${JSON.stringify(meta)},"${META.envelopePayloadKey}":${payload}}`,
    );
    assert.deepEqual(
      JSON.parse(services.received[from + 1]!.body),
      JSON.parse(wire!.body),
      'the SDK sends the same body',
    );
    const answer = JSON.parse(Buffer.from(out.payload).toString('utf8'));
    assert.equal(answer.FailedEntryCount, 0);
    assert.match(answer.Entries[0].EventId, /^[0-9a-f-]{36}$/);
  });

  test('EventBridge: a failed entry inside a 200 fails the send; the 256 KiB entry limit is the bus one', async () => {
    const transport = channelTransport('shop-bus', BUS, env);
    // A detail the bus cannot read (the payload is not JSON): PutEvents answers 200 with the entry failed.
    await assert.rejects(transport.invoke(request('not json', { ...META_OF, ch: 'shop-bus' })), (e: Error) => {
      assert.equal(e.name, 'InternalException');
      assert.match(e.message, /PutEvents failed: MalformedDetail: Detail is malformed\./);
      return true;
    });
    // At the limit the bus takes it; one byte more is refused before sending.
    const meta = { ...META_OF, ch: 'shop-bus' };
    const envelope = `{"${META.envelopeKey}":${JSON.stringify(meta)},"${META.envelopePayloadKey}":{"pad":""}}`;
    const overhead = envelope.length + 'lambda-mesh'.length + 'shop-bus'.length;
    const sized = (bytes: number) => JSON.stringify({ pad: 'x'.repeat(bytes - overhead) });
    const from = services.received.length;
    await transport.invoke(request(sized(CHANNEL_MAX_BYTES.events), meta));
    assert.equal(services.received[from]?.accepted?.kind, 'events');
    assert.equal(services.received[from]?.refused, undefined);
    await assert.rejects(transport.invoke(request(sized(CHANNEL_MAX_BYTES.events + 1), meta)), {
      name: 'RequestTooLargeException',
    });
    assert.equal(services.received.length, from + 1, 'nothing sent over the limit');
    // Throttled by the bus: named as the SDK names it, so the pipeline retries it as throttling.
    services.failNext('events', 400, 'ThrottlingException');
    await assert.rejects(transport.invoke(request('{"n":1}', meta)), { name: 'ThrottlingException' });
  });
});
