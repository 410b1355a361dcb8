/**
 * DynamoDB Streams and their Lambda event source mappings, as the deployed templates declare them: a
 * table with a `StreamSpecification` and an `AWS::Lambda::EventSourceMapping` on its `StreamArn` gets
 * every change of an item delivered to the mapped function, in order: whatever came in while the
 * previous batch ran goes in the next, up to the mapping's `BatchSize` (as Lambda's poller takes what
 * the shard holds), and a batch is retried while the function fails (Lambda retries a stream batch
 * until it succeeds or its records expire). A write that changes nothing writes no record, as in DynamoDB.
 * Record shape: "Change data capture for DynamoDB Streams" and "Using AWS Lambda with Amazon DynamoDB"
 * (DynamoDB and Lambda Developer Guides). A mapping with filter criteria gets only the records they
 * match (event-filter.ts); the others are dropped, as Lambda drops them.
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '../../shared/attribute-value';
import { itemBytes } from '../../shared/item-size';

type Item = Record<string, unknown>;

/** One item's change: its key, and the item before and after (undefined = absent). */
export interface ItemChange {
  readonly key: Item;
  readonly before?: Item;
  readonly after?: Item;
}

/** The streams of one region's tables: what that region's store asks and tells (dynamodb.ts). */
export interface RegionStreams {
  /** Whether writes to `table` are captured: it has a stream and a function mapped to it. */
  watched(table: string): boolean;
  /** Records the changes of one write and queues them for every mapping on the table's stream. */
  record(table: string, changes: readonly ItemChange[]): void;
  /** Tracks a write being captured (its records come after the client has its answer). */
  track(capture: Promise<void>): Promise<void>;
}

export interface StreamMapping {
  readonly streamArn: string;
  readonly functionName: string;
  readonly batchSize: number;
  /** The mapping's filter criteria: a record it does not accept is not delivered. @default every record */
  readonly accepts?: (record: unknown) => boolean;
  /** Invokes the function synchronously with one batch; rejects on a function error. */
  readonly deliver: (event: { Records: unknown[] }) => Promise<unknown>;
}

interface TableStream {
  readonly arn: string;
  readonly viewType: string;
  readonly region: string;
}

/** A mapping's records not yet delivered, and the loop delivering them (undefined = idle). */
interface Delivery {
  mapping: StreamMapping;
  readonly pending: unknown[];
  pump?: Promise<void>;
}

/** How long a failed batch waits before it is delivered again. */
const RETRY_DELAY_MS = 500;

export class TableStreams {
  private readonly byTable = new Map<string, TableStream>();
  private readonly mappings = new Map<string, Delivery>();
  private readonly capturing = new Set<Promise<void>>();
  private sequence = 0;
  private closed = false;

  constructor(private readonly log: (line: string) => void = () => {}) {}

  /** A table's `StreamSpecification` (StreamViewType), under its `StreamArn`. Tables are regional. */
  declare(table: string, streamArn: string, viewType: string, region: string): void {
    this.byTable.set(tableKey(region, table), { arn: streamArn, viewType, region });
  }

  /** The streams of `region`'s tables (two regions may each have a table of the same name). */
  in(region: string): RegionStreams {
    return {
      watched: (table) => this.watched(region, table),
      record: (table, changes) => this.record(region, table, changes),
      track: (capture) => this.track(capture),
    };
  }

  /** An event source mapping on a stream; declared again with the same function, it replaces the old one. */
  map(mapping: StreamMapping): void {
    const key = `${mapping.streamArn}\0${mapping.functionName}`;
    const existing = this.mappings.get(key);
    if (existing) existing.mapping = mapping;
    else this.mappings.set(key, { mapping, pending: [] });
  }

  private watched(region: string, table: string): boolean {
    const stream = this.byTable.get(tableKey(region, table));
    return stream !== undefined && [...this.mappings.values()].some((m) => m.mapping.streamArn === stream.arn);
  }

