/**
 * What a request asks of IAM: its action, the ARN of its resource and the condition keys it carries,
 * for the actions the local mesh evaluates (docs/local-mesh.md lists them): lambda:InvokeFunction,
 * dynamodb:GetItem, Query, UpdateItem and PutItem, secretsmanager:GetSecretValue, sqs:SendMessage,
 * sns:Publish and events:PutEvents (one request per bus its entries name: `putEventsRequests`).
 * Anything else is undefined: not evaluated. Only the facts a request holds, and a few lookups (a
 * secret's full ARN, a table's partition key) the endpoint answers.
 */

import { functionArn, parseFunctionName } from './function-name';
import type { IamRequest } from './iam-evaluation';
import { matchLambdaRoute } from './lambda-routes';
import type { ServiceDecision } from './service-router';

export interface RequestFacts {
  readonly decision: ServiceDecision;
  readonly method: string;
  readonly url: string;
  readonly target: string | undefined;
  readonly body: Buffer;
  /** Where the request is served. */
  readonly region: string;
  readonly accountId: string;
}

export interface RequestLookups {
  /** The full ARN of a secret (by name or ARN) in a region, when it exists. */
  secretArn(region: string, secretId: string): string | undefined;
  /** The partition key attribute of a table (or of one of its indexes), when the table exists. */
  partitionKey(region: string, table: string, index?: string): Promise<string | undefined>;
  /** The statements of the policy of the function, version or alias an ARN names (none when it has none). */
  functionPolicy(arn: string): readonly unknown[];
}

/** The DynamoDB operations evaluated: the mesh's reads and writes of its policy table, and user code's. */
const DYNAMO_ACTIONS = new Set(['GetItem', 'Query', 'UpdateItem', 'PutItem']);
const SQS_SEND = new Set(['SendMessage', 'SendMessageBatch']);

export async function iamRequestOf(facts: RequestFacts, lookups: RequestLookups): Promise<IamRequest | undefined> {
  const d = facts.decision;
  if (d.service === 'lambda') return invokeRequest(facts);
  if (d.service === 'dynamodb') return dynamoRequest(facts, lookups);
  if (d.service === 'secretsmanager' && d.operation === 'GetSecretValue') return secretRequest(facts, lookups);
  if (d.service === 'other' && d.name === 'sqs' && d.protocol === 'query') return sqsQueryRequest(facts);
  if (d.service === 'other' && /^(sqs|AmazonSQS)$/.test(d.name) && SQS_SEND.has(d.operation)) {
    return sqsRequest(facts, jsonOf(facts.body).QueueUrl);
  }
  if (d.service === 'other' && d.name === 'sns' && d.protocol === 'query') return snsRequest(facts);
  return undefined;
}

/**
 * The keys every request carries ("AWS global condition context keys", IAM User Guide). The SDK reaches
 * AWS over TLS, so `aws:SecureTransport` is true as there, though the endpoint listens on plain HTTP.
 */
function globalContext(facts: RequestFacts, extra: Record<string, readonly string[]> = {}): IamRequest['context'] {
  const transport = { 'aws:securetransport': ['true'] };
  return { 'aws:requestedregion': [facts.region], 'aws:principalaccount': [facts.accountId], ...transport, ...extra };
}

/** An Invoke of a function by name, ARN or partial ARN, with a qualifier in the name or the query. */
function invokeRequest(facts: RequestFacts): IamRequest | undefined {
  const route = matchLambdaRoute(facts.method, facts.url);
  if (route?.operation !== 'Invoke') return undefined;
  const qualifier = new URLSearchParams(facts.url.split('?')[1] ?? '').get('Qualifier') ?? undefined;
  try {
    const ref = parseFunctionName(route.params.FunctionName ?? '', qualifier, 'Invoke', facts);
    const resource = functionArn(facts.region, facts.accountId, ref.name, ref.qualifier);
    return { action: 'lambda:InvokeFunction', resource, context: globalContext(facts) };
  } catch {
    return undefined; // a malformed name: Lambda's own answer says what is wrong with it
  }
}

async function dynamoRequest(facts: RequestFacts, lookups: RequestLookups): Promise<IamRequest | undefined> {
  const operation = facts.target?.split('.')[1] ?? '';
  if (!DYNAMO_ACTIONS.has(operation)) return undefined;
  const input = jsonOf(facts.body);
  const table = typeof input.TableName === 'string' ? input.TableName : undefined;
  if (!table) return undefined;
  const index = operation === 'Query' && typeof input.IndexName === 'string' ? input.IndexName : undefined;
  const resource = `arn:aws:dynamodb:${facts.region}:${facts.accountId}:table/${table}${index ? `/index/${index}` : ''}`;
  const key = await lookups.partitionKey(facts.region, table, index);
  if (key === undefined) return undefined; // no such table: DynamoDB's own answer names it
  const leading = leadingKey(operation, input, key);
  const request = { action: `dynamodb:${operation}`, resource };
  return leading === undefined
    ? { ...request, context: globalContext(facts), unreadKeys: { 'dynamodb:leadingkeys': 'its key condition' } }
    : { ...request, context: globalContext(facts, { 'dynamodb:leadingkeys': [leading] }) };
}

