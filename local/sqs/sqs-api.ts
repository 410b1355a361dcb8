/**
 * Amazon SQS on the local endpoint, in the JSON protocol the AWS SDK for JavaScript v3 speaks (POST /,
 * `Content-Type: application/x-amz-json-1.0`, `X-Amz-Target: AmazonSQS.<Operation>`; docs/aws-wire.md):
 * the operations a sender, a consumer and an event source mapping use, with SQS's limits and errors
 * (Amazon SQS API Reference). Queue URLs point at the local endpoint, so an SDK client that takes the
 * queue URL's host as its endpoint stays local.
 */
import type { JsonService } from '../endpoint/server';
import { queueAttributeNames, wantedMessageAttribute, wantedSystemAttribute } from './attribute-names';
import {
  MAX_VISIBILITY_S,
  type MessageAttribute,
  md5,
  md5OfAttributes,
  PURGE_INTERVAL_MS,
  type QueueSettings,
  type QueueStore,
  systemAttributes,
} from './queue-store';
import { entryCode, sqsError } from './sqs-errors';

/** SQS's largest message, body and attributes together (Amazon SQS Developer Guide, "Amazon SQS message quotas"). */
export const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;
const MAX_BATCH = 10;
const MAX_WAIT_S = 20;
/** The longest DelaySeconds, of a message or a queue: 15 minutes (Amazon SQS Developer Guide, "Amazon SQS delay queues"). */
const MAX_DELAY_S = 900;

type Input = Record<string, unknown>;

const invalid = (message: string) => sqsError('InvalidParameterValue', message);

type Operation = (store: QueueStore, input: Input) => unknown;

/** The operations served, by name: what a sender, a consumer and an event source mapping call. */
const OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateQueue: createQueue,
  GetQueueUrl: (store, input) => {
    const q = store.get(requireString(input, 'QueueName'));
    if (!q) throw notFound();
    return { QueueUrl: q.url };
  },
  ListQueues: (store, input) => {
    const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
    return {
      QueueUrls: store
        .list()
        .filter((q) => q.name.startsWith(prefix))
        .map((q) => q.url),
    };
  },
  DeleteQueue: (store, input) => {
    store.delete(queueOf(store, input).name);
    return {};
  },
  PurgeQueue: (store, input) => {
    const q = queueOf(store, input);
    if (!q.purge()) {
      throw sqsError(
        'PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${q.name} is allowed every ${PURGE_INTERVAL_MS / 1000} seconds.`,
      );
    }
    return {};
  },
  GetQueueAttributes: (store, input) => ({ Attributes: attributesOf(store, input) }),
  SetQueueAttributes: (store, input) => {
    const q = queueOf(store, input);
    const attributes = (input.Attributes ?? {}) as Input;
    checkQueueType(q.settings, attributes);
    checkAttributeNames(attributes, q.settings.fifo === true);
    checkEncryption(attributes);
    const { fifo: _type, ...changes } = definedOnly(settingsOf(attributes));
    q.configure(withoutEmptied({ ...q.settings, ...changes }, attributes));
    return {};
  },
  SendMessage: (store, input) => sendOne(store, input, input, 'request'),
  SendMessageBatch: sendBatch,
  ReceiveMessage: receive,
  DeleteMessage: (store, input) => deleteOne(queueOf(store, input), input),
  DeleteMessageBatch: (store, input) => {
    const q = queueOf(store, input);
    return batch(input, (entry) => deleteOne(q, entry));
  },
  ChangeMessageVisibility: (store, input) => changeOne(queueOf(store, input), input),
  ChangeMessageVisibilityBatch: (store, input) => {
    const q = queueOf(store, input);
    return batch(input, (entry) => changeOne(q, entry));
  },
};

export async function handleSqs(store: QueueStore, operation: string, input: Input): Promise<unknown> {
  const run = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
  if (!run) {
    throw sqsError(
      'UnsupportedOperation',
      `The local mesh's SQS does not implement ${operation}; it serves CreateQueue, GetQueueUrl, ListQueues, ` +
        'DeleteQueue, PurgeQueue, GetQueueAttributes, SetQueueAttributes, SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch), ' +
        'ChangeMessageVisibility(Batch)',
    );
  }
  return run(store, input);
}

