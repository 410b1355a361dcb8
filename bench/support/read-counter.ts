/**
 * A proxy in front of DynamoDB on 127.0.0.1 that counts each read by operation and partition, with the
 * bytes answered and read units two ways: from the bytes on the wire (attribute types and JSON included,
 * an upper bound), and as DynamoDB bills them, from the size of the items answered (the scale simulation's
 * meter).
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AttributeValue } from '../../shared/attribute-value';
import { itemBytes, readUnits } from '../../shared/item-size';

/** What one read kind cost, summed over the run. */
export interface ReadTally {
  count: number;
  bytes: number;
  /** Read units of the bytes answered, in DynamoDB's steps (4 KB; an eventually consistent read is half). */
  units: number;
  /**
   * Read units as DynamoDB bills them: the same steps over the items' size as DynamoDB sizes them (a
   * Query's items summed), not the bytes of their JSON ("DynamoDB read and write operations").
   */
  billedUnits: number;
}

/** One partition's reads second by second from a moment on (`watch`), and a group's (partitions by prefix). */
export interface WatchedPartition {
  pk: string;
  since: number;
  unitsBySecond: number[];
  queries: number;
  /** Partitions whose key starts with this (none: ''), counted together: read units (both ways) and reads by second. */
  groupPrefix: string;
  groupUnitsBySecond: number[];
  groupBilledUnitsBySecond: number[];
  groupReadsBySecond: number[];
  groupReads: number;
}

/** One read the proxy forwarded, as it is counted. */
interface CountedRead {
  /** The operation, from X-Amz-Target (GetItem, Query). */
  readonly op: string;
  readonly pk: string;
  readonly bytes: number;
  /** The size of the items answered, as DynamoDB sizes them. */
  readonly itemBytes: number;
  readonly consistent: boolean;
}

/** The part of a read request that says which partition it reads and how. */
interface ReadInput {
  readonly Key?: { pk?: { S?: string } };
  readonly ExpressionAttributeValues?: Record<string, { S?: string }>;
  readonly ConsistentRead?: boolean;
}

/** What the upstream answered, to pass on as it came. */
interface UpstreamAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface ReadCounter {
  readonly server: Server;
  readonly reads: Record<string, ReadTally>;
  readonly unitsByPartition: Map<string, number>;
  readonly watched: WatchedPartition;
  /**
   * Counts `pk`'s reads second by second from `since` on (instead of the partition watched before), and
   * those of the partitions whose key starts with `groupPrefix`, together.
   */
  watch(pk: string, since: number, groupPrefix?: string): void;
  /** Forgets every read counted so far (the watched partition's stay). */
  reset(): void;
  /** Resolves once no read is in flight. */
  idle(): Promise<void>;
}

/** Pure: the operation a request names in X-Amz-Target (`DynamoDB_20120810.Query` -> `Query`). */
function operationOf(target: string | string[] | undefined): string {
  return (
    String(target ?? '')
      .split('.')
      .pop() ?? '?'
  );
}

/** Pure: the partition a GetItem (its key) or a Query (its `:pk` value) reads. */
function partitionOf(input: ReadInput): string {
  return input.Key?.pk?.S ?? input.ExpressionAttributeValues?.[':pk']?.S ?? '?';
}

