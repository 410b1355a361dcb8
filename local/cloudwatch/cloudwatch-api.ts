/**
 * CloudWatch on the wire, the alarm calls: DescribeAlarms and DescribeAlarmHistory. The SDK in this
 * repository speaks CloudWatch's JSON protocol (awsJson1_0, `X-Amz-Target:
 * GraniteServiceVersion20100801.<Op>`, with the query-compatible error header), so the answers are JSON
 * in the operations' output shapes.
 */
import { AwsError, queryCompatibleError } from '../endpoint/errors';
import type { AlarmRegistry, AlarmState, AlarmTransition } from './alarms';

export function handleCloudWatch(alarms: AlarmRegistry, operation: string, input: Record<string, unknown>): unknown {
  if (operation === 'DescribeAlarms') return describeAlarms(alarms, input);
  if (operation === 'DescribeAlarmHistory') return describeAlarmHistory(alarms, input);
  throw new AwsError(
    'UnknownOperationException',
    400,
    `lambda-mesh local endpoint does not support CloudWatch.${operation}`,
  );
}

/**
 * A client error as CloudWatch's JSON protocol writes it: the shape `<code>Exception` in the body, the
 * query code in `x-amzn-query-error` (recorded AWS responses: `InvalidParameterValue` is the code of
 * `InvalidParameterValueException`).
 */
function cloudWatchError(code: 'InvalidParameterValue' | 'InvalidParameterCombination', message: string): AwsError {
  return queryCompatibleError(`${code}Exception`, code, 400, message);
}

function describeAlarms(alarms: AlarmRegistry, input: Record<string, unknown>): unknown {
  const names = Array.isArray(input.AlarmNames) ? (input.AlarmNames as unknown[]).map(String) : undefined;
  if (names && names.length > 100) throw cloudWatchError('InvalidParameterValue', 'AlarmNames takes at most 100 names');
  const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : undefined;
  if (names?.length && prefix) {
    throw cloudWatchError('InvalidParameterCombination', 'AlarmNames and AlarmNamePrefix cannot be used together');
  }
  const state = typeof input.StateValue === 'string' ? input.StateValue : undefined;
  const types = Array.isArray(input.AlarmTypes) ? (input.AlarmTypes as unknown[]).map(String) : undefined;
  const metricAlarms =
    types && !types.includes('MetricAlarm')
      ? []
      : alarms.describe(names, prefix).filter((a) => !state || a.StateValue === state);
  return { MetricAlarms: metricAlarms, CompositeAlarms: [] };
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
