/**
 * GetMetricData through the real SDK, answered from the local metric store as the CloudWatch API
 * Reference describes it: statistics per period, StartTime rounded down, EndTime exclusive, ScanBy,
 * Label, ReturnData, metric math, MaxDatapoints pages with PartialData and a NextToken, and refusals
 * naming what the local mesh does not evaluate.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type MetricDataQuery,
  paginateGetMetricData,
} from '@aws-sdk/client-cloudwatch';
import { rejection } from '../support/rejection';
import { type CloudWatchEndpoint, startCloudWatchEndpoint } from './local-cloudwatch-fixture';

// An hour ago, on the hour: well inside "less than 15 days ago", where StartTime rounds to the minute.
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const at = (s: number) => new Date(T0 + s * 1000);
const metric = (name: string) => ({
  Namespace: 'shop',
  MetricName: name,
  Dimensions: [{ Name: 'service', Value: 'payments' }],
});
const stat = (id: string, name: string, Stat: string, Period = 60): MetricDataQuery => ({
  Id: id,
  MetricStat: { Metric: metric(name), Period, Stat },
});

describe('GetMetricData through the SDK', () => {
  let cw: CloudWatchEndpoint;

  before(async () => {
    cw = await startCloudWatchEndpoint(() => Date.now());
    const put = (name: string, s: number, ...values: number[]) =>
      cw.metrics.put('shop', name, { service: 'payments' }, values, T0 + s * 1000);
    // Minute 0: latencies 10, 20, 30, 40; minute 1: 100; minute 2: none; minute 3: 7.
    put('latency', 10, 10, 20);
    put('latency', 50, 30, 40);
    put('latency', 70, 100);
    put('latency', 185, 7);
    put('calls', 10, 1, 1, 1, 1);
    put('calls', 70, 1, 1);
    put('errors', 10, 0, 1, 0, 0);
    put('errors', 70, 1, 1);
  });

  after(() => cw.close());

  const send = (input: Omit<GetMetricDataCommandInput, 'StartTime' | 'EndTime'> & Partial<GetMetricDataCommandInput>) =>
    cw.cloudWatch.send(new GetMetricDataCommand({ StartTime: at(0), EndTime: at(240), ...input }));

  it('computes each statistic per period, newest first unless ScanBy says otherwise, periods without data left out', async () => {
    const stats = ['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount', 'p50'];
    const out = await send({
      MetricDataQueries: stats.map((s) => stat(`l${s.toLowerCase()}`, 'latency', s)),
    });
    const byId = Object.fromEntries(out.MetricDataResults!.map((r) => [r.Id, r]));
    assert.deepEqual(byId.lsum?.Timestamps, [at(180), at(60), at(0)]);
    assert.deepEqual(byId.lsum?.Values, [7, 100, 100]);
    assert.deepEqual(byId.laverage?.Values, [7, 100, 25]);
    assert.deepEqual(byId.lminimum?.Values, [7, 100, 10]);
    assert.deepEqual(byId.lmaximum?.Values, [7, 100, 40]);
    assert.deepEqual(byId.lsamplecount?.Values, [1, 1, 4]);
    assert.deepEqual(byId.lp50?.Values, [7, 100, 20]);
    assert.equal(byId.lsum?.Label, 'latency', 'a MetricStat is labelled with its metric name by default');
    assert.equal(byId.lsum?.StatusCode, 'Complete');
    assert.deepEqual(out.Messages, []);
    const ascending = await send({ MetricDataQueries: [stat('m', 'latency', 'Sum')], ScanBy: 'TimestampAscending' });
    assert.deepEqual(ascending.MetricDataResults?.[0]?.Timestamps, [at(0), at(60), at(180)]);
  });

  it('rounds StartTime down to the minute (to the period under a minute) and leaves EndTime out', async () => {
    const rounded = await send({
      MetricDataQueries: [stat('m', 'latency', 'Sum')],
      StartTime: at(34),
      EndTime: at(180),
    });
    assert.deepEqual(rounded.MetricDataResults?.[0]?.Timestamps, [at(60), at(0)], 'from 00:00, and 03:00 is excluded');
    const fine = await send({
      MetricDataQueries: [stat('m', 'latency', 'Sum', 10)],
      StartTime: at(13),
      EndTime: at(60),
    });
    assert.deepEqual(fine.MetricDataResults?.[0]?.Timestamps, [at(50), at(10)]);
    assert.deepEqual(fine.MetricDataResults?.[0]?.Values, [70, 30]);
  });

  it('evaluates metric math over the queries it reads, with Label and ReturnData', async () => {
    const out = await send({
      MetricDataQueries: [
        { ...stat('errors', 'errors', 'Sum'), ReturnData: false },
        { ...stat('calls', 'calls', 'Sum'), ReturnData: false },
        { Id: 'rate', Expression: '100 * errors / calls', Label: 'error rate' },
      ],
    });
    assert.deepEqual(
      out.MetricDataResults?.map((r) => [r.Id, r.Label, r.Timestamps, r.Values]),
      [['rate', 'error rate', [at(60), at(0)], [100, 25]]],
    );
  });

  it('pages past MaxDatapoints: a result cut short is PartialData, the NextToken goes on, the paginator follows', async () => {
    const queries = [stat('a', 'latency', 'Sum'), stat('b', 'calls', 'Sum')];
    const first = await send({ MetricDataQueries: queries, MaxDatapoints: 2 });
    assert.deepEqual(
      first.MetricDataResults?.map((r) => [r.Id, r.Values, r.StatusCode]),
      [
        ['a', [7, 100], 'PartialData'],
        ['b', [], 'PartialData'],
      ],
    );
    assert.ok(first.NextToken);
    const second = await send({ MetricDataQueries: queries, MaxDatapoints: 2, NextToken: first.NextToken });
    assert.deepEqual(
      second.MetricDataResults?.map((r) => [r.Id, r.Values, r.StatusCode]),
      [
        ['a', [100], 'Complete'],
        ['b', [2], 'PartialData'],
      ],
    );
    const all: Record<string, number[]> = { a: [], b: [] };
    const input = { StartTime: at(0), EndTime: at(240), MetricDataQueries: queries, MaxDatapoints: 2 };
    for await (const page of paginateGetMetricData({ client: cw.cloudWatch }, input)) {
      for (const r of page.MetricDataResults ?? []) all[r.Id!]!.push(...(r.Values ?? []));
    }
    assert.deepEqual(all, { a: [7, 100, 100], b: [2, 4] });
    const bad = await rejection<Error & { Code?: string }>(() => send({ MetricDataQueries: queries, NextToken: 'x' }));
    assert.equal(bad.name, 'InvalidNextToken');
  });

  it('refuses what it does not compute, naming it, in CloudWatch error shape', async () => {
    const cases: [Partial<GetMetricDataCommandInput>, RegExp][] = [
      [{ MetricDataQueries: [stat('m', 'latency', 'tm99')] }, /Stat "tm99" is not one the local mesh computes/],
      [
        { MetricDataQueries: [{ Id: 's', Expression: "SEARCH('{shop} latency', 'Sum', 60)" }] },
        /Expression is not one the local mesh evaluates/,
      ],
      [
        { MetricDataQueries: [stat('m', 'latency', 'Sum', 45)] },
        /Period 45 must be 1, 5, 10, 20, 30 or a multiple of 60/,
      ],
      [{ MetricDataQueries: [stat('M', 'latency', 'Sum')] }, /The Id "M" must start with a lowercase letter/],
      [
        { MetricDataQueries: [stat('m', 'latency', 'Sum')], EndTime: at(0) },
        /StartTime must be less than the parameter EndTime/,
      ],
      [{ MetricDataQueries: [{ Id: 'r', Expression: 'nope * 2' }] }, /reads "nope", which no query's Id is/],
    ];
    for (const [input, message] of cases) {
      const e = await rejection<Error & { Code?: string }>(() => send(input as never));
      assert.equal(e.name, 'InvalidParameterValueException', String(message));
      assert.equal(e.Code, 'InvalidParameterValue');
      assert.match(e.message, message);
    }
  });
});
