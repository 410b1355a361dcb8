/**
 * The local mesh's CloudWatch alarms: the `AWS::CloudWatch::Alarm` resources a deployment applies,
 * evaluated against the local metric store as CloudWatch evaluates them (`alarm-verdict.ts`): the
 * complete periods of the evaluation range, DatapointsToAlarm of the evaluated ones breaching raise
 * ALARM, missing data filled as the alarm says when too few periods hold data. A single metric
 * (Statistic or ExtendedStatistic) or metric math (the `Metrics` list). Periods shrink with `speed`,
 * as the local deployments' intervals do, so a demo runs the same alarms faster.
 */

import {
  type AlarmStateValue,
  alarmVerdict,
  COMPARE,
  type Datapoint,
  EXTRA_PERIODS,
  stateReasonData,
} from './alarm-verdict';
import { type MathValue, MetricMathError, parseMetricMath } from './metric-math';
import { type Dimensions, type MetricStore, metricKey } from './metric-store';

export type { AlarmStateValue } from './alarm-verdict';

interface MetricStat {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Dimensions;
  readonly stat: string;
  readonly periodS: number;
}

/** An alarm as the template declares it, resolved. */
export interface AlarmDefinition {
  readonly name: string;
  readonly description?: string;
  readonly periodS: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly declaresDatapointsToAlarm: boolean;
  readonly threshold: number;
  readonly comparisonOperator: string;
  readonly treatMissingData: string;
  /** The metric the alarm reads (a single metric), or the metrics its expression reads by id. */
  readonly metric?: MetricStat;
  readonly math?: {
    readonly expression: string;
    readonly metrics: Readonly<Record<string, MetricStat>>;
  };
  /** The template's properties, for DescribeAlarms. */
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface AlarmState {
  readonly value: AlarmStateValue;
  readonly reason: string;
  /** StateReasonData of the last change (none for a new alarm). */
  readonly reasonData?: string;
  /** Epoch ms of the last change. */
  readonly updatedAt: number;
  /** The evaluation range of the last evaluation, most recent period first. */
  readonly datapoints: readonly Datapoint[];
}

/** An `AWS::CloudWatch::Alarm`'s resolved properties -> a definition, or the reason it cannot be evaluated. */
export function parseAlarm(name: string, p: Record<string, unknown>): AlarmDefinition | string {
  const evaluationPeriods = Number(p.EvaluationPeriods);
  const threshold = Number(p.Threshold);
  const comparisonOperator = String(p.ComparisonOperator ?? '');
  if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) return 'EvaluationPeriods must be at least 1';
  if (!Number.isFinite(threshold)) return 'only static thresholds are evaluated locally (Threshold is missing)';
  if (!COMPARE[comparisonOperator]) return `ComparisonOperator ${comparisonOperator} is not evaluated locally`;
  const common = {
    name,
    description: typeof p.AlarmDescription === 'string' ? p.AlarmDescription : undefined,
    evaluationPeriods,
    datapointsToAlarm: p.DatapointsToAlarm === undefined ? evaluationPeriods : Number(p.DatapointsToAlarm),
    declaresDatapointsToAlarm: p.DatapointsToAlarm !== undefined,
    threshold,
    comparisonOperator,
    treatMissingData: String(p.TreatMissingData ?? 'missing'),
    properties: p,
  };
  const read = Array.isArray(p.Metrics) ? metricsAlarm(p.Metrics as Record<string, unknown>[]) : singleMetric(p);
  return typeof read === 'string' ? read : { ...common, ...read };
}

type WhatItReads = Pick<AlarmDefinition, 'periodS' | 'metric' | 'math'>;

/** An alarm on one metric: Namespace, MetricName, Dimensions, Period and a statistic at the top level. */
function singleMetric(p: Record<string, unknown>): WhatItReads | string {
  const stat = (p.ExtendedStatistic ?? p.Statistic) as string | undefined;
  if (!p.MetricName || !p.Namespace || !stat || !Number(p.Period)) {
    return 'a single-metric alarm needs Namespace, MetricName, Period and Statistic or ExtendedStatistic';
  }
  const periodS = Number(p.Period);
  const metric = {
    namespace: String(p.Namespace),
    metricName: String(p.MetricName),
    dimensions: dimensionsOf(p.Dimensions),
    stat,
    periodS,
  };
  return { periodS, metric };
}

