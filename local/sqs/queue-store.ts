/**
 * The local mesh's SQS queues, in memory (Amazon SQS Developer Guide: "Amazon SQS visibility timeout",
 * "Using dead-letter queues", "Amazon SQS short and long polling"): a received message is hidden for the
 * visibility timeout and comes back unless deleted with its receipt handle; after `maxReceiveCount`
 * receives it moves to the dead-letter queue of the redrive policy; a receive waits up to its wait time
 * for a message; messages past the retention period are dropped. A FIFO queue ("Amazon SQS FIFO
 * queues") delivers each message group in the order sent, holds a group back while one of its messages is
 * in flight, and drops a message whose deduplication id it saw in the last 5 minutes. No I/O.
 */
import { createHash, randomUUID } from 'node:crypto';

export interface MessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

export interface QueueMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, MessageAttribute>>;
  readonly sentAt: number;
  /** The sender's X-Ray trace header (system attribute AWSTraceHeader). */
  readonly traceHeader?: string;
  /** The queue a redrive moved it from (system attribute DeadLetterQueueSourceArn). */
  deadLetterSourceArn?: string;
  /** A FIFO queue's: MessageGroupId, MessageDeduplicationId and SequenceNumber. */
  readonly fifo?: FifoFields;
  /** A standard queue's MessageGroupId, if the sender named one (a fair queue's tenant): carried, never ordered. */
  readonly groupId?: string;
  receiveCount: number;
  firstReceivedAt?: number;
  /** When the receive that issued `receipt` took it: its visibility may reach 12 hours past that. */
  receivedAt?: number;
  visibleAt: number;
  receipt?: string;
}

export interface FifoFields {
  readonly groupId: string;
  readonly deduplicationId: string;
  readonly sequenceNumber: string;
}

export interface QueueSettings {
  /** FifoQueue: set at creation, never changed. */
  readonly fifo?: boolean;
  /** ContentBasedDeduplication (FIFO only): a message without a deduplication id is deduplicated on its body's SHA-256. */
  readonly contentBasedDeduplication?: boolean;
  /**
   * DeduplicationScope (FIFO only): `messageGroup` deduplicates within each message group, `queue` (the
   * default) across the queue. FifoThroughputLimit is shown as given (the local queue has no throughput limit).
   */
  readonly deduplicationScope?: string;
  readonly fifoThroughputLimit?: string;
  /** Seconds. @default 30 */
  readonly visibilityTimeoutS?: number;
  /** Seconds. @default 345600 (4 days) */
  readonly retentionS?: number;
  /** DelaySeconds: how long a message sent without its own delay stays hidden, seconds. @default 0 */
  readonly delayS?: number;
  /** ReceiveMessageWaitTimeSeconds: how long a receive that names no wait time waits. @default 0 */
  readonly receiveWaitS?: number;
  /** MaximumMessageSize: the most bytes a message (body and attributes) may hold. @default 1,048,576 (1 MiB) */
  readonly maximumMessageBytes?: number;
  readonly redrive?: { readonly deadLetterTargetArn: string; readonly maxReceiveCount: number };
  /** The queue's access policy, as SetQueueAttributes gave it (JSON text); the local mesh enforces none. */
  readonly policy?: string;
  /**
   * Encryption, kept and shown but not applied: SQS-managed (SqsManagedSseEnabled, on by default) or a
   * KMS key (KmsMasterKeyId, with KmsDataKeyReusePeriodSeconds, 300 by default).
   */
  readonly sqsManagedSse?: boolean;
  readonly kmsMasterKeyId?: string;
  readonly kmsDataKeyReusePeriodS?: number;
}

export interface SendOptions {
  readonly attributes?: Readonly<Record<string, MessageAttribute>>;
  /** The sender's X-Ray trace header (system attribute AWSTraceHeader). */
  readonly traceHeader?: string;
  /** The message's own DelaySeconds. @default the queue's */
  readonly delayS?: number;
  /** MessageGroupId: a FIFO queue's group (the caller checked it is there), a standard queue's tenant. */
  readonly groupId?: string;
  /** A FIFO queue's MessageDeduplicationId. */
  readonly deduplicationId?: string;
}

/** SQS takes one PurgeQueue a queue in this long ("PurgeQueue", Amazon SQS API Reference). */
export const PURGE_INTERVAL_MS = 60_000;

/** How long a FIFO queue remembers a deduplication id ("Exactly-once processing in Amazon SQS"). */
export const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

/**
 * A received message stays hidden at most 12 hours from the receive, however its visibility is changed
 * ("ChangeMessageVisibility", Amazon SQS API Reference).
 */
export const MAX_VISIBILITY_S = 43_200;

