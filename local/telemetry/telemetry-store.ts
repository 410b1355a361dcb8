/**
 * The local mesh's telemetry store: EMF metric lines from the workers and X-Ray segments (UDP collector
 * + the Lambda-service function segments the local mesh writes) go in; golden metrics per service and
 * per edge (shared/telemetry/golden-metrics.ts), and assembled traces, come out. Both windows are
 * bounded by time and by count, so a mesh left running under load never grows without limit.
 */

import { isMeshNamespace, METRICS, metricNamespace } from '../../shared/names';
import {
  type CollectorCounters,
  type EdgeTallies,
  emptyCollectorCounters,
  goldenSnapshot,
  SampledLatency,
  type StatsSnapshot,
  Tally,
  UNKNOWN_LABEL,
} from '../../shared/telemetry/golden-metrics';
import { MAX_TRACE_LIST } from '../../shared/telemetry/local-mesh-routes';
import {
  assembleTrace,
  type FlatDoc,
  flattenSegment,
  summarize,
  type Trace,
  type TraceSummary,
} from '../../shared/telemetry/trace-assembler';
import { type TraceFilter, throughService, UNFAILED } from '../../shared/telemetry/trace-filter';
import { AccessLogBuffer } from './access-log-buffer';
import { type EmfSample, parseEmf } from './emf-parser';

export { startXrayCollector, type XrayCollector, type XrayCollectorOptions } from './xray-collector';

/** The worker that printed an EMF line. */
export interface EmfContext {
  readonly functionName: string;
  readonly version: string;
}

export interface StatsOptions {
  /** @default 60_000 */
  readonly windowMs?: number;
  /** Only this mesh's metrics (its namespace, `metricNamespace`). @default every mesh's */
  readonly mesh?: string;
}

export interface TelemetryStoreOptions {
  /** How long metric samples and traces are kept. @default 15 min */
  readonly retentionMs?: number;
  /** Most metric values kept (all metrics together). @default 100_000 */
  readonly maxValues?: number;
  /** Most traces kept that went well; the oldest go first. @default 1_000 */
  readonly maxTraces?: number;
  /**
   * Most traces kept that failed somewhere or needed a retry, apart from the others: at demo rates the
   * newest 1,000 are a minute, and a failure must outlive the minute after it. @default 1_000
   */
  readonly maxFailedTraces?: number;
  /** Most (sub)segments kept per trace. @default 500 */
  readonly maxSpansPerTrace?: number;
  /**
   * How long a structurally complete trace must go without a new document before it counts as
   * complete: a worker's last subsegments travel by UDP and may land just after its function segment.
   * @default 250
   */
  readonly settleMs?: number;
  /** Clock, for tests. @default Date.now */
  readonly now?: () => number;
}

interface MetricSample {
  readonly t: number;
  /** The namespace the line published it in: its mesh's. */
  readonly namespace: string;
  readonly metric: string;
  readonly source: string;
  readonly destination: string;
  readonly version: string;
  readonly code: string;
  readonly reporter: string;
  readonly values: readonly number[];
}

interface TraceEntry {
  readonly docs: Map<string, FlatDoc>;
  lastSeen: number;
  cached: Trace | undefined;
}

/** A document that marks a failure: a fault, error or throttle, or a call the mesh saw fail. */
function marksFailure(doc: Record<string, unknown>): boolean {
  const outcome = (doc.annotations as Record<string, unknown> | undefined)?.outcome;
  return (
    doc.fault === true ||
    doc.error === true ||
    doc.throttle === true ||
    (outcome !== undefined && outcome !== 'success')
  );
}

export interface TraceQuery {
  /** Only those whose every hop has arrived. */
  readonly complete?: boolean;
  readonly filter?: TraceFilter;
}

/** One sample into its reporter's tally: latency values kept whole, counters summed. */
function addSample(tally: Tally<SampledLatency>, s: MetricSample): void {
  if (s.metric === METRICS.requestDurationMs) tally.latency.add(s.values);
  else
    tally.count(
      s.metric,
      s.code,
      s.values.reduce((a, b) => a + b, 0),
    );
}

export class TelemetryStore {
  private readonly retentionMs: number;
  private readonly maxValues: number;
  private readonly maxTraces: number;
  private readonly maxFailedTraces: number;
  private readonly maxSpansPerTrace: number;
  private readonly now: () => number;
  private readonly settleMs: number;
  /** Samples in arrival order; `head` marks the first live one (dropping from the front is O(1)). */
  private samples: MetricSample[] = [];
  private head = 0;
  private values = 0;
  /**
   * When the store began to listen (made, or cleared): rates are over this much of a window at most.
   * Not the first sample's time, which would read one call as a call a second.
   */
  private listeningSince: number;
  /**
   * Traces in arrival order, in two rings: those that failed somewhere (or needed a retry) are dropped
   * only for newer failed ones, as tail-based sampling keeps errors. A trace moves over when a failing
   * document of it arrives.
   */
  private readonly traceMap = new Map<string, TraceEntry>();
  private readonly failedTraces = new Map<string, TraceEntry>();
  private lastTracePrune = -Infinity;
  readonly counters: CollectorCounters = emptyCollectorCounters();
  /** The access-log lines the functions printed (`mesh tap`). */
  readonly accessLog = new AccessLogBuffer();

