/**
 * The golden-metrics model: what `mesh stat`, `mesh rollout`, the dashboard and the terminal view read,
 * and the one way it is computed from the runtime's metrics, whatever holds them (the local mesh's
 * collector keeps every value; CloudWatch keeps percentiles per series). Pure: sources turn their
 * data into tallies per edge and reporter, `goldenSnapshot` does the rest. The rules are written up
 * in docs/observability.md ("How the numbers are computed").
 */
import { LIVE_ALIAS, METRICS } from '../names';
import { type CallerNote, callerNotes } from './callers';
import { type Percentiles, percentiles } from './percentile';

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
  /** Mirror copies served (route item `mirror`): counted apart, never in `requests`. */
  readonly mirrored: number;
  /** Calls the caller refused over a rate limit (no Invoke sent; also in `requests` as 429). */
  readonly rateLimited: number;
  /** Calls a declared fallback served, counted on the edge to the fallback. */
  readonly fallbacks: number;
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

/** What the local collector took in and dropped (zeros for CloudWatch). */
export interface CollectorCounters {
  emfLines: number;
  emfRejected: number;
  segments: number;
  segmentsRejected: number;
  samplesDropped: number;
  tracesDropped: number;
}

/** Counters of a collector that has taken in nothing yet (or of a source that has no collector). */
export function emptyCollectorCounters(): CollectorCounters {
  return { emfLines: 0, emfRejected: 0, segments: 0, segmentsRejected: 0, samplesDropped: 0, tracesDropped: 0 };
}

export interface StatsSnapshot {
  /** Epoch ms the snapshot was taken. */
  readonly at: number;
  readonly windowMs: number;
  readonly services: ServiceStats[];
  readonly edges: EdgeStats[];
  /** The sources of `edges` that are no service (callers outside the mesh, the pre-traffic check...). */
  readonly callers: CallerNote[];
  readonly collector: CollectorCounters;
  /** The CloudWatch namespace the numbers were read from (CloudWatch only: the mesh's own). */
  readonly namespace?: string;
}

/** The label a request is counted under when its metric line leaves a dimension out. */
export const UNKNOWN_LABEL = 'unknown';

/** The version of an edge read from the per-edge metrics, which count every version of the callee together. */
export const ALL_VERSIONS = '*';

/** The reporter that is the callee itself: it sees every attempt that reached a version. */
const CALLEE = 'destination';

/** A response_code counts as success when it is 2xx/3xx or an explicit ok. */
export function isSuccessCode(code: string): boolean {
  return /^[23]\d\d$/.test(code) || code === 'ok' || code === 'success' || code === UNKNOWN_LABEL;
}

/** What a source knows of a group's latency, and how two groups combine. */
export interface Latency<L> {
  /** How many requests the latency describes. */
  readonly count: number;
  percentiles(): Percentiles;
  /** This group and `other` together (a new value). */
  plus(other: L): L;
}

/** Every latency value of a group (the local collector): groups combine exactly. */
export class SampledLatency implements Latency<SampledLatency> {
  constructor(private readonly values: number[] = []) {}
  add(values: readonly number[]): void {
    for (const v of values) this.values.push(v);
  }
  get count(): number {
    return this.values.length;
  }
  percentiles(): Percentiles {
    return percentiles(this.values);
  }
  plus(other: SampledLatency): SampledLatency {
    return new SampledLatency([...this.values, ...other.values]);
  }
}

/**
 * Percentiles of one series (CloudWatch). Percentiles of two series cannot be merged, so a group
 * takes those of its busiest series (usually its successful responses).
 */
export class SeriesLatency implements Latency<SeriesLatency> {
  constructor(
    readonly count = 0,
    private readonly p: Percentiles = { p50: undefined, p95: undefined, p99: undefined },
  ) {}
  percentiles(): Percentiles {
    return this.p;
  }
  plus(other: SeriesLatency): SeriesLatency {
    return other.count > this.count ? other : this;
  }
}

/** The counts of one group of requests as one reporter saw them. */
export class Tally<L extends Latency<L>> {
  requests = 0;
  successes = 0;
  denied = 0;
  breakerOpens = 0;
  retries = 0;
  mirrored = 0;
  rateLimited = 0;
  fallbacks = 0;
  codes: Record<string, number> = {};

  constructor(public latency: L) {}

  /** Adds `sum` to one of the counting metrics (`requests_total` by `code`, denials, opens, retries). */
  count(metric: string, code: string, sum: number): void {
    switch (metric) {
      case METRICS.requestsTotal:
        this.requests += sum;
        if (isSuccessCode(code)) this.successes += sum;
        this.codes[code] = (this.codes[code] ?? 0) + sum;
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
      case METRICS.mirrorRequestsTotal:
        this.mirrored += sum;
        break;
      case METRICS.rateLimitedTotal:
        this.rateLimited += sum;
        break;
      case METRICS.fallbackTotal:
        this.fallbacks += sum;
        break;
    }
  }

