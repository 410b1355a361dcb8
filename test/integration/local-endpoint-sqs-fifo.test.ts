/**
 * The local SQS's FIFO queues as the Amazon SQS Developer Guide ("Amazon SQS FIFO queues") and API
 * Reference describe them, through the real @aws-sdk/client-sqs on the JSON protocol: the queue's name
 * and type, the parameters a send must carry, deduplication within 5 minutes, sequence numbers, and the
 * order of each message group, held back while one of its messages is in flight. Error names, codes and
 * messages are SQS's as AWS answers them.
 */

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { applyAssembly, newDeploymentState } from '../../local/assembly/deployment';
import type { Endpoint } from '../../local/endpoint';
import type { EventSourceMapping } from '../../local/sqs/event-source-poller';
import { QueueStore } from '../../local/sqs/queue-store';
import { oneStackAssembly } from '../support/one-stack-assembly';
import { rejection } from '../support/rejection';
import { startSqsEndpoint, TestRegistry } from './local-endpoint-fixture';

type SqsError = Error & { Code?: string; $metadata: { httpStatusCode?: number } };

describe('local endpoint: SQS FIFO queues', () => {
  let endpoint: Endpoint;
  let sqs: SQSClient;
  let registry: TestRegistry;
  let queues: QueueStore;

  before(async () => {
    ({ endpoint, sqs, queues, registry } = await startSqsEndpoint());
  });
  after(async () => {
    sqs.destroy();
    await endpoint.close();
  });

  const fifo = async (QueueName: string, more: Record<string, string> = {}) =>
    (await sqs.send(new CreateQueueCommand({ QueueName, Attributes: { FifoQueue: 'true', ...more } }))).QueueUrl!;
  const receive = async (QueueUrl: string, MaxNumberOfMessages: number) =>
    (await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages, MessageSystemAttributeNames: ['All'] })))
      .Messages ?? [];
  const bodies = (messages: readonly Message[]) => messages.map((m) => m.Body);

  it('a FIFO queue needs a .fifo name, a .fifo name needs FifoQueue, and only FIFO queues take ContentBasedDeduplication', async () => {
    // Act
    const unsuffixed = await rejection<SqsError>(() => fifo('orders'));
    const untyped = await rejection<SqsError>(() => sqs.send(new CreateQueueCommand({ QueueName: 'orders.fifo' })));
    const standardDedup = await rejection<SqsError>(() =>
      sqs.send(new CreateQueueCommand({ QueueName: 'plain', Attributes: { ContentBasedDeduplication: 'true' } })),
    );
    const url = await fifo('typed.fifo');
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['FifoQueue', 'ContentBasedDeduplication'] }),
    );

    // Assess
    assert.equal(unsuffixed.Code, 'InvalidParameterValue');
    assert.equal(
      unsuffixed.message,
      'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length',
    );
    assert.equal(untyped.Code, 'InvalidParameterValue');
    assert.match(
      untyped.message,
      /^Can only include alphanumeric characters, hyphens, or underscores\. 1 to 80 in length/,
    );
    assert.equal(standardDedup.name, 'InvalidAttributeName');
    assert.equal(standardDedup.Code, 'InvalidAttributeName');
    assert.equal(standardDedup.message, 'Unknown Attribute ContentBasedDeduplication.');
    assert.equal(standardDedup.$metadata.httpStatusCode, 400);
    assert.deepEqual(Attributes, { FifoQueue: 'true', ContentBasedDeduplication: 'false' });
  });

  it('a send needs MessageGroupId, and MessageDeduplicationId unless the queue deduplicates on content; no DelaySeconds', async () => {
    // Prepare
    const QueueUrl = await fifo('params.fifo');

    // Act
    const noGroup = await rejection<SqsError>(() =>
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x', MessageDeduplicationId: 'd' })),
    );
    const noDedup = await rejection<SqsError>(() =>
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x', MessageGroupId: 'g' })),
    );
    const delayed = await rejection<SqsError>(() =>
      sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: 'x',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd',
          DelaySeconds: 2,
        }),
      ),
    );
    const batchNoGroup = await rejection<SqsError>(() =>
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: [{ Id: '1', MessageBody: 'x', MessageDeduplicationId: 'd' }],
        }),
      ),
    );
    const zeroDelay = await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'x',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'd',
        DelaySeconds: 0,
      }),
    );

    // Assess
    assert.equal(noGroup.Code, 'MissingParameter');
    assert.equal(noGroup.message, 'The request must contain the parameter MessageGroupId.');
    assert.equal(noDedup.Code, 'InvalidParameterValue');
    assert.equal(
      noDedup.message,
      'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
    );
    assert.equal(delayed.Code, 'InvalidParameterValue');
    assert.equal(
      delayed.message,
      'Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.',
    );
    assert.equal(batchNoGroup.Code, 'InvalidParameterValue');
    assert.equal(batchNoGroup.message, 'The request must contain the parameter MessageGroupId.');
    assert.ok(zeroDelay.MessageId, 'a DelaySeconds of 0 is accepted');
  });

  it('a deduplication id (or, with ContentBasedDeduplication, a body) sent again within 5 minutes enqueues nothing', async () => {
    // Prepare
    const byId = await fifo('dedup-id.fifo');
    const byContent = await fifo('dedup-body.fifo', { ContentBasedDeduplication: 'true' });
    const send = (QueueUrl: string, MessageBody: string, MessageDeduplicationId?: string) =>
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody, MessageGroupId: 'g', MessageDeduplicationId }));

    // Act
    const first = await send(byId, 'one', 'same');
    const again = await send(byId, 'two', 'same');
    const other = await send(byId, 'three', 'other');
    const bodyFirst = await send(byContent, 'body');
    const bodyAgain = await send(byContent, 'body');

    // Assess: the repeat answers the first message; sequence numbers grow.
    assert.equal(again.MessageId, first.MessageId);
    assert.equal(again.SequenceNumber, first.SequenceNumber);
    assert.match(first.SequenceNumber ?? '', /^\d{20,}$/);
    assert.ok(BigInt(other.SequenceNumber!) > BigInt(first.SequenceNumber!));
    assert.equal(bodyAgain.MessageId, bodyFirst.MessageId);
    assert.deepEqual(bodies(await receive(byId, 10)), ['one', 'three']);
    assert.deepEqual(bodies(await receive(byContent, 10)), ['body']);
  });

  it('each group comes in the order sent, and a group with a message in flight gives no other', async () => {
    // Prepare
    const QueueUrl = await fifo('ordered.fifo', { ContentBasedDeduplication: 'true' });
    for (const [body, group] of [
      ['a1', 'A'],
      ['a2', 'A'],
      ['b1', 'B'],
      ['a3', 'A'],
      ['b2', 'B'],
    ]) {
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, MessageGroupId: group }));
    }

    // Act
    const first = await receive(QueueUrl, 1);
    const whileA1InFlight = await receive(QueueUrl, 10);
    const nothingMore = await receive(QueueUrl, 10);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first[0]!.ReceiptHandle }));
    const rest = await receive(QueueUrl, 10);

    // Assess
    assert.deepEqual(bodies(first), ['a1']);
    assert.deepEqual(bodies(whileA1InFlight), ['b1', 'b2']);
    assert.deepEqual(bodies(nothingMore), []);
    assert.deepEqual(bodies(rest), ['a2', 'a3']);
    const attrs = first[0]!.Attributes!;
    assert.equal(attrs.MessageGroupId, 'A');
    assert.match(attrs.SequenceNumber ?? '', /^\d{20,}$/);
    assert.match(attrs.MessageDeduplicationId ?? '', /^[0-9a-f]{64}$/, "the body's SHA-256");
  });

  it("a FIFO message naming DelaySeconds 0 still waits for the queue's delay", async () => {
    // Prepare
    const QueueUrl = await fifo('slow.fifo', { DelaySeconds: '1', ContentBasedDeduplication: 'true' });

    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'later', MessageGroupId: 'g', DelaySeconds: 0 }));
    const atOnce = await receive(QueueUrl, 10);

    // Assess
    assert.deepEqual(bodies(atOnce), []);
  });

  it("a template's FIFO queue is one with its MaximumMessageSize, and its mapping's ScalingConfig.MaximumConcurrency reaches the poller", async () => {
    // Prepare
    const queueArn = 'arn:aws:sqs:us-east-1:000000000000:deployed.fifo';
    const dir = oneStackAssembly('fifo-template', {
      Deployed: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: 'deployed.fifo',
          FifoQueue: true,
          ContentBasedDeduplication: true,
          MaximumMessageSize: 2048,
        },
      },
      Mapping: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { EventSourceArn: queueArn, FunctionName: 'consumer', ScalingConfig: { MaximumConcurrency: 2 } },
      },
    });
    const mappings: EventSourceMapping[] = [];
    const warnings: string[] = [];

    try {
      // Act
      await applyAssembly(
        dir,
        {
          registry,
          queues,
          eventSources: { put: (m) => mappings.push(m) },
          workDir: dir,
          log: (line) => warnings.push(line),
        },
        newDeploymentState(),
      );
      const QueueUrl = queues.get('deployed.fifo')!.url;
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ['FifoQueue', 'ContentBasedDeduplication', 'MaximumMessageSize'],
        }),
      );
      const noGroup = await rejection<SqsError>(() => sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })));

      // Assess
      assert.deepEqual(Attributes, {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'true',
        MaximumMessageSize: '2048',
      });
      assert.equal(noGroup.Code, 'MissingParameter');
      assert.deepEqual(
        mappings.map((m) => [m.queueArn, m.maximumConcurrency]),
        [[queueArn, 2]],
      );
      assert.deepEqual(
        warnings.filter((w) => /FIFO|MaximumConcurrency/.test(w)),
        [],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * What Lambda refuses of a FIFO queue, refused when the local mesh deploys the template: a mapping over
 * Lambda's FIFO limits ("Lambda parameters for Amazon SQS event source mappings"), and a FIFO queue as
 * a function's dead-letter queue or on-failure destination ("Capturing records of Lambda asynchronous
 * invocations": a standard queue only).
 */
describe('local deployment: what Lambda refuses of a FIFO queue', () => {
  const queueArn = 'arn:aws:sqs:us-east-1:000000000000:orders.fifo';
  const deploy = async (resources: Record<string, unknown>) => {
    const dir = oneStackAssembly('fifo-refusals', resources);
    const mappings: EventSourceMapping[] = [];
    try {
      await applyAssembly(
        dir,
        {
          registry: new TestRegistry(),
          queues: new QueueStore({ region: 'us-east-1', accountId: '000000000000', endpointUrl: () => 'http://x' }),
          eventSources: { put: (m) => mappings.push(m) },
          asyncSettings: { put: () => undefined },
          workDir: dir,
          log: () => undefined,
        },
        newDeploymentState(),
      );
      return mappings;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const mapping = (more: Record<string, unknown>) => ({
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: { EventSourceArn: queueArn, FunctionName: 'consumer', ...more },
    },
  });

  it('a mapping on a FIFO queue takes a batch of 10, and is refused one of 11, naming the mapping and the limit', async () => {
    // Act
    const ten = await deploy(mapping({ BatchSize: 10 }));
    const eleven = await rejection(() => deploy(mapping({ BatchSize: 11 })));

    // Assess
    assert.deepEqual(
      ten.map((m) => m.batchSize),
      [10],
    );
    assert.match(eleven.message, /^event source mapping S\/Mapping: BatchSize 11 is over 10, the most Lambda takes/);
    assert.match(eleven.message, /orders\.fifo/);
  });

  it('a mapping on a FIFO queue is refused a batching window, in the words Lambda answers it', async () => {
    // Act
    const err = await rejection(() => deploy(mapping({ MaximumBatchingWindowInSeconds: 5 })));
    const none = await deploy(mapping({ MaximumBatchingWindowInSeconds: 0 }));

    // Assess
    assert.match(err.message, /^event source mapping S\/Mapping: Batching window is not supported for FIFO queues/);
    assert.equal(none.length, 1);
  });

  it("a FIFO queue as a function's DeadLetterConfig is refused, naming the function and the queue", async () => {
    // Act
    const err = await rejection(() =>
      deploy({
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            FunctionName: 'lettered',
            Runtime: 'nodejs22.x',
            Handler: 'index.handler',
            Code: { ZipFile: 'exports.handler = async () => ({})' },
            DeadLetterConfig: { TargetArn: queueArn },
          },
        },
      }),
    );

    // Assess
    assert.match(err.message, /^function lettered \(S\/Fn\): DeadLetterConfig names the FIFO queue .*orders\.fifo/);
  });

  it('a FIFO queue as an on-failure destination is refused, naming the config and the queue', async () => {
    // Act
    const err = await rejection(() =>
      deploy({
        Cfg: {
          Type: 'AWS::Lambda::EventInvokeConfig',
          Properties: {
            FunctionName: 'sender',
            Qualifier: 'live',
            DestinationConfig: { OnFailure: { Destination: queueArn } },
          },
        },
      }),
    );

    // Assess
    assert.match(
      err.message,
      /^event invoke config S\/Cfg: DestinationConfig\.OnFailure names the FIFO queue .*orders\.fifo/,
    );
  });
});