/** What a DeleteMessage or ChangeMessageVisibility made of its receipt handle. */
export type ReceiptOutcome = 'done' | 'invalid' | 'unknown' | 'expired' | 'too-long';

/**
 * A receipt handle names the queue that issued it, as SQS's do (a handle of one queue is not one of
 * another's): the queue's ARN, the message id and a random part, in base64.
 */
function receiptFor(queueArn: string, messageId: string): string {
  return Buffer.from(`${queueArn} ${messageId} ${randomUUID()}`).toString('base64');
}

/** The ARN of the queue that issued `receipt`, or undefined for a string no queue issues. */
export function receiptQueueArn(receipt: string): string | undefined {
  const parts = Buffer.from(receipt, 'base64').toString('utf8').split(' ');
  return parts.length === 3 && parts[0]!.startsWith('arn:') ? parts[0] : undefined;
}

export class LocalQueue {
  readonly messages: QueueMessage[] = [];
  private readonly waiters = new Set<() => void>();
  /** When the queue was created, and its attributes last changed (CreatedTimestamp, LastModifiedTimestamp), ms. */
  readonly createdAt: number;
  private modifiedAt: number;
  /** A FIFO queue's deduplication ids of the last 5 minutes (within their group, if so scoped), with the message each one sent. */
  private readonly deduplication = new Map<string, QueueMessage>();
  /**
   * Whether deduplication is per message group: the DeduplicationScope the queue was created with. SQS
   * kept deduplicating as created after SetQueueAttributes changed the scope, either way (recorded:
   * test_fifo_change_to_high_throughput_after_creation, ..._to_regular_throughput_after_creation).
   */
  private readonly perGroup: boolean;
  /** The last SequenceNumber given: it only grows (SQS's are 20 digits or more). */
  private sequence = 0n;
  /** When the last purge was taken, ms (none yet: -Infinity). */
  private purgedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly name: string,
    readonly arn: string,
    readonly url: string,
    private current: QueueSettings,
    now = Date.now(),
  ) {
    this.createdAt = now;
    this.modifiedAt = now;
    this.perGroup = current.deduplicationScope === 'messageGroup';
  }

  get settings(): QueueSettings {
    return this.current;
  }

  get lastModifiedAt(): number {
    return this.modifiedAt;
  }

  /** Replaces the queue's attributes (a redeploy, SetQueueAttributes), counted as a change. */
  configure(settings: QueueSettings, now = Date.now()): void {
    this.current = settings;
    this.modifiedAt = now;
  }

  /**
   * Enqueues a message, hidden for its delay (`delayS`, else the queue's DelaySeconds). On a FIFO queue, a
   * deduplication id seen within the last 5 minutes enqueues nothing and answers the first message.
   */
  send(body: string, options: SendOptions = {}, now = Date.now()): QueueMessage {
    const deduplicationId = this.settings.fifo ? this.deduplicationIdOf(body, options, now) : undefined;
    const key = this.perGroup ? `${options.groupId ?? ''}\n${deduplicationId}` : deduplicationId;
    const seen = key === undefined ? undefined : this.deduplication.get(key);
    if (seen) return seen;
    const delayS = options.delayS ?? this.settings.delayS ?? 0;
    const m: QueueMessage = {
      id: randomUUID(),
      body,
      attributes: options.attributes ?? {},
      sentAt: now,
      receiveCount: 0,
      visibleAt: now + 1000 * delayS,
      ...(options.traceHeader ? { traceHeader: options.traceHeader } : {}),
      ...(!this.settings.fifo && options.groupId !== undefined ? { groupId: options.groupId } : {}),
      ...(deduplicationId === undefined
        ? {}
        : { fifo: { groupId: options.groupId ?? '', deduplicationId, sequenceNumber: this.nextSequenceNumber(now) } }),
    };
    if (key !== undefined) this.deduplication.set(key, m);
    this.messages.push(m);
    for (const w of [...this.waiters]) w();
    return m;
  }

  /** A FIFO message's deduplication id (its own, else its body's SHA-256); ids past the window are forgotten first. */
  private deduplicationIdOf(body: string, options: SendOptions, now: number): string {
    for (const [id, m] of this.deduplication)
      if (now - m.sentAt >= DEDUPLICATION_WINDOW_MS) this.deduplication.delete(id);
    return options.deduplicationId ?? createHash('sha256').update(body, 'utf8').digest('hex');
  }

  /** The next SequenceNumber: larger than any before, 20 digits (the clock in ns, or one more than the last). */
  private nextSequenceNumber(now: number): string {
    const fromClock = BigInt(now) * 1_000_000n;
    this.sequence = this.sequence >= fromClock ? this.sequence + 1n : fromClock;
    return this.sequence.toString().padStart(20, '0');
  }

  /**
   * Takes a message another queue's redrive moved here. It stays the same message (its id, its sent time,
   * which its retention still counts from: Amazon SQS Developer Guide, "Setting-up dead-letter queue
   * retention in Amazon SQS") and names the queue it came from (DeadLetterQueueSourceArn).
   */
  moveIn(m: QueueMessage, sourceArn: string, now = Date.now()): void {
    m.receiveCount = 0;
    m.firstReceivedAt = undefined;
    m.receipt = undefined;
    m.visibleAt = now;
    m.deadLetterSourceArn = sourceArn;
    this.messages.push(m);
    for (const w of [...this.waiters]) w();
  }

  /**
   * Up to `max` visible messages, each hidden for the visibility timeout; expired and redriven ones first
   * go. On a FIFO queue, messages come in the order sent, and a group with a message not visible (in
   * flight or delayed) gives none of its later ones.
   */
  receive(
    max: number,
    visibilityS: number | undefined,
    dlq: (arn: string) => LocalQueue | undefined,
    now = Date.now(),
  ) {
    this.expire(now);
    const out: QueueMessage[] = [];
    const heldGroups = new Set<string>();
    for (const m of [...this.messages]) {
      if (out.length >= max) break;
      if (m.fifo && heldGroups.has(m.fifo.groupId)) continue;
      if (m.visibleAt > now) {
        if (m.fifo) heldGroups.add(m.fifo.groupId);
        continue;
      }
      if (this.redriven(m, dlq, now)) continue;
      m.receiveCount++;
      m.firstReceivedAt ??= now;
      m.receivedAt = now;
      m.visibleAt = now + 1000 * (visibilityS ?? this.settings.visibilityTimeoutS ?? 30);
      m.receipt = receiptFor(this.arn, m.id);
      out.push(m);
    }
    return out;
  }

  /** Moves a message received `maxReceiveCount` times to the redrive policy's dead-letter queue, if it exists. */
  private redriven(m: QueueMessage, dlq: (arn: string) => LocalQueue | undefined, now: number): boolean {
    const redrive = this.settings.redrive;
    if (!redrive || m.receiveCount < redrive.maxReceiveCount) return false;
    const target = dlq(redrive.deadLetterTargetArn);
    if (!target) return false;
    this.remove(m);
    target.moveIn(m, this.arn, now);
    return true;
  }

  /**
   * Deletes by receipt handle. A string this queue did not issue is `invalid`; a handle of a message
   * gone, or received again since, deletes nothing (`unknown`: SQS answers it without an error). A FIFO
   * queue refuses the handle of a message whose visibility timeout has passed (`expired`, nothing
   * deleted), as SQS answers it (recorded): the message is its group's next again, for another receiver.
   */
  delete(receipt: string, now = Date.now()): ReceiptOutcome {
    const m = this.issued(receipt);
    if (typeof m === 'string') return m;
    if (this.settings.fifo && m.visibleAt <= now) return 'expired';
    this.remove(m);
    return 'done';
  }

  /**
   * Hides the message for `timeoutS` from now; `too-long` (nothing changed) where that ends more than
   * 12 hours after the receive that issued the handle. `invalid` and `unknown` as for delete.
   */
  changeVisibility(receipt: string, timeoutS: number, now = Date.now()): ReceiptOutcome {
    const m = this.issued(receipt);
    if (typeof m === 'string') return m;
    if (now + 1000 * timeoutS > (m.receivedAt ?? now) + 1000 * MAX_VISIBILITY_S) return 'too-long';
    m.visibleAt = now + 1000 * timeoutS;
    if (timeoutS === 0) for (const w of [...this.waiters]) w();
    return 'done';
  }

  /** The message `receipt` is the current handle of, or why there is none. */
  private issued(receipt: string): QueueMessage | 'invalid' | 'unknown' {
    if (receiptQueueArn(receipt) !== this.arn) return 'invalid';
    return this.messages.find((x) => x.receipt === receipt) ?? 'unknown';
  }

  /** Deletes every message; false, deleting nothing, within 60 seconds of the last purge (SQS's PurgeQueueInProgress). */
  purge(now = Date.now()): boolean {
    if (now - this.purgedAt < PURGE_INTERVAL_MS) return false;
    this.purgedAt = now;
    this.messages.length = 0;
    this.deduplication.clear();
    return true;
  }

  /** Resolves when a message may be visible, or after `ms` (or at `signal`). */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const nextVisible = Math.min(...this.messages.map((m) => m.visibleAt));
      const wake = Number.isFinite(nextVisible) ? Math.max(0, Math.min(ms, nextVisible - Date.now())) : ms;
      const timer = setTimeout(done, wake);
      timer.unref();
      this.waiters.add(done);
      signal?.addEventListener('abort', done);
    });
  }

  /** Visible, in flight (received, not yet visible again) and delayed (never yet visible) messages. */
  counts(now = Date.now()): { visible: number; inFlight: number; delayed: number } {
    const hidden = this.messages.filter((m) => m.visibleAt > now);
    const delayed = hidden.filter((m) => m.receiveCount === 0).length;
    return { visible: this.messages.length - hidden.length, inFlight: hidden.length - delayed, delayed };
  }

  private expire(now: number): void {
    const retentionMs = 1000 * (this.settings.retentionS ?? 345_600);
    for (const m of [...this.messages]) if (now - m.sentAt > retentionMs) this.remove(m);
  }

  private remove(m: QueueMessage): void {
    const i = this.messages.indexOf(m);
    if (i >= 0) this.messages.splice(i, 1);
  }
}

