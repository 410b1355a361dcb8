/**
 * SQS errors as SQS writes them on its JSON protocol. SQS is query-compatible: the body's `__type` names
 * the error's shape, and the header `x-amzn-query-error: <code>;Sender` carries the code the query
 * protocol used, which the AWS SDKs and the aws CLI report as the error's code (botocore `Error.Code`,
 * the JavaScript SDK's `Code`, `Type` and, for a modelled error, its class). Codes and statuses are
 * the model's (`awsQueryError` traits in the AWS SDK for JavaScript v3 schemas); the two common errors
 * no operation models are as SQS answers them (recorded AWS responses).
 */
import { AwsError, queryCompatibleError } from '../endpoint/errors';

interface SqsErrorShape {
  /** `__type`: the shape's name. */
  readonly type: string;
  /** The query protocol's code, sent in `x-amzn-query-error`. */
  readonly queryCode: string;
  readonly status: number;
}

const SHAPES = {
  QueueDoesNotExist: { type: 'QueueDoesNotExist', queryCode: 'AWS.SimpleQueueService.NonExistentQueue', status: 400 },
  ReceiptHandleIsInvalid: { type: 'ReceiptHandleIsInvalid', queryCode: 'ReceiptHandleIsInvalid', status: 404 },
  EmptyBatchRequest: {
    type: 'EmptyBatchRequest',
    queryCode: 'AWS.SimpleQueueService.EmptyBatchRequest',
    status: 400,
  },
  TooManyEntriesInBatchRequest: {
    type: 'TooManyEntriesInBatchRequest',
    queryCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
    status: 400,
  },
  BatchRequestTooLong: {
    type: 'BatchRequestTooLong',
    queryCode: 'AWS.SimpleQueueService.BatchRequestTooLong',
    status: 400,
  },
  BatchEntryIdsNotDistinct: {
    type: 'BatchEntryIdsNotDistinct',
    queryCode: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
    status: 400,
  },
  UnsupportedOperation: {
    type: 'UnsupportedOperation',
    queryCode: 'AWS.SimpleQueueService.UnsupportedOperation',
    status: 400,
  },
  PurgeQueueInProgress: {
    type: 'PurgeQueueInProgress',
    queryCode: 'AWS.SimpleQueueService.PurgeQueueInProgress',
    status: 403,
  },
  InvalidMessageContents: { type: 'InvalidMessageContents', queryCode: 'InvalidMessageContents', status: 400 },
  InvalidAttributeName: { type: 'InvalidAttributeName', queryCode: 'InvalidAttributeName', status: 400 },
  InvalidAttributeValue: { type: 'InvalidAttributeValue', queryCode: 'InvalidAttributeValue', status: 400 },
  QueueNameExists: { type: 'QueueNameExists', queryCode: 'QueueAlreadyExists', status: 400 },
  InvalidBatchEntryId: {
    type: 'InvalidBatchEntryId',
    queryCode: 'AWS.SimpleQueueService.InvalidBatchEntryId',
    status: 400,
  },
  InvalidParameterValue: { type: 'InvalidParameterValueException', queryCode: 'InvalidParameterValue', status: 400 },
  MissingParameter: { type: 'MissingRequiredParameterException', queryCode: 'MissingParameter', status: 400 },
} as const satisfies Record<string, SqsErrorShape>;

export type SqsErrorName = keyof typeof SHAPES;

const QUERY_ERROR = 'x-amzn-query-error';

/** The error SQS answers for `name`, with its shape, status and query code. */
export function sqsError(name: SqsErrorName, message: string): AwsError {
  const shape: SqsErrorShape = SHAPES[name];
  return queryCompatibleError(shape.type, shape.queryCode, shape.status, message);
}

/** The code a batch result's failed entry reports: the query code where the error carries one. */
export function entryCode(err: unknown): string {
  if (!(err instanceof AwsError)) return 'InternalError';
  return err.headers[QUERY_ERROR]?.split(';')[0] ?? err.code;
}
