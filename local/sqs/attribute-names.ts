/**
 * The attribute names a caller asks SQS for, matched as SQS matches them (recorded from SQS): a
 * ReceiveMessage's MessageAttributeNames, its system attribute names, and GetQueueAttributes' names.
 * Pure.
 */
import { sqsError } from './sqs-errors';

/**
 * A message attribute is wanted by `All`, `*` or `.*`, by its name, or by a `<prefix>.*` that its name
 * starts with (`Hel.*` gives `Hello` and `Help.Me`); a name no attribute has gives nothing.
 */
export function wantedMessageAttribute(list: readonly string[], name: string): boolean {
  return list.some(
    (w) =>
      w === 'All' || w === '*' || w === '.*' || w === name || (w.endsWith('.*') && name.startsWith(w.slice(0, -2))),
  );
}

/** A system attribute (SenderId, ApproximateReceiveCount, ...) is wanted by `All` or by its name. */
export function wantedSystemAttribute(list: readonly string[], name: string): boolean {
  return list.some((w) => w === 'All' || w === name);
}

/** The names GetQueueAttributes takes (QueueAttributeName, Amazon SQS API Reference). */
const QUEUE_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set([
  'All',
  'Policy',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
  'ApproximateNumberOfMessagesDelayed',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'RedriveAllowPolicy',
  'SqsManagedSseEnabled',
]);

/**
 * The queue attributes asked for; a name SQS does not know is refused as SQS refuses it (recorded:
 * InvalidAttributeName, `Unknown Attribute Foobar.`), rather than answered without it.
 */
export function queueAttributeNames(v: unknown): string[] {
  const list = Array.isArray(v) ? v.map(String) : [];
  const unknown = list.find((n) => !QUEUE_ATTRIBUTE_NAMES.has(n));
  if (unknown !== undefined) throw sqsError('InvalidAttributeName', `Unknown Attribute ${unknown}.`);
  return list;
}
