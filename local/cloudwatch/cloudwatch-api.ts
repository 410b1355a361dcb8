/**
 * CloudWatch on the wire, the alarm calls the mesh reads: DescribeAlarms. The SDK in this repository
 * speaks CloudWatch's JSON protocol (awsJson1_0, `X-Amz-Target: GraniteServiceVersion20100801.<Op>`,
 * with the query-compatible error header), so the answer is JSON in DescribeAlarms' output shape.
 */
import { AwsError } from '../endpoint/errors';
import type { AlarmRegistry } from './alarms';

export function handleCloudWatch(alarms: AlarmRegistry, operation: string, input: Record<string, unknown>): unknown {
  if (operation !== 'DescribeAlarms') {
    throw new AwsError(
      'UnknownOperationException',
      400,
      `lambda-mesh local endpoint does not support CloudWatch.${operation}`,
    );
  }
  const names = Array.isArray(input.AlarmNames) ? (input.AlarmNames as unknown[]).map(String) : undefined;
  if (names && names.length > 100)
    throw new AwsError('InvalidParameterValue', 400, 'AlarmNames takes at most 100 names');
  const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : undefined;
  if (names?.length && prefix) {
    throw new AwsError('InvalidParameterCombination', 400, 'AlarmNames and AlarmNamePrefix cannot be used together');
  }
  const state = typeof input.StateValue === 'string' ? input.StateValue : undefined;
  const types = Array.isArray(input.AlarmTypes) ? (input.AlarmTypes as unknown[]).map(String) : undefined;
  const metricAlarms =
    types && !types.includes('MetricAlarm')
      ? []
      : alarms.describe(names, prefix).filter((a) => !state || a.StateValue === state);
  return { MetricAlarms: metricAlarms, CompositeAlarms: [] };
}