  private record(region: string, table: string, changes: readonly ItemChange[]): void {
    const stream = this.byTable.get(tableKey(region, table));
    if (!stream || this.closed) return;
    const records = changes.filter((c) => !sameItem(c.before, c.after)).map((c) => this.toRecord(stream, c));
    if (records.length === 0) return;
    for (const entry of this.mappings.values()) {
      if (entry.mapping.streamArn !== stream.arn) continue;
      const { accepts } = entry.mapping;
      const taken = accepts ? records.filter(accepts) : records;
      if (taken.length === 0) continue;
      entry.pending.push(...taken);
      entry.pump ??= this.pump(entry).finally(() => {
        entry.pump = undefined;
      });
    }
  }

  private track(capture: Promise<void>): Promise<void> {
    this.capturing.add(capture);
    return capture.finally(() => this.capturing.delete(capture));
  }

  /** Resolves once every write captured so far was recorded and every queued batch delivered (tests wait on it). */
  async drained(): Promise<void> {
    while (this.capturing.size > 0) await Promise.allSettled([...this.capturing]);
    await Promise.all([...this.mappings.values()].map((m) => m.pump));
  }

  /** Stops retrying and delivers nothing more. */
  close(): void {
    this.closed = true;
  }

  /** Delivers what is pending, a batch at a time, until nothing is. */
  private async pump(entry: Delivery): Promise<void> {
    while (entry.pending.length > 0 && !this.closed) {
      await this.deliver(entry.mapping, entry.pending.splice(0, entry.mapping.batchSize));
    }
  }

  private async deliver(mapping: StreamMapping, Records: unknown[]): Promise<void> {
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await mapping.deliver({ Records });
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 20 === 0) {
          this.log(`stream batch to ${mapping.functionName} failed (attempt ${attempt}), retrying: ${String(err)}`);
        }
        await new Promise((r) => setTimeout(r, RETRY_DELAY_MS).unref());
      }
    }
  }

  private toRecord(stream: TableStream, change: ItemChange): unknown {
    const eventName = change.before === undefined ? 'INSERT' : change.after === undefined ? 'REMOVE' : 'MODIFY';
    const images: Item = {};
    if (stream.viewType === 'NEW_IMAGE' || stream.viewType === 'NEW_AND_OLD_IMAGES') {
      if (change.after) images.NewImage = change.after;
    }
    if (stream.viewType === 'OLD_IMAGE' || stream.viewType === 'NEW_AND_OLD_IMAGES') {
      if (change.before) images.OldImage = change.before;
    }
    const body = { Keys: change.key, ...images };
    return {
      eventID: randomUUID().replace(/-/g, ''),
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: stream.region,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        ...body,
        SequenceNumber: String(++this.sequence).padStart(21, '0'),
        SizeBytes: Object.values(body).reduce((n, item) => n + wireItemBytes(item), 0),
        StreamViewType: stream.viewType,
      },
      eventSourceARN: stream.arn,
    };
  }
}

const tableKey = (region: string, table: string) => `${region}\0${table}`;

/**
 * A wire item's size as DynamoDB counts it (item-size.ts): what a record's SizeBytes adds up over its key
 * and images, as recorded. DynamoDB's JSON carries binaries in base64; their bytes are what counts.
 */
function wireItemBytes(item: Item): number {
  return itemBytes(decoded({ M: item }).M ?? {});
}

/** A wire value with its binaries as bytes, at any depth. */
function decoded(v: Item): AttributeValue {
  if (typeof v.B === 'string') return { B: Buffer.from(v.B, 'base64') };
  if (Array.isArray(v.BS)) return { BS: v.BS.map((b) => Buffer.from(String(b), 'base64')) };
  if (Array.isArray(v.L)) return { L: v.L.map((e) => decoded(e as Item)) };
  if (v.M && typeof v.M === 'object') {
    return { M: Object.fromEntries(Object.entries(v.M).map(([name, e]) => [name, decoded(e as Item)])) };
  }
  return v as AttributeValue;
}

function sameItem(a: Item | undefined, b: Item | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function sorted(item: Item): Item {
  return Object.fromEntries(Object.entries(item).sort(([x], [y]) => (x < y ? -1 : 1)));
}