function createQueue(store: QueueStore, input: Input) {
  const name = requireString(input, 'QueueName');
  const attributes = (input.Attributes ?? {}) as Input;
  const settings = settingsOf(attributes);
  checkQueueName(name, settings.fifo === true);
  checkAttributeNames(attributes, settings.fifo === true);
  checkEncryption(attributes);
  const existing = store.get(name);
  if (!existing) return { QueueUrl: store.put(name, settings).url };
  // Creating a queue that exists changes nothing: it answers its URL, unless an attribute named differs.
  const current = settingAttributes(existing.settings);
  const differing = Object.keys(attributes).find(
    (k) => Object.hasOwn(current, k) && current[k] !== String(attributes[k]),
  );
  if (differing) {
    throw sqsError(
      'QueueNameExists',
      `A queue already exists with the same name and a different value for attribute ${differing}`,
    );
  }
  return { QueueUrl: existing.url };
}

/**
 * The attributes CreateQueue and SetQueueAttributes take ("SetQueueAttributes", Amazon SQS API Reference);
 * the local queue keeps the encryption ones without applying them, and takes RedriveAllowPolicy without
 * keeping it (nothing local reads it). The read-only ones GetQueueAttributes gives (QueueArn, the counts,
 * the timestamps) are not among them.
 */
const WRITABLE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'Policy',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
]);

/** A FIFO queue's own attributes; SQS names the last two differently when a standard queue is given them. */
const FIFO_ATTRIBUTES: ReadonlySet<string> = new Set([
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);
const FIFO_THROUGHPUT_ATTRIBUTES: ReadonlySet<string> = new Set(['DeduplicationScope', 'FifoThroughputLimit']);

/**
 * Every attribute named must be one the queue's type takes, else InvalidAttributeName in SQS's words:
 * `Unknown Attribute <name>.`, or for a FIFO throughput setting on a standard queue that it needs
 * FifoQueue (both recorded from SQS).
 */
function checkAttributeNames(attributes: Input, fifo: boolean): void {
  for (const name of Object.keys(attributes)) {
    if (WRITABLE_ATTRIBUTES.has(name) || (fifo && FIFO_ATTRIBUTES.has(name))) continue;
    if (FIFO_THROUGHPUT_ATTRIBUTES.has(name)) {
      throw sqsError('InvalidAttributeName', `You can specify the ${name} only when FifoQueue is set to true.`);
    }
    throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
  }
}

/**
 * A KMS key and SQS-managed encryption named on together are refused, in SQS's words (recorded for
 * SetQueueAttributes: test_sse_kms_and_sqs_are_mutually_exclusive); nothing is changed.
 */
function checkEncryption(attributes: Input): void {
  const kms = typeof attributes.KmsMasterKeyId === 'string' && attributes.KmsMasterKeyId !== '';
  if (kms && String(attributes.SqsManagedSseEnabled).toLowerCase() === 'true') {
    throw sqsError(
      'InvalidAttributeName',
      'You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.',
    );
  }
}

/** A queue's type is set at creation: SetQueueAttributes may name FifoQueue only as it is, on a FIFO queue. */
function checkQueueType(settings: QueueSettings, attributes: Input): void {
  if (attributes.FifoQueue === undefined) return;
  if (!settings.fifo) throw sqsError('InvalidAttributeName', 'Unknown Attribute FifoQueue.');
  if (String(attributes.FifoQueue).toLowerCase() !== 'true') {
    throw sqsError(
      'InvalidAttributeValue',
      'Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.',
    );
  }
}

/**
 * A queue's name as SQS takes it: 1 to 80 alphanumeric characters, hyphens or underscores; a FIFO
 * queue's ends in `.fifo` (counted in the 80), and only a FIFO queue's may (Amazon SQS Developer Guide,
 * "Amazon SQS FIFO queue key terms"; the messages are SQS's).
 */
function checkQueueName(name: string, fifo: boolean): void {
  const base = fifo && name.endsWith('.fifo') ? `${name.slice(0, -5)}_fifo` : name;
  if (fifo && !name.endsWith('.fifo')) {
    throw invalid(
      'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, ' +
        'must end with .fifo suffix and be 1 to 80 in length',
    );
  }
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(base)) {
    throw invalid(`Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length (got ${name})`);
  }
}

