/**
 * The local mesh's telemetry store (contract 6): EMF metric lines from the workers and X-Ray segments
 * (UDP collector + the Lambda-service function segments the local mesh writes) go in; golden metrics
 * per service and per edge, and assembled traces, come out. Both windows are bounded by time and by
 * count, so a mesh left running under load never grows without limit.
 */
import { METRICS } from '../../shared/names';
import { type EmfSample, parseEmf } from './emf-parser';
import { percentiles } from './percentile';
import {
  assembleTrace,
  type FlatDoc,
  flattenSegment,
  summarize,
  type Trace,
  type TraceSummary,
} from './trace-assembler';

export type { Annotation, Trace, TraceSpan, TraceSummary } from './trace-assembler';
export { startXrayCollector, type XrayCollector, type XrayCollectorOptions } from './xray-collector';

/** The worker that printed an EMF line. */
export interface EmfContext {
  readonly functionName: string;
  readonly version: string;
}

/** Golden metrics of one group of requests. Latencies in ms; null when there were no samples. */
export interface GoldenMetrics {
  readonly requests: number;
  /** Requests per second over the window. */
  readonly rps: number;
  /** 0..1; null without requests (null, not undefined, so it survives JSON). */
  readonly successRate: number | null;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly denied: number;
  readonly breakerOpens: number;
  readonly retries: number;
  /** Requests by response_code. */
  readonly codes: Readonly<Record<string, number>>;
}

/** One edge: source -> destination, for one destination version. */
export interface EdgeStats extends GoldenMetrics {
  readonly source: string;
  readonly destination: string;
  readonly version: string;
  /** The reporter whose counts these are ('destination' preferred: it sees every attempt on a version). */
  readonly reporter: string;
}

export interface VersionStats extends GoldenMetrics {
  readonly version: string;
  /** Share of the service's requests this version took, 0..1 (the canary split). */
  readonly share: number;
}

/** A service's inbound traffic over all its callers, and per version. */
export interface ServiceStats extends GoldenMetrics {
  readonly service: string;
  readonly versions: VersionStats[];
}

export interface StatsSnapshot {
  /** Epoch ms the snapshot was taken. */
  readonly at: number;
  readonly windowMs: number;
  readonly services: ServiceStats[];
  readonly edges: EdgeStats[];
  readonly collector: StoreCounters;
}

export interface StoreCounters {
  emfLines: number;
  emfRejected: number;
  segments: number;
  segmentsRejected: number;
  samplesDropped: number;
  tracesDropped: number;
}

export interface StatsOptions {
  /** @default 60_000 */
  readonly windowMs?: number;
}

export interface TelemetryStoreOptions {
  /** How long metric samples and traces are kept. @default 15 min */
  readonly retentionMs?: number;
  /** Most metric values kept (all metrics together). @default 100_000 */
  readonly maxValues?: number;
  /** Most traces kept; the oldest go first. @default 1_000 */
  readonly maxTraces?: number;
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

/** Labels a request is counted under when the line leaves them out. */
const UNKNOWN = 'unknown';

interface MetricSample {
  readonly t: number;
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

/** A response_code counts as success when it is 2xx/3xx or an explicit ok. */
export function isSuccessCode(code: string): boolean {
  return /^[23]\d\d$/.test(code) || code === 'ok' || code === 'success' || code === UNKNOWN;
}

class Accumulator {
  requests = 0;
  successes = 0;
  denied = 0;
  breakerOpens = 0;
  retries = 0;
  latencies: number[] = [];
  codes: Record<string, number> = {};

  add(s: MetricSample): void {
    const sum = s.values.reduce((a, b) => a + b, 0);
    switch (s.metric) {
      case METRICS.requestsTotal:
        this.requests += sum;
        if (isSuccessCode(s.code)) this.successes += sum;
        this.codes[s.code] = (this.codes[s.code] ?? 0) + sum;
        break;
      case METRICS.requestDurationMs:
        for (const v of s.values) this.latencies.push(v);
        break;
      case METRICS.deniedTotal:
        this.denied += sum;
        break;
      case METRICS.breakerOpenTotal:
        this.breakerOpens += sum;
        break;
      case METRICS.retriesTotal:
        this.retries += sum;
        break;
    }
  }

  merge(o: Accumulator): void {
    this.requests += o.requests;
    this.successes += o.successes;
    this.denied += o.denied;
    this.breakerOpens += o.breakerOpens;
    this.retries += o.retries;
    for (const v of o.latencies) this.latencies.push(v);
    for (const [k, v] of Object.entries(o.codes)) this.codes[k] = (this.codes[k] ?? 0) + v;
  }

