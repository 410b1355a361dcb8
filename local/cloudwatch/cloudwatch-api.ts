/**
 * CloudWatch on the wire: the alarm calls (DescribeAlarms, DescribeAlarmHistory), GetMetricData and
 * ListMetrics. The SDK in this
 * repository speaks CloudWatch's JSON protocol (awsJson1_0, `X-Amz-Target:
 * GraniteServiceVersion20100801.<Op>`, with the query-compatible error header), so the answers are JSON
 * in the operations' output shapes.
 */
import { AwsError } from '../endpoint/errors';
import { tokenPage } from '../endpoint/next-token';
import type { AlarmRegistry, AlarmState, AlarmTransition } from './alarms';
import { cloudWatchError } from './cloudwatch-error';
import { getMetricData } from './get-metric-data';
import { listMetrics } from './list-metrics';
import type { MetricStore } from './metric-store';

/** What CloudWatch's calls read: the alarms, the metrics they are evaluated on, and the account owning both. */
export interface CloudWatchState {
  readonly alarms: AlarmRegistry;
  readonly metrics: MetricStore;
  readonly accountId: string;
}

export function handleCloudWatch(
  { alarms, metrics, accountId }: CloudWatchState,
  operation: string,
  input: Record<string, unknown>,
): unknown {
  if (operation === 'GetMetricData') return getMetricData(metrics, input);
  if (operation === 'ListMetrics') return listMetrics(metrics, accountId, input);
  if (operation === 'DescribeAlarms') return describeAlarms(alarms, input);
  if (operation === 'DescribeAlarmHistory') return describeAlarmHistory(alarms, input);
  throw new AwsError(
    'UnknownOperationException',
    400,
    `lambda-mesh local endpoint does not support CloudWatch.${operation}`,
  );
}

const STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];
const ALARM_TYPES = ['CompositeAlarm', 'MetricAlarm'];

/**
 * DescribeAlarms as the CloudWatch API Reference describes it: by names or a name prefix, a state, an
 * action prefix and alarm types (metric alarms only unless AlarmTypes names composite ones, and the
 * local mesh has none), in name order, `MaxRecords` (1 to 100, 50 by default) a page with a NextToken.
 */
function describeAlarms(alarms: AlarmRegistry, input: Record<string, unknown>): unknown {
  const names = Array.isArray(input.AlarmNames) ? (input.AlarmNames as unknown[]).map(String) : undefined;
  if (names && names.length > 100) throw cloudWatchError('InvalidParameterValue', 'AlarmNames takes at most 100 names');
  const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : undefined;
  if (names?.length && prefix) {
    throw cloudWatchError('InvalidParameterCombination', 'AlarmNames and AlarmNamePrefix cannot be used together');
  }
  const state = oneOf(input, 'StateValue', STATES);
  const types = Array.isArray(input.AlarmTypes) ? (input.AlarmTypes as unknown[]).map(String) : undefined;
  for (const t of types ?? []) oneOf({ AlarmTypes: t }, 'AlarmTypes', ALARM_TYPES);
  const max = input.MaxRecords ?? 50;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 100) {
    throw cloudWatchError('InvalidParameterValue', `MaxRecords must be between 1 and 100, got ${JSON.stringify(max)}`);
  }
  const action = typeof input.ActionPrefix === 'string' ? input.ActionPrefix : undefined;
  const metricAlarms =
    types && !types.includes('MetricAlarm')
      ? []
      : alarms
          .describe(names, prefix)
          .filter((a) => (!state || a.StateValue === state) && (!action || hasAction(a, action)));
  const token = typeof input.NextToken === 'string' ? input.NextToken : undefined;
  const { page, nextToken } = tokenPage(metricAlarms, token, max, (t) =>
    cloudWatchError('InvalidNextToken', `NextToken ${JSON.stringify(t)} is not one DescribeAlarms gave`),
  );
  return { MetricAlarms: page, CompositeAlarms: [], ...(nextToken ? { NextToken: nextToken } : {}) };
}

/** The field's value when it is one of `allowed`; refused by name when it is another. */
function oneOf(input: Record<string, unknown>, key: string, allowed: readonly string[]): string | undefined {
  const v = input[key];
  if (v === undefined) return undefined;
  if (typeof v === 'string' && allowed.includes(v)) return v;
  throw cloudWatchError('InvalidParameterValue', `${key} ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
}

function hasAction(alarm: Record<string, unknown>, prefix: string): boolean {
  return ['OKActions', 'AlarmActions', 'InsufficientDataActions'].some((k) =>
    (alarm[k] as unknown[]).some((a) => String(a).startsWith(prefix)),
  );
}

/**
 * DescribeAlarmHistory's StateUpdate items: "Alarm updated from OK to ALARM", with HistoryData holding
 * the old and the new state (the latter with its reason data), newest first unless ScanBy says otherwise.
 * The local alarms are evaluated when read (DescribeAlarms, a deployment's poll), so a change is dated
 * by the read that saw it. Only StateUpdate items are kept: asking for another type finds none.
 */
function describeAlarmHistory(alarms: AlarmRegistry, input: Record<string, unknown>): unknown {
  const name = typeof input.AlarmName === 'string' ? input.AlarmName : undefined;
  const type = typeof input.HistoryItemType === 'string' ? input.HistoryItemType : 'StateUpdate';
  const from = typeof input.StartDate === 'number' ? input.StartDate * 1000 : -Infinity;
  const to = typeof input.EndDate === 'number' ? input.EndDate * 1000 : Infinity;
  const max = typeof input.MaxRecords === 'number' ? input.MaxRecords : 100;
  if (max < 1 || max > 100) throw cloudWatchError('InvalidParameterValue', 'MaxRecords must be between 1 and 100');
  const items = alarms
    .history()
    .filter((t) => type === 'StateUpdate' && (!name || t.name === name) && t.at >= from && t.at <= to);
  if (input.ScanBy !== 'TimestampAscending') items.reverse();
  return { AlarmHistoryItems: items.slice(0, max).map(historyItem) };
}

function historyItem(t: AlarmTransition): Record<string, unknown> {
  const state = (s: AlarmState) => ({
    stateValue: s.value,
    stateReason: s.reason,
    ...(s.reasonData ? { stateReasonData: '\u0000' } : {}),
  });
  // stateReasonData sits in HistoryData as an object, spelled as CloudWatch spells its numbers.
  const data = JSON.stringify({ version: '1.0', oldState: state(t.from), newState: state(t.to) });
  const reasonData = [t.from.reasonData, t.to.reasonData].filter((r): r is string => r !== undefined);
  return {
    AlarmName: t.name,
    AlarmType: 'MetricAlarm',
    Timestamp: t.at / 1000,
    HistoryItemType: 'StateUpdate',
    HistorySummary: `Alarm updated from ${t.from.value} to ${t.to.value}`,
    HistoryData: reasonData.reduce((text, r) => text.replace('"\\u0000"', r), data),
  };
}
