import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { looksLikeEmf, parseEmf, runtimeLogMessage } from '../../local/telemetry/emf-parser';
import { emfLine } from '../support/observ-fixtures';

describe('EMF parsing', () => {
  it('reads the Powertools shape: one directive, one dimension set, arrays of values', () => {
    // Prepare
    const line = JSON.stringify(emfLine({ durations: [12, 15, 40], requests: 3, code: '500' }));
    // Act
    const r = parseEmf(line);
    // Assess
    assert.ok(r.ok);
    const byName = Object.fromEntries(r.samples.map((s) => [s.name, s]));
    assert.deepEqual(byName.request_duration_ms!.values, [12, 15, 40]);
    assert.deepEqual(byName.requests_total!.values, [3]);
    assert.equal(byName.requests_total!.namespace, 'LambdaMesh/demo');
    assert.equal(byName.requests_total!.dimensions.response_code, '500');
    assert.equal(byName.requests_total!.unit, 'Count');
    assert.ok(looksLikeEmf(line));
  });

  it('yields samples for every directive and every dimension set', () => {
    const r = parseEmf({
      _aws: {
        Timestamp: 1,
        CloudWatchMetrics: [
          { Namespace: 'A', Dimensions: [['service'], []], Metrics: [{ Name: 'x' }] },
          { Namespace: 'B', Dimensions: [], Metrics: [{ Name: 'y' }] },
        ],
      },
      service: 'orders',
      x: 1,
      y: [2, 3],
    });
    assert.ok(r.ok);
    assert.deepEqual(
      r.samples.map((s) => [s.namespace, s.name, Object.keys(s.dimensions).join(',')]),
      [
        ['A', 'x', 'service'],
        ['A', 'x', ''],
        ['B', 'y', ''],
      ],
    );
  });

  const malformed: [string, unknown][] = [
    ['not JSON', '{"_aws": '],
    ['a JSON array', '[1,2]'],
    ['a plain log line', 'START RequestId: 1 Version: $LATEST'],
    ['no _aws', { requests_total: 1 }],
    ['a string Timestamp', { ...emfLine(), _aws: { Timestamp: 'now', CloudWatchMetrics: [] } }],
    ['no directives', { ...emfLine(), _aws: { Timestamp: 1, CloudWatchMetrics: [] } }],
    [
      'an empty namespace',
      { ...emfLine(), _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: '', Dimensions: [], Metrics: [] }] } },
    ],
    ['a dimension with no value', { ...emfLine(), source_workload: undefined }],
    ['a numeric dimension value', { ...emfLine(), destination_version: 2 }],
    ['a metric with no value', { ...emfLine(), requests_total: undefined }],
    ['a string metric value', { ...emfLine(), requests_total: '1' }],
    ['a NaN-ish value in an array', { ...emfLine(), request_duration_ms: [1, null] }],
    ['more than 100 values', { ...emfLine(), request_duration_ms: Array.from({ length: 101 }, () => 1) }],
    ['an empty value array', { ...emfLine(), request_duration_ms: [] }],
  ];
  for (const [what, input] of malformed) {
    it(`rejects ${what} with a reason`, () => {
      const r = parseEmf(input);
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.reason.length > 0);
    });
  }

  it("reads a console line's message after the prefix Lambda's Node runtime writes, and any other line whole", () => {
    // Prepare: what console.log of an EMF object prints in Lambda (the embedded-metrics libraries log so).
    const emf = JSON.stringify(emfLine({ durations: [12], requests: 1, code: '200' }));
    const id = '6da1229c-cc96-47ad-9663-ca622e21b179';

    // Act
    const logged = runtimeLogMessage(`2026-02-03T04:05:06.789Z\t${id}\tINFO\t${emf}`);

    // Assess
    assert.equal(logged, emf);
    assert.ok(looksLikeEmf(logged));
    assert.equal(runtimeLogMessage(`2026-02-03T04:05:06.789Z\tundefined\tWARN\tlow`), 'low');
    assert.equal(runtimeLogMessage(emf), emf, 'written to stdout as it is');
    assert.equal(runtimeLogMessage('2026-01-01 INFO {"_aws":1}'), '2026-01-01 INFO {"_aws":1}');
  });

  it('tells EMF lines from other stdout lines cheaply', () => {
    assert.equal(looksLikeEmf('{"level":"info","msg":"hello"}'), false);
    assert.equal(looksLikeEmf('2026-01-01 INFO {"_aws":1}'), false);
  });
});
