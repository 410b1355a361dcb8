/**
 * The inbound side of queues, topics and buses: each record of a batch is checked on its own, as a
 * synchronous call is (identity, then policy), and only the records let in reach the handler, in one
 * invocation. A refused record is dropped and reported (access log, `denied_total`, reason in this
 * function's log only); for SQS it is named in the partial batch response (`batchItemFailures`), so it
 * stays in the queue and ends in its dead-letter queue instead of being lost. A refused SNS or
 * EventBridge delivery (one record) fails the invocation, so Lambda's retries and on-failure
 * destination keep it. Each record's trace continues the sender's: a subsegment under its send.
 *
 * Loaded by the wrapper only for an event that may carry records (metadata.ts `mayCarryRecords`).
 */
import { laterInFailedGroups } from '../../../shared/fifo-order';
import { channelSpiffeId, EXTERNAL, type MeshMetadata, UNKNOWN_SOURCE } from '../../../shared/names';
import { newSegmentId, type TraceContext } from '../../../shared/trace-header';
import type { InvocationScope } from '../invocation-scope';
import type { MeshRuntime } from '../mesh-runtime';
import { monotonicMs } from '../telemetry/monotonic-ms';
import type { EventBatch, EventRecord, Lent } from './event-records';

export { type Lent, readBatch } from './event-records';

/** What the wrapper lends a batch: the handler against the function's timeout, in a scope. */
export interface BatchHost {
  readonly rt: MeshRuntime;
  readonly requestId: string;
  readonly version: string;
  readonly getRemainingTimeInMillis?: () => number;
  /** The trace Lambda gave this invocation (the first record's sender's, when Lambda continued it). */
  readonly trace?: TraceContext;
  run(event: unknown, scope: InvocationScope): Promise<unknown>;
  /** The error a refused delivery fails with: `denied` or `unauthenticated` and the request id, nothing more. */
  refusal(outcome: 'denied' | 'unauthenticated'): Error;
  /** The wrapper's readers (event-records.ts `Lent`). */
  readonly lent: Lent;
}

/** How one record fared at the door. */
type Verdict =
  /** `rh`: the routing headers the sender vouched for (none from a token of an older layer). */
  | { readonly ok: true; readonly source: string; readonly rh?: MeshMetadata['rh'] }
  | {
      readonly ok: false;
      readonly outcome: 'unauthenticated' | 'denied';
      readonly reason: string;
      readonly source: string;
    };

export async function serveBatch(batch: EventBatch, host: BatchHost): Promise<unknown> {
  const t0 = monotonicMs();
  const startS = Date.now() / 1000;
  const verdicts = await admitAll(batch, host);
  // On a FIFO queue the records after a refused one of its group wait with it, unseen by the handler
  // and named in the partial batch response, so the group is handled in the order sent when it comes
  // back. Handled now, they would run before it: a sender refused for a moment, or one unsigned record
  // slipped into a group, would reorder the group's real messages.
  const held = laterInFailedGroups(
    batch.records,
    (r) => r.group,
    (_, i) => !verdicts[i]!.ok,
  );
  // Each record's segment id, known before the handler runs: its outbound calls hang under it.
  const segmentIds = batch.records.map(() => newSegmentId());
  const kept = verdicts.flatMap((v, i) => (v.ok && !held.has(i) ? [i] : []));
  const returned = batch.records.filter((_, i) => !verdicts[i]!.ok || held.has(i));
  let result: unknown;
  let failed: Error | undefined;
  if (kept.length > 0) {
    try {
      result = await host.run(batch.rebuild(kept), scopeOf(batch, kept, verdicts, host, segmentIds));
    } catch (err) {
      failed = err instanceof Error ? err : new Error(String(err));
    }
  }
  const handlerFailures = failed ? undefined : failuresIn(result);
  batch.records.forEach((r, i) => {
    // A held record was not handled: it is judged and counted when it comes back with its group.
    if (held.has(i)) return;
    const v = verdicts[i]!;
    const outcome = !v.ok ? v.outcome : failed || handlerFailures?.has(r.id) ? 'function-error' : 'success';
    recordOne(host, batch, r, v, { outcome, durationMs: monotonicMs() - t0, startS, failed, id: segmentIds[i]! });
  });
  if (failed) throw failed;
  if (returned.length === 0) return result;
  if (batch.kind !== 'sqs') {
    // One delivery, refused: failing the invocation keeps it for Lambda's retries and on-failure
    // destination. It says what a refused caller of a call would learn: denied or unauthenticated.
    if (kept.length === 0) throw host.refusal(verdicts.find((v) => !v.ok)!.outcome);
    return result;
  }
  return { batchItemFailures: [...new Set([...returned.map((r) => r.id), ...(handlerFailures ?? [])])].map(itemOf) };
}

