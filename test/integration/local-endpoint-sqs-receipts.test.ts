/**
 * Receipt handles on the local SQS as SQS answers them, through the real @aws-sdk/client-sqs: a handle
 * that is not one (ReceiptHandleIsInvalid), the handle of a message gone (DeleteMessage takes it,
 * ChangeMessageVisibility refuses it), a visibility timeout past 12 hours from the receive, and
 * ChangeMessageVisibilityBatch. The texts are those of LocalStack's tests validated against SQS
 * (tests/aws/services/sqs/test_sqs.py) and its recorded answers (test_sqs.snapshot.json).
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Endpoint } from '../../local/endpoint';
import { rejection } from '../support/rejection';
import { startSqsEndpoint } from './local-endpoint-fixture';

type SqsError = Error & { Code?: string; Type?: string; $metadata: { httpStatusCode?: number } };

describe('local endpoint: SQS receipt handles', () => {
  let endpoint: Endpoint;
  let sqs: SQSClient;

  before(async () => {
    ({ endpoint, sqs } = await startSqsEndpoint());
  });
  after(async () => {
    sqs.destroy();
    await endpoint.close();
  });

  const create = async (QueueName: string, Attributes?: Record<string, string>) =>
    (await sqs.send(new CreateQueueCommand({ QueueName, Attributes }))).QueueUrl!;
  /** Sends one message and receives it: its receipt handle. */
  const received = async (QueueUrl: string, MessageBody = 'foo') => {
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody }));
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    return got.Messages![0]!.ReceiptHandle!;
  };

  // test_sqs.py::test_delete_message_with_illegal_receipt_handle (validated against SQS)
  it('DeleteMessage with a handle that is not one: ReceiptHandleIsInvalid naming it, 404', async () => {
    // Prepare
    const QueueUrl = await create('illegal-handle');

    // Act
    const err = await rejection<SqsError>(() =>
      sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'garbage' })),
    );

    // Assess
    assert.equal(err.Code, 'ReceiptHandleIsInvalid');
    assert.equal(err.message, 'The input receipt handle "garbage" is not a valid receipt handle.');
    assert.equal(err.$metadata.httpStatusCode, 404);
  });

  // test_sqs.py::test_invalid_receipt_handle_should_return_error_message (validated against SQS)
  it('ChangeMessageVisibility with a handle that is not one: ReceiptHandleIsInvalid naming it', async () => {
    // Prepare
    const QueueUrl = await create('invalid-handle');

    // Act
    const err = await rejection<SqsError>(() =>
      sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: 'INVALID', VisibilityTimeout: 60 })),
    );

    // Assess
    assert.equal(err.Code, 'ReceiptHandleIsInvalid');
    assert.equal(err.message, 'The input receipt handle "INVALID" is not a valid receipt handle.');
  });

  it("a handle another queue issued is not one of this queue's: ReceiptHandleIsInvalid, the message kept", async () => {
    // Prepare
    const mine = await create('handle-owner');
    const other = await create('handle-stranger');
    const handle = await received(mine);

    // Act
    const err = await rejection<SqsError>(() =>
      sqs.send(new DeleteMessageCommand({ QueueUrl: other, ReceiptHandle: handle })),
    );

    // Assess
    assert.equal(err.Code, 'ReceiptHandleIsInvalid');
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: mine, ReceiptHandle: handle, VisibilityTimeout: 0 }));
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: mine }));
    assert.equal(again.Messages?.[0]?.Body, 'foo');
  });

  // test_sqs.py::test_delete_message_with_deleted_receipt_handle and
  // test_change_visibility_on_deleted_message_raises_invalid_parameter_value (validated against SQS)
  it("a deleted message's handle: DeleteMessage takes it again, ChangeMessageVisibility refuses it", async () => {
    // Prepare
    const QueueUrl = await create('deleted-handle');
    const handle = await received(QueueUrl);
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: handle, VisibilityTimeout: 42 }));

    // Act
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: handle }));
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: handle }));
    const err = await rejection<SqsError>(() =>
      sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: handle, VisibilityTimeout: 42 })),
    );

    // Assess
    assert.equal(err.Code, 'InvalidParameterValue');
    assert.equal(
      err.message,
      `Value ${handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
    );
    assert.equal(err.$metadata.httpStatusCode, 400);
  });

  // test_sqs.py::test_change_message_visibility_after_visibility_timeout_expiration (recorded from SQS: 200)
  it("a standard message's handle past its visibility timeout still changes its visibility", async () => {
    // Prepare
    const QueueUrl = await create('expired-visibility', { VisibilityTimeout: '1' });
    const handle = await received(QueueUrl, 'test');
    await new Promise((resolve) => setTimeout(resolve, 1100));

    // Act
    const answer = await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: handle, VisibilityTimeout: 2 }),
    );

    // Assess
    assert.equal(answer.$metadata.httpStatusCode, 200);
    const hidden = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    assert.equal(hidden.Messages, undefined, 'hidden again for 2 s');
  });

  // "ChangeMessageVisibility", Amazon SQS API Reference: at most 12 hours from the receive.
  it('a visibility timeout reaching past 12 hours from the receive: InvalidParameterValue, the timeout kept', async () => {
    // Prepare: received a moment ago, so 43,200 s from now ends past 12 hours from the receive.
    const QueueUrl = await create('twelve-hours', { VisibilityTimeout: '1' });
    const handle = await received(QueueUrl);
    await new Promise((resolve) => setTimeout(resolve, 5));

    // Act
    const err = await rejection<SqsError>(() =>
      sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: handle, VisibilityTimeout: 43_200 })),
    );
    const within = await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: handle, VisibilityTimeout: 43_000 }),
    );

    // Assess
    assert.equal(err.Code, 'InvalidParameterValue');
    assert.equal(
      err.message,
      'Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]',
    );
    assert.equal(within.$metadata.httpStatusCode, 200);
  });

  it('ChangeMessageVisibilityBatch: each entry answered on its own, Successful by Id, Failed with its code', async () => {
    // Prepare
    const QueueUrl = await create('visibility-batch');
    const handle = await received(QueueUrl);

    // Act
    const answer = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'ok', ReceiptHandle: handle, VisibilityTimeout: 0 },
          { Id: 'bad', ReceiptHandle: 'garbage', VisibilityTimeout: 0 },
        ],
      }),
    );

    // Assess
    assert.deepEqual(answer.Successful, [{ Id: 'ok' }]);
    assert.deepEqual(answer.Failed, [
      {
        Id: 'bad',
        SenderFault: true,
        Code: 'ReceiptHandleIsInvalid',
        Message: 'The input receipt handle "garbage" is not a valid receipt handle.',
      },
    ]);
    const visible = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    assert.equal(visible.Messages?.[0]?.Body, 'foo', 'made visible by the entry that succeeded');
  });

  // test_sqs.py::test_change_message_visibility_batch_with_too_large_batch (recorded from SQS)
  it('ChangeMessageVisibilityBatch of twenty: TooManyEntriesInBatchRequest, nothing changed', async () => {
    // Prepare
    const QueueUrl = await create('visibility-batch-too-large');
    const handle = await received(QueueUrl);
    const Entries = Array.from({ length: 20 }, (_, i) => ({
      Id: String(i),
      ReceiptHandle: handle,
      VisibilityTimeout: 0,
    }));

    // Act
    const err = await rejection<SqsError>(() =>
      sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl, Entries })),
    );

    // Assess
    assert.equal(err.Code, 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest');
    assert.equal(err.message, 'Maximum number of entries per request are 10. You have sent 20.');
    assert.equal(err.$metadata.httpStatusCode, 400);
    const still = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    assert.equal(still.Messages, undefined, 'still hidden');
  });

  it('a batch on a queue that does not exist: QueueDoesNotExist for the request, not a failure per entry', async () => {
    // Prepare
    const QueueUrl = (await create('batch-gone')).replace('batch-gone', 'never-made');
    const Entries = [{ Id: 'a', ReceiptHandle: 'garbage' }];

    // Act
    const deleting = await rejection<SqsError>(() => sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries })));
    const changing = await rejection<SqsError>(() =>
      sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl,
          Entries: Entries.map((e) => ({ ...e, VisibilityTimeout: 0 })),
        }),
      ),
    );

    // Assess
    assert.equal(deleting.name, 'QueueDoesNotExist');
    assert.equal(changing.name, 'QueueDoesNotExist');
  });
});
