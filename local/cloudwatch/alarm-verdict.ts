/**
 * CloudWatch's verdict on an alarm's datapoints, and the StateReason and StateReasonData it writes,
 * as the Amazon CloudWatch User Guide describes them ("Evaluating an alarm", "How alarm state is
 * evaluated when data is missing") and as DescribeAlarms answers them. Pure: datapoints in, state out.
 *
 * CloudWatch reads more periods than EvaluationPeriods (the evaluation range). When at least
 * EvaluationPeriods of them hold data, the most recent of those are evaluated and TreatMissingData
 * plays no part; when fewer do, every real datapoint is evaluated and the rest are filled as
 * TreatMissingData says. DatapointsToAlarm of the evaluated breaching -> ALARM, else OK.
 */

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/**
 * Periods read beyond EvaluationPeriods. CloudWatch's own count depends on the period and the metric's
 * resolution and is not published; the User Guide's worked example reads 5 periods for 3.
 */
export const EXTRA_PERIODS = 2;

/** One period's datapoint: its start (epoch ms) and value (undefined = missing). */
export interface Datapoint {
  readonly start: number;
  readonly value: number | undefined;
  /** How many samples the value aggregates (single-metric alarms only). */
  readonly sampleCount?: number;
}

export interface AlarmRule {
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  /**
   * Whether the alarm declares DatapointsToAlarm (an "M out of N" alarm): its reasons say "out of the
   * last N" and the minimum for the transition; without it they count the datapoints alone (recorded).
   */
  readonly declaresDatapointsToAlarm?: boolean;
  readonly threshold: number;
  readonly comparisonOperator: string;
  readonly treatMissingData: string;
}

/** A new state, or 'retain' (TreatMissingData ignore, nothing to decide on). */
export interface Verdict {
  readonly value: AlarmStateValue | 'retain';
  readonly reason: string;
  /** The real datapoints evaluated, most recent first. */
  readonly evaluated: readonly Datapoint[];
}

export const COMPARE: Readonly<Record<string, (v: number, t: number) => boolean>> = {
  GreaterThanThreshold: (v, t) => v > t,
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};