/** Whether a message is a request of its own (SendMessage) or one entry of a SendMessageBatch. */
type Sent = 'request' | 'entry';

function sendOne(store: QueueStore, input: Input, entry: Input, sent: Sent) {
  const q = queueOf(store, input);
  const body = requireString(entry, 'MessageBody');
  checkCharacters(body);
  const attributes = attributesIn(entry.MessageAttributes);
  checkSize(messageBytes(body, attributes), q.settings.maximumMessageBytes ?? SQS_MAX_MESSAGE_BYTES, sent);
  const system = entry.MessageSystemAttributes as { AWSTraceHeader?: { StringValue?: unknown } } | undefined;
  const trace = system?.AWSTraceHeader?.StringValue;
  const delayS = entry.DelaySeconds === undefined ? undefined : delayOf(entry.DelaySeconds);
  const traceHeader = typeof trace === 'string' ? trace : undefined;
  // A FIFO message takes the queue's delay, whatever DelaySeconds (0, the one it accepts) it names. A
  // standard queue takes a group id too, since SQS's fair queues ("Using the message group ID with Amazon
  // SQS FIFO Queues", Amazon SQS Developer Guide): the message carries it, nothing is held in order.
  const m = q.settings.fifo
    ? q.send(body, { attributes, traceHeader, ...fifoParameters(q.settings, entry, delayS) })
    : q.send(body, { attributes, traceHeader, delayS, groupId: idParameter(entry, 'MessageGroupId') });
  const md5Attrs = md5OfAttributes(attributes);
  return {
    MessageId: m.id,
    MD5OfMessageBody: md5(body),
    ...(md5Attrs ? { MD5OfMessageAttributes: md5Attrs } : {}),
    ...(m.fifo ? { SequenceNumber: m.fifo.sequenceNumber } : {}),
  };
}

/** A MessageGroupId or MessageDeduplicationId as SQS takes it: 1 to 128 alphanumeric and punctuation characters (Amazon SQS API Reference, "SendMessage"). */
const GROUP_OR_DEDUPLICATION_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * A FIFO message's group and deduplication ids, checked as SQS checks them ("Amazon SQS FIFO queues",
 * "SendMessage" in the Amazon SQS API Reference): a group id is required; a deduplication id too unless
 * the queue deduplicates on content; a message's own DelaySeconds is refused (0 aside: only the queue's
 * delay applies).
 */
function fifoParameters(settings: QueueSettings, entry: Input, delayS: number | undefined) {
  if (delayS) {
    throw invalid(
      `Value ${delayS} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
    );
  }
  const groupId = idParameter(entry, 'MessageGroupId');
  if (groupId === undefined) {
    throw sqsError('MissingParameter', 'The request must contain the parameter MessageGroupId.');
  }
  const deduplicationId = idParameter(entry, 'MessageDeduplicationId');
  if (deduplicationId === undefined && !settings.contentBasedDeduplication) throw missingDeduplication();
  return { groupId, ...(deduplicationId === undefined ? {} : { deduplicationId }) };
}

function idParameter(entry: Input, parameter: 'MessageGroupId' | 'MessageDeduplicationId'): string | undefined {
  const v = entry[parameter];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !GROUP_OR_DEDUPLICATION_ID.test(v)) {
    throw invalid(
      `Value ${String(v)} for parameter ${parameter} is invalid. Reason: ${parameter} can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
    );
  }
  return v;
}

function missingDeduplication() {
  return invalid(
    'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
  );
}

/**
 * The characters a message may hold (Amazon SQS API Reference, "SendMessage": XML's, #x9, #xA, #xD,
 * #x20 to #xD7FF, #xE000 to #xFFFD, #x10000 to #x10FFFF); the first other one is refused by name.
 */
function checkCharacters(body: string): void {
  for (const ch of body) {
    const c = ch.codePointAt(0)!;
    const allowed =
      c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
    if (!allowed) {
      throw sqsError(
        'InvalidMessageContents',
        `Invalid binary character '#x${c.toString(16).toUpperCase()}' was found in the message body, the set of ` +
          'allowed characters is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].',
      );
    }
  }
}

