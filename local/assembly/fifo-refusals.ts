/**
 * What Lambda refuses of an SQS FIFO queue, as the local deployment refuses it: an event source mapping
 * over Lambda's FIFO limits (AWS Lambda Developer Guide, "Lambda parameters for Amazon SQS event source
 * mappings": a batch of at most 10, no batching window), and a FIFO queue where a function's failed
 * events go ("Capturing records of Lambda asynchronous invocations": a standard queue only; a FIFO
 * message needs a group id Lambda does not give). Pure decisions: each answers why, or undefined.
 */

/** The largest BatchSize Lambda takes for a FIFO queue. */
export const FIFO_MAX_BATCH_SIZE = 10;

/** Only a FIFO queue's name may end in `.fifo` ("Amazon SQS FIFO queue key terms"), so its ARN says it. */
export function isFifoQueueArn(arn: string): boolean {
  return /^arn:aws[a-zA-Z-]*:sqs:[^:]*:[^:]*:[^:]+\.fifo$/.test(arn);
}

/** Why Lambda refuses this mapping of a FIFO queue, or undefined (a standard queue, or within the limits). */
export function fifoMappingRefusal(
  queueArn: string,
  batchSize: number | undefined,
  windowS: number | undefined,
): string | undefined {
  if (!isFifoQueueArn(queueArn)) return undefined;
  if (batchSize !== undefined && batchSize > FIFO_MAX_BATCH_SIZE) {
    return (
      `BatchSize ${batchSize} is over ${FIFO_MAX_BATCH_SIZE}, the most Lambda takes from a FIFO queue (${queueArn}; ` +
      '"Lambda parameters for Amazon SQS event source mappings", AWS Lambda Developer Guide)'
    );
  }
  // Lambda's own words, as CloudFormation reports them for such a mapping.
  if (windowS)
    return `Batching window is not supported for FIFO queues (MaximumBatchingWindowInSeconds ${windowS} on ${queueArn})`;
  return undefined;
}

/** Why `arn`, named by `setting`, cannot take a function's failed events: a FIFO queue; else undefined. */
export function fifoTargetRefusal(setting: string, arn: string | undefined): string | undefined {
  if (!arn || !isFifoQueueArn(arn)) return undefined;
  return (
    `${setting} names the FIFO queue ${arn}; Lambda sends failed events to a standard SQS queue only, since a ` +
    `FIFO message needs a group id ("Capturing records of Lambda asynchronous invocations", AWS Lambda Developer Guide)`
  );
}