/** The queues of one local mesh, by name and by ARN. */
export class QueueStore {
  private readonly byName = new Map<string, LocalQueue>();

  constructor(
    private readonly where: { readonly region: string; readonly accountId: string; endpointUrl: () => string },
  ) {}

  arnOf(name: string): string {
    return `arn:aws:sqs:${this.where.region}:${this.where.accountId}:${name}`;
  }

  /** The queue URL the SDK sends to: the local endpoint (the SDK uses a queue URL's host as its endpoint). */
  urlOf(name: string): string {
    return `${this.where.endpointUrl()}/${this.where.accountId}/${name}`;
  }

  /** Creates the queue, or updates its settings (CreateQueue of an existing name, a redeploy). */
  put(name: string, settings: QueueSettings = {}): LocalQueue {
    const q = this.byName.get(name);
    if (q) {
      q.configure(settings);
      return q;
    }
    const created = new LocalQueue(name, this.arnOf(name), this.urlOf(name), settings);
    this.byName.set(name, created);
    return created;
  }

  get(name: string): LocalQueue | undefined {
    return this.byName.get(name);
  }

  byArn(arn: string): LocalQueue | undefined {
    const name = arn.split(':').pop() ?? '';
    const q = this.byName.get(name);
    return q?.arn === arn ? q : undefined;
  }

