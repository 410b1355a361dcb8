/**
 * Amazon SNS on the local endpoint, in the query protocol the AWS SDK speaks to it (a form-encoded POST
 * with `Action=<Operation>`, XML answers; Amazon Simple Notification Service API Reference): Publish as a
 * sender uses it, and CreateTopic, ListTopics, GetTopicAttributes and ListSubscriptionsByTopic to look
 * around. Errors are SNS's codes and words: NotFound (404), InvalidParameter (400).
 */
import { AwsError } from '../endpoint/errors';
import { escapeXml, formMembers, queryResponse } from '../endpoint/query-protocol';
import type { QueryService } from '../endpoint/server';
import type { SnsAttribute } from './sns-event';
import type { Topic, TopicStore } from './topic-store';

/** SNS's largest message, body and attributes together ("Amazon SNS message size", Amazon SNS Developer Guide). */
export const SNS_MAX_MESSAGE_BYTES = 256 * 1024;
/** The longest Subject, in ASCII characters (API Reference, "Publish"). */
const MAX_SUBJECT = 100;

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

const invalid = (message: string) => new AwsError('InvalidParameter', 400, `Invalid parameter: ${message}`);

type Operation = (store: TopicStore, form: URLSearchParams) => string;

const OPERATIONS: Readonly<Record<string, Operation>> = {
  Publish: publish,
  CreateTopic: createTopic,
  ListTopics: (store) =>
    `<Topics>${store
      .list()
      .map((t) => `<member><TopicArn>${escapeXml(t.arn)}</TopicArn></member>`)
      .join('')}</Topics>`,
  GetTopicAttributes: (store, form) => attributesXml(topicAttributes(store, topicOf(store, form))),
  ListSubscriptionsByTopic: (store, form) => {
    const topic = topicOf(store, form);
    const owner = topic.arn.split(':')[4] ?? '';
    return `<Subscriptions>${store
      .subscriptionsOf(topic.arn)
      .map(
        (s) =>
          `<member><SubscriptionArn>${escapeXml(s.arn)}</SubscriptionArn><Owner>${owner}</Owner>` +
          `<Protocol>lambda</Protocol><Endpoint>${escapeXml(s.endpoint)}</Endpoint>` +
          `<TopicArn>${escapeXml(s.topicArn)}</TopicArn></member>`,
      )
      .join('')}</Subscriptions>`;
  },
};

/** The endpoint's SNS, over `store`. */
export function snsQueryService(store: TopicStore): QueryService {
  return {
    handle(form, requestId) {
      const action = form.get('Action') ?? '';
      const operation = OPERATIONS[action];
      if (!operation)
        throw new AwsError('InvalidAction', 400, `lambda-mesh local endpoint does not support sns.${action}`);
      return queryResponse(action, XMLNS, operation(store, form), requestId);
    },
  };
}

function publish(store: TopicStore, form: URLSearchParams): string {
  const arn = form.get('TopicArn') ?? form.get('TargetArn');
  if (!arn) throw invalid('TopicArn or TargetArn Reason: no value for required parameter');
  const topic = store.byArn(arn);
  if (!topic) throw new AwsError('NotFound', 404, 'Topic does not exist');
  const message = form.get('Message') ?? '';
  if (message === '') throw invalid('Empty message');
  const subject = form.get('Subject') ?? undefined;
  checkSubject(subject);
  const attributes = attributesOf(form);
  if (messageBytes(message, attributes) > SNS_MAX_MESSAGE_BYTES) throw invalid('Message too long');
  const messageGroupId = fifoFields(topic, form);
  const id = store.publish(topic, { message, subject, attributes, messageGroupId });
  return `<MessageId>${id}</MessageId>`;
}

function checkSubject(subject: string | undefined): void {
  if (subject === undefined) return;
  if (subject === '' || subject.length > MAX_SUBJECT || !/^[\x20-\x7e]*$/.test(subject))
    throw invalid(`Subject Reason: must be 1 to ${MAX_SUBJECT} printable ASCII characters`);
}

/** A FIFO topic's MessageGroupId, checked with its deduplication id; a standard topic takes neither id. */
function fifoFields(topic: Topic, form: URLSearchParams): string | undefined {
  const group = form.get('MessageGroupId') ?? undefined;
  const dedup = form.get('MessageDeduplicationId') ?? undefined;
  if (!topic.fifo) {
    if (dedup !== undefined)
      throw invalid(
        'MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type',
      );
    return group;
  }
  if (group === undefined) throw invalid('The MessageGroupId parameter is required for FIFO topics');
  if (dedup === undefined && !topic.contentBasedDeduplication)
    throw invalid(
      'The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
    );
  return group;
}

