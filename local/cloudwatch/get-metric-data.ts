/**
 * GetMetricData from the local metric store, as the CloudWatch API Reference describes it: MetricStat
 * queries (Sum, Average, Minimum, Maximum, SampleCount, pNN) and the metric math the alarms evaluate
 * (metric-math.ts), StartTime rounded down as CloudWatch rounds it, EndTime exclusive, ScanBy, Label,
 * ReturnData, and `MaxDatapoints` a page: a result cut short is `PartialData` and a NextToken goes on.
 * What the local mesh does not hold or evaluate (SEARCH, Metrics Insights, other statistics) is refused
 * by name rather than answered with an empty series.
 */
import { tokenPage } from '../endpoint/next-token';
import { cloudWatchError } from './cloudwatch-error';
import { MetricMathError, parseMetricMath } from './metric-math';
import { computeStatistic, type Dimensions, type MetricStore } from './metric-store';

/** A query's values by period start (epoch ms). */
type Series = Map<number, number>;
interface Range {
  readonly from: number;
  readonly to: number;
}
interface Query {
  readonly id: string;
  readonly label: string;
  readonly returnData: boolean;
  /** Seconds; an expression's is the period of the metrics it reads. */
  readonly periodS?: number;
  values(range: Range, byId: (id: string) => Series): Series;
}

const DAY = 86_400_000;
const SUB_MINUTE_PERIODS = [1, 5, 10, 20, 30];

export function getMetricData(metrics: MetricStore, input: Record<string, unknown>, now = Date.now()): unknown {
  const raw = input.MetricDataQueries;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 500) {
    throw cloudWatchError('InvalidParameterValue', 'MetricDataQueries takes 1 to 500 queries');
  }
  const queries = raw.map((q) => parseQuery(metrics, (q ?? {}) as Record<string, unknown>));
  if (new Set(queries.map((q) => q.id)).size < queries.length) {
    throw cloudWatchError('InvalidParameterValue', 'Each query in MetricDataQueries needs an Id of its own');
  }
  const byId = seriesById(queries, timeRange(input, queries, now));
  const descending = input.ScanBy !== 'TimestampAscending';
  const shown = queries.filter((q) => q.returnData);
  const points = shown.flatMap((q, result) =>
    [...byId(q.id)].sort(([a], [b]) => (descending ? b - a : a - b)).map(([t, v]) => ({ result, t, v })),
  );
  return resultsPage(shown, points, input);
}

/** One page of the points, `MaxDatapoints` at most, each result marked PartialData when its points go on. */
function resultsPage(
  shown: Query[],
  points: { result: number; t: number; v: number }[],
  input: Record<string, unknown>,
) {
  const max = input.MaxDatapoints ?? 100_800;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
    throw cloudWatchError('InvalidParameterValue', `MaxDatapoints must be a whole number of at least 1, got ${max}`);
  }
  const token = typeof input.NextToken === 'string' ? input.NextToken : undefined;
  const indexed = points.map((p, index) => ({ ...p, index }));
  const { page, nextToken } = tokenPage(indexed, token, max, (t) =>
    cloudWatchError('InvalidNextToken', `NextToken ${JSON.stringify(t)} is not one GetMetricData gave`),
  );
  const end = page.at(-1)?.index ?? -1;
  const MetricDataResults = shown.map((q, i) => {
    const mine = page.filter((p) => p.result === i);
    const more = nextToken !== undefined && indexed.some((p) => p.result === i && p.index > end);
    return {
      Id: q.id,
      Label: q.label,
      Timestamps: mine.map((p) => p.t / 1000),
      Values: mine.map((p) => p.v),
      StatusCode: more ? 'PartialData' : 'Complete',
    };
  });
  return { MetricDataResults, Messages: [], ...(nextToken ? { NextToken: nextToken } : {}) };
}

/** Each query's series, computed once; an expression reads the series of the ids it names. */
function seriesById(queries: Query[], range: Range): (id: string) => Series {
  const done = new Map<string, Series>();
  const reading = new Set<string>();
  const byId = (id: string): Series => {
    const q = queries.find((x) => x.id === id);
    if (!q)
      throw cloudWatchError(
        'InvalidParameterValue',
        `An expression reads ${JSON.stringify(id)}, which no query's Id is`,
      );
    if (reading.has(id))
      throw cloudWatchError('InvalidParameterValue', `The expressions read each other in a cycle through ${id}`);
    if (!done.has(id)) {
      reading.add(id);
      done.set(id, q.values(range, byId));
      reading.delete(id);
    }
    return done.get(id)!;
  };
  return byId;
}