/**
 * A message over its queue's MaximumMessageSize, refused in SQS's words: a request "invalid", a batch
 * entry "cannot be validated" (both recorded from SQS).
 */
function checkSize(bytes: number, limit: number, sent: Sent): void {
  if (bytes <= limit) return;
  const reason = `Reason: Message must be shorter than ${limit} bytes.`;
  throw invalid(
    sent === 'request'
      ? `One or more parameters are invalid. ${reason}`
      : `One or more parameters cannot be validated. ${reason}`,
  );
}

/** A message's size as SQS counts it against its limit: the body and each attribute's name, type and value. */
function messageBytes(body: string, attributes: Readonly<Record<string, MessageAttribute>>): number {
  return (
    Buffer.byteLength(body) +
    Object.entries(attributes).reduce(
      (n, [k, a]) =>
        n + Buffer.byteLength(k) + a.DataType.length + Buffer.byteLength(a.StringValue ?? a.BinaryValue ?? ''),
      0,
    )
  );
}

/** An entry's size; an entry whose attributes are invalid counts its body (it fails on its own). */
function entryBytes(entry: Input): number {
  const body = typeof entry.MessageBody === 'string' ? entry.MessageBody : '';
  try {
    return messageBytes(body, attributesIn(entry.MessageAttributes));
  } catch {
    return Buffer.byteLength(body);
  }
}

/** SendMessageBatch: the entries together are held to one message's limit before any is sent. */
function sendBatch(store: QueueStore, input: Input) {
  const entries = Array.isArray(input.Entries) ? (input.Entries as Input[]) : [];
  const total = entries.reduce((n, e) => n + entryBytes(e), 0);
  if (total > SQS_MAX_MESSAGE_BYTES) {
    throw sqsError(
      'BatchRequestTooLong',
      `Batch requests cannot be longer than ${SQS_MAX_MESSAGE_BYTES} bytes. You have sent ${total} bytes.`,
    );
  }
  checkFifoBatch(queueOf(store, input).settings, entries);
  return batch(input, (entry) => sendOne(store, input, entry, 'entry'));
}

/**
 * On a FIFO queue an entry without its group id, or without a deduplication id where the queue does not
 * deduplicate on content, fails the whole request before anything is sent (as SQS answers it).
 */
function checkFifoBatch(settings: QueueSettings, entries: readonly Input[]): void {
  if (!settings.fifo) return;
  if (!settings.contentBasedDeduplication && entries.some((e) => e.MessageDeduplicationId == null)) {
    throw missingDeduplication();
  }
  if (entries.some((e) => e.MessageGroupId == null)) {
    throw invalid('The request must contain the parameter MessageGroupId.');
  }
}

/** A batch entry's Id ("SendMessageBatchRequestEntry", Amazon SQS API Reference). */
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

