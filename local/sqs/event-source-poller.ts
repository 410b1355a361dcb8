/**
 * The local mesh's SQS event source mappings, as Lambda runs them (AWS Lambda Developer Guide, "Using
 * Lambda with Amazon SQS", "Handling errors for an SQS event source"): poll the queue, invoke the
 * function synchronously with up to BatchSize records (gathered for up to MaximumBatchingWindowInSeconds
 * when the queue holds fewer), then delete the batch on success; on a function
 * error delete nothing (the messages come back after the visibility timeout, and the queue's redrive
 * policy moves them to its dead-letter queue); with ReportBatchItemFailures delete all but the records
 * the response names (an invalid response fails the whole batch, as Lambda treats it).
 */
import { laterInFailedGroups } from '../../shared/fifo-order';
import { type LocalQueue, md5, type QueueMessage, type QueueStore, systemAttributes } from './queue-store';

export interface EventSourceMapping {
  /** `<stack>/<logicalId>`: a redeploy replaces the mapping of the same key. */
  readonly key: string;
  readonly queueArn: string;
  readonly functionName: string;
  readonly qualifier?: string;
  /** @default 10 */
  readonly batchSize?: number;
  /** MaximumBatchingWindowInSeconds: how long a batch that is not full waits for more records. @default 0 */
  readonly maximumBatchingWindowS?: number;
  readonly reportBatchItemFailures: boolean;
  readonly region: string;
  /** The mapping's `FilterCriteria` as a record matcher (local/endpoint/event-filter.ts); none: every record. */
  readonly accepts?: (record: unknown) => boolean;
  /** ScalingConfig.MaximumConcurrency: the most batches in flight at once (2 to 1000). @default 1000 */
  readonly maximumConcurrency?: number;
}

/**
 * Lambda's scaling of an SQS mapping ("Configuring scaling behavior for SQS event source mappings", AWS
 * Lambda Developer Guide): five concurrent batches when messages are available, up to 300 more a
 * minute while they still are, 1,000 at most.
 */
export const SQS_SCALING = { initialBatches: 5, addedPerMinute: 300, maxBatches: 1000 } as const;

/** How often the allowance grows by one batch while messages wait, ms (300 a minute). */
const SCALE_STEP_MS = 60_000 / SQS_SCALING.addedPerMinute;

/**
 * How many batches a mapping may have in flight once messages have been available for `busyMs`
 * without a break: Lambda's five, grown at its rate, capped by MaximumConcurrency (or Lambda's 1,000).
 */
export function concurrentBatches(busyMs: number, maximumConcurrency?: number): number {
  const grown = SQS_SCALING.initialBatches + Math.floor(busyMs / SCALE_STEP_MS);
  return Math.min(grown, maximumConcurrency ?? SQS_SCALING.maxBatches);
}

export interface PollerDeps {
  readonly queues: QueueStore;
  /** A synchronous Invoke; resolves the function's answer, `functionError` set on a function error. */
  readonly invoke: (
    functionName: string,
    qualifier: string | undefined,
    payload: Buffer,
    traceHeader: string | undefined,
  ) => Promise<{ functionError?: string; payload: Uint8Array }>;
  readonly log: (line: string) => void;
  /** How long one poll waits for messages, ms (Lambda long-polls up to 20 s). @default 1000 */
  readonly pollWaitMs?: number;
}

export class EventSourcePoller {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly deps: PollerDeps) {}

  /** Starts (or restarts) polling for a mapping. */
  put(mapping: EventSourceMapping): void {
    this.running.get(mapping.key)?.abort();
    const ac = new AbortController();
    this.running.set(mapping.key, ac);
    void this.loop(mapping, ac.signal);
  }

  stop(): void {
    for (const ac of this.running.values()) ac.abort();
    this.running.clear();
  }

  /**
   * Gathers batches one after another and hands each to an invocation without waiting for it, as long
   * as fewer batches are in flight than the scaling allows; at the cap, waits for one to finish (or for
   * the allowance to grow). A poll that finds the queue empty starts the scaling over at five.
   */
  private async loop(m: EventSourceMapping, signal: AbortSignal): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let busySince: number | undefined;
    let slotFreed: (() => void) | undefined;
    while (!signal.aborted) {
      const q = this.deps.queues.byArn(m.queueArn);
      if (!q) {
        this.deps.log(`event source mapping ${m.key}: queue ${m.queueArn} does not exist; polling stopped`);
        return;
      }
      const allowed = concurrentBatches(Date.now() - (busySince ?? Date.now()), m.maximumConcurrency);
      if (inFlight.size >= allowed) {
        // At the cap only a batch that finishes frees a slot; below it, the allowance also grows with time.
        const grows = allowed < (m.maximumConcurrency ?? SQS_SCALING.maxBatches);
        await pause(grows ? SCALE_STEP_MS : undefined, signal, (wake) => {
          slotFreed = wake;
        });
        continue;
      }
      const batch = await this.gather(m, q, signal);
      if (batch.length === 0) {
        busySince = undefined;
        await q.wait(this.deps.pollWaitMs ?? 1000, signal);
        continue;
      }
      busySince ??= Date.now();
      const run: Promise<void> = this.deliverOrKeep(m, q, batch).finally(() => {
        inFlight.delete(run);
        slotFreed?.();
      });
      inFlight.add(run);
    }
  }

  /** Delivers a batch; an invoke that fails (a throttle, say) deletes nothing: the batch comes back. */
  private async deliverOrKeep(m: EventSourceMapping, q: LocalQueue, batch: readonly QueueMessage[]): Promise<void> {
    try {
      await this.deliver(m, q, batch);
    } catch (err) {
      this.deps.log(`event source mapping ${m.key}: invoke of ${m.functionName} failed: ${(err as Error).message}`);
    }
  }

  /**
   * A batch: what the queue holds now, up to BatchSize; with a batching window, a batch that is not
   * full keeps gathering records until it is or the window, counted from its first record, is over.
   */
  private async gather(m: EventSourceMapping, q: LocalQueue, signal: AbortSignal): Promise<QueueMessage[]> {
    const size = m.batchSize ?? 10;
    const take = (n: number) => q.receive(n, undefined, (arn) => this.deps.queues.byArn(arn));
    const batch = take(size);
    const closeAt = Date.now() + 1000 * (m.maximumBatchingWindowS ?? 0);
    while (batch.length > 0 && batch.length < size && Date.now() < closeAt && !signal.aborted) {
      await q.wait(closeAt - Date.now(), signal);
      batch.push(...take(size - batch.length));
    }
    return batch;
  }

  private async deliver(m: EventSourceMapping, q: LocalQueue, received: readonly QueueMessage[]): Promise<void> {
    const batch = m.accepts ? keepMatching(m.accepts, q, received, m.region) : received;
    if (batch.length === 0) return;
    const event = { Records: batch.map((msg) => sqsRecord(msg, q, m.region)) };
    // The invocation continues the first record's trace (its AWSTraceHeader), as X-Ray shows an SQS hop.
    const trace = batch.find((msg) => msg.traceHeader)?.traceHeader;
    const out = await this.deps.invoke(m.functionName, m.qualifier, Buffer.from(JSON.stringify(event)), trace);
    if (out.functionError) return;
    const failed = m.reportBatchItemFailures ? failuresOf(out.payload, batch) : new Set<string>();
    if (failed === 'all') return;
    const kept = q.settings.fifo ? withRestOfGroup(failed, batch) : failed;
    for (const msg of batch) if (!kept.has(msg.id) && msg.receipt) q.delete(msg.receipt);
  }
}