/** The partition key value a request reads or writes: its Key, its Item, or its key condition. */
function leadingKey(operation: string, input: Record<string, unknown>, key: string): string | undefined {
  if (operation === 'PutItem') return scalarOf((input.Item as Record<string, unknown> | undefined)?.[key]);
  if (operation !== 'Query') return scalarOf((input.Key as Record<string, unknown> | undefined)?.[key]);
  const legacy = (input.KeyConditions as Record<string, { AttributeValueList?: unknown[] }> | undefined)?.[key];
  if (legacy) return scalarOf(legacy.AttributeValueList?.[0]);
  return keyConditionValue(input, key);
}

/** `#pk = :pk` (or `pk = :pk`, either side) in a KeyConditionExpression: the value of `:pk`. */
function keyConditionValue(input: Record<string, unknown>, key: string): string | undefined {
  const expression = typeof input.KeyConditionExpression === 'string' ? input.KeyConditionExpression : '';
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, unknown>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  const nameOf = (token: string) => (token.startsWith('#') ? names[token] : token);
  for (const m of expression.matchAll(/([#:]?[\w.-]+)\s*=\s*([#:]?[\w.-]+)/g)) {
    const [left, right] = [m[1]!, m[2]!];
    if (nameOf(left) === key && right.startsWith(':')) return scalarOf(values[right]);
    if (nameOf(right) === key && left.startsWith(':')) return scalarOf(values[left]);
  }
  return undefined;
}

/** A key attribute's value as IAM compares it: the string of an S, N or B. */
function scalarOf(value: unknown): string | undefined {
  const v = value as { S?: unknown; N?: unknown; B?: unknown } | undefined;
  const scalar = v?.S ?? v?.N ?? v?.B;
  return typeof scalar === 'string' ? scalar : undefined;
}

function secretRequest(facts: RequestFacts, lookups: RequestLookups): IamRequest | undefined {
  const secretId = jsonOf(facts.body).SecretId;
  if (typeof secretId !== 'string' || secretId === '') return undefined;
  // A secret ARN names its region; a name is looked up where the request is served.
  const region = secretId.startsWith('arn:') ? (secretId.split(':')[3] ?? facts.region) : facts.region;
  const resource =
    lookups.secretArn(region, secretId) ??
    (secretId.startsWith('arn:') ? secretId : `arn:aws:secretsmanager:${region}:${facts.accountId}:secret:${secretId}`);
  return { action: 'secretsmanager:GetSecretValue', resource, named: secretId, context: globalContext(facts) };
}

/**
 * A send in SQS's query protocol: the form's `Action` and `QueueUrl`, or the path of the queue URL the
 * request was sent to.
 */
function sqsQueryRequest(facts: RequestFacts): IamRequest | undefined {
  const form = new URLSearchParams(facts.body.toString('utf8'));
  if (!SQS_SEND.has(form.get('Action') ?? '')) return undefined;
  return sqsRequest(facts, form.get('QueueUrl') ?? facts.url.split('?')[0]);
}

/** A send to a queue, by its URL (`http(s)://<host>/<account>/<name>`) or a queue URL's path. */
function sqsRequest(facts: RequestFacts, url: unknown): IamRequest | undefined {
  if (typeof url !== 'string') return undefined;
  const [account, name] = url
    .replace(/^\w+:\/\/[^/]*/, '')
    .split('/')
    .filter(Boolean);
  if (!account || !name) return undefined;
  return {
    action: 'sqs:SendMessage',
    resource: `arn:aws:sqs:${facts.region}:${account}:${name}`,
    context: globalContext(facts),
  };
}

/**
 * A PutEvents: events:PutEvents on each bus its entries name, by name or ARN (the default bus when
 * none), each judged on its own. undefined for any other request.
 */
export function putEventsRequests(facts: RequestFacts): IamRequest[] | undefined {
  const d = facts.decision;
  if (d.service !== 'other' || !/^(events|AWSEvents)$/.test(d.name) || d.operation !== 'PutEvents') return undefined;
  const entries = jsonOf(facts.body).Entries;
  const named = (Array.isArray(entries) ? entries : []).map((e) => (e as { EventBusName?: unknown })?.EventBusName);
  const arns = new Set(
    named.map((bus) => {
      const text = typeof bus === 'string' && bus !== '' ? bus : 'default';
      return text.startsWith('arn:') ? text : `arn:aws:events:${facts.region}:${facts.accountId}:event-bus/${text}`;
    }),
  );
  return [...arns].map((resource) => ({ action: 'events:PutEvents', resource, context: globalContext(facts) }));
}

/** A Publish to a topic, by its ARN (the query protocol's form: `Action=Publish&TopicArn=...`). */
function snsRequest(facts: RequestFacts): IamRequest | undefined {
  const form = new URLSearchParams(facts.body.toString('utf8'));
  const topicArn = form.get('TopicArn') ?? form.get('TargetArn');
  if (form.get('Action') !== 'Publish' || !topicArn) return undefined;
  return { action: 'sns:Publish', resource: topicArn, context: globalContext(facts) };
}

function jsonOf(body: Buffer): Record<string, unknown> {
  try {
    const v = JSON.parse(body.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}