/** A batch operation: 1 to 10 entries with distinct, well-formed Ids, each answered on its own. */
async function batch(input: Input, each: (entry: Input) => object | Promise<object>) {
  const entries = Array.isArray(input.Entries) ? (input.Entries as Input[]) : [];
  if (entries.length === 0) throw sqsError('EmptyBatchRequest', 'There should be at least one entry in the request.');
  if (entries.length > MAX_BATCH) {
    throw sqsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are ${MAX_BATCH}. You have sent ${entries.length}.`,
    );
  }
  const ids = entries.map((e) => String(e.Id ?? ''));
  if (ids.some((id) => !BATCH_ENTRY_ID.test(id))) {
    throw sqsError(
      'InvalidBatchEntryId',
      'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
    );
  }
  if (new Set(ids).size !== ids.length) throw sqsError('BatchEntryIdsNotDistinct', 'Id values must be unique.');
  const Successful: object[] = [];
  const Failed: object[] = [];
  for (const e of entries) {
    try {
      Successful.push({ Id: e.Id, ...(await each(e)) });
    } catch (err) {
      Failed.push({ Id: e.Id, SenderFault: true, Code: entryCode(err), Message: (err as Error).message });
    }
  }
  return { Successful, Failed };
}

type Queue = ReturnType<typeof queueOf>;

/**
 * One DeleteMessage (or batch entry). The handle of a message gone is taken without an error; one no
 * queue of this kind issues, or an expired FIFO handle, is refused (SQS's words, validated and recorded).
 */
function deleteOne(queue: Queue, input: Input): Record<string, never> {
  const handle = requireString(input, 'ReceiptHandle');
  const outcome = queue.delete(handle);
  if (outcome === 'invalid') throw invalidHandle(handle);
  if (outcome === 'expired') throw invalidReceipt(handle, 'The receipt handle has expired.');
  return {};
}

/**
 * One ChangeMessageVisibility (or batch entry). Unlike a delete, the handle of a message gone is refused;
 * a timeout ending past 12 hours from the receive too, with SQS's text for it (as SQS users quote it).
 */
function changeOne(queue: Queue, input: Input): Record<string, never> {
  const handle = requireString(input, 'ReceiptHandle');
  const timeoutS = visibilityOf(input.VisibilityTimeout);
  const outcome = queue.changeVisibility(handle, timeoutS);
  if (outcome === 'invalid') throw invalidHandle(handle);
  if (outcome === 'unknown') {
    throw invalidReceipt(handle, 'Message does not exist or is not available for visibility timeout change.');
  }
  if (outcome === 'too-long') {
    throw invalid(
      `Value ${timeoutS} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${MAX_VISIBILITY_S} seconds]`,
    );
  }
  return {};
}

function invalidHandle(handle: string) {
  return sqsError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`);
}

function invalidReceipt(handle: string, reason: string) {
  return invalid(`Value ${handle} for parameter ReceiptHandle is invalid. Reason: ${reason}`);
}