  constructor(options: TelemetryStoreOptions = {}) {
    this.retentionMs = options.retentionMs ?? 15 * 60_000;
    this.maxValues = options.maxValues ?? 100_000;
    this.maxTraces = options.maxTraces ?? MAX_TRACE_LIST;
    this.maxFailedTraces = options.maxFailedTraces ?? MAX_TRACE_LIST;
    this.maxSpansPerTrace = options.maxSpansPerTrace ?? 500;
    this.now = options.now ?? Date.now;
    this.settleMs = options.settleMs ?? 250;
    this.listeningSince = this.now();
  }

  /**
   * Records one EMF object (or JSON line) a worker printed. Only mesh namespaces (every mesh the local
   * mesh runs) count toward the golden metrics; an app's own metrics are accepted and ignored. Returns
   * false for a malformed line.
   */
  recordEmf(obj: unknown, ctx?: EmfContext): boolean {
    this.counters.emfLines++;
    let root: unknown = obj;
    if (typeof obj === 'string') {
      try {
        root = JSON.parse(obj);
      } catch {
        root = undefined;
      }
    }
    const parsed = parseEmf(root);
    if (!parsed.ok) {
      this.counters.emfRejected++;
      return false;
    }
    for (const s of onePerMetric(parsed.samples)) {
      if (!isMeshNamespace(s.namespace)) continue;
      // Labels the dimension sets leave out (response code, the version a caller reached) are
      // properties of the same line: the collector reads every label, whatever CloudWatch publishes.
      const d = { ...s.dimensions, ...labelsOf(root as Record<string, unknown>) };
      const reporter = d.reporter ?? UNKNOWN_LABEL;
      // A destination-side line missing its version is about the worker that printed it.
      const version = d.destination_version ?? (reporter === 'destination' && ctx ? ctx.version : UNKNOWN_LABEL);
      this.push({
        t: s.timestamp,
        namespace: s.namespace,
        metric: s.name,
        source: d.source_workload ?? UNKNOWN_LABEL,
        destination: d.destination_workload ?? UNKNOWN_LABEL,
        version,
        code: d.response_code ?? UNKNOWN_LABEL,
        reporter,
        values: s.values,
      });
    }
    return true;
  }

  /** Records one X-Ray segment or subsegment document (object or JSON). Returns false when malformed. */
  recordSegment(doc: unknown): boolean {
    this.counters.segments++;
    let input = doc;
    if (typeof doc === 'string') {
      try {
        input = JSON.parse(doc);
      } catch {
        this.counters.segmentsRejected++;
        return false;
      }
    }
    const flat = flattenSegment(input);
    if (!flat.ok) {
      this.counters.segmentsRejected++;
      return false;
    }
    const now = this.now();
    this.pruneTraces(now);
    const entry = this.entryFor(
      flat.docs[0]!.traceId,
      flat.docs.some((f) => marksFailure(f.doc)),
      now,
    );
    for (const f of flat.docs) {
      if (!entry.docs.has(f.id) && entry.docs.size >= this.maxSpansPerTrace) break;
      const prev = entry.docs.get(f.id);
      // Keep the finished copy of a (sub)segment if an in-progress copy arrives late.
      if (prev && prev.doc.in_progress !== true && f.doc.in_progress === true) continue;
      entry.docs.set(f.id, f);
    }
    entry.lastSeen = now;
    entry.cached = undefined;
    return true;
  }

  /** The trace's entry, made (or moved to the failed ring) as needed; the oldest of a full ring go. */
  private entryFor(traceId: string, failing: boolean, now: number): TraceEntry {
    const failed = this.failedTraces.get(traceId);
    if (failed) return failed;
    const entry = this.traceMap.get(traceId) ?? { docs: new Map(), lastSeen: now, cached: undefined };
    const [ring, max] = failing ? [this.failedTraces, this.maxFailedTraces] : [this.traceMap, this.maxTraces];
    if (failing) this.traceMap.delete(traceId);
    ring.set(traceId, entry);
    while (ring.size > max) {
      ring.delete(ring.keys().next().value!);
      this.counters.tracesDropped++;
    }
    return entry;
  }