function parseQuery(metrics: MetricStore, q: Record<string, unknown>): Query {
  const id = typeof q.Id === 'string' ? q.Id : '';
  if (!/^[a-z][a-zA-Z0-9_]*$/.test(id)) {
    throw cloudWatchError(
      'InvalidParameterValue',
      `The Id ${JSON.stringify(id)} must start with a lowercase letter and hold only letters, digits and _`,
    );
  }
  const returnData = q.ReturnData !== false;
  const label = (l: string) => (typeof q.Label === 'string' ? q.Label : l);
  if ((q.MetricStat === undefined) === (q.Expression === undefined)) {
    throw cloudWatchError('InvalidParameterValue', `Query ${id} needs exactly one of MetricStat and Expression`);
  }
  if (typeof q.Expression === 'string') return expressionQuery(id, q.Expression, label(id), returnData);
  const stat = q.MetricStat as { Metric?: Record<string, unknown>; Period?: unknown; Stat?: unknown };
  const metric = stat.Metric ?? {};
  const name = String(metric.MetricName ?? '');
  return { id, label: label(name), returnData, ...metricStatQuery(metrics, id, metric, stat.Period, stat.Stat) };
}

function metricStatQuery(
  metrics: MetricStore,
  id: string,
  metric: Record<string, unknown>,
  period: unknown,
  stat: unknown,
): Pick<Query, 'periodS' | 'values'> {
  const periodS = checkPeriod(id, period);
  if (typeof stat !== 'string' || computeStatistic([1], stat) === undefined) {
    throw cloudWatchError(
      'InvalidParameterValue',
      `Query ${id}'s Stat ${JSON.stringify(stat)} is not one the local mesh computes: Sum, Average, Minimum, Maximum, SampleCount or pNN`,
    );
  }
  const dims: Dimensions = Object.fromEntries(
    ((metric.Dimensions ?? []) as { Name?: string; Value?: string }[]).map((d) => [String(d.Name), String(d.Value)]),
  );
  const [namespace, name] = [String(metric.Namespace ?? ''), String(metric.MetricName ?? '')];
  return {
    periodS,
    values: ({ from, to }) => {
      const buckets = new Map<number, number[]>();
      for (const [t, v] of metrics.datapoints(namespace, name, dims, from, to)) {
        const start = from + Math.floor((t - from) / (periodS * 1000)) * periodS * 1000;
        buckets.set(start, [...(buckets.get(start) ?? []), v]);
      }
      return new Map([...buckets].map(([t, vs]) => [t, computeStatistic(vs, stat)!]));
    },
  };
}

/** An expression has a value at each period start where a series it reads has one and it evaluates. */
function expressionQuery(id: string, text: string, label: string, returnData: boolean): Query {
  let expression: ReturnType<typeof parseMetricMath>;
  try {
    expression = parseMetricMath(text);
  } catch (err) {
    if (!(err instanceof MetricMathError)) throw err;
    throw cloudWatchError(
      'InvalidParameterValue',
      `Query ${id}'s Expression is not one the local mesh evaluates: ${err.message}`,
    );
  }
  return {
    id,
    label,
    returnData,
    values: (_range, byId) => {
      const inputs = new Map(expression.ids.map((i) => [i, byId(i)]));
      const times = new Set([...inputs.values()].flatMap((s) => [...s.keys()]));
      const out: Series = new Map();
      for (const t of times) {
        const v = expression.evaluate((i) => inputs.get(i)?.get(t));
        if (v !== undefined && Number.isFinite(v)) out.set(t, v);
      }
      return out;
    },
  };
}

/** Period: 1, 5, 10, 20, 30, or a multiple of 60 seconds. */
function checkPeriod(id: string, period: unknown): number {
  if (typeof period === 'number' && (SUB_MINUTE_PERIODS.includes(period) || (period > 0 && period % 60 === 0))) {
    return period;
  }
  throw cloudWatchError(
    'InvalidParameterValue',
    `Query ${id}'s Period ${JSON.stringify(period)} must be 1, 5, 10, 20, 30 or a multiple of 60 seconds`,
  );
}

/**
 * StartTime rounded down as the API Reference says (to the minute, under a minute's period to its
 * division of the minute, 5 minutes past 15 days ago, an hour past 63), EndTime exclusive.
 */
function timeRange(input: Record<string, unknown>, queries: Query[], now: number): Range {
  const { StartTime: start, EndTime: end } = input;
  if (typeof start !== 'number' || typeof end !== 'number') {
    throw cloudWatchError('MissingParameter', 'GetMetricData needs StartTime and EndTime');
  }
  if (start >= end) {
    throw cloudWatchError('InvalidParameterValue', 'The parameter StartTime must be less than the parameter EndTime.');
  }
  const from = start * 1000;
  const shortest = Math.min(...queries.map((q) => q.periodS ?? 60));
  const age = now - from;
  const stepS = age > 63 * DAY ? 3600 : age > 15 * DAY ? 300 : Math.min(shortest, 60);
  return { from: Math.floor(from / (stepS * 1000)) * stepS * 1000, to: end * 1000 };
}