  golden(windowSec: number): GoldenMetrics {
    const p = percentiles(this.latencies);
    return {
      requests: this.requests,
      rps: Math.round((this.requests / windowSec) * 1000) / 1000,
      successRate: this.requests > 0 ? this.successes / this.requests : null,
      p50: p.p50 ?? null,
      p95: p.p95 ?? null,
      p99: p.p99 ?? null,
      denied: this.denied,
      breakerOpens: this.breakerOpens,
      retries: this.retries,
      codes: { ...this.codes },
    };
  }
}

export class TelemetryStore {
  private readonly retentionMs: number;
  private readonly maxValues: number;
  private readonly maxTraces: number;
  private readonly maxSpansPerTrace: number;
  private readonly now: () => number;
  private readonly settleMs: number;
  /** Samples in arrival order; `head` marks the first live one (dropping from the front is O(1)). */
  private samples: MetricSample[] = [];
  private head = 0;
  private values = 0;
  private firstSampleAt: number | undefined;
  private readonly traceMap = new Map<string, TraceEntry>();
  private lastTracePrune = -Infinity;
  readonly counters: StoreCounters = {
    emfLines: 0,
    emfRejected: 0,
    segments: 0,
    segmentsRejected: 0,
    samplesDropped: 0,
    tracesDropped: 0,
  };

  constructor(options: TelemetryStoreOptions = {}) {
    this.retentionMs = options.retentionMs ?? 15 * 60_000;
    this.maxValues = options.maxValues ?? 100_000;
    this.maxTraces = options.maxTraces ?? 1_000;
    this.maxSpansPerTrace = options.maxSpansPerTrace ?? 500;
    this.now = options.now ?? Date.now;
    this.settleMs = options.settleMs ?? 250;
  }

