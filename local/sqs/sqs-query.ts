/**
 * Amazon SQS on the local endpoint in its query protocol, which SQS still serves and older clients send
 * (the AWS SDK for JavaScript before its switch to JSON, botocore and the aws CLI of 2023 and before): a
 * form-encoded POST to the endpoint or to a queue's URL, `Action=<Operation>&Version=2012-11-05`, lists
 * as `Prefix.N.Field`, answered in the XML of the 2012-11-05 API ("Making query API requests", Amazon SQS
 * Developer Guide). The form becomes the input the JSON protocol's handlers take and their output becomes
 * XML, so both protocols share every check and every queue.
 */
import { AwsError, asQueryError } from '../endpoint/errors';
import { formMembers, formValues, queryResponse, xmlElement, xmlText } from '../endpoint/query-protocol';
import type { QueryService } from '../endpoint/server';
import type { QueueStore } from './queue-store';
import { handleSqs } from './sqs-api';

const XMLNS = 'http://queue.amazonaws.com/doc/2012-11-05/';

type Input = Record<string, unknown>;

/** The actions served, and whether each answers a Result element (those answering nothing do not). */
const ACTIONS: Readonly<Record<string, 'result' | 'none'>> = {
  SendMessage: 'result',
  SendMessageBatch: 'result',
  ReceiveMessage: 'result',
  DeleteMessage: 'none',
  DeleteMessageBatch: 'result',
  ChangeMessageVisibility: 'none',
  ChangeMessageVisibilityBatch: 'result',
  GetQueueUrl: 'result',
  GetQueueAttributes: 'result',
  SetQueueAttributes: 'none',
  ListQueues: 'result',
  CreateQueue: 'result',
  DeleteQueue: 'none',
  PurgeQueue: 'none',
};

/** Actions on no one queue, which SQS refuses at a queue's URL (recorded from SQS by LocalStack's tests). */
const ACCOUNT_ACTIONS: ReadonlySet<string> = new Set(['CreateQueue', 'ListQueues']);

/** A path naming a queue, as a queue URL's does: `/<account>/<name>`. */
const QUEUE_PATH = /^\/\d{12}\/[^/]+\/?$/;

/** The endpoint's SQS in the query protocol, over the queues the JSON protocol serves. */
export function sqsQueryService(store: QueueStore): QueryService {
  return {
    async handle(form, requestId, path) {
      const action = form.get('Action') ?? '';
      const answers = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
      const atQueue = QUEUE_PATH.test(path);
      if (!answers || (atQueue && ACCOUNT_ACTIONS.has(action))) {
        throw asQueryError(new AwsError('InvalidAction', 400, `The action ${action} is not valid for this endpoint.`));
      }
      const input = inputOf(form);
      if (atQueue && input.QueueUrl === undefined) input.QueueUrl = path;
      const output = await handleSqs(store, action, input).catch((err: unknown) => {
        throw queryError(err);
      });
      const result = answers === 'none' ? undefined : membersXml(action, output as Input);
      return queryResponse(action, XMLNS, result, requestId);
    },
  };
}

/** An SQS error in the query protocol's terms: its query code, and the query protocol's words for a missing queue. */
function queryError(err: unknown): unknown {
  if (!(err instanceof AwsError)) return err;
  const error = asQueryError(err);
  if (error.code !== 'AWS.SimpleQueueService.NonExistentQueue') return error;
  return asQueryError(err, 'The specified queue does not exist for this wsdl version.');
}

/** The lists of names, by their form prefix and the input member they fill. */
const NAME_LISTS: Readonly<Record<string, string>> = {
  AttributeName: 'AttributeNames',
  MessageAttributeName: 'MessageAttributeNames',
  MessageSystemAttributeName: 'MessageSystemAttributeNames',
};

/** The batch entries' prefixes: each fills `Entries`. */
const ENTRY_LISTS = [
  'SendMessageBatchRequestEntry',
  'DeleteMessageBatchRequestEntry',
  'ChangeMessageVisibilityBatchRequestEntry',
];

/** The members of the envelope, not of the operation. */
const ENVELOPE: ReadonlySet<string> = new Set(['Action', 'Version']);

/** The JSON protocol's input a form (or a batch entry's fields) says: its values, lists, maps and entries. */
function inputOf(form: URLSearchParams): Input {
  const input: Input = {};
  for (const [key, value] of form) if (!key.includes('.') && !ENVELOPE.has(key)) input[key] = value;
  for (const [prefix, member] of Object.entries(NAME_LISTS)) {
    const names = formValues(form, prefix);
    if (names.length > 0) input[member] = names;
  }
  const attributes = formMembers(form, 'Attribute');
  if (attributes.length > 0) {
    input.Attributes = Object.fromEntries(attributes.map((a) => [a.get('Name') ?? '', a.get('Value') ?? '']));
  }
  const messageAttributes = attributeValues(form, 'MessageAttribute');
  if (messageAttributes) input.MessageAttributes = messageAttributes;
  const systemAttributes = attributeValues(form, 'MessageSystemAttribute');
  if (systemAttributes) input.MessageSystemAttributes = systemAttributes;
  const entries = ENTRY_LISTS.flatMap((prefix) => formMembers(form, prefix));
  if (entries.length > 0) input.Entries = entries.map(inputOf);
  return input;
}

/** `Prefix.N.Name` with `Prefix.N.Value.{DataType, StringValue, BinaryValue}`, as a map by name. */
function attributeValues(form: URLSearchParams, prefix: string): Input | undefined {
  const members = formMembers(form, prefix);
  if (members.length === 0) return undefined;
  return Object.fromEntries(
    members.map((m) => {
      const value: Input = { DataType: m.get('Value.DataType') ?? undefined };
      for (const field of ['StringValue', 'BinaryValue']) {
        const v = m.get(`Value.${field}`);
        if (v !== null) value[field] = v;
      }
      return [m.get('Name') ?? '', value];
    }),
  );
}

/** The element a list's members are written as (the 2012-11-05 WSDL's flattened lists). */
const LIST_MEMBERS: Readonly<Record<string, string>> = {
  QueueUrls: 'QueueUrl',
  Messages: 'Message',
  Failed: 'BatchResultErrorEntry',
};

/** The JSON protocol's output of `action` as its query answer's members. */
function membersXml(action: string, output: Input): string {
  return Object.entries(output)
    .map(([key, value]) => memberXml(action, key, value))
    .join('');
}

function memberXml(action: string, key: string, value: unknown): string {
  // Maps are flattened lists of Name and Value: a queue's and a message's attributes alike.
  if (key === 'Attributes') return mapXml('Attribute', value, (v) => xmlText('Value', String(v)));
  if (key === 'MessageAttributes') {
    return mapXml('MessageAttribute', value, (v) => xmlElement('Value', membersXml(action, v as Input)));
  }
  if (Array.isArray(value)) {
    const name = key === 'Successful' ? `${action}ResultEntry` : (LIST_MEMBERS[key] ?? key);
    return value
      .map((v) =>
        v && typeof v === 'object' ? xmlElement(name, membersXml(action, v as Input)) : xmlText(name, String(v)),
      )
      .join('');
  }
  if (value && typeof value === 'object') return xmlElement(key, membersXml(action, value as Input));
  return xmlText(key, String(value));
}

function mapXml(entry: string, map: unknown, valueXml: (value: unknown) => string): string {
  return Object.entries((map ?? {}) as Input)
    .map(([name, value]) => xmlElement(entry, xmlText('Name', name) + valueXml(value)))
    .join('');
}
