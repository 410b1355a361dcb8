/**
 * What a mesh function may do to an SQS queue it sends to or consumes: the actions the runtime and
 * Lambda's poller call, and no more. aws-cdk-lib's `grantSendMessages` adds GetQueueAttributes and
 * GetQueueUrl (a sender could read the queue's policy, redrive policy and depth), and `SqsEventSource`
 * grants `grantConsumeMessages`, with ChangeMessageVisibility (a consumer's code could hide or delay
 * records it never reports) and GetQueueUrl. The runtime sends with SendMessage alone, to the URL it is
 * given; the poller needs ReceiveMessage, DeleteMessage and GetQueueAttributes ("Using Lambda with Amazon
 * SQS", Lambda Developer Guide). An encrypted queue: the producer needs kms:GenerateDataKey and
 * kms:Decrypt, the consumer kms:Decrypt ("Key management", Amazon SQS Developer Guide).
 */
import { Names } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/** The sender's grant: SendMessage on the queue (and its key's data keys). */
export function grantQueueSend(queue: sqs.IQueue, sender: iam.IGrantable): iam.Grant {
  queue.encryptionMasterKey?.grant(sender, 'kms:GenerateDataKey', 'kms:Decrypt');
  return queue.grant(sender, 'sqs:SendMessage');
}

/**
 * `alias` consumes `queue`: an event source mapping that reports partial batch failures, under the id
 * `SqsEventSource` gives it (so its logical id is the same), and the poller's grant.
 */
export function consumeQueue(alias: lambda.IAlias, queue: sqs.IQueue, batchSize: number): void {
  alias.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(queue.node)}`, {
    eventSourceArn: queue.queueArn,
    batchSize,
    reportBatchItemFailures: true,
  });
  queue.encryptionMasterKey?.grant(alias, 'kms:Decrypt');
  queue.grant(alias, 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes');
}
