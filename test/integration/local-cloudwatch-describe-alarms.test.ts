/**
 * DescribeAlarms through the real SDK as the CloudWatch API Reference describes it: MaxRecords (1 to
 * 100, 50 by default) a page with a NextToken the paginator follows, and the filters by state, prefix,
 * action and alarm type, each refusing a value it does not know.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeAlarmsCommand, paginateDescribeAlarms, type StateValue } from '@aws-sdk/client-cloudwatch';
import { parseAlarm } from '../../local/cloudwatch/alarms';
import { rejection } from '../support/rejection';
import { type CloudWatchEndpoint, startCloudWatchEndpoint } from './local-cloudwatch-fixture';

const NOW = Date.UTC(2026, 1, 3, 4, 10);

describe('DescribeAlarms through the SDK', () => {
  let cw: CloudWatchEndpoint;
  const names = Array.from({ length: 120 }, (_, i) => `alarm-${String(i).padStart(3, '0')}`);

  before(async () => {
    cw = await startCloudWatchEndpoint(() => NOW);
    const rule = { Namespace: 'N', Statistic: 'Sum', Period: 60, Threshold: 0 };
    const declared = { ...rule, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 };
    for (const name of names) {
      // Every tenth alarm reads a metric with data over its threshold, so it is in ALARM.
      const metric = names.indexOf(name) % 10 === 0 ? 'errors' : 'quiet';
      const actions = names.indexOf(name) < 5 ? { AlarmActions: ['arn:aws:sns:us-east-1:000000000000:page'] } : {};
      cw.alarms.put(parseAlarm(name, { ...declared, ...actions, MetricName: metric }) as never);
    }
    cw.metrics.put('N', 'errors', {}, [2], NOW - 90_000);
  });

  after(() => cw.close());

  const send = (input: ConstructorParameters<typeof DescribeAlarmsCommand>[0] = {}) =>
    cw.cloudWatch.send(new DescribeAlarmsCommand(input));

  it('gives 50 alarms a page by default, MaxRecords a page when asked, and a NextToken the paginator follows', async () => {
    const first = await send();
    assert.equal(first.MetricAlarms?.length, 50);
    assert.ok(first.NextToken);
    const second = await send({ NextToken: first.NextToken });
    assert.equal(second.MetricAlarms?.[0]?.AlarmName, names[50]);
    const sizes: number[] = [];
    const seen: string[] = [];
    for await (const page of paginateDescribeAlarms({ client: cw.cloudWatch }, { MaxRecords: 100 })) {
      sizes.push(page.MetricAlarms?.length ?? 0);
      seen.push(...(page.MetricAlarms ?? []).map((a) => a.AlarmName!));
    }
    assert.deepEqual(sizes, [100, 20]);
    assert.deepEqual(seen, names);
    const last = await send({ AlarmNamePrefix: 'alarm-11', MaxRecords: 10 });
    assert.equal(last.MetricAlarms?.length, 10);
    assert.equal(last.NextToken, undefined, 'no token after the last page');
  });

  it('filters by state, prefix, action and type', async () => {
    const alarming = await send({ StateValue: 'ALARM', MaxRecords: 100 });
    assert.deepEqual(
      alarming.MetricAlarms?.map((a) => a.AlarmName),
      names.filter((_, i) => i % 10 === 0),
    );
    const paged = await send({ ActionPrefix: 'arn:aws:sns:us-east-1:000000000000:', MaxRecords: 2 });
    assert.deepEqual(
      paged.MetricAlarms?.map((a) => a.AlarmName),
      names.slice(0, 2),
    );
    assert.ok(paged.NextToken, 'five alarms have the action: more pages');
    const composite = await send({ AlarmTypes: ['CompositeAlarm'] });
    assert.deepEqual([composite.MetricAlarms, composite.CompositeAlarms], [[], []]);
  });

  it('refuses a page size, a state, a type or a token it does not know, naming the value', async () => {
    for (const input of [{ MaxRecords: 0 }, { MaxRecords: 101 }]) {
      const e = await rejection<Error & { Code?: string }>(() => send(input));
      assert.equal(e.name, 'InvalidParameterValueException');
      assert.match(e.message, /MaxRecords must be between 1 and 100/);
    }
    const state = await rejection(() => send({ StateValue: 'ALARMING' as StateValue }));
    assert.equal(state.name, 'InvalidParameterValueException');
    assert.match(state.message, /StateValue "ALARMING" is not one of OK, ALARM, INSUFFICIENT_DATA/);
    const type = await rejection(() => send({ AlarmTypes: ['MetricAlarms' as never] }));
    assert.match(type.message, /"MetricAlarms" is not one of CompositeAlarm, MetricAlarm/);
    const token = await rejection<Error & { Code?: string }>(() => send({ NextToken: 'nope' }));
    assert.equal(token.name, 'InvalidNextToken');
    assert.equal(token.Code, 'InvalidNextToken');
  });
});