  merge(o: Tally<L>): void {
    this.requests += o.requests;
    this.successes += o.successes;
    this.denied += o.denied;
    this.breakerOpens += o.breakerOpens;
    this.retries += o.retries;
    this.mirrored += o.mirrored;
    this.rateLimited += o.rateLimited;
    this.fallbacks += o.fallbacks;
    for (const [k, v] of Object.entries(o.codes)) this.codes[k] = (this.codes[k] ?? 0) + v;
    this.latency = this.latency.plus(o.latency);
  }

  golden(windowSec: number): GoldenMetrics {
    const p = this.latency.percentiles();
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
      mirrored: this.mirrored,
      rateLimited: this.rateLimited,
      fallbacks: this.fallbacks,
    };
  }
}

/** One edge's tallies, one per reporter (both sides of a call report it). */
export interface EdgeTallies<L extends Latency<L>> {
  readonly source: string;
  readonly destination: string;
  readonly version: string;
  readonly byReporter: ReadonlyMap<string, Tally<L>>;
}

export interface SnapshotWindow {
  /** Epoch ms the snapshot is taken. */
  readonly at: number;
  readonly windowMs: number;
  /** Seconds the rates are over (the window, or less when the source has listened for less). */
  readonly rateSeconds: number;
}

/** What a callee reported of one of its versions, over all its callers (the per-version metrics). */
export interface VersionTally<L extends Latency<L>> {
  readonly service: string;
  readonly version: string;
  readonly tally: Tally<L>;
}

/**
 * Edges and services out of per-edge tallies. An edge is described by one reporter (the callee when
 * it reported), so no call is counted twice; a service (a destination of some edge) by its inbound edges, from the callee's own
 * reports when there are any, or, when `versions` is given (a source whose edges carry no version),
 * by the callee's per-version reports.
 */
export function goldenSnapshot<L extends Latency<L>>(
  edges: Iterable<EdgeTallies<L>>,
  empty: () => L,
  window: SnapshotWindow,
  collector: CollectorCounters,
  versions?: Iterable<VersionTally<L>>,
): StatsSnapshot {
  const all = [...edges];
  const ownReports = versions ? [...versions] : undefined;
  const windowSec = Math.max(1, window.rateSeconds);
  const calleeReported = ownReports ? versionReportedServices(ownReports) : calleeReportedServices(all);
  const services = new ServiceTallies(empty);
  const edgeStats: EdgeStats[] = [];
  for (const e of all) {
    const [reporter, tally] = edgeTally(e.byReporter, empty);
    edgeStats.push({
      source: e.source,
      destination: e.destination,
      version: e.version,
      reporter,
      ...tally.golden(windowSec),
    });
    // A service is what callers reach: a function that only calls (the pre-traffic check of gated
    // deployments, a scheduled job) is a node of the graph through its edges, never a row of 0 requests.
    const svc = services.of(e.destination);
    // Edges without versions (CloudWatch's) and a caller's records of a service that reports its own
    // add only their facts; a destination that reports nothing (a queue) is what its callers counted.
    const own = calleeReported.has(e.destination) && (ownReports !== undefined || reporter !== CALLEE);
    if (own) addEdgeFacts(svc.all, tally);
    else addVersion(svc, e.version, tally, empty);
  }
  for (const v of ownReports ?? []) addVersion(services.of(v.service), v.version, v.tally, empty);
  edgeStats.sort(compareEdges);
  return {
    at: window.at,
    windowMs: window.windowMs,
    services: services.stats(windowSec),
    edges: edgeStats,
    callers: callerNotes(edgeStats.map((e) => e.source)),
    collector,
  };
}

/**
 * The services some edge's callee reported requests of. A caller-only record (a call that timed out, filed
 * under the alias because no version answered) is in the edge table but would count the same request twice,
 * under a version that does not exist: such a service is described by its callee's reports alone.
 */
function calleeReportedServices<L extends Latency<L>>(edges: readonly EdgeTallies<L>[]): Set<string> {
  return new Set(edges.filter((e) => (e.byReporter.get(CALLEE)?.requests ?? 0) > 0).map((e) => e.destination));
}

/** The services whose per-version reports counted requests (the callee's own side, on CloudWatch). */
function versionReportedServices<L extends Latency<L>>(versions: readonly VersionTally<L>[]): Set<string> {
  return new Set(versions.filter((v) => v.tally.requests > 0).map((v) => v.service));
}

/**
 * A label that names no version: the alias a caller files a call under when no version answered (a
 * send to a queue or topic, which has none; a call that timed out), and the per-edge metrics' "every
 * version". Their requests count for the service, never as a share of its split.
 */
function namesNoVersion(version: string): boolean {
  return version === LIVE_ALIAS || version === ALL_VERSIONS;
}

/** A service's inbound requests: all of them, and per version. */
interface ServiceTally<L extends Latency<L>> {
  readonly all: Tally<L>;
  readonly versions: Map<string, Tally<L>>;
}

