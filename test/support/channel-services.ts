/**
 * A loopback stand-in for the three services `mesh.send` reaches, parsing each request with the rules
 * the real service applies to it, so a test holds the runtime's requests (and the AWS SDK's, for the
 * same message) to what the service accepts:
 * - SNS Publish, query protocol (Amazon SNS API Reference, "Publish"; "Query API request"): a form
 *   body with Action=Publish and Version=2010-03-31, TopicArn, Message, and message attributes as
 *   `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue` (N from 1, without a
 *   gap); the message with its attributes (name, type and value) at most 256 KiB; answers the
 *   PublishResponse XML, errors as the query protocol's ErrorResponse XML;
 * - EventBridge PutEvents, awsJson1_1 (`X-Amz-Target: AWSEvents.PutEvents`; Amazon EventBridge API
 *   Reference, "PutEvents"): 1 to 10 Entries, each with Source, DetailType and Detail (a JSON object
 *   as a string) and EventBusName; the entries at most 256 KiB as "Calculating PutEvents event entry
 *   size" counts them; an entry that fails is named in the answer (FailedEntryCount, ErrorCode) with
 *   HTTP 200;
 * - SQS SendMessage, JSON protocol (`X-Amz-Target: AmazonSQS.SendMessage`): answers the body's and the
 *   attributes' MD5 digests, which the SDK checks.
 * Each request's SigV4 signature is checked (test/support/sigv4-check.ts). Binds 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { md5, md5OfAttributes } from '../../local/sqs/queue-store';
import { checkSigV4, type SignatureCheck, type TestCredentials } from './sigv4-check';

const MAX_BYTES = 256 * 1024;

/** A message attribute as the services hold it. */
export interface Attribute {
  readonly DataType: string;
  readonly StringValue?: string;
}

/** One request the stand-in accepted, as the service read it. */
export type Accepted =
  | {
      readonly kind: 'sns';
      readonly TopicArn: string;
      readonly Message: string;
      readonly attributes: Record<string, Attribute>;
    }
  | { readonly kind: 'events'; readonly entries: readonly Record<string, unknown>[] }
  | { readonly kind: 'sqs'; readonly input: Record<string, unknown> };

export interface Received {
  readonly signature: SignatureCheck;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** What the service read from it, when it accepted it. */
  readonly accepted?: Accepted;
  /** The error it answered, when it refused it. */
  readonly refused?: string;
}

export interface ChannelServices {
  readonly url: string;
  readonly received: Received[];
  /**
   * The next request of `kind` is answered with this error (HTTP status, code) instead; for SQS,
   * `queryCode` goes in `x-amzn-query-error`, as SQS sends it.
   */
  failNext(kind: Accepted['kind'], status: number, code: string, queryCode?: string): void;
  close(): Promise<void>;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** SQS: the legacy query code it sends beside `__type` (`x-amzn-query-error`). */
    readonly queryCode?: string,
  ) {
    super(message);
  }
}

