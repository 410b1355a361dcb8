/**
 * DynamoDB for the local endpoint: an embedded, in-memory dynalite whose request handler is mounted on
 * the endpoint (no second port), or a proxy to a DynamoDB-compatible endpoint given by the caller.
 * What dynalite lacks (transactions, ReturnValuesOnConditionCheckFailure, deletion protection) is
 * answered in dynamo-extensions.ts on top of dynalite's own operations; a transaction's ClientRequestToken
 * in transaction-tokens.ts. Requests run one at a time, so a
 * transaction is never seen half-applied.
 * Plus the helpers the local mesh needs: create the policy table, batch-seed items.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { type AttributeValue, marshallItem } from '../../shared/attribute-value';
import { nestsDeeperThan } from '../../shared/json-depth';
import { TABLE } from '../../shared/names';
import {
  DeletionProtection,
  type DynamoCall,
  type DynamoReply,
  dynamoError,
  keyNames,
  pick,
  tableNameOf,
  transactGetItems,
  transactWriteItems,
  updateWithinNesting,
  writeReturningOnFailure,
} from './dynamo-extensions';
import { NESTING_MESSAGE, nestsTooDeep, updateMayDeepen } from './dynamo-nesting';
import { unsupported, writeError } from './errors';
import { ReadWriteLock } from './read-write-lock';
import type { ItemChange, RegionStreams } from './table-streams';
import { TransactionTokens } from './transaction-tokens';

export interface DynamoOptions {
  /** Proxy to this DynamoDB-compatible endpoint instead of embedding dynalite. */
  readonly endpoint?: string;
  /** dynalite's table state delays; 0 makes tables ACTIVE at once. @default 0 */
  readonly tableStateMs?: number;
  /** The streams of this store's region: writes to a watched table are recorded (embedded dynalite only). */
  readonly streams?: RegionStreams;
}

export interface DynamoBackend {
  /** Serves one DynamoDB request whose body the endpoint has already read. */
  handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void | Promise<void>;
  close(): Promise<void>;
}

type Handler = (req: unknown, res: ServerResponse) => void;

/** What dynalite implements (its `validOperations`); transactions and PartiQL are not among them. */
export const DYNALITE_OPERATIONS: ReadonlySet<string> = new Set([
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'DescribeTimeToLive',
  'GetItem',
  'ListTables',
  'PutItem',
  'Query',
  'Scan',
  'TagResource',
  'UntagResource',
  'ListTagsOfResource',
  'UpdateItem',
  'UpdateTable',
]);

/** Operations answered by dynamo-extensions.ts, around or instead of dynalite. */
const EXTENDED = new Set([
  'TransactWriteItems',
  'TransactGetItems',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'CreateTable',
  'UpdateTable',
  'DescribeTable',
  'DeleteTable',
]);

/** Writes answered in two steps (write, then read the item) when they ask for the item on failure. */
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

/** The embedded dynalite and what answers around it. */
interface Embedded {
  readonly handler: Handler;
  /** dynalite's operations called in process, for the extensions. */
  readonly call: DynamoCall;
  readonly protection: DeletionProtection;
  /** The ClientRequestTokens of this store's transactions (transaction-tokens.ts). */
  readonly tokens: TransactionTokens;
  /** Requests run side by side; a transaction (or a write answered in several steps) runs alone. */
  readonly lock: ReadWriteLock;
  /** The streams of this store's region (writes to a watched table are recorded). */
  readonly streams?: RegionStreams;
}

type Dynalite = import('node:http').Server & { close(cb?: (e?: Error) => void): void };

/**
 * DynamoDB nests attribute values at most 32 levels deep ("Service, account, and table quotas in Amazon
 * DynamoDB", DynamoDB Developer Guide). Each level is two levels of JSON (`{"M":{"a":` or `{"L":[`), and
 * the deepest request around them (TransactWriteItems: body, TransactItems, an action, Put, Item, the
 * attribute) adds six: no valid request nests deeper than 2 × 32 + 6. dynalite checks types by
 * recursion in a callback, so a body nested a thousand deep overflowed its stack there and the
 * RangeError, thrown outside any handler, ended the whole local mesh. The items a request writes are
 * then held to the exact limit (dynamo-nesting.ts), and so is what an update leaves.
 */