  /**
   * Records one EMF object (or JSON line) a worker printed. Only the mesh namespace counts toward the
   * golden metrics; an app's own metrics are accepted and ignored. Returns false for a malformed line.
   */
  recordEmf(obj: unknown, ctx?: EmfContext): boolean {
    this.counters.emfLines++;
    const parsed = parseEmf(obj);
    if (!parsed.ok) {
      this.counters.emfRejected++;
      return false;
    }
    for (const s of onePerMetric(parsed.samples)) {
      if (s.namespace !== METRICS.namespace) continue;
      const d = s.dimensions;
      const reporter = d.reporter ?? UNKNOWN;
      // A destination-side line missing its version is about the worker that printed it.
      const version = d.destination_version ?? (reporter === 'destination' && ctx ? ctx.version : UNKNOWN);
      this.push({
        t: s.timestamp,
        metric: s.name,
        source: d.source_workload ?? UNKNOWN,
        destination: d.destination_workload ?? UNKNOWN,
        version,
        code: d.response_code ?? UNKNOWN,
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
    const traceId = flat.docs[0]!.traceId;
    let entry = this.traceMap.get(traceId);
    if (!entry) {
      entry = { docs: new Map(), lastSeen: now, cached: undefined };
      this.traceMap.set(traceId, entry);
      while (this.traceMap.size > this.maxTraces) {
        this.traceMap.delete(this.traceMap.keys().next().value!);
        this.counters.tracesDropped++;
      }
    }
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

  /** Golden metrics per service and per edge over the last `windowMs`. */
  stats(opts: StatsOptions = {}): StatsSnapshot {
    const now = this.now();
    const windowMs = opts.windowMs ?? 60_000;
    this.pruneSamples(now);
    const from = now - windowMs;
    // Per edge, per reporter: both sides of a call report it; counting both would double it.
    const edges = new Map<
      string,
      { source: string; destination: string; version: string; by: Map<string, Accumulator> }
    >();
    for (let i = this.head; i < this.samples.length; i++) {
      const s = this.samples[i]!;
      // Edges seen within the retention but idle in the window stay, with zeros: the graph is stable.
      const inWindow = s.t >= from && s.t <= now + 5_000;
      const key = `${s.source}\u0000${s.destination}\u0000${s.version}`;
      let e = edges.get(key);
      if (!e) {
        e = { source: s.source, destination: s.destination, version: s.version, by: new Map() };
        edges.set(key, e);
      }
      if (!inWindow) continue;
      let acc = e.by.get(s.reporter);
      if (!acc) {
        acc = new Accumulator();
        e.by.set(s.reporter, acc);
      }
      acc.add(s);
    }
    // rps over the time the store has actually been listening, so a fresh mesh is not under-reported.
    const listened = this.firstSampleAt === undefined ? windowMs : Math.min(windowMs, now - this.firstSampleAt);
    const windowSec = Math.max(1, listened / 1000);

    const edgeStats: EdgeStats[] = [];
    const services = new Map<string, { all: Accumulator; versions: Map<string, Accumulator> }>();
    const service = (name: string) => {
      let s = services.get(name);
      if (!s) {
        s = { all: new Accumulator(), versions: new Map() };
        services.set(name, s);
      }
      return s;
    };
    // A service the callee side reports on is described by those reports alone: a caller-only record
    // (e.g. a timed-out call, filed under the alias because no version answered) is in the edge table
    // but would count the same request twice, under a version that does not exist, in the split.
    const calleeReported = new Set<string>();
    for (const e of edges.values()) if ((e.by.get('destination')?.requests ?? 0) > 0) calleeReported.add(e.destination);
    for (const e of edges.values()) {
      const [reporter, acc] = pickReporter(e.by);
      // Denials, breaker opens and retries may be seen by one side only: take the larger count.
      for (const other of e.by.values()) {
        acc.denied = Math.max(acc.denied, other.denied);
        acc.breakerOpens = Math.max(acc.breakerOpens, other.breakerOpens);
        acc.retries = Math.max(acc.retries, other.retries);
      }
      edgeStats.push({
        source: e.source,
        destination: e.destination,
        version: e.version,
        reporter,
        ...acc.golden(windowSec),
      });
      if (e.source !== 'external' && e.source !== UNKNOWN) service(e.source);
      const svc = service(e.destination);
      if (calleeReported.has(e.destination) && reporter !== 'destination') continue;
      svc.all.merge(acc);
      let v = svc.versions.get(e.version);
      if (!v) {
        v = new Accumulator();
        svc.versions.set(e.version, v);
      }
      v.merge(acc);
    }
    const serviceStats: ServiceStats[] = [...services.entries()]
      .map(([name, s]) => ({
        service: name,
        ...s.all.golden(windowSec),
        versions: [...s.versions.entries()]
          .map(([version, acc]) => ({
            version,
            share: s.all.requests > 0 ? acc.requests / s.all.requests : 0,
            ...acc.golden(windowSec),
          }))
          .sort((a, b) => compareVersions(a.version, b.version)),
      }))
      .sort((a, b) => a.service.localeCompare(b.service));
    edgeStats.sort(
      (a, b) =>
        a.source.localeCompare(b.source) ||
        a.destination.localeCompare(b.destination) ||
        compareVersions(a.version, b.version),
    );
    return { at: now, windowMs, services: serviceStats, edges: edgeStats, collector: { ...this.counters } };
  }

  /** The latest traces, newest first; `complete` keeps only those whose every hop has arrived. */
  traces(limit = 20, options: { complete?: boolean } = {}): TraceSummary[] {
    const now = this.now();
    this.pruneTraces(now, true);
    const all: TraceSummary[] = [];
    for (const [id, entry] of this.traceMap) {
      const t = this.trace(id);
      if (t) all.push(summarize(t, entry.lastSeen <= now - this.settleMs));
    }
    return all
      .filter((t) => !options.complete || t.complete)
      .sort((a, b) => b.start - a.start)
      .slice(0, Math.max(0, limit));
  }

  /** The newest trace whose every hop has arrived (what `mesh trace --last` shows). */
  lastComplete(): Trace | undefined {
    const newest = this.traces(1, { complete: true })[0];
    return newest && this.trace(newest.id);
  }

  /** One trace assembled into its tree; undefined when unknown (or expired). */
  trace(id: string): Trace | undefined {
    const entry = this.traceMap.get(id);
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
    this.firstSampleAt = undefined;
    this.traceMap.clear();
  }

  private push(s: MetricSample): void {
    this.firstSampleAt ??= this.now();
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
    for (const [id, e] of this.traceMap) {
      if (e.lastSeen >= cutoff) continue;
      this.traceMap.delete(id);
      this.counters.tracesDropped++;
    }
  }

  /** Live sizes, for tests and the dashboard's footer. */
  size(): { samples: number; values: number; traces: number } {
    return { samples: this.samples.length - this.head, values: this.values, traces: this.traceMap.size };
  }
}

/**
 * One sample per metric of a line: a line that publishes a metric under several dimension sets (the
 * runtime's per-version sets beside its full one) is one observation, counted under its richest set.
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

/**
 * 'destination' when it saw the edge, else the busiest reporter. The callee reports every attempt
 * that reached a version; the caller reports one record per call, under the version of its last
 * attempt, so a failed attempt on a canary retried onto the stable version would vanish from the
 * canary's numbers (Istio/Flagger read canaries from reporter="destination" for the same reason).
 */
function pickReporter(by: Map<string, Accumulator>): [string, Accumulator] {
  const dst = by.get('destination');
  if (dst && (dst.requests > 0 || dst.latencies.length > 0)) return ['destination', dst];
  let best: [string, Accumulator] | undefined;
  for (const entry of by) if (!best || entry[1].requests > best[1].requests) best = entry;
  return best ?? ['none', new Accumulator()];
}

/** Numeric versions in numeric order ("2" < "10"), then the rest by name. */
function compareVersions(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a.localeCompare(b);
}
