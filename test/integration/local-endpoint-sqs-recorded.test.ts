/**
 * SQS on the local endpoint against answers recorded from SQS (LocalStack's parity tests,
 * `tests/aws/services/sqs/test_sqs.snapshot.json`, "recorded-content", and its tests marked validated
 * against AWS): which attributes a receive names, which queue attribute names exist, and FIFO
 * deduplication scopes. Each test names the recorded test it follows; the real AWS SDK sends every request.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type QueueAttributeName,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Endpoint } from '../../local/endpoint';
import { rejection } from '../support/rejection';
import { startSqsEndpoint } from './local-endpoint-fixture';

type SqsError = Error & { Code?: string; $metadata: { httpStatusCode?: number } };

async function sqsFailure(call: () => Promise<unknown>) {
  const err = await rejection<SqsError>(call);
  return { status: err.$metadata.httpStatusCode, Code: err.Code, name: err.name, Message: err.message };
}

describe('local endpoint: SQS answers as recorded from SQS', () => {
  let endpoint: Endpoint;
  let sqs: SQSClient;

  before(async () => {
    ({ endpoint, sqs } = await startSqsEndpoint());
  });
  after(async () => {
    sqs.destroy();
    await endpoint.close();
  });

  const createQueue = async (QueueName: string, Attributes: Record<string, string> = {}) =>
    (await sqs.send(new CreateQueueCommand({ QueueName, Attributes }))).QueueUrl!;

  // test_sqs.py::TestSqsProvider::test_receive_message_message_attribute_names_filters
  it('a receive names message attributes by All, *, .*, name or <prefix>.*; names no attribute has give none', async () => {
    const QueueUrl = await createQueue('attribute-filters', { VisibilityTimeout: '0' });
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'msg',
        MessageAttributes: {
          'Help.Me': { DataType: 'String', StringValue: 'Me' },
          Hello: { DataType: 'String', StringValue: 'There' },
          General: { DataType: 'String', StringValue: 'Kenobi' },
        },
      }),
    );
    assert.equal(sent.MD5OfMessageAttributes, '4c360f3fdafd970e05fae2f149d997f5');
    const receive = async (MessageAttributeNames: string[]) => {
      const [m] = (await sqs.send(new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames }))).Messages ?? [];
      return { names: Object.keys(m?.MessageAttributes ?? {}).sort(), md5: m?.MD5OfMessageAttributes };
    };
    const all = { names: ['General', 'Hello', 'Help.Me'], md5: '4c360f3fdafd970e05fae2f149d997f5' };
    const none = { names: [], md5: undefined };
    assert.deepEqual(await receive([]), none);
    assert.deepEqual(await receive(['All']), all);
    assert.deepEqual(await receive(['*']), all, 'all_wildcard_asterisk');
    assert.deepEqual(await receive(['.*']), all);
    assert.deepEqual(await receive(['Foo', 'Help']), none);
    assert.deepEqual(await receive(['Hello', 'General']), {
      names: ['General', 'Hello'],
      md5: 'fca026605781cb4126a1e9044df24232',
    });
    assert.deepEqual(await receive(['Foo', 'Hello']), { names: ['Hello'], md5: 'a311262e065454b75da111d535b8dacd' });
    assert.deepEqual(
      await receive(['Hel.*']),
      { names: ['Hello', 'Help.Me'], md5: '83fee93c1bcd8b9a5a923ffacdc636c7' },
      'prefix_filter',
    );
    assert.deepEqual(await receive(['AWS.']), none);
    assert.deepEqual(await receive(['..foo']), none);
  });

  // test_sqs.py::TestSqsProvider::test_get_queue_attributes_with_invalid_arg_returns_error (validated against SQS)
  it('GetQueueAttributes of a name SQS does not know: InvalidAttributeName "Unknown Attribute <name>."', async () => {
    const QueueUrl = await createQueue('attribute-names');
    const get = (AttributeNames: string[]) =>
      sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: AttributeNames as QueueAttributeName[] }));
    assert.deepEqual(await sqsFailure(() => get(['Foobar'])), {
      status: 400,
      Code: 'InvalidAttributeName',
      name: 'InvalidAttributeName',
      Message: 'Unknown Attribute Foobar.',
    });
    assert.deepEqual(await sqsFailure(() => get(['VisibilityTimeout', 'Foobar'])), {
      status: 400,
      Code: 'InvalidAttributeName',
      name: 'InvalidAttributeName',
      Message: 'Unknown Attribute Foobar.',
    });
    assert.deepEqual((await get(['VisibilityTimeout'])).Attributes, { VisibilityTimeout: '30' });
  });
  // test_sqs.py::TestSqsProvider::test_sqs_fifo_message_group_scope_no_throughput_setting,
  // ::test_fifo_change_to_high_throughput_after_creation, ::test_fifo_change_to_regular_throughput_after_creation
  it('a FIFO queue created with DeduplicationScope messageGroup deduplicates per group; a later change is shown, not applied', async () => {
    const send = (QueueUrl: string, MessageBody: string, MessageGroupId: string, MessageDeduplicationId?: string) =>
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody, MessageGroupId, MessageDeduplicationId }));
    const bodies = async (QueueUrl: string) =>
      ((await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }))).Messages ?? []).map(
        (m) => m.Body,
      );
    const scoped = await createQueue('by-group.fifo', {
      FifoQueue: 'True',
      ContentBasedDeduplication: 'True',
      DeduplicationScope: 'messageGroup',
    });
    await send(scoped, 'Test', 'group1');
    await send(scoped, 'Test', 'group2');
    assert.deepEqual(await bodies(scoped), ['Test', 'Test'], 'the same body in another group is not a duplicate');

    const byQueue = await createQueue('by-queue.fifo', { FifoQueue: 'True', DeduplicationScope: 'queue' });
    await send(byQueue, 'Test1', 'group1', 'same-dedup');
    await send(byQueue, 'Test2', 'group2', 'same-dedup');
    assert.deepEqual(await bodies(byQueue), ['Test1']);
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: byQueue,
        Attributes: { DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' },
      }),
    );
    const shown = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: byQueue, AttributeNames: ['All'] })))
      .Attributes;
    assert.equal(shown?.DeduplicationScope, 'messageGroup');
    assert.equal(shown?.FifoThroughputLimit, 'perMessageGroupId');
    await send(byQueue, 'Test3', 'group3', 'same-dedup');
    assert.deepEqual(await bodies(byQueue), [], 'still deduplicated across the queue, as recorded');
  });
  // test_sqs.py::TestSqsProvider::test_sse_kms_and_sqs_are_mutually_exclusive
  it("a KMS key and SQS-managed encryption together: InvalidAttributeName in SQS's words, nothing changed", async () => {
    const QueueUrl = await createQueue('sse-both');
    assert.deepEqual(
      await sqsFailure(() =>
        sqs.send(
          new SetQueueAttributesCommand({
            QueueUrl,
            Attributes: { KmsMasterKeyId: 'testKeyId', SqsManagedSseEnabled: 'true' },
          }),
        ),
      ),
      {
        status: 400,
        Code: 'InvalidAttributeName',
        name: 'InvalidAttributeName',
        Message:
          'You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.',
      },
    );
    const kept = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    assert.equal(kept.Attributes?.KmsMasterKeyId, undefined);
    assert.equal(kept.Attributes?.SqsManagedSseEnabled, 'true');
  });
});