/** A proxy to DynamoDB on 127.0.0.1:`upstreamPort`; `now` is the simulated clock the watched seconds count by. */
export function readCounter(upstreamPort: number, now: () => number): ReadCounter {
  const reads: Record<string, ReadTally> = {};
  const unitsByPartition = new Map<string, number>();
  const watched: WatchedPartition = unwatched('', 0);
  const flights = inFlight();
  const count = (read: CountedRead) => {
    const units = readUnits(read.bytes, read.consistent);
    const billed = readUnits(read.itemBytes, read.consistent);
    reads[read.op] ??= { count: 0, bytes: 0, units: 0, billedUnits: 0 };
    const t = reads[read.op];
    t.count++;
    t.bytes += read.bytes;
    t.units += units;
    t.billedUnits += billed;
    unitsByPartition.set(read.pk, (unitsByPartition.get(read.pk) ?? 0) + units);
    countWatched(watched, read, { units, billed }, now());
  };
  /** Forwards one request and counts it once it is answered, before the caller sees the answer. */
  const relay = async (req: IncomingMessage, res: ServerResponse) => {
    const op = operationOf(req.headers['x-amz-target']);
    const body = await readBody(req);
    const input = JSON.parse(body.toString() || '{}') as ReadInput;
    let answer: UpstreamAnswer;
    try {
      answer = await forward(req, body, upstreamPort);
    } catch {
      res.destroy();
      return;
    }
    count({
      op,
      pk: partitionOf(input),
      bytes: answer.body.length,
      itemBytes: answeredItemBytes(answer.body),
      consistent: Boolean(input.ConsistentRead),
    });
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
    flights.end();
  };
  const server = http.createServer((req, res) => {
    flights.begin();
    void relay(req, res);
  });
  return {
    server,
    reads,
    unitsByPartition,
    watched,
    watch(pk: string, since: number, groupPrefix = '') {
      Object.assign(watched, unwatched(pk, since, groupPrefix));
    },
    reset() {
      for (const k of Object.keys(reads)) delete reads[k];
      unitsByPartition.clear();
    },
    idle: flights.idle,
  };
}

/** Pure: the size of the items a GetItem (`Item`) or a Query (`Items`, summed) answered; 0 for none or an error. */
export function answeredItemBytes(body: Buffer): number {
  let out: { Item?: Record<string, AttributeValue>; Items?: Record<string, AttributeValue>[] };
  try {
    out = JSON.parse(body.toString() || '{}');
  } catch {
    return 0;
  }
  const items = out.Items ?? (out.Item ? [out.Item] : []);
  return items.reduce((a, item) => a + itemBytes(item), 0);
}

function unwatched(pk: string, since: number, groupPrefix = ''): WatchedPartition {
  return {
    pk,
    since,
    unitsBySecond: [],
    queries: 0,
    groupPrefix,
    groupUnitsBySecond: [],
    groupBilledUnitsBySecond: [],
    groupReadsBySecond: [],
    groupReads: 0,
  };
}

/** Adds `n` to second `second` of `bySecond`. */
function add(bySecond: number[], second: number, n: number): void {
  bySecond[second] = (bySecond[second] ?? 0) + n;
}

/** A read of the watched partition or group into its second (seconds since the watch began, by the simulated clock). */
function countWatched(
  watched: WatchedPartition,
  read: CountedRead,
  units: { readonly units: number; readonly billed: number },
  now: number,
): void {
  const second = Math.floor((now - watched.since) / 1000);
  if (read.pk === watched.pk) {
    add(watched.unitsBySecond, second, units.units);
    if (read.op === 'Query') watched.queries++;
  }
  if (watched.groupPrefix && read.pk.startsWith(watched.groupPrefix)) {
    add(watched.groupUnitsBySecond, second, units.units);
    add(watched.groupBilledUnitsBySecond, second, units.billed);
    add(watched.groupReadsBySecond, second, 1);
    watched.groupReads++;
  }
}

/** Requests begun and not yet answered, and a wait for the moment there are none. */
function inFlight() {
  let open = 0;
  let wake: (() => void) | undefined;
  return {
    begin: () => {
      open++;
    },
    end: () => {
      if (--open === 0) wake?.();
    },
    idle: () =>
      new Promise<void>((r) => {
        if (open === 0) r();
        else wake = r;
      }),
  };
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** The request as it came, sent on to the upstream; its whole answer. */
function forward(req: IncomingMessage, body: Buffer, upstreamPort: number): Promise<UpstreamAnswer> {
  return new Promise((resolve, reject) => {
    const up = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        void readBody(upRes).then((answer) =>
          resolve({ status: upRes.statusCode ?? 502, headers: upRes.headers, body: answer }),
        );
      },
    );
    up.on('error', reject);
    up.end(body);
  });
}

/** Listens on an ephemeral port of 127.0.0.1; resolves with the port. */
export function listen(server: Server): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

/** Closes the server and the connections still open to it. */
export function close(server: Server): Promise<void> {
  return new Promise((r) => {
    server.closeAllConnections?.();
    server.close(() => r());
  });
}
