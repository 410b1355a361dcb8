/**
 * CloudWatch's query protocol on the local endpoint, as older clients send it: signed form POSTs
 * (`Action=ListMetrics&Version=2010-08-01`, lists as `X.member.N`) answered in the 2010-08-01 API's XML
 * (lists of `member`s, timestamps in ISO 8601), from the same metrics and alarms the JSON protocol
 * serves, and refused with the JSON side's query codes in an XML ErrorResponse.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseAlarm } from '../../local/cloudwatch/alarms';
import { LOCAL_ACCOUNT } from '../../local/registry/function-registry';
import { queryRequest, xmlValues } from '../support/query-client';
import { type CloudWatchEndpoint, startCloudWatchEndpoint } from './local-cloudwatch-fixture';

/** A whole minute, so the periods' starts are known. */
const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('CloudWatch in the query protocol', () => {
  let cw: CloudWatchEndpoint;
  const query = (params: Record<string, string>) =>
    queryRequest({ endpoint: cw.url, service: 'monitoring' }, { Version: '2010-08-01', ...params });

  before(async () => {
    cw = await startCloudWatchEndpoint(() => NOW);
    cw.metrics.put('shop', 'calls', { service: 'orders' }, [1], NOW - 60_000);
    cw.metrics.put('shop', 'calls', { service: 'payments', version: '2' }, [2, 3], NOW - 90_000);
    cw.metrics.put('shop', 'latency', { service: 'payments', version: '2' }, [40], NOW - 90_000);
    const rule = { Namespace: 'shop', MetricName: 'calls', Statistic: 'Sum', Period: 60, Threshold: 0 };
    const declared = { ...rule, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 };
    cw.alarms.put(
      parseAlarm('calls-high', { ...declared, Dimensions: [{ Name: 'service', Value: 'orders' }] }) as never,
    );
    cw.alarms.put(parseAlarm('calls-quiet', { ...declared, MetricName: 'none' }) as never);
  });

  after(() => cw.close());

  /** The refusal's status, code and message, from the XML ErrorResponse. */
  const refusal = async (params: Record<string, string>) => {
    const answer = await query(params);
    assert.match(answer.body, /^<ErrorResponse><Error><Type>Sender<\/Type>/);
    return [answer.status, xmlValues(answer.body, 'Code')[0], xmlValues(answer.body, 'Message')[0]];
  };

  it('ListMetrics filters by dimension and answers the metrics as members, dimensions as members of their own', async () => {
    const answer = await query({ Action: 'ListMetrics', Namespace: 'shop', 'Dimensions.member.1.Name': 'version' });
    assert.equal(answer.status, 200, answer.body);
    assert.match(
      answer.body,
      /^<ListMetricsResponse xmlns="http:\/\/monitoring\.amazonaws\.com\/doc\/2010-08-01\/"><ListMetricsResult><Metrics><member>/,
    );
    assert.deepEqual(xmlValues(answer.body, 'MetricName'), ['calls', 'latency']);
    assert.ok(
      answer.body.includes(
        '<member><Namespace>shop</Namespace><MetricName>calls</MetricName><Dimensions>' +
          '<member><Name>service</Name><Value>payments</Value></member>' +
          '<member><Name>version</Name><Value>2</Value></member></Dimensions></member>',
      ),
      answer.body,
    );
    assert.match(
      answer.body,
      /<ResponseMetadata><RequestId>[^<]+<\/RequestId><\/ResponseMetadata><\/ListMetricsResponse>$/,
    );
    const linked = await query({ Action: 'ListMetrics', MetricName: 'latency', IncludeLinkedAccounts: 'true' });
    assert.equal(xmlValues(linked.body, 'OwningAccounts')[0], `<member>${LOCAL_ACCOUNT}</member>`);
  });

  it('ListMetrics refuses as the JSON side does, under the query code, and names a value of the wrong type', async () => {
    assert.deepEqual(await refusal({ Action: 'ListMetrics', RecentlyActive: 'PT1H' }), [
      400,
      'ValidationError',
      "1 validation error detected: Value 'PT1H' at 'recentlyActive' failed to satisfy constraint: Member must satisfy enum value set: [PT3H]",
    ]);
    assert.deepEqual(await refusal({ Action: 'ListMetrics', IncludeLinkedAccounts: 'yes' }), [
      400,
      'InvalidParameterValue',
      'IncludeLinkedAccounts must be true or false, got "yes"',
    ]);
  });

  it('DescribeAlarms answers the named alarms with their state, timestamps in ISO 8601', async () => {
    const answer = await query({
      Action: 'DescribeAlarms',
      'AlarmNames.member.1': 'calls-high',
      'AlarmNames.member.2': 'calls-quiet',
      StateValue: 'ALARM',
    });
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(xmlValues(answer.body, 'AlarmName'), ['calls-high']);
    assert.deepEqual(xmlValues(answer.body, 'StateValue'), ['ALARM']);
    assert.deepEqual(xmlValues(answer.body, 'StateUpdatedTimestamp'), [iso(NOW)]);
    assert.ok(answer.body.includes('<Dimensions><member><Name>service</Name><Value>orders</Value></member>'));
    assert.ok(answer.body.includes('<CompositeAlarms/>'), 'an empty list is an empty element');
    assert.deepEqual(await refusal({ Action: 'DescribeAlarms', MaxRecords: '0' }), [
      400,
      'InvalidParameterValue',
      'MaxRecords must be between 1 and 100, got 0',
    ]);
    assert.deepEqual(await refusal({ Action: 'DescribeAlarms', MaxRecords: 'ten' }), [
      400,
      'InvalidParameterValue',
      'MaxRecords must be a number, got "ten"',
    ]);
  });

  it('GetMetricData reads MetricStat and expression queries, answering Timestamps and Values as members', async () => {
    const metric = 'MetricDataQueries.member.1.MetricStat.Metric';
    const answer = await query({
      Action: 'GetMetricData',
      'MetricDataQueries.member.1.Id': 'calls',
      [`${metric}.Namespace`]: 'shop',
      [`${metric}.MetricName`]: 'calls',
      [`${metric}.Dimensions.member.1.Name`]: 'service',
      [`${metric}.Dimensions.member.1.Value`]: 'payments',
      [`${metric}.Dimensions.member.2.Name`]: 'version',
      [`${metric}.Dimensions.member.2.Value`]: '2',
      'MetricDataQueries.member.1.MetricStat.Period': '60',
      'MetricDataQueries.member.1.MetricStat.Stat': 'Sum',
      'MetricDataQueries.member.1.ReturnData': 'false',
      'MetricDataQueries.member.2.Id': 'doubled',
      'MetricDataQueries.member.2.Expression': 'calls * 2',
      StartTime: iso(NOW - 600_000),
      EndTime: iso(NOW),
    });
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(xmlValues(answer.body, 'Id'), ['doubled'], 'ReturnData false leaves the first out');
    assert.equal(xmlValues(answer.body, 'Timestamps')[0], `<member>${iso(NOW - 120_000)}</member>`);
    assert.equal(xmlValues(answer.body, 'Values')[0], '<member>10</member>');
    assert.deepEqual(xmlValues(answer.body, 'StatusCode'), ['Complete']);
    assert.deepEqual(await refusal({ Action: 'GetMetricData', StartTime: 'yesterday', EndTime: iso(NOW) }), [
      400,
      'InvalidParameterValue',
      'StartTime must be a timestamp in ISO 8601 (2026-01-31T12:00:00Z) or epoch seconds, got "yesterday"',
    ]);
    assert.deepEqual(
      await refusal({
        Action: 'GetMetricData',
        'MetricDataQueries.member.1.Id': 'm',
        'MetricDataQueries.member.1.Expression': '1',
      }),
      [400, 'MissingParameter', 'GetMetricData needs StartTime and EndTime'],
    );
  });

  it('DescribeAlarmHistory answers the state changes the alarms were read with, dated in ISO 8601', async () => {
    await query({ Action: 'DescribeAlarms' });
    const answer = await query({ Action: 'DescribeAlarmHistory', AlarmName: 'calls-high' });
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(xmlValues(answer.body, 'HistorySummary'), ['Alarm updated from INSUFFICIENT_DATA to ALARM']);
    assert.deepEqual(xmlValues(answer.body, 'Timestamp'), [iso(NOW)]);
    assert.match(xmlValues(answer.body, 'HistoryData')[0]!, /^\{"version":"1.0","oldState":/);
  });

  it('refuses an action it does not serve', async () => {
    assert.deepEqual(await refusal({ Action: 'PutMetricAlarm', AlarmName: 'x' }), [
      400,
      'InvalidAction',
      'The action PutMetricAlarm is not valid for this endpoint.',
    ]);
  });
});