/** An alarm on `Metrics`: one metric returned as is, or an expression over metrics named by id. */
function metricsAlarm(entries: readonly Record<string, unknown>[]): WhatItReads | string {
  const metrics: Record<string, MetricStat> = {};
  let expression: string | undefined;
  for (const m of entries) {
    const id = String(m.Id ?? '');
    if (typeof m.Expression === 'string') {
      if (m.ReturnData !== false) expression = m.Expression;
      continue;
    }
    const stat = metricStat(m);
    if (!stat) return `metric ${id} has neither Expression nor MetricStat`;
    metrics[id] = stat;
  }
  if (!expression) {
    const only = Object.values(metrics)[0];
    return only ? { periodS: only.periodS, metric: only } : 'Metrics holds no metric';
  }
  try {
    for (const id of parseMetricMath(expression).ids)
      if (!metrics[id]) return `expression reads unknown metric id ${id}`;
  } catch (err) {
    return (err as Error).message;
  }
  // "Alarms on math expressions" (Amazon CloudWatch User Guide): every metric uses the same period.
  const periods = new Set(Object.values(metrics).map((m) => m.periodS));
  if (periods.size > 1)
    return `the metrics of a metric math alarm must share one period (got ${[...periods].join(', ')} s)`;
  return { periodS: [...periods][0]!, math: { expression, metrics } };
}

function metricStat(entry: Record<string, unknown>): MetricStat | undefined {
  const ms = entry.MetricStat as Record<string, unknown> | undefined;
  const metric = ms?.Metric as Record<string, unknown> | undefined;
  if (!ms || !metric) return undefined;
  return {
    namespace: String(metric.Namespace),
    metricName: String(metric.MetricName),
    dimensions: dimensionsOf(metric.Dimensions),
    stat: String(ms.Stat),
    periodS: Number(ms.Period),
  };
}

function dimensionsOf(raw: unknown): Dimensions {
  const out: Record<string, string> = {};
  for (const d of Array.isArray(raw) ? (raw as { Name?: unknown; Value?: unknown }[]) : []) {
    out[String(d.Name)] = String(d.Value);
  }
  return out;
}

/** One state change of an alarm, as DescribeAlarmHistory reports it. */
export interface AlarmTransition {
  readonly name: string;
  readonly at: number;
  readonly from: AlarmState;
  readonly to: AlarmState;
}

/** State changes kept, all alarms together (CloudWatch keeps two weeks of history; a local run is shorter). */
const MAX_HISTORY = 1_000;

export interface AlarmRegistryOptions {
  readonly metrics: MetricStore;
  /** Time runs this many times faster for the alarms' periods. @default 1 */
  readonly speed?: number;
  readonly now?: () => number;
  readonly region?: string;
  readonly accountId?: string;
}

export class AlarmRegistry {
  private readonly alarms = new Map<string, { def: AlarmDefinition; state: AlarmState; configuredAt: number }>();
  private readonly transitions: AlarmTransition[] = [];
  private readonly speed: number;
  private readonly now: () => number;

  constructor(private readonly options: AlarmRegistryOptions) {
    this.speed = options.speed ?? 1;
    this.now = options.now ?? Date.now;
  }

  /**
   * Creates an alarm (in INSUFFICIENT_DATA) or updates one, keeping its state (PutMetricAlarm): the next
   * evaluation reads what the new definition names.
   */
  put(def: AlarmDefinition): void {
    const state = this.alarms.get(def.name)?.state ?? {
      value: 'INSUFFICIENT_DATA' as const,
      reason: 'Unchecked: Initial alarm creation',
      updatedAt: this.now(),
      datapoints: [],
    };
    this.alarms.set(def.name, { def, state, configuredAt: this.now() });
    this.keepSeriesRead();
  }

  delete(name: string): void {
    this.alarms.delete(name);
    this.keepSeriesRead();
  }

  /** Tells the store which series the alarms read, so no other series' writes evict them. */
  private keepSeriesRead(): void {
    const read = [...this.alarms.values()].flatMap(({ def }) =>
      def.metric ? [def.metric] : Object.values(def.math!.metrics),
    );
    this.options.metrics.keep(read.map((m) => metricKey(m.namespace, m.metricName, m.dimensions)));
  }

  has(name: string): boolean {
    return this.alarms.has(name);
  }

  names(): string[] {
    return [...this.alarms.keys()].sort();
  }

  /** The alarm's period in local time (its Period divided by the speed), ms. */
  periodMs(name: string): number | undefined {
    const a = this.alarms.get(name);
    return a && (a.def.periodS * 1000) / this.speed;
  }

  /** Evaluates the alarm now and returns its state (undefined for an unknown alarm). */
  evaluate(name: string): AlarmState | undefined {
    const a = this.alarms.get(name);
    if (!a) return undefined;
    const { def } = a;
    const now = this.now();
    const datapoints = this.evaluationRange(def, now);
    const verdict = alarmVerdict(def, datapoints);
    const value = verdict.value === 'retain' ? a.state.value : verdict.value;
    // CloudWatch writes a reason (and its data) only when the state changes.
    if (value === a.state.value) {
      a.state = { ...a.state, datapoints };
      return a.state;
    }
    const unit = typeof def.properties.Unit === 'string' ? def.properties.Unit : undefined;
    const reasonData = stateReasonData({ ...def, statistic: statisticOf(def), unit }, verdict, now);
    const next: AlarmState = { value, reason: verdict.reason, reasonData, updatedAt: now, datapoints };
    this.transitions.push({ name, at: now, from: a.state, to: next });
    if (this.transitions.length > MAX_HISTORY) this.transitions.shift();
    a.state = next;
    return a.state;
  }