const WORDS: Readonly<Record<string, string>> = {
  GreaterThanThreshold: 'greater than',
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

/** The verdict over the evaluation range (most recent period first). */
export function alarmVerdict(rule: AlarmRule, range: readonly Datapoint[]): Verdict {
  const n = rule.evaluationPeriods;
  const breaches = (d: Datapoint) => COMPARE[rule.comparisonOperator]!(d.value!, rule.threshold);
  const real = range.filter((d) => d.value !== undefined).slice(0, n);
  const hit = real.filter(breaches);
  const clear = real.filter((d) => !breaches(d));
  const fills = n - real.length;
  const verdict = (value: Verdict['value'], reason: string): Verdict => ({ value, reason, evaluated: real });
  if (hit.length >= rule.datapointsToAlarm) return verdict('ALARM', crossedReason(rule, hit, true));
  if (fills === 0) return verdict('OK', crossedReason(rule, clear, false));
  if (rule.treatMissingData === 'breaching') {
    const value = hit.length + fills >= rule.datapointsToAlarm ? 'ALARM' : 'OK';
    return verdict(value, filledReason(n, real.length, 'Breaching'));
  }
  if (rule.treatMissingData === 'notBreaching') return verdict('OK', filledReason(n, real.length, 'NonBreaching'));
  // missing or ignore: the missing periods count neither way.
  if (clear.length > 0) return verdict('OK', crossedReason(rule, clear, false));
  if (rule.treatMissingData === 'ignore') return verdict('retain', '');
  // Every real datapoint breaches, too few to alarm. The User Guide's table gives ALARM once data stopped
  // after them ("X - - - -") and INSUFFICIENT_DATA while the newest period has data ("- - - - X").
  if (hit.length > 0 && range[0]?.value === undefined) return verdict('ALARM', crossedReason(rule, hit, true));
  return verdict('INSUFFICIENT_DATA', `Insufficient Data: ${count(n, 'datapoint')} ${wasWere(n)} unknown.`);
}

/**
 * "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (02/12/26 10:01:00), ...] were greater than the
 * threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)." for an alarm declaring
 * DatapointsToAlarm; "Threshold Crossed: 1 datapoint [21.5 (...)] was greater than the threshold (21.0)."
 * for one that does not (as recorded from CloudWatch).
 */
function crossedReason(rule: AlarmRule, shown: readonly Datapoint[], toAlarm: boolean): string {
  const list = shown.map((d) => `${javaDouble(d.value!)} (${reasonTime(d.start)})`).join(', ');
  const not = toAlarm ? '' : 'not ';
  const comparison = `${wasWere(shown.length)} ${not}${WORDS[rule.comparisonOperator]} the threshold (${javaDouble(rule.threshold)})`;
  if (!rule.declaresDatapointsToAlarm) {
    return `Threshold Crossed: ${count(shown.length, 'datapoint')} [${list}] ${comparison}.`;
  }
  const minimum = toAlarm ? rule.datapointsToAlarm : rule.evaluationPeriods - rule.datapointsToAlarm + 1;
  const transition = toAlarm ? 'OK -> ALARM' : 'ALARM -> OK';
  return (
    `Threshold Crossed: ${shown.length} out of the last ${rule.evaluationPeriods} datapoints [${list}] ` +
    `${comparison} (minimum ${count(minimum, 'datapoint')} for ${transition} transition).`
  );
}

/** "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching]." */
function filledReason(n: number, received: number, as: 'Breaching' | 'NonBreaching'): string {
  const got = received === 0 ? 'no datapoints were' : `${count(received, 'datapoint')} ${wasWere(received)}`;
  const fills = n - received;
  return `Threshold Crossed: ${got} received for ${count(n, 'period')} and ${count(fills, 'missing datapoint')} ${wasWere(fills)} treated as [${as}].`;
}

const count = (k: number, noun: string) => `${k} ${noun}${k === 1 ? '' : 's'}`;
const wasWere = (k: number) => (k === 1 ? 'was' : 'were');

/** A number as CloudWatch's reasons print it (Java's Double.toString): 99.0, 0.5, 1.0E7. */
export function javaDouble(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  const abs = Math.abs(v);
  if (abs === 0 || (abs >= 1e-3 && abs < 1e7)) {
    const s = String(v);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exponent] = v.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** "dd/MM/yy HH:mm:ss" in UTC, the period's start, as the reason text dates datapoints. */
function reasonTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(2, 4)} ${iso.slice(11, 19)}`;
}

/** "2024-09-19T06:01:18.043+0000", as StateReasonData dates things. */
function reasonDataTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/**
 * StateReasonData: the JSON document CloudWatch stores beside the reason, with Java's number spelling
 * (`"threshold":99.0`), so it is written by hand rather than by JSON.stringify.
 */
export function stateReasonData(
  rule: AlarmRule & { readonly statistic?: string; readonly unit?: string; readonly periodS: number },
  verdict: Verdict,
  queryDate: number,
): string {
  const chronological = [...verdict.evaluated].reverse();
  const parts = [`"version":"1.0"`, `"queryDate":"${reasonDataTime(queryDate)}"`];
  if (chronological.length > 0) parts.push(`"startDate":"${reasonDataTime(chronological[0]!.start)}"`);
  if (rule.unit) parts.push(`"unit":${JSON.stringify(rule.unit)}`);
  if (rule.statistic) parts.push(`"statistic":${JSON.stringify(rule.statistic)}`);
  parts.push(`"period":${rule.periodS}`);
  parts.push(`"recentDatapoints":[${chronological.map((d) => javaDouble(d.value!)).join(',')}]`);
  parts.push(`"threshold":${javaDouble(rule.threshold)}`);
  const evaluated = verdict.evaluated.map((d) => {
    const samples = d.sampleCount === undefined ? '' : `"sampleCount":${javaDouble(d.sampleCount)},`;
    return `{"timestamp":"${reasonDataTime(d.start)}",${samples}"value":${javaDouble(d.value!)}}`;
  });
  if (evaluated.length > 0) parts.push(`"evaluatedDatapoints":[${evaluated.join(',')}]`);
  return `{${parts.join(',')}}`;
}
