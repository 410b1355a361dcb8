/**
 * The local mesh's CloudWatch metrics, as alarms see them: each datapoint is filed under its namespace,
 * metric name and exact set of dimensions, as CloudWatch files what EMF publishes (one metric per
 * dimension set of a line) and what Lambda publishes per function, alias and executed version. A query
 * names a metric by its full dimension set, so an alarm whose dimensions the runtime does not publish
 * finds no data here either, as it would in CloudWatch.
 */

import { percentileOfSorted } from '../../shared/telemetry/percentile';
import { parseEmf } from '../telemetry/emf-parser';

export type Dimensions = Readonly<Record<string, string>>;

/** One finished invocation as Lambda's metrics count it. */
export interface LambdaInvocation {
  readonly functionName: string;
  /** The qualifier the caller named (an alias, a version), if any. */
  readonly qualifier?: string;
  /** The version that ran. */
  readonly version: string;
  /** Epoch ms the invocation started. */
  readonly start: number;
  readonly durationMs: number;
  readonly outcome: 'ok' | 'error' | 'timeout' | 'crash' | 'throttled';
}

interface Series {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Dimensions;
  /** [time, value] in arrival order. */
  readonly points: [number, number][];
  /** Epoch ms of the newest datapoint ever written, kept past retention (ListMetrics lists by it). */
  latest: number;
}

export interface MetricStoreOptions {
  /** How long datapoints are kept. @default 30 min */
  readonly retentionMs?: number;
  /** Most datapoints kept per series (the oldest go first). @default 50_000 */
  readonly maxPointsPerSeries?: number;
  /**
   * Most series kept, and most datapoints in all of them; past either, the least recently written series
   * go. A function printing EMF with a new dimension value on every line makes a series per line, and
   * CloudWatch keeps them all: the local mesh keeps what its alarms and views read, the series written
   * lately and every series an alarm reads (`keep`). @default 10_000 series, 2_000_000 datapoints
   */
  readonly maxSeries?: number;
  readonly maxPoints?: number;
}

/** A metric the store holds, as `list` reports it. */
export interface MetricListing {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Dimensions;
  /** Datapoints held now. */
  readonly points: number;
  /** Epoch ms of the newest datapoint written. */
  readonly latest: number;
}

/** The key of a metric: namespace, name and the sorted dimension pairs. */
export function metricKey(namespace: string, name: string, dimensions: Dimensions): string {
  const dims = Object.keys(dimensions)
    .sort()
    .map((k) => `${k}=${dimensions[k]}`)
    .join(',');
  return `${namespace}\u0000${name}\u0000${dims}`;
}

export class MetricStore {
  /** By key, least recently written first (a write moves its series to the end). */
  private readonly series = new Map<string, Series>();
  private readonly retentionMs: number;
  private readonly maxPointsPerSeries: number;
  private readonly maxSeries: number;
  private readonly maxPoints: number;
  private points = 0;
  /** Keys of the series alarms read: never evicted, or a flood of other series would hide their data. */
  private kept: ReadonlySet<string> = new Set();

  constructor(options: MetricStoreOptions = {}) {
    this.retentionMs = options.retentionMs ?? 30 * 60_000;
    this.maxPointsPerSeries = options.maxPointsPerSeries ?? 50_000;
    this.maxSeries = options.maxSeries ?? 10_000;
    this.maxPoints = options.maxPoints ?? 2_000_000;
  }

  /** One datapoint (or several values at one time) of a metric. */
  put(namespace: string, name: string, dimensions: Dimensions, values: readonly number[], time: number): void {
    const key = metricKey(namespace, name, dimensions);
    const s = this.series.get(key) ?? { namespace, name, dimensions: { ...dimensions }, points: [], latest: -Infinity };
    this.series.delete(key);
    this.series.set(key, s);
    for (const v of values) s.points.push([time, v]);
    if (values.length > 0) s.latest = Math.max(s.latest, time);
    const cutoff = time - this.retentionMs;
    let drop = 0;
    while (drop < s.points.length && (s.points[drop]![0] < cutoff || s.points.length - drop > this.maxPointsPerSeries))
      drop++;
    if (drop > 0) s.points.splice(0, drop);
    this.points += values.length - drop;
    this.evictIdle(s);
  }