const MAX_REQUEST_NESTING = 2 * 32 + 6;
/** DynamoDB's answer to an item nested past its limit. */
const NESTED_TOO_DEEP: DynamoReply = dynamoError('ValidationException', NESTING_MESSAGE);

/** Starts the embedded dynalite (or the proxy). */
export function startDynamo(options: DynamoOptions = {}): DynamoBackend {
  if (options.endpoint) return proxyTo(options.endpoint);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (o: Record<string, unknown>) => Dynalite;
  const ms = options.tableStateMs ?? 0;
  const server = dynalite({ createTableMs: ms, deleteTableMs: ms, updateTableMs: ms });
  const handler = server.listeners('request')[0] as Handler;
  const embedded: Embedded = {
    handler,
    call: dynaliteCall(handler),
    protection: new DeletionProtection(),
    tokens: new TransactionTokens(),
    lock: new ReadWriteLock(),
    streams: options.streams,
  };
  return {
    handle(req, body, res) {
      return handleEmbedded(embedded, req, body, res);
    },
    close() {
      // dynalite's close() closes its store after the HTTP server; ours never listened, so ignore that error.
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** One request: refused by name, passed to dynalite, or answered by an extension under the lock it needs. */
function handleEmbedded(embedded: Embedded, req: IncomingMessage, body: Buffer, res: ServerResponse) {
  const { handler, lock } = embedded;
  // dynalite answers other operations with a bare UnknownOperationException; name the operation instead.
  const target = String(req.headers['x-amz-target'] ?? '');
  const operation = target.slice(target.indexOf('.') + 1);
  if (target.includes('.') && !DYNALITE_OPERATIONS.has(operation) && !EXTENDED.has(operation)) {
    return writeError(res, unsupported('DynamoDB', operation, 'awsJson1_0'), 'awsJson1_0', randomUUID(), 'dynamodb');
  }
  if (nestsDeeperThan(body, MAX_REQUEST_NESTING) || putsTooDeep(operation, body)) {
    return writeReply(res, NESTED_TOO_DEEP);
  }
  const streamed = streamedWrite(embedded, operation, body);
  if (streamed) {
    // Alone, so the images around the write are this write's.
    return lock.exclusive(() =>
      streamed.streams.track(
        captureChanges(embedded.call, streamed.streams, operation, streamed.input, async () => {
          const reply = EXTENDED.has(operation) ? await extendedReply(embedded, operation, body) : undefined;
          if (reply) {
            writeReply(res, reply);
            return reply.status;
          }
          await passThrough(handler, req, body, res);
          return res.statusCode;
        }),
      ),
    );
  }
  if (!EXTENDED.has(operation)) return lock.shared(() => passThrough(handler, req, body, res));
  // An update that may nest its item too deep is undone when it did: nobody may write in between.
  const multiStep =
    operation.startsWith('Transact') ||
    (WRITES.has(operation) && body.includes('ReturnValuesOnConditionCheckFailure')) ||
    (operation === 'UpdateItem' && updateMayDeepen(parseInput(body)));
  const section = multiStep ? lock.exclusive.bind(lock) : lock.shared.bind(lock);
  return section(async () => {
    const reply = await extendedReply(embedded, operation, body);
    if (reply) return writeReply(res, reply);
    await passThrough(handler, req, body, res);
  });
}

/** An extension's answer, or undefined to let dynalite answer (and word the error of a body it cannot read). */
async function extendedReply(
  { call, protection, tokens }: Embedded,
  operation: string,
  body: Buffer,
): Promise<DynamoReply | undefined> {
  const input = body.length === 0 ? {} : parseInput(body);
  if (!input) return undefined;
  switch (operation) {
    case 'TransactWriteItems':
      return transactWriteOnce(call, tokens, input);
    case 'TransactGetItems':
      return transactGetItems(call, input);
    case 'UpdateItem':
      return updateWithinNesting(call, input);
    case 'PutItem':
    case 'DeleteItem':
      return input.ReturnValuesOnConditionCheckFailure === undefined
        ? undefined
        : writeReturningOnFailure(call, operation, input);
    default:
      return protection.handle(call, operation, input);
  }
}

/** A transaction, unless its token says it ran already (answered as it was then) or ran as another request. */
async function transactWriteOnce(
  call: DynamoCall,
  tokens: TransactionTokens,
  input: Record<string, unknown>,
): Promise<DynamoReply> {
  const decision = tokens.decide(input);
  if ('answer' in decision) return decision.answer;
  const reply = await transactWriteItems(call, input);
  decision.remember(reply);
  return reply;
}

/** The embedded DynamoDB alone on a port of 127.0.0.1 (tests, benches): its URL, and how to stop it. */
export async function serveDynamo(options: DynamoOptions = {}): Promise<{ url: string; close(): Promise<void> }> {
  const dynamo = startDynamo(options);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void dynamo.handle(req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await dynamo.close();
    },
  };
}

/** The writes a table's stream records. */
const STREAMED_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** A write to a table whose stream is mapped: its input and the region's streams (undefined = not one). */
function streamedWrite(
  { streams }: Embedded,
  operation: string,
  body: Buffer,
): { streams: RegionStreams; input: Record<string, unknown> } | undefined {
  if (!streams || !STREAMED_WRITES.has(operation)) return undefined;
  const input = parseInput(body);
  return input && writtenTables(operation, input).some((t) => streams.watched(t)) ? { streams, input } : undefined;
}

function parseInput(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

type Written = { table: string; key?: Record<string, unknown>; item?: Record<string, unknown> };

/** The items a write names, by table: a key, or a whole item (PutItem) whose key is picked later. */
function writtenItems(operation: string, input: Record<string, unknown>): Written[] {
  const o = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  switch (operation) {
    case 'PutItem':
      return [{ table: tableNameOf(input.TableName), item: o(input.Item) }];
    case 'UpdateItem':
    case 'DeleteItem':
      return [{ table: tableNameOf(input.TableName), key: o(input.Key) }];
    case 'BatchWriteItem':
      return Object.entries(o(input.RequestItems)).flatMap(([table, requests]) =>
        (Array.isArray(requests) ? requests : []).map((r) => {
          const req = o(r);
          return req.PutRequest
            ? { table: tableNameOf(table), item: o(o(req.PutRequest).Item) }
            : { table: tableNameOf(table), key: o(o(req.DeleteRequest).Key) };
        }),
      );
    case 'TransactWriteItems':
      return (Array.isArray(input.TransactItems) ? input.TransactItems : []).flatMap((t): Written[] => {
        const a = o(t);
        if (a.Put) return [{ table: tableNameOf(o(a.Put).TableName), item: o(o(a.Put).Item) }];
        const kind = a.Update ?? a.Delete;
        return kind ? [{ table: tableNameOf(o(kind).TableName), key: o(o(kind).Key) }] : [];
      });
    default:
      return [];
  }
}

/** Whether a write puts a whole item (PutItem, BatchWriteItem, a transaction's Put) nested past DynamoDB's limit. */
function putsTooDeep(operation: string, body: Buffer): boolean {
  if (!PUTS.has(operation)) return false;
  const input = parseInput(body);
  return input !== undefined && writtenItems(operation, input).some((w) => nestsTooDeep(w.item));
}

/** The writes whose requests carry whole items. */
const PUTS = new Set(['PutItem', 'BatchWriteItem', 'TransactWriteItems']);

function writtenTables(operation: string, input: Record<string, unknown>): string[] {
  return writtenItems(operation, input).map((w) => w.table);
}

/**
 * Runs one write between two reads of the items it names on tables with a mapped stream, and records
 * what changed. Items of other tables are not read. `run` answers the client and returns the status.
 */
async function captureChanges(
  call: DynamoCall,
  streams: RegionStreams,
  operation: string,
  input: Record<string, unknown>,
  run: () => Promise<number>,
): Promise<void> {
  const names = keyNames(call);
  const keys: { table: string; key: Record<string, unknown> }[] = [];
  for (const w of writtenItems(operation, input)) {
    if (!streams.watched(w.table)) continue;
    const n = await names(w.table);
    if (!Array.isArray(n)) continue; // no such table: the write fails on its own
    keys.push({ table: w.table, key: w.key ?? pick(w.item ?? {}, n) });
  }
  const read = async ({ table, key }: { table: string; key: Record<string, unknown> }) => {
    const r = await call('GetItem', { TableName: table, Key: key, ConsistentRead: true });
    return r.status < 400 ? (r.body.Item as Record<string, unknown> | undefined) : undefined;
  };
  const before = await Promise.all(keys.map(read));
  const status = await run();
  if (status >= 400) return;
  const after = await Promise.all(keys.map(read));
  const byTable = new Map<string, ItemChange[]>();
  keys.forEach((k, i) => {
    const list = byTable.get(k.table) ?? [];
    list.push({ key: k.key, before: before[i], after: after[i] });
    byTable.set(k.table, list);
  });
  for (const [table, changes] of byTable) streams.record(table, changes);
}

/**
 * Hands a request to dynalite as it came. dynalite throws from its request 'error' listener (a client
 * that hangs up would crash the process), so it gets a stand-in request that replays the body we
 * already read and never errors. Resolves once the answer is written, or, when the client hung up
 * before (while its request waited behind a transaction, say), once dynalite gave it: a closed
 * response never finishes, and the section this request holds would then never end, holding every
 * transaction and streamed write after it, and every request behind those. DynamoDB still carries out
 * a request it received whether or not its client waits for the answer; so does this.
 */
function passThrough(handler: Handler, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
  const replay = Object.assign(Readable.from(body.length > 0 ? [body] : []), {
    headers: req.headers,
    method: req.method,
    url: req.url,
  });
  return new Promise((resolve) => {
    const answerTo = res.destroyed ? (standInResponse(() => resolve()) as unknown as ServerResponse) : res;
    res.once('finish', resolve);
    res.once('close', resolve);
    try {
      handler(replay, answerTo);
    } catch (err) {
      if (!res.headersSent && !res.destroyed) {
        writeReply(res, {
          status: 500,
          body: {
            __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
            message: String((err as Error).message),
          },
        });
      }
      resolve();
    }
  });
}

/** A response dynalite writes its answer to in this process: `onEnd` gets the status and the answer's text. */
function standInResponse(onEnd: (status: number, raw: string) => void) {
  return {
    statusCode: 200,
    contentType: '',
    setHeader() {},
    end(out?: string | Buffer) {
      onEnd(this.statusCode, out === undefined ? '' : out.toString());
    },
  };
}

/** An in-process call of one dynalite operation, signed as any client's. */
function dynaliteCall(handler: Handler): DynamoCall {
  const headers = {
    'content-type': 'application/x-amz-json-1.0',
    authorization:
      'AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
    'x-amz-date': '20240101T000000Z',
  };
  return (operation, input) =>
    new Promise((resolve) => {
      const text = JSON.stringify(input);
      const req = Object.assign(Readable.from([Buffer.from(text)]), {
        headers: { ...headers, 'x-amz-target': `DynamoDB_20120810.${operation}` },
        method: 'POST',
        url: '/',
      });
      const res = standInResponse((status, raw) => {
        let parsed: Record<string, unknown>;
        try {
          parsed = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
        } catch {
          parsed = dynamoError('InternalServerError', raw).body;
        }
        resolve({ status, body: parsed });
      });
      handler(req, res as unknown as ServerResponse);
    });
}

/** Writes a reply as DynamoDB does (awsJson1_0, with the CRC32 of the body). */
function writeReply(res: ServerResponse, reply: DynamoReply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amz-crc32': String(crc32(text)),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

function proxyTo(endpoint: string): DynamoBackend {
  const target = new URL(endpoint);
  return {
    handle(req, body, res) {
      const headers: IncomingHttpHeaders = { ...req.headers, host: target.host, 'content-length': String(body.length) };
      const out = httpRequest(
        { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', (err) => {
        if (res.headersSent) return void res.destroy();
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
            message: `DynamoDB at ${endpoint} unreachable: ${err.message}`,
          }),
        );
      });
      out.end(body);
    },
    async close() {},
  };
}

/**
 * A DynamoDB client for the local endpoint in `region` (its tables are that region's), with dummy
 * credentials (loaded lazily: the SDK is heavy).
 */
export function localDynamoClient(
  endpoint: string,
  region = DEFAULT_REGION,
): import('@aws-sdk/client-dynamodb').DynamoDBClient {
  const { DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  return new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

type KeySchema = readonly { readonly AttributeName: string; readonly KeyType: string }[];

/** A secondary index as a template declares it; its capacity settings have no local meaning. */
interface TableIndex {
  readonly IndexName: string;
  readonly KeySchema: KeySchema;
  readonly Projection: { readonly ProjectionType?: string; readonly NonKeyAttributes?: readonly string[] };
}

/** A table's keys and indexes, as CloudFormation's `AWS::DynamoDB::Table` and `GlobalTable` declare them. */
export interface TableKeys {
  readonly KeySchema: KeySchema;
  readonly AttributeDefinitions: readonly { readonly AttributeName: string; readonly AttributeType: string }[];
  readonly GlobalSecondaryIndexes?: readonly TableIndex[];
  readonly LocalSecondaryIndexes?: readonly TableIndex[];
}

/** CreateTable's indexes: the template's without their capacity (the local table is on-demand). */
function indexesOf(keys: TableKeys) {
  const index = ({ IndexName, KeySchema, Projection }: TableIndex) => ({ IndexName, KeySchema, Projection });
  const global = keys.GlobalSecondaryIndexes?.map(index);
  const local = keys.LocalSecondaryIndexes?.map(index);
  return {
    ...(global?.length ? { GlobalSecondaryIndexes: global } : {}),
    ...(local?.length ? { LocalSecondaryIndexes: local } : {}),
  };
}

/** The policy table's keys: pk/sk strings (shared/names.ts TABLE). */
export const POLICY_TABLE_KEYS: TableKeys = {
  KeySchema: [
    { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
    { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
  ],
  AttributeDefinitions: [
    { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
    { AttributeName: TABLE.sortKey, AttributeType: 'S' },
  ],
};

/** The region the helpers below work in unless told: the one most tests and the example use. */
const DEFAULT_REGION = 'us-east-1';

/** Creates a table (on-demand) in `region` if it does not exist, and waits until it is ACTIVE. */
export async function createTable(
  endpoint: string,
  tableName: string,
  keys: TableKeys = POLICY_TABLE_KEYS,
  region = DEFAULT_REGION,
): Promise<void> {
  const sdk = await import('@aws-sdk/client-dynamodb');
  const db = localDynamoClient(endpoint, region);
  try {
    try {
      await db.send(
        new sdk.CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: keys.KeySchema as never,
          AttributeDefinitions: keys.AttributeDefinitions as never,
          ...(indexesOf(keys) as object),
        }),
      );
    } catch (err) {
      if ((err as Error).name !== 'ResourceInUseException') throw err;
    }
    // dynalite makes tables ACTIVE at once unless it was started with table state delays.
    for (let i = 0; i < 500; i++) {
      const d = await db.send(new sdk.DescribeTableCommand({ TableName: tableName }));
      if (d.Table?.TableStatus === 'ACTIVE') return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`table ${tableName} did not become ACTIVE within 5 s`);
  } finally {
    db.destroy();
  }
}

/** Creates the policy table (pk/sk strings) in `region` if it does not exist, and waits until ACTIVE. */
export function createPolicyTable(endpoint: string, tableName: string, region = DEFAULT_REGION): Promise<void> {
  return createTable(endpoint, tableName, POLICY_TABLE_KEYS, region);
}

/** Writes items (plain objects) into `region`'s table with BatchWriteItem, 25 at a time, retrying unprocessed ones. */
export async function seedItems(
  endpoint: string,
  tableName: string,
  items: readonly Record<string, unknown>[],
  region = DEFAULT_REGION,
): Promise<void> {
  const sdk = await import('@aws-sdk/client-dynamodb');
  const db = localDynamoClient(endpoint, region);
  try {
    for (let i = 0; i < items.length; i += 25) {
      let requests: { PutRequest: { Item: Record<string, AttributeValue> } }[] | undefined = items
        .slice(i, i + 25)
        .map((item) => ({ PutRequest: { Item: marshallItem(item) } }));
      for (let attempt = 0; requests && requests.length > 0; attempt++) {
        if (attempt > 10) throw new Error(`could not seed ${requests.length} items into ${tableName}`);
        const r = await db.send(new sdk.BatchWriteItemCommand({ RequestItems: { [tableName]: requests as never } }));
        requests = r.UnprocessedItems?.[tableName] as typeof requests;
      }
    }
  } finally {
    db.destroy();
  }
}