/** `MessageAttributes.entry.N.{Name, Value.DataType, Value.StringValue | Value.BinaryValue}`, checked. */
function attributesOf(form: URLSearchParams): Record<string, SnsAttribute> {
  const out: Record<string, SnsAttribute> = {};
  for (const entry of formMembers(form, 'MessageAttributes.entry')) {
    const at = (field: string) => entry.get(field) ?? undefined;
    const name = at('Name');
    if (!name) throw invalid('MessageAttributes Reason: every message attribute needs a Name');
    const type = at('Value.DataType') ?? '';
    const value = type.startsWith('Binary') ? at('Value.BinaryValue') : at('Value.StringValue');
    checkAttribute(name, type, value);
    out[name] = { DataType: type, Value: value! };
  }
  return out;
}

function checkAttribute(name: string, type: string, value: string | undefined): void {
  const reason = (why: string) => invalid(`MessageAttributes Reason: The message attribute '${name}' ${why}`);
  if (!/^(String|Number|Binary)(\.[^\s]+)?$/.test(type))
    throw reason(
      `has an invalid message attribute type ${JSON.stringify(type)}; the set of supported type prefixes is Binary, Number, String and String.Array`,
    );
  if (value === undefined || value === '')
    throw reason(`must contain non-empty message attribute value for message attribute type '${type}'`);
  if (type.startsWith('Number') && !Number.isFinite(Number(value)))
    throw reason(`has the value ${JSON.stringify(value)}, which is not a number`);
  if (type === 'String.Array' && !isJsonArray(value))
    throw reason(
      `has the value ${JSON.stringify(value)}, which is not a JSON array of strings, numbers, true, false or null`,
    );
}

function isJsonArray(value: string): boolean {
  try {
    const v = JSON.parse(value);
    return Array.isArray(v) && v.every((e) => e === null || ['string', 'number', 'boolean'].includes(typeof e));
  } catch {
    return false;
  }
}

/** What counts toward the 256 KiB: the message, and each attribute's name, type and value. */
function messageBytes(message: string, attributes: Readonly<Record<string, SnsAttribute>>): number {
  let n = Buffer.byteLength(message);
  for (const [name, a] of Object.entries(attributes)) {
    const value = a.DataType.startsWith('Binary') ? Buffer.from(a.Value, 'base64').length : Buffer.byteLength(a.Value);
    n += Buffer.byteLength(name) + Buffer.byteLength(a.DataType) + value;
  }
  return n;
}

/** CreateTopic: the topic of that name, made if missing (`FifoTopic`, `ContentBasedDeduplication` attributes). */
function createTopic(store: TopicStore, form: URLSearchParams): string {
  const name = form.get('Name') ?? '';
  if (!/^[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(name) || name.length > 256)
    throw invalid(
      'Topic Name Reason: must be 1 to 256 letters, digits, hyphens or underscores (a FIFO topic: ending in .fifo)',
    );
  const attrs = new Map<string, string>();
  for (const entry of formMembers(form, 'Attributes.entry'))
    attrs.set(entry.get('key') ?? '', entry.get('value') ?? '');
  const fifo = attrs.get('FifoTopic') === 'true';
  if (fifo !== name.endsWith('.fifo'))
    throw invalid('Topic Name Reason: a FIFO topic (FifoTopic true) and only one has a name ending in .fifo');
  const existing = store.byArn(store.arnOf(name));
  const topic =
    existing ??
    store.put(name, {
      fifo,
      contentBasedDeduplication: attrs.get('ContentBasedDeduplication') === 'true',
      displayName: attrs.get('DisplayName'),
    });
  return `<TopicArn>${escapeXml(topic.arn)}</TopicArn>`;
}

function topicOf(store: TopicStore, form: URLSearchParams): Topic {
  const arn = form.get('TopicArn');
  if (!arn) throw invalid('TopicArn Reason: no value for required parameter');
  const topic = store.byArn(arn);
  if (!topic) throw new AwsError('NotFound', 404, 'Topic does not exist');
  return topic;
}

function topicAttributes(store: TopicStore, topic: Topic): Record<string, string> {
  const subscriptions = store.subscriptionsOf(topic.arn).length;
  return {
    TopicArn: topic.arn,
    Owner: topic.arn.split(':')[4] ?? '',
    DisplayName: topic.displayName ?? '',
    SubscriptionsConfirmed: String(subscriptions),
    SubscriptionsPending: '0',
    SubscriptionsDeleted: '0',
    ...(topic.fifo
      ? { FifoTopic: 'true', ContentBasedDeduplication: String(topic.contentBasedDeduplication ?? false) }
      : {}),
  };
}

function attributesXml(attributes: Record<string, string>): string {
  return `<Attributes>${Object.entries(attributes)
    .map(([k, v]) => `<entry><key>${k}</key><value>${escapeXml(v)}</value></entry>`)
    .join('')}</Attributes>`;
}