/** Resolves after `ms` (no `ms`: never), at `signal`, or when the function handed to `onWake` is called. */
function pause(ms: number | undefined, signal: AbortSignal, onWake: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    timer?.unref();
    signal.addEventListener('abort', done);
    onWake(done);
    if (signal.aborted) done();
  });
}

/**
 * The messages of `batch` the mapping's filter matches; the others are deleted unseen, as Lambda deletes
 * the SQS messages a filter does not match ("Filtering events from an Amazon SQS event source", AWS
 * Lambda Developer Guide). A filter sees the record Lambda would deliver, its body parsed when it is
 * JSON (a pattern on `body` fields matches only such a body).
 */
function keepMatching(
  accepts: (record: unknown) => boolean,
  q: LocalQueue,
  batch: readonly QueueMessage[],
  region: string,
): QueueMessage[] {
  const kept: QueueMessage[] = [];
  for (const msg of batch) {
    if (accepts({ ...sqsRecord(msg, q, region), body: jsonOrText(msg.body) })) kept.push(msg);
    else if (msg.receipt) q.delete(msg.receipt);
  }
  return kept;
}

function jsonOrText(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** One record of the SQS event Lambda delivers. */
function sqsRecord(msg: QueueMessage, q: LocalQueue, region: string) {
  return {
    messageId: msg.id,
    receiptHandle: msg.receipt,
    body: msg.body,
    attributes: systemAttributes(msg),
    messageAttributes: Object.fromEntries(
      Object.entries(msg.attributes).map(([k, a]) => [
        k,
        {
          ...(a.StringValue !== undefined ? { stringValue: a.StringValue } : {}),
          ...(a.BinaryValue !== undefined ? { binaryValue: a.BinaryValue } : {}),
          stringListValues: [],
          binaryListValues: [],
          dataType: a.DataType,
        },
      ]),
    ),
    md5OfBody: md5(msg.body),
    eventSource: 'aws:sqs',
    eventSourceARN: q.arn,
    awsRegion: region,
  };
}

/**
 * On a FIFO queue, a failed record keeps every later record of its message group too: deleting them would
 * let the group's order skip the failed one when it comes back ("Using Lambda with Amazon SQS", FIFO
 * queues: Lambda retries the failed messages before it receives more from the same group).
 */
export function withRestOfGroup(failed: ReadonlySet<string>, batch: readonly QueueMessage[]): Set<string> {
  const later = laterInFailedGroups(
    batch,
    (msg) => msg.fifo?.groupId,
    (msg) => failed.has(msg.id),
  );
  return new Set([...failed, ...[...later].map((i) => batch[i]!.id)]);
}

/**
 * The ids a partial batch response names; 'all' when the response is not a valid one for this batch
 * (not JSON, an id it does not hold, or no id): Lambda then counts the whole batch as failed. No
 * response, or an empty or null list, is a complete success.
 */
function failuresOf(payload: Uint8Array, batch: readonly QueueMessage[]): Set<string> | 'all' {
  let answer: unknown;
  try {
    answer = JSON.parse(Buffer.from(payload).toString('utf8') || 'null');
  } catch {
    return 'all';
  }
  const items = (answer as { batchItemFailures?: unknown } | null)?.batchItemFailures;
  if (items === undefined || items === null) return new Set();
  if (!Array.isArray(items)) return 'all';
  const ids = new Set(batch.map((m) => m.id));
  const failed = new Set<string>();
  for (const item of items) {
    const id = (item as { itemIdentifier?: unknown })?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}