  /**
   * The series alarms read now, by `metricKey`: eviction passes them over. Missing data is what a
   * deployment's alarms treat as not breaching, so evicting them would let spam hide a failing canary.
   */
  keep(keys: Iterable<string>): void {
    this.kept = new Set(keys);
  }

  /** Drops the least recently written series while over a bound; never `written`, the newest, nor a kept one. */
  private evictIdle(written: Series): void {
    for (const [key, s] of this.series) {
      if (this.series.size <= this.maxSeries && this.points <= this.maxPoints) return;
      if (s === written || this.kept.has(key)) continue;
      this.series.delete(key);
      this.points -= s.points.length;
    }
  }

  /** Every metric of an EMF object, once per dimension set, as CloudWatch Logs extracts them. */
  recordEmf(obj: unknown): boolean {
    const parsed = parseEmf(obj);
    if (!parsed.ok) return false;
    for (const s of parsed.samples) this.put(s.namespace, s.name, s.dimensions, s.values, s.timestamp);
    return true;
  }

  /**
   * Lambda's own metrics of one invocation (AWS/Lambda Invocations, Errors, Throttles, Duration) by
   * function, by function and qualifier (`Resource`), and, for an alias, by the version that ran
   * (`ExecutedVersion`): the dimension sets Lambda publishes.
   */
  recordInvocation(r: LambdaInvocation): void {
    const sets: Dimensions[] = [{ FunctionName: r.functionName }];
    if (r.qualifier) {
      const resource = `${r.functionName}:${r.qualifier}`;
      sets.push({ FunctionName: r.functionName, Resource: resource });
      if (!/^[0-9]+$/.test(r.qualifier) && r.qualifier !== '$LATEST') {
        sets.push({ FunctionName: r.functionName, Resource: resource, ExecutedVersion: r.version });
      }
    }
    const throttled = r.outcome === 'throttled';
    const failed = r.outcome === 'error' || r.outcome === 'timeout' || r.outcome === 'crash';
    for (const d of sets) {
      if (throttled) {
        this.put('AWS/Lambda', 'Throttles', d, [1], r.start);
        continue;
      }
      this.put('AWS/Lambda', 'Invocations', d, [1], r.start);
      this.put('AWS/Lambda', 'Errors', d, [failed ? 1 : 0], r.start);
      this.put('AWS/Lambda', 'Duration', d, [r.durationMs], r.start);
    }
  }

  /**
   * A statistic of a metric over [from, to): Sum, SampleCount, Average, Minimum, Maximum or pNN
   * (nearest rank). Undefined when the metric has no datapoint in the range (CloudWatch's missing data).
   */
  statistic(
    namespace: string,
    name: string,
    dimensions: Dimensions,
    stat: string,
    from: number,
    to: number,
  ): number | undefined {
    return computeStatistic(
      this.datapoints(namespace, name, dimensions, from, to).map(([, v]) => v),
      stat,
    );
  }

  /** A metric's datapoints in [from, to), in arrival order (GetMetricData buckets them by period). */
  datapoints(namespace: string, name: string, dimensions: Dimensions, from: number, to: number): [number, number][] {
    const s = this.series.get(metricKey(namespace, name, dimensions));
    return s ? s.points.filter(([t]) => t >= from && t < to) : [];
  }

  /** The metrics held, each with its datapoints held and the time of its newest (ListMetrics, status views). */
  list(): MetricListing[] {
    return [...this.series.values()].map((s) => ({
      namespace: s.namespace,
      name: s.name,
      dimensions: s.dimensions,
      points: s.points.length,
      latest: s.latest,
    }));
  }
}

/** Sum, SampleCount, Average, Minimum, Maximum, pNN of `values`; undefined for none (or an unknown statistic). */
export function computeStatistic(values: readonly number[], stat: string): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'SampleCount':
      return values.length;
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
  }
  const p = /^p(\d{1,2}(\.\d+)?|100)$/.exec(stat);
  if (!p) return undefined;
  return percentileOfSorted(
    [...values].sort((a, b) => a - b),
    Number(p[1]),
  );
}
