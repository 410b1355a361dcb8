/**
 * The local SQS's queue behaviour as the Amazon SQS Developer Guide and API Reference describe it,
 * through the real @aws-sdk/client-sqs on the JSON protocol: redrive to a dead-letter queue, delayed
 * messages, and the bounds of a receive.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Endpoint } from '../../local/endpoint';
import type { QueueStore } from '../../local/sqs/queue-store';
import { rejection } from '../support/rejection';
import { startSqsEndpoint } from './local-endpoint-fixture';

describe('local endpoint: SQS queues', () => {
  let endpoint: Endpoint;
  let sqs: SQSClient;
  let queues: QueueStore;

  before(async () => {
    ({ endpoint, sqs, queues } = await startSqsEndpoint());
  });
  after(async () => {
    sqs.destroy();
    await endpoint.close();
  });

  const create = async (QueueName: string, Attributes?: Record<string, string>) =>
    (await sqs.send(new CreateQueueCommand({ QueueName, Attributes }))).QueueUrl!;
  const receiveAll = (QueueUrl: string, WaitTimeSeconds = 0) =>
    sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        WaitTimeSeconds,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
      }),
    );

  it('a message redriven to the dead-letter queue keeps its id and sent time, and names its source queue', async () => {
    // Prepare: one receive allowed, then the next receive moves it.
    const dlq = await create('orders-dlq');
    const source = await create('orders', {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queues.arnOf('orders-dlq'), maxReceiveCount: 1 }),
    });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: source, MessageBody: 'poison' }));
    const first = (await receiveAll(source)).Messages![0]!;
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: source,
        ReceiptHandle: first.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );

    // Act
    const again = await receiveAll(source);
    const dead = (await receiveAll(dlq)).Messages?.[0];

    // Assess
    assert.equal(again.Messages?.length ?? 0, 0);
    assert.equal(dead?.MessageId, sent.MessageId);
    assert.equal(dead?.Body, 'poison');
    assert.equal(dead?.Attributes?.SentTimestamp, first.Attributes?.SentTimestamp);
    assert.equal(dead?.Attributes?.DeadLetterQueueSourceArn, queues.arnOf('orders'));
  });

  it('a delayed message stays hidden for its DelaySeconds, counted as delayed, then arrives', async () => {
    // Prepare
    const url = await create('delayed');

    // Act
    const sentAt = Date.now();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'later', DelaySeconds: 1 }));
    const atOnce = await receiveAll(url);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }),
    );
    const later = await receiveAll(url, 5);

    // Assess
    assert.equal(atOnce.Messages?.length ?? 0, 0);
    assert.equal(Attributes?.ApproximateNumberOfMessagesDelayed, '1');
    assert.equal(later.Messages?.[0]?.Body, 'later');
    assert.ok(Date.now() - sentAt >= 1000, 'not before its delay');
  });

  it("a queue's DelaySeconds delays every message sent without one", async () => {
    // Prepare
    const url = await create('slow-queue', { DelaySeconds: '1' });

    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'queued' }));
    const atOnce = await receiveAll(url);
    const later = await receiveAll(url, 5);

    // Assess
    assert.equal(atOnce.Messages?.length ?? 0, 0);
    assert.equal(later.Messages?.[0]?.Body, 'queued');
  });

  it("a receive without WaitTimeSeconds long-polls for the queue's ReceiveMessageWaitTimeSeconds", async () => {
    // Prepare
    const url = await create('long-polled', { ReceiveMessageWaitTimeSeconds: '5' });
    setTimeout(() => void sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'soon' })), 300).unref();

    // Act
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));

    // Assess
    assert.equal(got.Messages?.[0]?.Body, 'soon');
  });

  it('a WaitTimeSeconds over 20 or a DelaySeconds over 900 is InvalidParameterValue', async () => {
    // Prepare
    const url = await create('bounds');

    // Act
    const wait = await rejection<Error & { Code?: string }>(() =>
      sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 21 })),
    );
    const delay = await rejection<Error & { Code?: string }>(() =>
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', DelaySeconds: 901 })),
    );

    // Assess
    assert.equal(wait.Code, 'InvalidParameterValue');
    assert.equal(
      wait.message,
      'Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.',
    );
    assert.equal(delay.Code, 'InvalidParameterValue');
    assert.match(delay.message, /^Value 901 for parameter DelaySeconds is invalid\./);
  });

  it('a standard queue takes a MessageGroupId (a fair queue) and gives it back with the message, as recorded from SQS', async () => {
    // Prepare
    const url = await create('fair');

    // Act
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'message', MessageGroupId: 'test' }),
    );
    const got = await receiveAll(url);

    // Assess: no sequence number, no deduplication id: the queue stays a standard one.
    assert.equal(sent.SequenceNumber, undefined);
    assert.equal(got.Messages?.length, 1);
    const attributes = got.Messages![0]!.Attributes!;
    assert.equal(attributes.MessageGroupId, 'test');
    assert.deepEqual(Object.keys(attributes).sort(), [
      'ApproximateFirstReceiveTimestamp',
      'ApproximateReceiveCount',
      'MessageGroupId',
      'SenderId',
      'SentTimestamp',
    ]);
  });

  it('a receive that finds nothing answers without Messages, as the aws CLI prints nothing for it', async () => {
    // Prepare
    const url = await create('empty');

    // Act
    const got = await receiveAll(url);

    // Assess
    assert.equal(got.Messages, undefined);
  });

  it('GetQueueAttributes gives CreatedTimestamp and LastModifiedTimestamp, and the Policy SetQueueAttributes set', async () => {
    // Prepare
    const before = Math.floor(Date.now() / 1000);
    const url = await create('with-policy', { VisibilityTimeout: '40' });
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage' }],
    });
    const all = async () =>
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes!;

    // Act
    const created = await all();
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: policy, DelaySeconds: '2' } }));
    const changed = await all();
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: '' } }));
    const cleared = await all();

    // Assess: epoch seconds; the attributes not named keep their values.
    const after = Math.floor(Date.now() / 1000);
    const createdS = Number(created.CreatedTimestamp);
    assert.ok(createdS >= before && createdS <= after, `CreatedTimestamp ${created.CreatedTimestamp}`);
    assert.equal(created.LastModifiedTimestamp, created.CreatedTimestamp);
    assert.equal(created.Policy, undefined);
    assert.equal(changed.Policy, policy);
    assert.equal(changed.DelaySeconds, '2');
    assert.equal(changed.VisibilityTimeout, '40');
    assert.equal(changed.CreatedTimestamp, created.CreatedTimestamp);
    assert.ok(Number(changed.LastModifiedTimestamp) >= createdS);
    assert.equal(cleared.Policy, undefined, 'an empty Policy removes it');
  });
});