/**
 * Each record's identity (identity on), then the policy for its verified sender: this function's own
 * and, for a record of the mesh, its channel's. The channel's items are the ones `mesh policy deny
 * <sender> <channel>` writes; asked only by the sender, they stopped its next send and not what it
 * sent before the deny, still waiting in the queue, nor what anyone holding its role sent past its runtime.
 */
async function admitAll(batch: EventBatch, host: BatchHost): Promise<Verdict[]> {
  const { rt } = host;
  const identity = batch.records.some((r) => r.meta) ? await rt.identity() : undefined;
  const decidedAt = rt.policy.now();
  return Promise.all(
    batch.records.map(async (r): Promise<Verdict> => {
      const v = verifyRecord(host, r, identity);
      if (!v.ok) return v;
      // A verified record of the mesh names a channel this function consumes (channelCheck). A record
      // from outside the mesh has none: its sender is asked about this function's policy only (the
      // second time, the decision memoised for this copy answers).
      for (const name of [rt.config.service, r.meta?.ch ?? rt.config.service]) {
        const eff = rt.policy.authorize(await rt.policy.get(name), v.source, decidedAt);
        // A record from outside the mesh claims no sender: it counts as `external`, as a refused
        // synchronous call from outside does, not among the callers whose identity did not verify.
        if (!eff.allowed)
          return {
            ok: false,
            outcome: 'denied',
            reason: `${eff.reason}: ${eff.detail}`,
            source: r.meta ? UNKNOWN_SOURCE : EXTERNAL,
          };
      }
      return v;
    }),
  );
}

function verifyRecord(
  host: BatchHost,
  r: EventRecord,
  identity: Awaited<ReturnType<MeshRuntime['identity']>>,
): Verdict {
  const { meta } = r;
  if (!meta) return { ok: true, source: EXTERNAL };
  const refuse = (reason: string): Verdict => ({
    ok: false,
    outcome: 'unauthenticated',
    reason,
    source: UNKNOWN_SOURCE,
  });
  const channel = channelCheck(host, r, meta);
  if (channel) return refuse(channel);
  if (!identity) return { ok: true, source: meta.src, rh: meta.rh };
  const v = identity.verify({
    token: meta.tok,
    source: meta.src,
    payload: r.payload,
    idempotencyKey: meta.idk,
    audience: channelSpiffeId(host.rt.config.meshName, meta.ch!),
    async: true,
    context: meta,
  });
  return v.ok
    ? { ok: true, source: meta.src, rh: host.lent.vouchedMetadata(meta, v.contextBound).rh }
    : refuse(v.reason);
}

/**
 * A record of the mesh names its channel; this function must consume it (MESH_INBOUND_CHANNELS), and a
 * queue's or topic's record must come from that channel's ARN: a token for one channel is not good on another.
 */
function channelCheck(host: BatchHost, r: EventRecord, meta: MeshMetadata): string | undefined {
  if (!meta.ch) return 'channel-missing';
  const inbound = host.rt.inboundChannels;
  if (typeof inbound === 'string') return `inbound-channels-malformed: ${inbound}`;
  const arn = inbound.get(meta.ch);
  if (arn === undefined) return `channel-not-consumed: ${meta.ch}`;
  if (r.sourceArn !== undefined && r.sourceArn !== arn) return `channel-arn-mismatch: ${meta.ch}`;
  return undefined;
}

/**
 * The scope the handler runs in: one record's sender, key and trace; several records' common sender,
 * Lambda's request id as the key, and the first record's trace (`continued`). Where the mesh writes
 * the first record's segment (Lambda did not continue its trace), the handler's calls hang under it.
 */
