/**
 * SQS's query protocol on the local endpoint, as older SDKs and CLIs send it: form-encoded POSTs
 * signed with SigV4 for `sqs` (@smithy/signature-v4), to the endpoint or to a queue's URL, answered in
 * the XML of the 2012-11-05 API with the query protocol's error codes. The shapes follow the answers
 * LocalStack's parity tests recorded from SQS in both protocols. What a query request does is checked
 * through the real @aws-sdk/client-sqs on the JSON protocol: one queue store serves both.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Endpoint } from '../../local/endpoint';
import type { QueueStore } from '../../local/sqs/queue-store';
import { awsClis, runAwsCli } from '../support/aws-cli';
import { queryRequest, xmlValues } from '../support/query-client';
import { startSqsEndpoint } from './local-endpoint-fixture';

const VERSION = '2012-11-05';
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe('local endpoint: SQS in the query protocol', () => {
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

  const query = (params: Record<string, string>, path?: string) =>
    queryRequest({ endpoint: endpoint.url, service: 'sqs' }, { Version: VERSION, ...params }, path);
  const waiting = async (QueueUrl: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] })))
      .Attributes?.ApproximateNumberOfMessages;

  it('CreateQueue, GetQueueUrl, ListQueues and GetQueueAttributes answer in the 2012-11-05 XML', async () => {
    // Act
    const created = await query({
      Action: 'CreateQueue',
      QueueName: 'query-orders',
      'Attribute.1.Name': 'VisibilityTimeout',
      'Attribute.1.Value': '45',
    });
    const url = await query({ Action: 'GetQueueUrl', QueueName: 'query-orders' });
    const listed = await query({ Action: 'ListQueues', QueueNamePrefix: 'query-' });
    const attributes = await query({
      Action: 'GetQueueAttributes',
      QueueUrl: queues.get('query-orders')!.url,
      'AttributeName.1': 'VisibilityTimeout',
      'AttributeName.2': 'QueueArn',
    });

    // Assess
    const queueUrl = queues.get('query-orders')!.url;
    assert.equal(created.status, 200, created.body);
    assert.match(created.body, /^<CreateQueueResponse xmlns="http:\/\/queue\.amazonaws\.com\/doc\/2012-11-05\/">/);
    assert.deepEqual(xmlValues(created.body, 'QueueUrl'), [queueUrl]);
    assert.equal(xmlValues(created.body, 'RequestId').length, 1);
    assert.deepEqual(xmlValues(url.body, 'QueueUrl'), [queueUrl]);
    assert.deepEqual(xmlValues(listed.body, 'QueueUrl'), [queueUrl]);
    assert.ok(attributes.body.includes('<Attribute><Name>VisibilityTimeout</Name><Value>45</Value></Attribute>'));
    assert.deepEqual(xmlValues(attributes.body, 'Name').sort(), ['QueueArn', 'VisibilityTimeout']);
  });

  it('SendMessage with attributes, ReceiveMessage and DeleteMessage, sent to the endpoint', async () => {
    // Prepare
    const QueueUrl = queues.put('query-send').url;
    const attributes = {
      'MessageAttribute.1.Name': 'color',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'blue & <green>',
      'MessageAttribute.2.Name': 'blob',
      'MessageAttribute.2.Value.DataType': 'Binary',
      'MessageAttribute.2.Value.BinaryValue': Buffer.from([1, 2, 3]).toString('base64'),
    };

    // Act
    const sent = await query({ Action: 'SendMessage', QueueUrl, MessageBody: 'hello <world>', ...attributes });
    const received = await query({
      Action: 'ReceiveMessage',
      QueueUrl,
      'AttributeName.1': 'All',
      'MessageAttributeName.1': 'All',
    });

    // Assess: the same attributes sent on the JSON protocol digest the same.
    assert.equal(sent.status, 200, sent.body);
    const json = await sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.put('query-json').url,
        MessageBody: 'x',
        MessageAttributes: {
          color: { DataType: 'String', StringValue: 'blue & <green>' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
        },
      }),
    );
    assert.deepEqual(xmlValues(sent.body, 'MD5OfMessageBody'), [md5('hello <world>')]);
    assert.deepEqual(xmlValues(sent.body, 'MD5OfMessageAttributes'), [json.MD5OfMessageAttributes]);
    const [messageId] = xmlValues(sent.body, 'MessageId');
    assert.equal(received.status, 200, received.body);
    assert.equal(xmlValues(received.body, 'Message').length, 1);
    assert.deepEqual(xmlValues(received.body, 'MessageId'), [messageId]);
    assert.deepEqual(xmlValues(received.body, 'Body'), ['hello <world>']);
    assert.deepEqual(xmlValues(received.body, 'MD5OfBody'), [md5('hello <world>')]);
    assert.ok(received.body.includes('<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>'));
    assert.ok(
      received.body.includes(
        '<MessageAttribute><Name>color</Name><Value><DataType>String</DataType>' +
          '<StringValue>blue &#38; &#60;green&#62;</StringValue></Value></MessageAttribute>',
      ),
      received.body,
    );
    assert.deepEqual(xmlValues(received.body, 'BinaryValue'), [Buffer.from([1, 2, 3]).toString('base64')]);

    // Act: the delete answers no Result element, and the message is gone.
    const [ReceiptHandle] = xmlValues(received.body, 'ReceiptHandle');
    const deleted = await query({ Action: 'DeleteMessage', QueueUrl, ReceiptHandle: ReceiptHandle! });
    assert.equal(deleted.status, 200, deleted.body);
    assert.match(deleted.body, /^<DeleteMessageResponse [^>]*><ResponseMetadata><RequestId>[^<]+<\/RequestId>/);
    assert.ok(!deleted.body.includes('DeleteMessageResult'));
    const after = await query({ Action: 'ReceiveMessage', QueueUrl });
    assert.ok(after.body.includes('<ReceiveMessageResult/>'), after.body);
  });

  it("a request sent to a queue's URL acts on that queue without a QueueUrl parameter", async () => {
    const queue = queues.put('query-by-path');
    const path = new URL(queue.url).pathname;
    const sent = await query({ Action: 'SendMessage', MessageBody: 'by path' }, path);
    assert.equal(sent.status, 200, sent.body);
    assert.equal(await waiting(queue.url), '1');
    // Account-wide actions are not valid at a queue's URL, in SQS's words.
    const created = await query({ Action: 'CreateQueue', QueueName: 'elsewhere' }, path);
    assert.equal(created.status, 400);
    assert.deepEqual(xmlValues(created.body, 'Code'), ['InvalidAction']);
    assert.deepEqual(xmlValues(created.body, 'Message'), ['The action CreateQueue is not valid for this endpoint.']);
  });

  it('SendMessageBatch with one bad entry: the good one is sent, the bad one fails with its query code', async () => {
    const QueueUrl = queues.put('query-batch').url;
    const batch = await query({
      Action: 'SendMessageBatch',
      QueueUrl,
      'SendMessageBatchRequestEntry.1.Id': 'good',
      'SendMessageBatchRequestEntry.1.MessageBody': 'one',
      'SendMessageBatchRequestEntry.1.MessageAttribute.1.Name': 'kind',
      'SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType': 'String',
      'SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue': 'order',
      'SendMessageBatchRequestEntry.2.Id': 'bad',
      'SendMessageBatchRequestEntry.2.MessageBody': 'two',
      'SendMessageBatchRequestEntry.2.DelaySeconds': '901',
    });
    assert.equal(batch.status, 200, batch.body);
    const [ok] = xmlValues(batch.body, 'SendMessageBatchResultEntry');
    assert.deepEqual(xmlValues(ok!, 'Id'), ['good']);
    assert.deepEqual(xmlValues(ok!, 'MD5OfMessageBody'), [md5('one')]);
    assert.equal(xmlValues(ok!, 'MD5OfMessageAttributes').length, 1);
    const [failed] = xmlValues(batch.body, 'BatchResultErrorEntry');
    assert.deepEqual(xmlValues(failed!, 'Id'), ['bad']);
    assert.deepEqual(xmlValues(failed!, 'SenderFault'), ['true']);
    assert.deepEqual(xmlValues(failed!, 'Code'), ['InvalidParameterValue']);
    assert.equal(xmlValues(batch.body, 'BatchResultErrorEntry').length, 1);
    assert.equal(await waiting(QueueUrl), '1');
  });

  it("a missing queue, a missing parameter and an unknown action are the query protocol's errors", async () => {
    const gone = await query({
      Action: 'SendMessage',
      QueueUrl: `${endpoint.url}/000000000000/no-such-queue`,
      MessageBody: 'x',
    });
    assert.equal(gone.status, 400);
    assert.equal(
      gone.body.replace(/<RequestId>[^<]+<\/RequestId>/, '<RequestId/>'),
      '<ErrorResponse><Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>' +
        '<Message>The specified queue does not exist for this wsdl version.</Message><Detail/></Error>' +
        '<RequestId/></ErrorResponse>',
    );
    const QueueUrl = queues.put('query-errors').url;
    const missing = await query({ Action: 'SendMessage', QueueUrl });
    assert.deepEqual(xmlValues(missing.body, 'Code'), ['MissingParameter']);
    assert.deepEqual(xmlValues(missing.body, 'Message'), ['The request must contain the parameter MessageBody.']);
    const badHandle = await query({ Action: 'DeleteMessage', QueueUrl, ReceiptHandle: 'nonsense' });
    assert.equal(badHandle.status, 404);
    assert.deepEqual(xmlValues(badHandle.body, 'Code'), ['ReceiptHandleIsInvalid']);
    const unknown = await query({ Action: 'FooBar' });
    assert.equal(unknown.status, 400);
    assert.deepEqual(xmlValues(unknown.body, 'Code'), ['InvalidAction']);
    assert.deepEqual(xmlValues(unknown.body, 'Message'), ['The action FooBar is not valid for this endpoint.']);
  });

  it('ChangeMessageVisibility, SetQueueAttributes, PurgeQueue and DeleteQueue answer without a Result', async () => {
    const QueueUrl = queues.put('query-lifecycle').url;
    await query({ Action: 'SendMessage', QueueUrl, MessageBody: 'm' });
    const [handle] = xmlValues((await query({ Action: 'ReceiveMessage', QueueUrl })).body, 'ReceiptHandle');
    const calls: Record<string, string>[] = [
      { Action: 'ChangeMessageVisibility', QueueUrl, ReceiptHandle: handle!, VisibilityTimeout: '0' },
      { Action: 'SetQueueAttributes', QueueUrl, 'Attribute.1.Name': 'DelaySeconds', 'Attribute.1.Value': '3' },
      { Action: 'PurgeQueue', QueueUrl },
      { Action: 'DeleteQueue', QueueUrl },
    ];
    for (const call of calls) {
      const answer = await query(call);
      assert.equal(answer.status, 200, answer.body);
      assert.match(answer.body, new RegExp(`^<${call.Action}Response [^>]*><ResponseMetadata>`));
    }
    assert.equal(queues.get('query-lifecycle'), undefined);
  });

  // botocore switched SQS to JSON in 1.31.81 (aws-cli 1.29.81); aws-cli v2 before 2.13, such as Debian
  // bookworm's 2.9, still speaks the query protocol.
  const queryClis = awsClis().filter((c) => speaksSqsQuery(c.version));
  it('`aws sqs` of a CLI speaking the query protocol sends, receives and reads attributes', {
    skip: queryClis.length ? false : 'no aws CLI speaking SQS query (aws-cli 1.x before 1.29.81 or 2.x before 2.13)',
  }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'sqs-query-cli-'));
    try {
      for (const cli of queryClis) {
        const run = (...args: string[]) => runAwsCli(cli.path, args, { endpointUrl: endpoint.url, home });
        const QueueUrl = JSON.parse((await run('sqs', 'create-queue', '--queue-name', 'query-cli')).stdout).QueueUrl;
        const sent = await run('sqs', 'send-message', '--queue-url', QueueUrl, '--message-body', 'from the cli');
        assert.equal(sent.code, 0, sent.stderr);
        assert.equal(JSON.parse(sent.stdout).MD5OfMessageBody, md5('from the cli'));
        const got = await run('sqs', 'receive-message', '--queue-url', QueueUrl, '--attribute-names', 'All');
        assert.equal(got.code, 0, got.stderr);
        const [message] = JSON.parse(got.stdout).Messages;
        assert.equal(message.Body, 'from the cli');
        assert.equal(message.Attributes.ApproximateReceiveCount, '1');
        const gone = await run('sqs', 'get-queue-attributes', '--queue-url', `${QueueUrl}-gone`);
        assert.match(gone.stderr, /AWS\.SimpleQueueService\.NonExistentQueue/);
        await run('sqs', 'delete-queue', '--queue-url', QueueUrl);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

/** Whether an aws CLI of this version sends SQS's query protocol (its SQS model's protocol). */
function speaksSqsQuery(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  if (major === 1) return minor < 29 || (minor === 29 && patch < 81);
  return major === 2 && minor < 13;
}
