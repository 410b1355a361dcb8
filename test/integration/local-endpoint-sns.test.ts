/**
 * SNS on the local endpoint through the real @aws-sdk/client-sns (the query protocol on the wire):
 * Publish with each attribute type, the notification a subscribed function gets (Lambda's SNS event),
 * filter policies on attributes and on the body, SNS's errors, and the reads around a topic.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import type { Endpoint } from '../../local/endpoint';
import { messageFilter } from '../../local/sns/filter-policy';
import { snsQueryService } from '../../local/sns/sns-api';
import { type LambdaSubscription, TopicStore } from '../../local/sns/topic-store';
import { clientConfig } from '../support/example-assembly';
import { rejection } from '../support/rejection';
import { startSqsEndpoint } from './local-endpoint-fixture';

type SnsError = Error & { $metadata: { httpStatusCode?: number } };
type Notification = {
  Records: {
    EventSource: string;
    EventVersion: string;
    EventSubscriptionArn: string;
    Sns: Record<string, unknown> & { MessageAttributes: Record<string, { Type: string; Value: string }> };
  }[];
};

describe('local endpoint: SNS', () => {
  let endpoint: Endpoint;
  let sns: SNSClient;
  let topicArn: string;
  const delivered: { s: LambdaSubscription; event: Notification }[] = [];
  const topics = new TopicStore({
    region: 'us-east-1',
    accountId: '000000000000',
    deliver: (s, event) => delivered.push({ s, event: event as Notification }),
  });
  const to = (endpointArn: string) => delivered.filter((d) => d.s.endpoint === endpointArn).map((d) => d.event);

  before(async () => {
    ({ endpoint } = await startSqsEndpoint(undefined, () => ({ queryServices: { sns: snsQueryService(topics) } })));
    sns = new SNSClient(clientConfig(endpoint.url));
    topicArn = (await sns.send(new CreateTopicCommand({ Name: 'orders' }))).TopicArn!;
    const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}:live`;
    topics.subscribe({ key: 'S/All', topicArn, endpoint: fn('all') });
    const kind = { scope: 'MessageAttributes' as const, matches: messageFilter({ kind: ['order'] }) };
    topics.subscribe({ key: 'S/Orders', topicArn, endpoint: fn('orders'), filter: kind });
    const body = {
      scope: 'MessageBody' as const,
      matches: messageFilter({ total: [{ numeric: ['>', 100] }] }, 'MessageBody'),
    };
    topics.subscribe({ key: 'S/Big', topicArn, endpoint: fn('big'), filter: body });
  });
  after(async () => {
    sns?.destroy();
    await endpoint?.close();
  });

  it('Publish answers a MessageId and hands every subscribed function the SNS event, attributes as { Type, Value }', async () => {
    // Act
    const out = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: '{"total":7}',
        Subject: 'placed',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'order' },
          tags: { DataType: 'String.Array', StringValue: '["a","b"]' },
          count: { DataType: 'Number', StringValue: '3' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
        },
      }),
    );

    // Assess
    assert.match(out.MessageId ?? '', /^[0-9a-f-]{36}$/);
    const [event] = to('arn:aws:lambda:us-east-1:000000000000:function:all:live');
    const record = event!.Records[0]!;
    assert.equal(record.EventSource, 'aws:sns');
    assert.equal(record.EventVersion, '1.0');
    assert.ok(record.EventSubscriptionArn.startsWith(`${topicArn}:`));
    const { Signature, Timestamp, SigningCertUrl, UnsubscribeUrl, MessageAttributes, ...rest } = record.Sns;
    assert.deepEqual(rest, {
      Type: 'Notification',
      MessageId: out.MessageId,
      TopicArn: topicArn,
      Subject: 'placed',
      Message: '{"total":7}',
      SignatureVersion: '1',
    });
    assert.ok(!Number.isNaN(Date.parse(String(Timestamp))));
    assert.ok(String(Signature).length > 0 && String(SigningCertUrl).startsWith('https://sns.us-east-1.'));
    assert.ok(String(UnsubscribeUrl).includes(record.EventSubscriptionArn));
    assert.deepEqual(MessageAttributes, {
      kind: { Type: 'String', Value: 'order' },
      tags: { Type: 'String.Array', Value: '["a","b"]' },
      count: { Type: 'Number', Value: '3' },
      blob: { Type: 'Binary', Value: Buffer.from([1, 2, 3]).toString('base64') },
    });
  });

  it('a filter policy lets through only what matches: attributes by default, the body with MessageBody', async () => {
    // Act
    const publish = (message: unknown, kind: string) =>
      sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: JSON.stringify(message),
          MessageAttributes: { kind: { DataType: 'String', StringValue: kind } },
        }),
      );
    await publish({ n: 'refund', total: 5 }, 'refund');
    await publish({ n: 'order-big', total: 500 }, 'order');

    // Assess
    const messages = (fn: string) =>
      to(`arn:aws:lambda:us-east-1:000000000000:function:${fn}:live`).map(
        (e) => (JSON.parse(String(e.Records[0]!.Sns.Message)) as { n?: string }).n,
      );
    assert.deepEqual(messages('orders'), [undefined, 'order-big'], 'kind = order only (the first test published one)');
    assert.deepEqual(messages('big'), ['order-big'], 'total > 100 in the body only');
    assert.ok(messages('all').includes('refund'));
  });

  it('a topic that does not exist: NotFound, 404, "Topic does not exist"', async () => {
    const err = await rejection<SnsError>(() =>
      sns.send(new PublishCommand({ TopicArn: `${topicArn}-missing`, Message: 'x' })),
    );
    assert.equal(err.name, 'NotFoundException');
    assert.equal(err.message, 'Topic does not exist');
    assert.equal(err.$metadata.httpStatusCode, 404);
  });

  it('a message over 256 KiB with its attributes: InvalidParameter, "Invalid parameter: Message too long"', async () => {
    const attributes = { k: { DataType: 'String', StringValue: 'v' } };
    const fits = 256 * 1024 - 'k'.length - 'String'.length - 1;
    await sns.send(
      new PublishCommand({ TopicArn: topicArn, Message: 'x'.repeat(fits), MessageAttributes: attributes }),
    );
    const err = await rejection<SnsError>(() =>
      sns.send(
        new PublishCommand({ TopicArn: topicArn, Message: 'x'.repeat(fits + 1), MessageAttributes: attributes }),
      ),
    );
    assert.equal(err.name, 'InvalidParameterException');
    assert.equal(err.message, 'Invalid parameter: Message too long');
    assert.equal(err.$metadata.httpStatusCode, 400);
  });

  it('bad attributes and an empty message: InvalidParameter naming the value', async () => {
    const publish = (attrs: Record<string, { DataType: string; StringValue: string }>, message = 'x') =>
      rejection<SnsError>(() =>
        sns.send(new PublishCommand({ TopicArn: topicArn, Message: message, MessageAttributes: attrs })),
      );
    const nan = await publish({ n: { DataType: 'Number', StringValue: 'many' } });
    assert.equal(nan.name, 'InvalidParameterException');
    assert.match(nan.message, /'n' has the value "many", which is not a number/);
    const type = await publish({ t: { DataType: 'Text', StringValue: 'v' } });
    assert.match(type.message, /'t' has an invalid message attribute type "Text"/);
    const array = await publish({ a: { DataType: 'String.Array', StringValue: '{"a":1}' } });
    assert.match(array.message, /'a' has the value .* which is not a JSON array/);
    const empty = await publish({}, '');
    assert.equal(empty.message, 'Invalid parameter: Empty message');
  });

  it('reads: ListTopics, GetTopicAttributes, ListSubscriptionsByTopic; another action is InvalidAction', async () => {
    const listed = await sns.send(new ListTopicsCommand({}));
    assert.deepEqual(
      listed.Topics?.map((t) => t.TopicArn),
      [topicArn],
    );
    const attrs = await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    assert.equal(attrs.Attributes?.TopicArn, topicArn);
    assert.equal(attrs.Attributes?.SubscriptionsConfirmed, '3');
    const subs = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    assert.deepEqual(subs.Subscriptions?.map((s) => [s.Protocol, s.Endpoint?.split(':')[6]]).sort(), [
      ['lambda', 'all'],
      ['lambda', 'big'],
      ['lambda', 'orders'],
    ]);
    const err = await rejection<SnsError>(() =>
      sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'email', Endpoint: 'a@example.com' })),
    );
    assert.equal(err.name, 'InvalidAction');
    assert.match(err.message, /does not support sns\.Subscribe/);
  });

  it('a FIFO topic needs a MessageGroupId and a deduplication id (or content-based deduplication); a standard one takes no deduplication id', async () => {
    const fifo = (await sns.send(new CreateTopicCommand({ Name: 'ledger.fifo', Attributes: { FifoTopic: 'true' } })))
      .TopicArn!;
    const noGroup = await rejection<SnsError>(() => sns.send(new PublishCommand({ TopicArn: fifo, Message: 'x' })));
    assert.equal(noGroup.message, 'Invalid parameter: The MessageGroupId parameter is required for FIFO topics');
    const noDedup = await rejection<SnsError>(() =>
      sns.send(new PublishCommand({ TopicArn: fifo, Message: 'x', MessageGroupId: 'g' })),
    );
    assert.match(noDedup.message, /either have ContentBasedDeduplication enabled or MessageDeduplicationId provided/);
    const sent = await sns.send(
      new PublishCommand({ TopicArn: fifo, Message: 'x', MessageGroupId: 'g', MessageDeduplicationId: 'd' }),
    );
    assert.ok(sent.MessageId);
    const standard = await rejection<SnsError>(() =>
      sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'x', MessageDeduplicationId: 'd' })),
    );
    assert.equal(standard.name, 'InvalidParameterException');
    assert.match(standard.message, /MessageDeduplicationId parameter that is not valid for this topic type/);
  });
});