async function receive(store: QueueStore, input: Input) {
  const q = queueOf(store, input);
  const max = Number(input.MaxNumberOfMessages ?? 1);
  if (!Number.isInteger(max) || max < 1 || max > MAX_BATCH) {
    throw invalid(
      `Value ${input.MaxNumberOfMessages} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
    );
  }
  const waitS = input.WaitTimeSeconds === undefined ? (q.settings.receiveWaitS ?? 0) : waitOf(input.WaitTimeSeconds);
  const visibility = input.VisibilityTimeout === undefined ? undefined : visibilityOf(input.VisibilityTimeout);
  const until = Date.now() + waitS * 1000;
  let got = q.receive(max, visibility, (arn) => store.byArn(arn));
  while (got.length === 0 && Date.now() < until) {
    await q.wait(until - Date.now());
    got = q.receive(max, visibility, (arn) => store.byArn(arn));
  }
  // SQS leaves Messages out of an answer that has none (the aws CLI prints nothing for it).
  if (got.length === 0) return {};
  const wantAttrs = names(input.MessageAttributeNames);
  const wantSystem = names(input.MessageSystemAttributeNames ?? input.AttributeNames);
  return {
    Messages: got.map((m) => {
      const attrs = Object.fromEntries(
        Object.entries(m.attributes).filter(([k]) => wantedMessageAttribute(wantAttrs, k)),
      );
      const md5Attrs = md5OfAttributes(attrs);
      const sys = Object.fromEntries(
        Object.entries(systemAttributes(m)).filter(([k]) => wantedSystemAttribute(wantSystem, k)),
      );
      return {
        MessageId: m.id,
        ReceiptHandle: m.receipt,
        MD5OfBody: md5(m.body),
        Body: m.body,
        ...(Object.keys(sys).length ? { Attributes: sys } : {}),
        ...(md5Attrs ? { MessageAttributes: attrs, MD5OfMessageAttributes: md5Attrs } : {}),
      };
    }),
  };
}

function names(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function attributesIn(v: unknown): Record<string, MessageAttribute> {
  if (v === undefined) return {};
  if (!v || typeof v !== 'object') throw invalid('MessageAttributes must be a map');
  const out: Record<string, MessageAttribute> = {};
  for (const [k, a] of Object.entries(v as Record<string, Input>)) {
    const type = String(a?.DataType ?? '');
    if (!/^(String|Number|Binary)(\..+)?$/.test(type)) {
      throw invalid(`The message attribute '${k}' has an invalid message attribute type ${JSON.stringify(type)}.`);
    }
    // SQS refuses an attribute without a value, naming it and its type (recorded from SQS).
    if ((a.StringValue ?? a.BinaryValue ?? '') === '') {
      throw invalid(`Message (user) attribute '${k}' must contain a non-empty value of type '${type}'.`);
    }
    out[k] = {
      DataType: type,
      ...(a.StringValue !== undefined ? { StringValue: String(a.StringValue) } : {}),
      ...(a.BinaryValue !== undefined ? { BinaryValue: String(a.BinaryValue) } : {}),
    };
  }
  return out;
}

function attributesOf(store: QueueStore, input: Input): Record<string, string> {
  const q = queueOf(store, input);
  const { visible, inFlight, delayed } = q.counts();
  const all: Record<string, string> = {
    QueueArn: q.arn,
    ApproximateNumberOfMessages: String(visible),
    ApproximateNumberOfMessagesNotVisible: String(inFlight),
    ApproximateNumberOfMessagesDelayed: String(delayed),
    ...settingAttributes(q.settings),
    ...(q.settings.redrive ? { RedrivePolicy: JSON.stringify(q.settings.redrive) } : {}),
    // A FIFO queue's throughput settings, as set or at their defaults.
    ...(q.settings.fifo
      ? {
          DeduplicationScope: q.settings.deduplicationScope ?? 'queue',
          FifoThroughputLimit: q.settings.fifoThroughputLimit ?? 'perQueue',
        }
      : {}),
    // Epoch seconds, as SQS gives both ("GetQueueAttributes", Amazon SQS API Reference).
    CreatedTimestamp: String(Math.floor(q.createdAt / 1000)),
    LastModifiedTimestamp: String(Math.floor(q.lastModifiedAt / 1000)),
    ...(q.settings.policy ? { Policy: q.settings.policy } : {}),
  };
  const want = queueAttributeNames(input.AttributeNames);
  return Object.fromEntries(Object.entries(all).filter(([k]) => want.includes('All') || want.includes(k)));
}

/** The attributes a queue's settings give, as GetQueueAttributes writes them (defaults filled in). */
function settingAttributes(settings: QueueSettings): Record<string, string> {
  return {
    VisibilityTimeout: String(settings.visibilityTimeoutS ?? 30),
    DelaySeconds: String(settings.delayS ?? 0),
    ReceiveMessageWaitTimeSeconds: String(settings.receiveWaitS ?? 0),
    MessageRetentionPeriod: String(settings.retentionS ?? 345_600),
    MaximumMessageSize: String(settings.maximumMessageBytes ?? SQS_MAX_MESSAGE_BYTES),
    ...encryptionAttributes(settings),
    ...(settings.fifo
      ? { FifoQueue: 'true', ContentBasedDeduplication: String(settings.contentBasedDeduplication ?? false) }
      : {}),
  };
}

/**
 * A queue's encryption as GetQueueAttributes gives it (recorded from SQS): SQS-managed by default; a KMS
 * key, shown with its reuse period, turns it off, and it stays off once the key is emptied.
 */
function encryptionAttributes(settings: QueueSettings): Record<string, string> {
  return {
    SqsManagedSseEnabled: String(settings.sqsManagedSse ?? true),
    ...(settings.kmsMasterKeyId
      ? {
          KmsMasterKeyId: settings.kmsMasterKeyId,
          KmsDataKeyReusePeriodSeconds: String(settings.kmsDataKeyReusePeriodS ?? 300),
        }
      : {}),
  };
}

/** The settings an empty attribute value removes (SetQueueAttributes; validated against SQS for both). */
const EMPTIED: Readonly<Record<string, keyof QueueSettings>> = {
  RedrivePolicy: 'redrive',
  KmsMasterKeyId: 'kmsMasterKeyId',
};

function withoutEmptied(settings: QueueSettings, attributes: Input): QueueSettings {
  const out: Record<string, unknown> = { ...settings };
  for (const [name, setting] of Object.entries(EMPTIED)) if (attributes[name] === '') delete out[setting];
  return out as QueueSettings;
}

/** The encryption CreateQueue's or SetQueueAttributes' attributes name: a KMS key turns SQS-managed off. */
function encryptionOf(a: Input) {
  const kmsMasterKeyId = typeof a.KmsMasterKeyId === 'string' && a.KmsMasterKeyId !== '' ? a.KmsMasterKeyId : undefined;
  const managed =
    a.SqsManagedSseEnabled === undefined ? undefined : String(a.SqsManagedSseEnabled).toLowerCase() === 'true';
  return {
    kmsMasterKeyId,
    kmsDataKeyReusePeriodS:
      a.KmsDataKeyReusePeriodSeconds === undefined ? undefined : Number(a.KmsDataKeyReusePeriodSeconds),
    sqsManagedSse: managed ?? (kmsMasterKeyId ? false : undefined),
  };
}

/** CreateQueue's attributes (strings, as SQS takes them); an empty RedrivePolicy names none. */
export function settingsOf(a: Input) {
  const num = (v: unknown) => (v === undefined ? undefined : Number(v));
  const flag = (v: unknown) => (v === undefined ? undefined : String(v).toLowerCase() === 'true');
  const redrive =
    typeof a.RedrivePolicy === 'string'
      ? a.RedrivePolicy === ''
        ? undefined
        : JSON.parse(a.RedrivePolicy)
      : a.RedrivePolicy;
  return {
    ...encryptionOf(a),
    visibilityTimeoutS: num(a.VisibilityTimeout),
    retentionS: num(a.MessageRetentionPeriod),
    delayS: num(a.DelaySeconds),
    receiveWaitS: num(a.ReceiveMessageWaitTimeSeconds),
    maximumMessageBytes: num(a.MaximumMessageSize),
    policy: typeof a.Policy === 'string' ? a.Policy : undefined,
    fifo: flag(a.FifoQueue),
    contentBasedDeduplication: flag(a.ContentBasedDeduplication),
    deduplicationScope: a.DeduplicationScope === undefined ? undefined : String(a.DeduplicationScope),
    fifoThroughputLimit: a.FifoThroughputLimit === undefined ? undefined : String(a.FifoThroughputLimit),
    ...(redrive
      ? {
          redrive: {
            deadLetterTargetArn: String(redrive.deadLetterTargetArn),
            maxReceiveCount: Number(redrive.maxReceiveCount),
          },
        }
      : {}),
  };
}

/** The settings an attribute map names: SetQueueAttributes keeps the others as they are. */
function definedOnly<T extends object>(settings: T): Partial<T> {
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A whole number of seconds within `[0, max]`, else InvalidParameterValue in SQS's words (`reason`). */
function secondsIn(v: unknown, max: number, parameter: string, reason: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw invalid(`Value ${v} for parameter ${parameter} is invalid. Reason: ${reason}`);
  }
  return n;
}

function waitOf(v: unknown): number {
  return secondsIn(v, MAX_WAIT_S, 'WaitTimeSeconds', `Must be >= 0 and <= ${MAX_WAIT_S}, if provided.`);
}

function delayOf(v: unknown): number {
  return secondsIn(v, MAX_DELAY_S, 'DelaySeconds', `DelaySeconds must be >= 0 and <= ${MAX_DELAY_S}.`);
}

function visibilityOf(v: unknown): number {
  return secondsIn(v, MAX_VISIBILITY_S, 'VisibilityTimeout', `Must be between 0 and ${MAX_VISIBILITY_S}.`);
}

function queueOf(store: QueueStore, input: Input) {
  const q = store.byUrl(requireString(input, 'QueueUrl'));
  if (!q) throw notFound();
  return q;
}

function notFound() {
  return sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
}

function requireString(input: Input, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '')
    throw sqsError('MissingParameter', `The request must contain the parameter ${name}.`);
  return v;
}

/** SQS on the endpoint's JSON protocol, by signing name and by target prefix (unsigned calls). */
export function sqsJsonServices(queues: QueueStore): Record<string, JsonService> {
  const sqs: JsonService = { protocol: 'awsJson1_0', handle: (op, input) => handleSqs(queues, op, input) };
  return { sqs, AmazonSQS: sqs };
}