/** Each service's tallies, made on first use. */
class ServiceTallies<L extends Latency<L>> {
  private readonly byName = new Map<string, ServiceTally<L>>();
  constructor(private readonly empty: () => L) {}

  of(name: string): ServiceTally<L> {
    let s = this.byName.get(name);
    if (!s) {
      s = { all: new Tally(this.empty()), versions: new Map() };
      this.byName.set(name, s);
    }
    return s;
  }

  /** Every service's golden metrics, by name. */
  stats(windowSec: number): ServiceStats[] {
    return [...this.byName.entries()]
      .map(([name, s]) => serviceStatsOf(name, s.all, s.versions, windowSec))
      .sort((a, b) => a.service.localeCompare(b.service));
  }
}

/**
 * An edge's per-edge facts into its callee's totals, when the edge's requests are not the service's
 * own: its requests come from the callee's per-version reports (CloudWatch), or the edge is a caller's
 * record alone of a service that reports its own (a call that timed out under the alias, or one its
 * caller refused before it left, which the callee never saw). Its denials, retries, breaker opens,
 * rate-limited calls and fallbacks still happened on the way to the service, which adds them up over
 * every inbound edge, as its edge table shows them.
 */
function addEdgeFacts<L extends Latency<L>>(all: Tally<L>, tally: Tally<L>): void {
  all.denied += tally.denied;
  all.retries += tally.retries;
  all.breakerOpens += tally.breakerOpens;
  all.rateLimited += tally.rateLimited;
  all.fallbacks += tally.fallbacks;
}

/** Edges by source, destination, then version. */
function compareEdges(a: EdgeStats, b: EdgeStats): number {
  return (
    a.source.localeCompare(b.source) ||
    a.destination.localeCompare(b.destination) ||
    compareVersions(a.version, b.version)
  );
}

/** One version's tally into its service's totals and split. */
function addVersion<L extends Latency<L>>(
  svc: ServiceTally<L>,
  version: string,
  tally: Tally<L>,
  empty: () => L,
): void {
  svc.all.merge(tally);
  // A shadow version that only took mirror copies is no part of the split of real traffic.
  if ((tally.requests === 0 && tally.mirrored > 0) || namesNoVersion(version)) return;
  const v = svc.versions.get(version) ?? new Tally(empty());
  v.merge(tally);
  svc.versions.set(version, v);
}

/** A service's golden metrics, and each version's with its share of the service's requests (the canary split). */
function serviceStatsOf<L extends Latency<L>>(
  service: string,
  all: Tally<L>,
  versions: ReadonlyMap<string, Tally<L>>,
  windowSec: number,
): ServiceStats {
  return {
    service,
    ...all.golden(windowSec),
    versions: [...versions.entries()]
      .map(([version, t]) => ({
        version,
        share: all.requests > 0 ? t.requests / all.requests : 0,
        ...t.golden(windowSec),
      }))
      .sort((a, b) => compareVersions(a.version, b.version)),
  };
}

/**
 * The reporter an edge is described by, and its tally: the callee when it saw the edge, else the
 * busiest reporter. The callee reports every attempt that reached a version; the caller reports one
 * record per call, under the version of its last attempt, so a failed attempt on a canary retried
 * onto the stable version would vanish from the canary's numbers (Istio and Flagger read canaries
 * from reporter="destination" for the same reason). Denials, breaker opens, retries, rate-limited calls
 * and fallbacks, which one side may see alone (the last two only the caller counts), take the larger
 * count of the two sides; a latency only the other side measured stands in when the chosen side has none.
 */
function edgeTally<L extends Latency<L>>(
  byReporter: ReadonlyMap<string, Tally<L>>,
  empty: () => L,
): [string, Tally<L>] {
  const callee = byReporter.get(CALLEE);
  const chosen: [string, Tally<L>] | undefined =
    callee && (callee.requests > 0 || callee.latency.count > 0)
      ? [CALLEE, callee]
      : [...byReporter].sort((x, y) => y[1].requests - x[1].requests)[0];
  if (!chosen) return ['none', new Tally(empty())];
  const [reporter, side] = chosen;
  const tally = new Tally(empty());
  tally.merge(side);
  for (const other of byReporter.values()) {
    tally.denied = Math.max(tally.denied, other.denied);
    tally.breakerOpens = Math.max(tally.breakerOpens, other.breakerOpens);
    tally.retries = Math.max(tally.retries, other.retries);
    tally.rateLimited = Math.max(tally.rateLimited, other.rateLimited);
    tally.fallbacks = Math.max(tally.fallbacks, other.fallbacks);
    if (tally.latency.count === 0 && other.latency.count > 0) tally.latency = other.latency;
  }
  return [reporter, tally];
}

/** Numeric versions in numeric order ("2" < "10"), then the rest by name. */
function compareVersions(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a.localeCompare(b);
}