  /** The queue a QueueUrl names (any host: only the account and name are read). */
  byUrl(url: string): LocalQueue | undefined {
    const m = /\/(\d{12})\/([^/?#]+)\/?$/.exec(url);
    return m && m[1] === this.where.accountId ? this.byName.get(m[2]!) : undefined;
  }

  list(): LocalQueue[] {
    return [...this.byName.values()];
  }

  delete(name: string): void {
    this.byName.delete(name);
  }
}

/** Sender id of every local message: the local mesh has no IAM principals. */
const LOCAL_SENDER_ID = 'AIDAEXAMPLELOCALMESH';

/** A message's system attributes (Amazon SQS API Reference, "ReceiveMessage", MessageSystemAttributeNames). */
export function systemAttributes(m: QueueMessage): Record<string, string> {
  return {
    ApproximateReceiveCount: String(m.receiveCount),
    SentTimestamp: String(m.sentAt),
    SenderId: LOCAL_SENDER_ID,
    ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
    ...(m.traceHeader ? { AWSTraceHeader: m.traceHeader } : {}),
    ...(m.deadLetterSourceArn ? { DeadLetterQueueSourceArn: m.deadLetterSourceArn } : {}),
    ...(m.groupId !== undefined ? { MessageGroupId: m.groupId } : {}),
    ...(m.fifo
      ? {
          MessageGroupId: m.fifo.groupId,
          MessageDeduplicationId: m.fifo.deduplicationId,
          SequenceNumber: m.fifo.sequenceNumber,
        }
      : {}),
  };
}

export function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/**
 * MD5OfMessageAttributes as SQS computes it (Amazon SQS Developer Guide, "Calculating the MD5 message
 * digest for message attributes"): per attribute in name order, each of name, data type and value
 * length-prefixed (4 bytes, big-endian), the value after a transport byte (1 string, 2 binary).
 */
export function md5OfAttributes(attributes: Readonly<Record<string, MessageAttribute>>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const field = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  };
  for (const n of names) {
    const a = attributes[n]!;
    field(Buffer.from(n, 'utf8'));
    field(Buffer.from(a.DataType, 'utf8'));
    const binary = a.BinaryValue !== undefined;
    parts.push(Buffer.from([binary ? 2 : 1]));
    field(binary ? Buffer.from(a.BinaryValue!, 'base64') : Buffer.from(a.StringValue ?? '', 'utf8'));
  }
  return createHash('md5').update(Buffer.concat(parts)).digest('hex');
}
