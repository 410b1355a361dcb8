/**
 * SQS errors on the local endpoint as SQS writes them on its JSON protocol, through the real
 * @aws-sdk/client-sqs: the shape in `__type`, the query protocol's code in `x-amzn-query-error` (which
 * the SDK reports as `Code` and `Type`), and the model's status.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Endpoint } from '../../local/endpoint';
import { rejection } from '../support/rejection';
import { startSqsEndpoint } from './local-endpoint-fixture';

type SqsError = Error & { Code?: string; Type?: string; $metadata: { httpStatusCode?: number } };

describe('local endpoint: SQS errors as SQS writes them', () => {
  let endpoint: Endpoint;
  let sqs: SQSClient;
  let queueUrl: string;

  before(async () => {
    ({ endpoint, sqs } = await startSqsEndpoint());
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'orders' }))).QueueUrl ?? '';
  });
  after(async () => {
    sqs.destroy();
    await endpoint.close();
  });

  it('a missing queue: QueueDoesNotExist, code AWS.SimpleQueueService.NonExistentQueue', async () => {
    // Act
    const err = await rejection<SqsError>(() => sqs.send(new GetQueueUrlCommand({ QueueName: 'missing' })));

    // Assess
    assert.equal(err.name, 'QueueDoesNotExist');
    assert.equal(err.message, 'The specified queue does not exist.');
    assert.equal(err.Code, 'AWS.SimpleQueueService.NonExistentQueue');
    assert.equal(err.Type, 'Sender');
    assert.equal(err.$metadata.httpStatusCode, 400);
  });

  it('a bad parameter value: code InvalidParameterValue, shape InvalidParameterValueException', async () => {
    // Act
    const err = await rejection<SqsError>(() =>
      sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: 'h', VisibilityTimeout: -1 })),
    );

    // Assess
    assert.equal(err.name, 'InvalidParameterValue');
    assert.equal(err.Code, 'InvalidParameterValue');
    assert.equal(err.Type, 'Sender');
    assert.equal(err.$metadata.httpStatusCode, 400);
  });

  it('a missing parameter: code MissingParameter', async () => {
    // Act
    const err = await rejection<SqsError>(() => sqs.send(new ReceiveMessageCommand({ QueueUrl: '' })));

    // Assess
    assert.equal(err.name, 'MissingParameter');
    assert.equal(err.Code, 'MissingParameter');
    assert.equal(err.message, 'The request must contain the parameter QueueUrl.');
  });

  it('an unknown receipt handle: ReceiptHandleIsInvalid with the model’s 404', async () => {
    // Act
    const err = await rejection<SqsError>(() =>
      sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: 'h', VisibilityTimeout: 5 })),
    );

    // Assess
    assert.equal(err.name, 'ReceiptHandleIsInvalid');
    assert.equal(err.Code, 'ReceiptHandleIsInvalid');
    assert.equal(err.$metadata.httpStatusCode, 404);
  });

  it('a batch of eleven: TooManyEntriesInBatchRequest, code AWS.SimpleQueueService.TooManyEntriesInBatchRequest', async () => {
    // Prepare
    const Entries = Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' }));

    // Act
    const err = await rejection<SqsError>(() => sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries })));

    // Assess
    assert.equal(err.name, 'TooManyEntriesInBatchRequest');
    assert.equal(err.Code, 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest');
  });

  it('a batch over 1 MiB in all: BatchRequestTooLong, nothing sent', async () => {
    // Prepare: two entries each within the limit, together over it.
    const Entries = ['a', 'b'].map((Id) => ({ Id, MessageBody: 'x'.repeat(600 * 1024) }));

    // Act
    const err = await rejection<SqsError>(() => sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries })));
    const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));

    // Assess
    assert.equal(err.name, 'BatchRequestTooLong');
    assert.equal(err.Code, 'AWS.SimpleQueueService.BatchRequestTooLong');
    assert.equal(
      err.message,
      `Batch requests cannot be longer than 1048576 bytes. You have sent ${1200 * 1024} bytes.`,
    );
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.equal(left.Messages, undefined);
  });

  it("a queue's MaximumMessageSize holds its sends: the body and attributes over it are refused in SQS's words", async () => {
    // Prepare: a queue taking 1,024 bytes; the attribute k: String x counts 1 + 6 + 1 bytes (recorded from SQS).
    const small = (await sqs.send(new CreateQueueCommand({ QueueName: 'small' }))).QueueUrl!;
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: small, Attributes: { MaximumMessageSize: '1024' } }));
    const MessageAttributes = { k: { DataType: 'String', StringValue: 'x' } };

    // Act
    const atLimit = await sqs.send(new SendMessageCommand({ QueueUrl: small, MessageBody: 'a'.repeat(1024) }));
    const err = await rejection<SqsError>(() =>
      sqs.send(new SendMessageCommand({ QueueUrl: small, MessageBody: 'a'.repeat(1017), MessageAttributes })),
    );
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: small, AttributeNames: ['MaximumMessageSize'] }),
    );

    // Assess
    assert.ok(atLimit.MessageId);
    assert.equal(err.name, 'InvalidParameterValue');
    assert.equal(err.Code, 'InvalidParameterValue');
    assert.equal(err.message, 'One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.');
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.deepEqual(attributes.Attributes, { MaximumMessageSize: '1024' });
  });

  it("a batch entry over the queue's MaximumMessageSize fails alone, the others sent (recorded from SQS)", async () => {
    // Prepare
    const small = (
      await sqs.send(new CreateQueueCommand({ QueueName: 'small-batch', Attributes: { MaximumMessageSize: '1024' } }))
    ).QueueUrl!;
    const Entries = [
      { Id: 'fits', MessageBody: 'a'.repeat(1024) },
      { Id: 'over', MessageBody: 'a'.repeat(1025) },
    ];

    // Act
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: small, Entries }));

    // Assess
    assert.deepEqual(
      sent.Successful?.map((s) => s.Id),
      ['fits'],
    );
    assert.deepEqual(sent.Failed, [
      {
        Id: 'over',
        SenderFault: true,
        Code: 'InvalidParameterValue',
        Message: 'One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes.',
      },
    ]);
  });

  it('a second PurgeQueue within 60 seconds: PurgeQueueInProgress with 403, naming the queue (recorded from SQS)', async () => {
    // Prepare
    const purged = (await sqs.send(new CreateQueueCommand({ QueueName: 'purged' }))).QueueUrl!;
    await sqs.send(new PurgeQueueCommand({ QueueUrl: purged }));

    // Act
    const err = await rejection<SqsError>(() => sqs.send(new PurgeQueueCommand({ QueueUrl: purged })));

    // Assess
    assert.equal(err.name, 'PurgeQueueInProgress');
    assert.equal(err.Code, 'AWS.SimpleQueueService.PurgeQueueInProgress');
    assert.equal(err.Type, 'Sender');
    assert.equal(err.message, 'Only one PurgeQueue operation on purged is allowed every 60 seconds.');
    assert.equal(err.$metadata.httpStatusCode, 403);
  });

  it('a body with a character XML does not allow: InvalidMessageContents naming it', async () => {
    // Act
    const err = await rejection<SqsError>(() =>
      sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'ok\u0000' })),
    );

    // Assess
    assert.equal(err.name, 'InvalidMessageContents');
    assert.equal(err.Code, 'InvalidMessageContents');
    assert.equal(
      err.message,
      "Invalid binary character '#x0' was found in the message body, the set of allowed characters is " +
        '#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].',
    );
    assert.equal(err.$metadata.httpStatusCode, 400);
  });

  // test_sqs.py::test_fifo_delete_after_visibility_timeout (recorded from SQS)
  it("a FIFO message's receipt handle past its visibility timeout: InvalidParameterValue, 'has expired', not deleted", async () => {
    // Prepare: a FIFO message received with a visibility timeout of 1 s, which then passes.
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'expiring.fifo',
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true', VisibilityTimeout: '1' },
      }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'foobar', MessageGroupId: '1' }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    const handle = received.Messages?.[0]?.ReceiptHandle ?? '';
    await new Promise((resolve) => setTimeout(resolve, 1100));

    // Act
    const err = await rejection<SqsError>(() =>
      sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: handle })),
    );

    // Assess
    assert.equal(err.Code, 'InvalidParameterValue');
    assert.equal(
      err.message,
      `Value ${handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`,
    );
    assert.equal(err.$metadata.httpStatusCode, 400);
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    assert.equal(again.Messages?.[0]?.Body, 'foobar');
  });
});