function scopeOf(
  batch: EventBatch,
  kept: readonly number[],
  verdicts: readonly Verdict[],
  host: BatchHost,
  segmentIds: readonly string[],
): InvocationScope {
  const first = batch.records[kept[0]!]!;
  const firstVerdict = verdicts[kept[0]!] as Extract<Verdict, { ok: true }>;
  const sources = new Set(kept.map((i) => verdicts[i]!.source));
  const one = kept.length === 1;
  const trace = traceOf(first, host);
  return {
    source: sources.size === 1 ? [...sources][0] : EXTERNAL,
    idempotencyKey: (one ? first.meta?.idk : undefined) ?? host.requestId,
    attempt: one ? first.meta?.att : undefined,
    trace:
      trace && meshWritesSegment(host, trace) ? { ...trace, parent: segmentIds[kept[0]!] } : continued(host, trace),
    requestId: host.requestId,
    getRemainingTimeInMillis: host.getRemainingTimeInMillis,
    calls: new Map(),
    ...(one && firstVerdict.rh ? { routeHeaders: firstVerdict.rh } : {}),
  };
}

function traceOf(r: EventRecord, host: BatchHost): TraceContext | undefined {
  const h = host.lent.parseTraceHeader(r.meta?.trc);
  return h && { ...h, sampled: h.sampled ?? false };
}

/**
 * Whether the mesh writes a record's segment into the sender's trace: a sampled trace that Lambda did
 * not continue itself (in AWS an SQS batch's invocation has a trace of its own, which X-Ray links to
 * the senders' traces: AWS X-Ray Developer Guide, "Tracing event-driven applications").
 */
function meshWritesSegment(host: BatchHost, trace: TraceContext): boolean {
  return trace.sampled && host.trace?.root !== trace.root;
}

/**
 * The record's own trace where Lambda did not continue it, else Lambda's: a record without one (sent
 * from outside the mesh) is handled in the invocation's trace, so its calls hang under its segment.
 */
function continued(host: BatchHost, trace: TraceContext | undefined): TraceContext | undefined {
  return trace && host.trace?.root !== trace.root ? trace : host.trace;
}

/** The record ids the handler's own partial batch response names. */
function failuresIn(result: unknown): Set<string> | undefined {
  const items = (result as { batchItemFailures?: unknown } | undefined)?.batchItemFailures;
  if (!Array.isArray(items)) return undefined;
  return new Set(items.map((i) => String((i as { itemIdentifier?: unknown })?.itemIdentifier)));
}

function itemOf(id: string): { itemIdentifier: string } {
  return { itemIdentifier: id };
}

/** How a record's handling ended, and the id of its segment. */
interface Handled {
  readonly outcome: string;
  readonly durationMs: number;
  readonly startS: number;
  readonly failed: Error | undefined;
  readonly id: string;
}

/** The callee's access-log line and metrics for one record, and its segment in the sender's trace. */
function recordOne(host: BatchHost, batch: EventBatch, r: EventRecord, v: Verdict, h: Handled): void {
  const { rt } = host;
  const { outcome, failed } = h;
  const self = rt.config.service;
  const trace = traceOf(r, host);
  const code = outcome === 'success' ? 200 : outcome === 'denied' ? 403 : outcome === 'unauthenticated' ? 401 : 500;
  rt.telemetry.record({
    reporter: 'destination',
    source: v.source,
    destination: self,
    version: host.version,
    code,
    outcome,
    durationMs: h.durationMs,
    attempts: r.meta?.att,
    denied: !v.ok,
    idempotencyKey: r.meta?.idk,
    // A record sent from outside the mesh has no trace of its own: it is handled in the invocation's.
    traceId: (trace ?? host.trace)?.root,
    requestId: host.requestId,
    error: failed ? `${failed.name}: ${failed.message}` : undefined,
    reason: v.ok ? undefined : v.reason,
    claimedSource: v.ok ? undefined : r.meta?.src,
    throughChannel: true,
  });
  // Lambda continued this record's trace itself (its invocation runs in it): nothing to add.
  if (!trace || !meshWritesSegment(host, trace)) return;
  // This segment puts the record's handling in the sender's trace, under its send, as a downstream
  // service's segment would be.
  rt.telemetry.segment({
    name: process.env.AWS_LAMBDA_FUNCTION_NAME ?? self,
    id: h.id,
    trace_id: trace.root,
    ...(trace.parent ? { parent_id: trace.parent } : {}),
    start_time: h.startS,
    end_time: Date.now() / 1000,
    annotations: { source: v.source, target: self, version: host.version, outcome, via: batch.kind, record: r.id },
    ...(code >= 500 ? { fault: true } : code >= 400 ? { error: true } : {}),
  });
}