  /** The state changes recorded (DescribeAlarmHistory's StateUpdate items), oldest first. */
  history(): readonly AlarmTransition[] {
    return this.transitions;
  }

  /** The complete periods CloudWatch reads, most recent first: EvaluationPeriods and a few more. */
  private evaluationRange(def: AlarmDefinition, now: number): Datapoint[] {
    const periodMs = (def.periodS * 1000) / this.speed;
    const end = Math.floor(now / periodMs) * periodMs;
    const range: Datapoint[] = [];
    for (let i = 0; i < def.evaluationPeriods + EXTRA_PERIODS; i++) {
      const start = end - (i + 1) * periodMs;
      const value = this.value(def, start, start + periodMs);
      const samples = def.metric && value !== undefined ? this.read(def.metric, 'SampleCount', start) : undefined;
      range.push({ start, value, ...(samples !== undefined ? { sampleCount: samples } : {}) });
    }
    return range;
  }

  /** DescribeAlarms: the named alarms (all without names), evaluated now, in CloudWatch's shape. */
  describe(names?: readonly string[], prefix?: string): Record<string, unknown>[] {
    const wanted = names && names.length > 0 ? names : this.names();
    const out: Record<string, unknown>[] = [];
    for (const name of wanted) {
      if (prefix && !name.startsWith(prefix)) continue;
      const state = this.evaluate(name);
      const a = this.alarms.get(name);
      if (!state || !a) continue;
      const p = a.def.properties;
      out.push({
        AlarmName: name,
        AlarmArn: `arn:aws:cloudwatch:${this.options.region ?? 'us-east-1'}:${this.options.accountId ?? '000000000000'}:alarm:${name}`,
        ...(a.def.description ? { AlarmDescription: a.def.description } : {}),
        ActionsEnabled: p.ActionsEnabled !== false,
        OKActions: p.OKActions ?? [],
        AlarmActions: p.AlarmActions ?? [],
        InsufficientDataActions: p.InsufficientDataActions ?? [],
        AlarmConfigurationUpdatedTimestamp: a.configuredAt / 1000,
        StateValue: state.value,
        StateReason: state.reason,
        ...(state.reasonData ? { StateReasonData: state.reasonData } : {}),
        StateUpdatedTimestamp: state.updatedAt / 1000,
        StateTransitionedTimestamp: state.updatedAt / 1000,
        // An alarm on one metric lists its dimensions, empty when it names none (as recorded from CloudWatch).
        ...(p.MetricName ? { MetricName: p.MetricName, Namespace: p.Namespace, Dimensions: p.Dimensions ?? [] } : {}),
        ...(p.Statistic ? { Statistic: p.Statistic } : {}),
        ...(p.ExtendedStatistic ? { ExtendedStatistic: p.ExtendedStatistic } : {}),
        ...(p.Period ? { Period: Number(p.Period) } : {}),
        ...(p.Unit ? { Unit: p.Unit } : {}),
        ...(p.Metrics ? { Metrics: p.Metrics } : {}),
        EvaluationPeriods: a.def.evaluationPeriods,
        // DescribeAlarms returns DatapointsToAlarm and TreatMissingData only when the alarm sets them.
        ...(p.DatapointsToAlarm !== undefined ? { DatapointsToAlarm: a.def.datapointsToAlarm } : {}),
        Threshold: a.def.threshold,
        ComparisonOperator: a.def.comparisonOperator,
        ...(p.TreatMissingData !== undefined ? { TreatMissingData: a.def.treatMissingData } : {}),
      });
    }
    return out;
  }

  private value(def: AlarmDefinition, from: number, to: number): MathValue {
    const periodMs = to - from;
    if (def.metric) return this.read(def.metric, def.metric.stat, from, periodMs);
    const math = def.math!;
    try {
      return parseMetricMath(math.expression).evaluate((id) => this.read(math.metrics[id]!, undefined, from, periodMs));
    } catch (err) {
      if (err instanceof MetricMathError) return undefined;
      throw err;
    }
  }

  /** A metric's statistic (its own unless named) over the period starting at `from`. */
  private read(m: MetricStat, stat: string | undefined, from: number, periodMs = (m.periodS * 1000) / this.speed) {
    return this.options.metrics.statistic(
      m.namespace,
      m.metricName,
      m.dimensions,
      stat ?? m.stat,
      from,
      from + periodMs,
    );
  }
}

/**
 * The `statistic` StateReasonData names: an alarm's own Statistic. Recorded reasons show it for those;
 * what CloudWatch writes for a percentile or a metric math alarm is not in them, so it is left out.
 */
function statisticOf(def: AlarmDefinition): string | undefined {
  return typeof def.properties.Statistic === 'string' ? def.properties.Statistic : undefined;
}