export async function startChannelServices(creds: TestCredentials): Promise<ChannelServices> {
  const received: Received[] = [];
  const failures = new Map<string, { status: number; code: string; queryCode?: string }>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const body = raw.toString('utf8');
    const signature = await checkSigV4(req, raw, creds);
    const target = String(req.headers['x-amz-target'] ?? '');
    const kind = target === 'AWSEvents.PutEvents' ? 'events' : target.startsWith('AmazonSQS.') ? 'sqs' : 'sns';
    const record = (r: Partial<Received>) => received.push({ signature, headers: req.headers, body, ...r });
    try {
      if (!signature.ok) throw new Refusal(403, 'SignatureDoesNotMatch', `signature: ${signature.why}`);
      const injected = failures.get(kind);
      if (injected) {
        failures.delete(kind);
        throw new Refusal(injected.status, injected.code, `injected ${injected.code}`, injected.queryCode);
      }
      if (kind === 'sns') {
        const accepted = readPublish(req.headers, body);
        record({ accepted });
        return xml(res, 200, publishResponse());
      }
      if (kind === 'events') {
        const { accepted, answer } = readPutEvents(req.headers, target, body);
        record({ accepted });
        return json(res, 200, answer, '1.1');
      }
      const input = readSendMessage(req.headers, target, body);
      record({ accepted: { kind: 'sqs', input } });
      const attrs = (input.MessageAttributes ?? {}) as Record<string, { DataType: string; StringValue?: string }>;
      const md5Attrs = md5OfAttributes(attrs);
      return json(
        res,
        200,
        {
          MessageId: randomUUID(),
          MD5OfMessageBody: md5(String(input.MessageBody)),
          ...(md5Attrs ? { MD5OfMessageAttributes: md5Attrs } : {}),
        },
        '1.0',
      );
    } catch (err) {
      const e = err instanceof Refusal ? err : new Refusal(500, 'InternalFailure', String(err));
      record({ refused: e.code });
      if (kind === 'sns') return xml(res, e.status, queryError(e));
      const query: Record<string, string> = e.queryCode ? { 'x-amzn-query-error': `${e.queryCode};Sender` } : {};
      return json(res, e.status, { __type: e.code, message: e.message }, kind === 'sqs' ? '1.0' : '1.1', query);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    received,
    failNext: (kind, status, code, queryCode) => failures.set(kind, { status, code, queryCode }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** SNS Publish as the query protocol reads it. */
export function readPublish(headers: IncomingHttpHeaders, body: string): Accepted & { kind: 'sns' } {
  if (!String(headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
    throw new Refusal(400, 'InvalidParameter', `content-type ${headers['content-type']} is not a form`);
  }
  const form = new URLSearchParams(body);
  if (form.get('Action') !== 'Publish') throw new Refusal(400, 'InvalidAction', `Action ${form.get('Action')}`);
  if (form.get('Version') !== '2010-03-31') throw new Refusal(400, 'InvalidParameter', 'Version');
  const TopicArn = form.get('TopicArn') ?? '';
  if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(TopicArn)) {
    throw new Refusal(400, 'InvalidParameter', 'Invalid parameter: TopicArn');
  }
  const Message = form.get('Message');
  if (!Message) throw new Refusal(400, 'InvalidParameter', 'Invalid parameter: Empty message');
  const attributes: Record<string, Attribute> = {};
  let size = Buffer.byteLength(Message);
  for (let n = 1; form.has(`MessageAttributes.entry.${n}.Name`); n++) {
    const at = (field: string) => form.get(`MessageAttributes.entry.${n}.${field}`) ?? undefined;
    const name = at('Name')!;
    const DataType = at('Value.DataType');
    const StringValue = at('Value.StringValue');
    if (!DataType || !/^(String|Number|Binary)(\..+)?$/.test(DataType) || (DataType !== 'Binary' && !StringValue)) {
      throw new Refusal(400, 'ParameterValueInvalid', `The message attribute '${name}' has an invalid value`);
    }
    attributes[name] = { DataType, StringValue };
    size += Buffer.byteLength(name) + Buffer.byteLength(DataType) + Buffer.byteLength(StringValue ?? '');
  }
  const stray = [...form.keys()].find(
    (k) => k.startsWith('MessageAttributes.') && !/^MessageAttributes\.entry\.(\d+)\./.test(k),
  );
  if (stray) throw new Refusal(400, 'InvalidParameter', `unknown parameter ${stray}`);
  if (Object.keys(attributes).length > 10) throw new Refusal(400, 'InvalidParameter', 'more than 10 attributes');
  if (size > MAX_BYTES) throw new Refusal(400, 'InvalidParameter', 'Invalid parameter: Message too long');
  return { kind: 'sns', TopicArn, Message, attributes };
}

/** EventBridge PutEvents as awsJson1_1 reads it: the accepted entries and the answer, failed entries named. */
export function readPutEvents(
  headers: IncomingHttpHeaders,
  target: string,
  body: string,
): { accepted: Accepted & { kind: 'events' }; answer: unknown } {
  if (headers['content-type'] !== 'application/x-amz-json-1.1' || target !== 'AWSEvents.PutEvents') {
    throw new Refusal(400, 'UnknownOperationException', `${headers['content-type']} ${target}`);
  }
  const input = JSON.parse(body) as { Entries?: Record<string, unknown>[] };
  const entries = input.Entries ?? [];
  if (entries.length < 1 || entries.length > 10) {
    throw new Refusal(400, 'ValidationException', 'Entries must have between 1 and 10 items');
  }
  // Time 14 bytes when set, then Source, DetailType, Detail and each Resource, in UTF-8 bytes.
  const size = entries.reduce<number>(
    (n, e) =>
      n +
      (e.Time ? 14 : 0) +
      ['Source', 'DetailType', 'Detail'].reduce((m, k) => m + Buffer.byteLength(String(e[k] ?? '')), 0) +
      ((e.Resources as string[] | undefined) ?? []).reduce((m, r) => m + Buffer.byteLength(r), 0),
    0,
  );
  if (size > MAX_BYTES) {
    throw new Refusal(400, 'ValidationException', 'Total size of the entries in the request is over the limit.');
  }
  const answers = entries.map((e) => {
    if (!e.Source || !e.DetailType || typeof e.Detail !== 'string' || !e.EventBusName) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameters Source, DetailType, Detail are required.' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(e.Detail);
    } catch {
      detail = undefined;
    }
    if (!detail || typeof detail !== 'object' || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    return { EventId: randomUUID() };
  });
  const failed = answers.filter((a) => 'ErrorCode' in a).length;
  return { accepted: { kind: 'events', entries }, answer: { FailedEntryCount: failed, Entries: answers } };
}

function readSendMessage(headers: IncomingHttpHeaders, target: string, body: string): Record<string, unknown> {
  if (headers['content-type'] !== 'application/x-amz-json-1.0' || target !== 'AmazonSQS.SendMessage') {
    throw new Refusal(400, 'UnsupportedOperation', `${headers['content-type']} ${target}`);
  }
  const input = JSON.parse(body) as Record<string, unknown>;
  if (typeof input.QueueUrl !== 'string' || typeof input.MessageBody !== 'string' || !input.MessageBody) {
    throw new Refusal(400, 'MissingParameter', 'QueueUrl and MessageBody are required');
  }
  return input;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  version: '1.0' | '1.1',
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': `application/x-amz-json-${version}`,
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  res.end(JSON.stringify(body));
}

function xml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
  res.end(body);
}

function publishResponse(): string {
  return (
    '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>' +
    `<MessageId>${randomUUID()}</MessageId></PublishResult>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`
  );
}

function queryError(e: Refusal): string {
  const type = e.status >= 500 ? 'Receiver' : 'Sender';
  return (
    '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">' +
    `<Error><Type>${type}</Type><Code>${e.code}</Code><Message>${e.message}</Message></Error>` +
    `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`
  );
}
