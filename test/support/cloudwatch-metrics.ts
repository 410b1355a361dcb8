/**
 * CloudWatch's metric API over raw datapoints, for tests of `mesh stat`'s CloudWatch path: ListMetrics
 * and GetMetricData (JSON protocol) computed from the samples a test puts, the way CloudWatch computes
 * them. GetMetricData honours each query's Stat (Sum, SampleCount, Average, Minimum, Maximum, pNN),
 * its Period (buckets aligned on StartTime), the StartTime-EndTime range with StartTime rounded down as
 * CloudWatch rounds it (`roundedStartTime`), and ScanBy, and answers in
 * pages (NextToken) of at most `pageSize` datapoints; ListMetrics pages too. A client that asks for the
 * wrong statistic, window or period, or drops a page, gets numbers a test can tell apart.
 */

export interface MetricSample {
  readonly namespace: string;
  readonly name: string;
  readonly dims: Readonly<Record<string, string>>;
  readonly value: number;
  /** epoch ms */
  readonly at: number;
}

interface Query {
  readonly Id: string;
  readonly MetricStat: {
    readonly Metric: {
      readonly Namespace: string;
      readonly MetricName: string;
      readonly Dimensions?: { Name: string; Value: string }[];
    };
    readonly Period: number;
    readonly Stat: string;
  };
}

interface Result {
  Id: string;
  Label: string;
  Timestamps: number[];
  Values: number[];
  StatusCode: 'Complete' | 'PartialData';
}

const key = (namespace: string, name: string, dims: Readonly<Record<string, string>>) =>
  `${namespace}|${name}|${Object.entries(dims)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}`;

export class CloudWatchMetrics {
  private readonly samples: MetricSample[] = [];
  /** GetMetricData requests answered (pages count one each), with the StartTime asked for, before rounding. */
  readonly requests: { startTime: number; endTime: number; periods: number[]; stats: string[] }[] = [];

  /** `namespace`: where `put` files a sample that names none. */
  constructor(
    readonly namespace: string,
    private readonly pageSize = 4,
  ) {}

  put(
    name: string,
    dims: Readonly<Record<string, string>>,
    value: number,
    at: number,
    namespace = this.namespace,
  ): void {
    this.samples.push({ namespace, name, dims, value, at });
  }

  /** Answers `target` (`GraniteServiceVersion20100801.<Operation>`) with a JSON body, or undefined. */
  handle(target: string, body: string): unknown {
    const input = JSON.parse(body || '{}') as Record<string, unknown>;
    if (target.endsWith('.ListMetrics')) return this.listMetrics(input);
    if (target.endsWith('.GetMetricData')) return this.getMetricData(input);
    return undefined;
  }

  private listMetrics(input: Record<string, unknown>): unknown {
    const seen = new Map<string, MetricSample>();
    for (const s of this.samples) if (s.namespace === input.Namespace) seen.set(key(s.namespace, s.name, s.dims), s);
    const all = [...seen.values()].map((s) => ({
      Namespace: s.namespace,
      MetricName: s.name,
      Dimensions: Object.entries(s.dims).map(([Name, Value]) => ({ Name, Value })),
    }));
    const from = Number(input.NextToken ?? 0);
    const page = all.slice(from, from + this.pageSize);
    const next = from + this.pageSize < all.length ? String(from + this.pageSize) : undefined;
    return { Metrics: page, ...(next ? { NextToken: next } : {}) };
  }

  private getMetricData(input: Record<string, unknown>): unknown {
    const queries = input.MetricDataQueries as Query[];
    const asked = Number(input.StartTime) * 1000;
    const start = roundedStartTime(asked, queries[0]?.MetricStat.Period ?? 60, Date.now());
    const end = Number(input.EndTime) * 1000;
    this.requests.push({
      startTime: asked,
      endTime: end,
      periods: queries.map((q) => q.MetricStat.Period),
      stats: queries.map((q) => q.MetricStat.Stat),
    });
    const descending = input.ScanBy !== 'TimestampAscending';
    // Every datapoint of every query, in answer order; a page is the next `pageSize` of them.
    const points: { id: string; t: number; v: number }[] = [];
    for (const q of queries) {
      const { Metric, Period, Stat } = q.MetricStat;
      const want = key(
        Metric.Namespace,
        Metric.MetricName,
        Object.fromEntries((Metric.Dimensions ?? []).map((d) => [d.Name, d.Value])),
      );
      const buckets = new Map<number, number[]>();
      for (const s of this.samples) {
        if (key(s.namespace, s.name, s.dims) !== want || s.at < start || s.at >= end) continue;
        const b = start + Math.floor((s.at - start) / (Period * 1000)) * Period * 1000;
        buckets.set(b, [...(buckets.get(b) ?? []), s.value]);
      }
      const times = [...buckets.keys()].sort((a, b) => (descending ? b - a : a - b));
      for (const t of times) points.push({ id: q.Id, t, v: statistic(Stat, buckets.get(t)!) });
    }
    const from = Number(input.NextToken ?? 0);
    const page = points.slice(from, from + this.pageSize);
    const results = new Map<string, Result>(
      queries.map((q) => [q.Id, { Id: q.Id, Label: q.Id, Timestamps: [], Values: [], StatusCode: 'Complete' }]),
    );
    for (const p of page) {
      const r = results.get(p.id)!;
      r.Timestamps.push(p.t / 1000);
      r.Values.push(p.v);
    }
    const next = from + this.pageSize < points.length ? String(from + this.pageSize) : undefined;
    if (next) for (const r of results.values()) r.StatusCode = 'PartialData';
    return { MetricDataResults: [...results.values()], Messages: [], ...(next ? { NextToken: next } : {}) };
  }
}

/**
 * StartTime as GetMetricData reads it ("GetMetricData", Amazon CloudWatch API Reference): a period of
 * 5, 10, 20 or 30 s rounds it down to that division of a minute; otherwise a start less than 15 days
 * ago rounds down to its minute, 15 to 63 days ago to 5 minutes, older to the hour. So a 60 s window
 * starting at 12:32:34 reads from 12:32:00: two periods of 60 s, up to two minutes of data.
 */
export function roundedStartTime(startMs: number, periodSeconds: number, nowMs: number): number {
  const day = 86_400_000;
  const age = nowMs - startMs;
  const step = [5, 10, 20, 30].includes(periodSeconds)
    ? periodSeconds * 1000
    : age < 15 * day
      ? 60_000
      : age <= 63 * day
        ? 300_000
        : 3_600_000;
  return Math.floor(startMs / step) * step;
}

/** CloudWatch's statistics over one period's values; percentiles by nearest rank. */
export function statistic(stat: string, values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = values.reduce((a, b) => a + b, 0);
  switch (stat) {
    case 'Sum':
      return sum;
    case 'SampleCount':
      return values.length;
    case 'Average':
      return sum / values.length;
    case 'Minimum':
      return sorted[0]!;
    case 'Maximum':
      return sorted[sorted.length - 1]!;
  }
  const p = /^p(\d+(?:\.\d+)?)$/.exec(stat);
  if (!p) throw new Error(`statistic ${stat} is not one CloudWatch knows`);
  return sorted[Math.max(0, Math.ceil((Number(p[1]) / 100) * sorted.length) - 1)]!;
}
