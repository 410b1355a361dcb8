/**
 * The local mesh's CloudWatch: metric math, the metric store (exact dimension sets, statistics, Lambda's
 * own metrics) and alarm evaluation (periods, datapoints to alarm, missing data, speed), with an
 * injected clock.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AlarmRegistry, parseAlarm } from '../../local/cloudwatch/alarms';
import { parseMetricMath } from '../../local/cloudwatch/metric-math';
import { computeStatistic, MetricStore } from '../../local/cloudwatch/metric-store';

describe('metric math', () => {
  const run = (expr: string, values: Record<string, number | undefined>) =>
    parseMetricMath(expr).evaluate((id) => values[id]);

  test('arithmetic, comparisons, IF, FILL and ABS as alarms use them', () => {
    const rate = 'IF(FILL(requests, 0) > 0, 100 * FILL(ok, 0) / FILL(requests, 0), 100)';
    assert.equal(run(rate, { requests: 10, ok: 8 }), 80);
    assert.equal(run(rate, { requests: undefined, ok: undefined }), 100, 'no traffic: 100%');
    assert.equal(run(rate, { requests: 4, ok: undefined }), 0, 'no successes: FILL gives 0');
    assert.equal(run('ABS(a - b) >= 2 AND a != b OR 0', { a: 1, b: 4 }), 1);
    assert.equal(run('-a + (b - 1) * 2 <= 3 == 1', { a: 2, b: 3 }), 1);
    assert.equal(run('a / b', { a: 1, b: 0 }), undefined, 'division by zero has no value');
    assert.equal(run('a + 1', { a: undefined }), undefined, 'missing stays missing');
    assert.equal(run('IF(a, 1, 2)', { a: undefined }), undefined);
    assert.deepEqual([...parseMetricMath(rate).ids].sort(), ['ok', 'requests']);
  });

  test('refuses what it cannot evaluate, naming it', () => {
    assert.throws(() => parseMetricMath("SEARCH('{LambdaMesh} x', 'Sum', 60)"), /cannot read|not supported/);
    assert.throws(() => parseMetricMath('METRICS()'), /function METRICS is not supported/);
    assert.throws(() => parseMetricMath('IF(a, 1)'), /IF takes 3 arguments, got 2/);
    assert.throws(() => parseMetricMath('(a + 1'), /expected "\)"/);
    assert.throws(() => parseMetricMath('a +'), /ends too early/);
    assert.throws(() => parseMetricMath('a b'), /unexpected "b"/);
  });
});

describe('metric store', () => {
  test('a function printing a new dimension value on every line keeps the store bounded; the series written lately stay whole', () => {
    const m = new MetricStore({ maxSeries: 1_000, maxPoints: 50_000 });
    const line = (t: number, order: string) => ({
      _aws: {
        Timestamp: t,
        CloudWatchMetrics: [{ Namespace: 'Shop', Dimensions: [['order']], Metrics: [{ Name: 'placed' }] }],
      },
      order,
      placed: 1,
    });
    // 20,000 lines, each its own series, and an alarm's series written every 10 lines
    for (let i = 0; i < 20_000; i++) {
      m.recordEmf(line(i, `order-${i}`));
      if (i % 10 === 0) m.put('LambdaMesh', 'requests_total', { destination_workload: 'payments' }, [1], i);
    }
    const held = m.list();
    assert.ok(held.length <= 1_000, `${held.length} series held`);
    assert.equal(
      m.statistic('LambdaMesh', 'requests_total', { destination_workload: 'payments' }, 'Sum', 0, 20_000),
      2_000,
    );
    assert.equal(m.statistic('Shop', 'placed', { order: 'order-19999' }, 'Sum', 0, 20_000), 1, 'the newest line');
    assert.equal(m.statistic('Shop', 'placed', { order: 'order-0' }, 'Sum', 0, 20_000), undefined, 'the oldest went');
    // Points: one series may fill its own bound, the store keeps its total
    for (let i = 0; i < 100; i++) m.put('Shop', 'burst', { k: String(i) }, new Array(1_000).fill(1), 30_000);
    const points = m.list().reduce((sum, s) => sum + s.points, 0);
    assert.ok(points <= 50_000, `${points} points held`);
    assert.equal(m.statistic('Shop', 'burst', { k: '99' }, 'SampleCount', 0, 40_000), 1_000);
  });

  test('files each EMF dimension set as its own metric; a query names the exact set', () => {
    const m = new MetricStore();
    const line = {
      _aws: {
        Timestamp: 1_000,
        CloudWatchMetrics: [{ Namespace: 'LambdaMesh', Dimensions: [['svc', 'v'], ['svc']], Metrics: [{ Name: 'n' }] }],
      },
      svc: 'payments',
      v: '2',
      n: [3, 4],
    };
    assert.ok(m.recordEmf(line));
    assert.equal(m.recordEmf({ nope: 1 }), false);
    assert.equal(m.statistic('LambdaMesh', 'n', { svc: 'payments', v: '2' }, 'Sum', 0, 2_000), 7);
    assert.equal(m.statistic('LambdaMesh', 'n', { svc: 'payments' }, 'SampleCount', 0, 2_000), 2);
    assert.equal(m.statistic('LambdaMesh', 'n', { v: '2' }, 'Sum', 0, 2_000), undefined, 'no such set');
    assert.equal(m.statistic('LambdaMesh', 'n', { svc: 'payments' }, 'Sum', 1_001, 2_000), undefined, 'outside');
  });

  test("Lambda's metrics by function, by qualifier, and by the version that ran behind an alias", () => {
    const m = new MetricStore();
    const at = 5_000;
    m.recordInvocation({
      functionName: 'f',
      qualifier: 'live',
      version: '2',
      start: at,
      durationMs: 10,
      outcome: 'error',
    });
    m.recordInvocation({
      functionName: 'f',
      qualifier: 'live',
      version: '2',
      start: at,
      durationMs: 30,
      outcome: 'ok',
    });
    m.recordInvocation({ functionName: 'f', qualifier: '1', version: '1', start: at, durationMs: 5, outcome: 'ok' });
    m.recordInvocation({
      functionName: 'f',
      qualifier: 'live',
      version: '1',
      start: at,
      durationMs: 0,
      outcome: 'throttled',
    });
    const alias2 = { FunctionName: 'f', Resource: 'f:live', ExecutedVersion: '2' };
    assert.equal(m.statistic('AWS/Lambda', 'Invocations', alias2, 'Sum', 0, 10_000), 2);
    assert.equal(m.statistic('AWS/Lambda', 'Errors', alias2, 'Sum', 0, 10_000), 1);
    assert.equal(m.statistic('AWS/Lambda', 'Duration', alias2, 'Maximum', 0, 10_000), 30);
    assert.equal(m.statistic('AWS/Lambda', 'Invocations', { FunctionName: 'f' }, 'Sum', 0, 10_000), 3);
    assert.equal(
      m.statistic('AWS/Lambda', 'Throttles', { FunctionName: 'f', Resource: 'f:live' }, 'Sum', 0, 10_000),
      1,
    );
    assert.equal(
      m.statistic(
        'AWS/Lambda',
        'Invocations',
        { FunctionName: 'f', Resource: 'f:1', ExecutedVersion: '1' },
        'Sum',
        0,
        10_000,
      ),
      undefined,
      'a version qualifier has no ExecutedVersion set',
    );
  });

  test('statistics: sums, counts, extremes, averages and nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(computeStatistic(v, 'p99'), 99);
    assert.equal(computeStatistic(v, 'p50'), 50);
    assert.equal(computeStatistic(v, 'Average'), 50.5);
    assert.equal(computeStatistic(v, 'Minimum'), 1);
    assert.equal(computeStatistic(v, 'Maximum'), 100);
    assert.equal(computeStatistic([], 'Sum'), undefined);
    assert.equal(computeStatistic(v, 'tm99'), undefined, 'a statistic it does not compute has no value');
  });

  test('old datapoints go after the retention', () => {
    const m = new MetricStore({ retentionMs: 1_000 });
    m.put('N', 'x', {}, [1], 0);
    m.put('N', 'x', {}, [2], 5_000);
    assert.equal(m.statistic('N', 'x', {}, 'SampleCount', 0, 10_000), 1);
  });
});

describe('alarms', () => {
  const successRate = {
    AlarmDescription: 'success rate',
    ComparisonOperator: 'LessThanThreshold',
    Threshold: 99,
    EvaluationPeriods: 2,
    DatapointsToAlarm: 2,
    TreatMissingData: 'notBreaching',
    Metrics: [
      { Id: 'expr_1', Expression: 'IF(FILL(requests, 0) > 0, 100 * FILL(ok, 0) / FILL(requests, 0), 100)' },
      {
        Id: 'requests',
        MetricStat: {
          Metric: { Namespace: 'LambdaMesh', MetricName: 'r', Dimensions: [{ Name: 'v', Value: '2' }] },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: false,
      },
      {
        Id: 'ok',
        MetricStat: {
          Metric: {
            Namespace: 'LambdaMesh',
            MetricName: 'r',
            Dimensions: [
              { Name: 'v', Value: '2' },
              { Name: 'code', Value: '200' },
            ],
          },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: false,
      },
    ],
  };

  function setup(speed = 1) {
    let now = 0;
    const metrics = new MetricStore();
    const alarms = new AlarmRegistry({ metrics, speed, now: () => now });
    const def = parseAlarm('rate', successRate);
    assert.ok(typeof def !== 'string', String(def));
    alarms.put(def);
    const traffic = (at: number, ok: number, failed: number) => {
      metrics.put('LambdaMesh', 'r', { v: '2' }, Array(ok + failed).fill(1), at);
      if (ok) metrics.put('LambdaMesh', 'r', { v: '2', code: '200' }, Array(ok).fill(1), at);
    };
    return { alarms, traffic, at: (t: number) => (now = t) };
  }

  test('two breaching periods in a row raise ALARM; one does not', () => {
    const { alarms, traffic, at } = setup();
    assert.equal(alarms.evaluate('rate')!.value, 'OK', 'no data yet: not breaching');
    traffic(10_000, 8, 2); // period [0, 60 s): 80%
    at(61_000);
    assert.equal(alarms.evaluate('rate')!.value, 'OK', 'one breaching period of two');
    traffic(70_000, 7, 3); // [60, 120 s): 70%
    at(121_000);
    const s = alarms.evaluate('rate')!;
    assert.equal(s.value, 'ALARM');
    assert.equal(s.updatedAt, 121_000);
    assert.equal(
      s.reason,
      'Threshold Crossed: 2 out of the last 2 datapoints [70.0 (01/01/70 00:01:00), 80.0 (01/01/70 00:00:00)] ' +
        'were less than the threshold (99.0) (minimum 2 datapoints for OK -> ALARM transition).',
    );
    traffic(130_000, 10, 0);
    traffic(190_000, 10, 0);
    at(241_000);
    assert.equal(alarms.evaluate('rate')!.value, 'OK', 'healthy again');
  });

  test('no traffic is not breaching (missing data treated as the alarm says)', () => {
    const { alarms, at } = setup();
    at(600_000);
    assert.equal(alarms.evaluate('rate')!.value, 'OK');
    const p = { ...successRate, TreatMissingData: 'missing' };
    const metrics = new MetricStore();
    const strict = new AlarmRegistry({ metrics, now: () => 600_000 });
    strict.put(
      parseAlarm('strict', {
        ...p,
        Metrics: undefined,
        Namespace: 'N',
        MetricName: 'x',
        Statistic: 'Sum',
        Period: 60,
      }) as never,
    );
    assert.equal(strict.evaluate('strict')!.value, 'INSUFFICIENT_DATA');
    const breaching = new AlarmRegistry({ metrics, now: () => 600_000 });
    breaching.put(
      parseAlarm('b', {
        ...p,
        TreatMissingData: 'breaching',
        Metrics: undefined,
        Namespace: 'N',
        MetricName: 'x',
        Statistic: 'Sum',
        Period: 60,
      }) as never,
    );
    assert.equal(breaching.evaluate('b')!.value, 'ALARM');
  });

  test("a gated deployment's p99 gate on Lambda's Duration of the version behind live", () => {
    // The alarm as a MeshFunction's deployment declares it (infra/mesh-deployment.ts), fed as the local
    // invoker records each invocation.
    let now = 0;
    const metrics = new MetricStore();
    const alarms = new AlarmRegistry({ metrics, now: () => now });
    const p99 = parseAlarm('p99', {
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 1000,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Period: 60,
      Dimensions: [
        { Name: 'ExecutedVersion', Value: '2' },
        { Name: 'FunctionName', Value: 'shop-payments' },
        { Name: 'Resource', Value: 'shop-payments:live' },
      ],
    });
    assert.ok(typeof p99 !== 'string', String(p99));
    alarms.put(p99);
    const invoke = (start: number, version: string, durationMs: number) =>
      metrics.recordInvocation({
        functionName: 'shop-payments',
        qualifier: 'live',
        version,
        start,
        durationMs,
        outcome: 'ok',
      });
    for (const minute of [0, 1]) {
      for (let i = 0; i < 50; i++) invoke(minute * 60_000 + 1_000 + i, '2', 40);
      invoke(minute * 60_000 + 2_000, '2', 1_500); // one slow call in 51: the p99 by nearest rank
      invoke(minute * 60_000 + 3_000, '1', 5_000); // the stable version's slowness is not the canary's
    }
    now = 61_000;
    assert.equal(alarms.evaluate('p99')!.value, 'OK', 'one breaching period of two');
    now = 121_000;
    assert.equal(alarms.evaluate('p99')!.value, 'ALARM');
  });

  // As recorded from CloudWatch (LocalStack's test_cloudwatch.py::test_describe_alarms_converts_date_format_correctly):
  // an alarm on one metric that names no dimensions lists them empty.
  test('DescribeAlarms lists an alarm on one metric without dimensions with Dimensions []', () => {
    const registry = new AlarmRegistry({ metrics: new MetricStore(), now: () => 0 });
    const single = { ComparisonOperator: 'GreaterThanThreshold', Threshold: 30, EvaluationPeriods: 1 };
    registry.put(
      parseAlarm('plain', { ...single, Namespace: 'N', MetricName: 'x', Statistic: 'Sum', Period: 60 }) as never,
    );
    const [d] = registry.describe(['plain']);
    assert.deepEqual(d!.Dimensions, []);
    assert.deepEqual([d!.OKActions, d!.AlarmActions, d!.InsufficientDataActions], [[], [], []]);
    assert.equal(d!.StateReason, 'Unchecked: Initial alarm creation');
  });

  test('speed shrinks the periods: ten times faster, 6 s periods', () => {
    const { alarms, traffic, at } = setup(10);
    assert.equal(alarms.periodMs('rate'), 6_000);
    traffic(1_000, 1, 1);
    traffic(7_000, 1, 1);
    at(12_500);
    assert.equal(alarms.evaluate('rate')!.value, 'ALARM');
  });

  test('an update keeps the state; DescribeAlarms shapes carry name, state and settings', () => {
    const { alarms, traffic, at } = setup();
    traffic(10_000, 0, 5);
    traffic(70_000, 0, 5);
    at(121_000);
    assert.equal(alarms.evaluate('rate')!.value, 'ALARM');
    alarms.put(parseAlarm('rate', { ...successRate, Threshold: 50 }) as never);
    const [d] = alarms.describe(['rate']);
    assert.equal(d!.StateValue, 'ALARM');
    assert.equal(d!.Threshold, 50);
    assert.equal(d!.AlarmName, 'rate');
    assert.match(String(d!.AlarmArn), /^arn:aws:cloudwatch:us-east-1:000000000000:alarm:rate$/);
    assert.equal(d!.StateUpdatedTimestamp, 121);
    assert.deepEqual(alarms.describe(['nope']), []);
    assert.equal(alarms.describe(undefined, 'ra').length, 1);
    assert.equal(alarms.describe(undefined, 'zz').length, 0);
  });

  /**
   * The User Guide's tables ("How alarm state is evaluated when data is missing"): five 5-minute periods,
   * oldest first; 0 is a datapoint within the threshold, X one breaching it, - a missing one.
   */
  function judge(points: string, datapointsToAlarm: number, treat: string, before: 'OK' | 'ALARM' = 'OK') {
    const metrics = new MetricStore();
    let now = 0;
    const alarms = new AlarmRegistry({ metrics, now: () => now });
    const props = { Namespace: 'N', MetricName: 'm', Statistic: 'Maximum', Period: 300, Threshold: 1 };
    const rule = { ...props, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3 };
    alarms.put(parseAlarm('a', { ...rule, DatapointsToAlarm: datapointsToAlarm, TreatMissingData: treat }) as never);
    // The state it starts from, for `ignore`: three breaching or clear periods long before.
    for (let i = 0; i < 3; i++) metrics.put('N', 'm', {}, [before === 'ALARM' ? 5 : 0], i * 300_000);
    now = 3 * 300_000;
    assert.equal(alarms.evaluate('a')!.value, before);
    const base = 100 * 300_000;
    points.split(' ').forEach((p, i) => {
      if (p !== '-') metrics.put('N', 'm', {}, [p === 'X' ? 5 : 0], base + i * 300_000 + 1_000);
    });
    now = base + 5 * 300_000 + 10_000;
    return alarms.evaluate('a')!.value;
  }

  const TREATS = ['missing', 'ignore', 'breaching', 'notBreaching'] as const;
  const TABLES: [number, string, string[]][] = [
    [3, '0 - X - X', ['OK', 'OK', 'OK', 'OK']],
    [3, '0 - - - -', ['OK', 'OK', 'OK', 'OK']],
    [3, '- - - - -', ['INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK']],
    [3, '0 X X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    [3, '- - - - X', ['INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK']],
    [3, 'X - - - -', ['ALARM', 'retain', 'ALARM', 'OK']],
    [2, '0 - X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    [2, '0 0 X 0 X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    [2, '0 - X - -', ['OK', 'OK', 'ALARM', 'OK']],
    [2, '- - - - 0', ['OK', 'OK', 'ALARM', 'OK']],
    [2, '- - - - X', ['INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK']],
  ];
  for (const [m, points, states] of TABLES) {
    test(`${m} of 3, "${points}": ${states.join(', ')} (missing, ignore, breaching, notBreaching)`, () => {
      TREATS.forEach((treat, i) => {
        const want = states[i]!;
        if (want !== 'retain') {
          assert.equal(judge(points, m, treat), want, treat);
          return;
        }
        assert.equal(judge(points, m, treat, 'OK'), 'OK', `${treat} keeps OK`);
        assert.equal(judge(points, m, treat, 'ALARM'), 'ALARM', `${treat} keeps ALARM`);
      });
    });
  }

  test('reasons and StateReasonData as CloudWatch writes them, on each change only', () => {
    const metrics = new MetricStore();
    let now = 0;
    const alarms = new AlarmRegistry({ metrics, now: () => now });
    const props = { Namespace: 'N', MetricName: 'm', Statistic: 'Sum', Period: 60, Threshold: 2 };
    alarms.put(
      parseAlarm('a', { ...props, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1 }) as never,
    );
    assert.equal(alarms.evaluate('a')!.reason, 'Unchecked: Initial alarm creation');
    const start = Date.UTC(2026, 1, 3, 4, 5);
    metrics.put('N', 'm', {}, [1, 0.5], start + 1_000);
    now = start + 61_000;
    const ok = alarms.evaluate('a')!;
    assert.equal(
      ok.reason,
      'Threshold Crossed: 1 datapoint [1.5 (03/02/26 04:05:00)] was not greater than or equal to the threshold (2.0).',
    );
    assert.equal(
      ok.reasonData,
      '{"version":"1.0","queryDate":"2026-02-03T04:06:01.000+0000","startDate":"2026-02-03T04:05:00.000+0000",' +
        '"statistic":"Sum","period":60,"recentDatapoints":[1.5],"threshold":2.0,' +
        '"evaluatedDatapoints":[{"timestamp":"2026-02-03T04:05:00.000+0000","sampleCount":2.0,"value":1.5}]}',
    );
    now += 60_000;
    const still = alarms.evaluate('a')!;
    assert.equal(still.value, 'OK');
    assert.equal(still.reason, ok.reason, 'no change, no new reason');
    metrics.put('N', 'm', {}, [3e7], now);
    now += 60_000;
    assert.match(alarms.evaluate('a')!.reason, /^Threshold Crossed: 1 datapoint \[3\.0E7 \(/);
    const { Statistic: _, ...rest } = props;
    alarms.put(
      parseAlarm('p', {
        ...rest,
        ExtendedStatistic: 'p99',
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 1,
      }) as never,
    );
    metrics.put('N', 'm', {}, [1], now);
    now += 60_000;
    const p99 = JSON.parse(alarms.evaluate('p')!.reasonData!);
    assert.deepEqual([p99.statistic, p99.recentDatapoints], [undefined, [1]], 'no statistic named for a percentile');
  });

  test('missing datapoints filled as the alarm says are named in the reason', () => {
    const metrics = new MetricStore();
    let now = 3_600_000;
    const alarms = new AlarmRegistry({ metrics, now: () => now });
    const props = { Namespace: 'N', MetricName: 'm', Statistic: 'Sum', Period: 60, Threshold: 1, EvaluationPeriods: 3 };
    const gt = { ...props, ComparisonOperator: 'GreaterThanThreshold' };
    alarms.put(parseAlarm('b', { ...gt, TreatMissingData: 'breaching' }) as never);
    alarms.put(parseAlarm('n', { ...gt, TreatMissingData: 'notBreaching' }) as never);
    alarms.put(parseAlarm('m', gt) as never);
    assert.equal(
      alarms.evaluate('b')!.reason,
      'Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching].',
    );
    const fresh = alarms.evaluate('m')!;
    assert.equal(fresh.value, 'INSUFFICIENT_DATA');
    assert.equal(fresh.reason, 'Unchecked: Initial alarm creation', 'a new alarm without data has not changed state');
    metrics.put('N', 'm', {}, [0], now - 30_000);
    assert.equal(
      alarms.evaluate('n')!.reason,
      'Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [NonBreaching].',
    );
    assert.equal(alarms.evaluate('m')!.value, 'OK');
    now += 10 * 60_000;
    const gone = alarms.evaluate('m')!;
    assert.equal(gone.value, 'INSUFFICIENT_DATA');
    assert.equal(gone.reason, 'Insufficient Data: 3 datapoints were unknown.');
  });

  test('parseAlarm refuses what it cannot evaluate, with the reason', () => {
    assert.match(String(parseAlarm('x', { ...successRate, EvaluationPeriods: 0 })), /EvaluationPeriods/);
    assert.match(String(parseAlarm('x', { ...successRate, Threshold: undefined })), /static thresholds/);
    assert.match(
      String(parseAlarm('x', { ...successRate, ComparisonOperator: 'LessThanLowerThreshold' })),
      /not evaluated locally/,
    );
    assert.match(
      String(parseAlarm('x', { ...successRate, Metrics: [{ Id: 'e', Expression: 'a + 1' }] })),
      /reads unknown metric id a/,
    );
    assert.match(
      String(parseAlarm('x', { ...successRate, Metrics: [{ Id: 'e', Expression: 'SEARCH(1)' }] })),
      /not supported/,
    );
    assert.match(
      String(parseAlarm('x', { ...successRate, Metrics: [{ Id: 'm' }] })),
      /neither Expression nor MetricStat/,
    );
    const [expr, requests, ok] = successRate.Metrics as [object, { MetricStat: object }, { MetricStat: object }];
    const slower = { ...ok, MetricStat: { ...ok.MetricStat, Period: 300 } };
    assert.equal(
      parseAlarm('x', { ...successRate, Metrics: [expr, requests, slower] }),
      'the metrics of a metric math alarm must share one period (got 60, 300 s)',
    );
    assert.match(
      String(parseAlarm('x', { ComparisonOperator: 'GreaterThanThreshold', Threshold: 1, EvaluationPeriods: 1 })),
      /needs Namespace/,
    );
  });
});