  /** Golden metrics per service and per edge over the last `windowMs`. */
  stats(opts: StatsOptions = {}): StatsSnapshot {
    const now = this.now();
    const windowMs = opts.windowMs ?? 60_000;
    this.pruneSamples(now);
    const from = now - windowMs;
    const namespace = opts.mesh === undefined ? undefined : metricNamespace(opts.mesh);
    const edges = new Map<string, EdgeTallies<SampledLatency> & { byReporter: Map<string, Tally<SampledLatency>> }>();
    for (let i = this.head; i < this.samples.length; i++) {
      const s = this.samples[i]!;
      if (namespace !== undefined && s.namespace !== namespace) continue;
      const key = `${s.source}\u0000${s.destination}\u0000${s.version}`;
      let e = edges.get(key);
      if (!e) {
        e = { source: s.source, destination: s.destination, version: s.version, byReporter: new Map() };
        edges.set(key, e);
      }
      // Edges seen within the retention but idle in the window stay, with zeros: the graph is stable.
      if (s.t < from || s.t > now + 5_000) continue;
      let tally = e.byReporter.get(s.reporter);
      if (!tally) {
        tally = new Tally(new SampledLatency());
        e.byReporter.set(s.reporter, tally);
      }
      addSample(tally, s);
    }
    // Rates over the time the store has actually been listening, so a fresh mesh is not under-reported.
    const listened = Math.min(windowMs, now - this.listeningSince);
    return goldenSnapshot(
      edges.values(),
      () => new SampledLatency(),
      { at: now, windowMs, rateSeconds: listened / 1000 },
      { ...this.counters },
    );
  }

  /** The latest traces that match, newest first. */
  traces(limit = 20, options: TraceQuery = {}): TraceSummary[] {
    const now = this.now();
    this.pruneTraces(now, true);
    const { service, failed, sinceMs } = options.filter ?? {};
    const all: TraceSummary[] = [];
    for (const [id, entry] of this.entries()) {
      const t = this.trace(id);
      if (!t || (sinceMs !== undefined && t.start < now - sinceMs)) continue;
      if (service !== undefined && !throughService(t, service)) continue;
      const summary = summarize(t, entry.lastSeen <= now - this.settleMs);
      if (options.complete && !summary.complete) continue;
      if (!failed || !UNFAILED.has(summary.outcome)) all.push(summary);
    }
    return all.sort((a, b) => b.start - a.start).slice(0, Math.max(0, limit));
  }

  private *entries(): IterableIterator<[string, TraceEntry]> {
    yield* this.traceMap;
    yield* this.failedTraces;
  }

  /** The newest trace whose every hop has arrived (what `mesh trace --last` shows). */
  lastComplete(): Trace | undefined {
    const newest = this.traces(1, { complete: true })[0];
    return newest && this.trace(newest.id);
  }

  /** One trace assembled into its tree; undefined when unknown (or expired). */
  trace(id: string): Trace | undefined {
    const entry = this.traceMap.get(id) ?? this.failedTraces.get(id);
    if (!entry) return undefined;
    if (entry.lastSeen < this.now() - this.retentionMs) return undefined;
    entry.cached ??= assembleTrace(id, entry.docs.values());
    return entry.cached;
  }

  /** Drops everything (the dashboard's reset, and tests). */
  clear(): void {
    this.samples = [];
    this.head = 0;
    this.values = 0;
    this.listeningSince = this.now();
    this.traceMap.clear();
    this.failedTraces.clear();
  }

  private push(s: MetricSample): void {
    this.samples.push(s);
    this.values += s.values.length;
    this.pruneSamples(this.now());
  }

  private pruneSamples(now: number): void {
    const cutoff = now - this.retentionMs;
    // Samples arrive nearly in time order: drop from the front while too old or over the count bound.
    while (this.head < this.samples.length) {
      const s = this.samples[this.head]!;
      if (s.t >= cutoff && this.values <= this.maxValues) break;
      this.values -= s.values.length;
      this.head++;
      this.counters.samplesDropped++;
    }
    // Compact once the dead prefix is the larger part, so memory follows the live window.
    if (this.head > 1024 && this.head * 2 > this.samples.length) {
      this.samples = this.samples.slice(this.head);
      this.head = 0;
    }
  }

  private pruneTraces(now: number, force = false): void {
    // A full pass per segment would cost O(traces) on the hot path: at most one pass per second.
    if (!force && now - this.lastTracePrune < 1_000) return;
    this.lastTracePrune = now;
    const cutoff = now - this.retentionMs;
    for (const ring of [this.traceMap, this.failedTraces]) {
      for (const [id, e] of ring) {
        if (e.lastSeen >= cutoff) continue;
        ring.delete(id);
        this.counters.tracesDropped++;
      }
    }
  }

  /** Live sizes, for tests and the dashboard's footer. */
  size(): { samples: number; values: number; traces: number } {
    return {
      samples: this.samples.length - this.head,
      values: this.values,
      traces: this.traceMap.size + this.failedTraces.size,
    };
  }
}

/** The mesh labels (METRICS.dimensions) a line carries at its root as strings, dimensions or not. */
function labelsOf(root: Record<string, unknown>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const name of METRICS.dimensions) {
    const v = root[name];
    if (typeof v === 'string') labels[name] = v;
  }
  return labels;
}

/**
 * One sample per metric of a line: a line that publishes a metric under several dimension sets (the
 * runtime's per-edge and per-version sets) is one observation, counted under its richest set.
 */
function onePerMetric(samples: readonly EmfSample[]): EmfSample[] {
  const richest = new Map<string, EmfSample>();
  for (const s of samples) {
    const key = `${s.namespace}\u0000${s.name}`;
    const known = richest.get(key);
    if (!known || Object.keys(s.dimensions).length > Object.keys(known.dimensions).length) richest.set(key, s);
  }
  return [...richest.values()];
}
