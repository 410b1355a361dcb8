/**
 * The dimension sets of the runtime's EMF lines. By default a caller's line publishes the per-edge set,
 * a callee's line the per-version sets (and the per-edge set only for a caller that reports nothing),
 * and every label is a property of the line whether or not it is a dimension; `detailed` adds the full
 * set. The metrics a mesh makes follow edges and versions, not response codes; the local store counts
 * each line once and still sees every label.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { metricKeysOf } from '../../bench/support/scale-sim';
import { type CallRecord, MeshTelemetry } from '../../functions/mesh/telemetry/mesh-telemetry';
import { parseEmf } from '../../local/telemetry/emf-parser';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import { EXTERNAL, METRICS } from '../../shared/names';
import type { MetricDimensions } from '../../shared/telemetry/metric-dimensions';

type Directive = { Dimensions: string[][]; Metrics: { Name: string }[] };

function emfOf(r: Partial<CallRecord>, dimensions?: MetricDimensions): Record<string, unknown> {
  const out: string[] = [];
  new MeshTelemetry(
    (l) => out.push(...l.split('\n')),
    undefined,
    () => {},
    dimensions,
  ).record({
    reporter: 'source',
    source: 'orders',
    destination: 'payments',
    version: '3',
    code: 200,
    outcome: 'success',
    durationMs: 12,
    ...r,
  });
  return JSON.parse(out[0]!);
}

const directives = (line: Record<string, unknown>) =>
  (line._aws as { CloudWatchMetrics: Directive[] }).CloudWatchMetrics.map((d) => ({
    sets: d.Dimensions,
    metrics: d.Metrics.map((m) => m.Name),
  }));

const EDGE = [...METRICS.edgeDimensions];
const [VERSION, VERSION_CODE] = METRICS.versionDimensions.map((s) => [...s]);

describe('metric dimension sets', () => {
  test('a caller publishes the edge set, with an error count on every request', () => {
    const ok = emfOf({});
    assert.deepEqual(directives(ok), [
      { sets: [EDGE], metrics: [METRICS.requestsTotal, METRICS.requestDurationMs, METRICS.requestErrorsTotal] },
    ]);
    assert.equal(ok[METRICS.requestErrorsTotal], 0);
    const failed = emfOf({ code: 504, outcome: 'timeout', retries: 2 });
    assert.equal(failed[METRICS.requestErrorsTotal], 1);
    assert.equal(failed[METRICS.retriesTotal], 2);
    assert.ok(directives(failed)[0]!.metrics.includes(METRICS.retriesTotal));
  });

  test('every label is a property of the line, dimension or not (Logs Insights finds it)', () => {
    const line = emfOf({ code: 502, outcome: 'function-error' });
    assert.deepEqual(Object.fromEntries(METRICS.dimensions.map((d) => [d, line[d]])), {
      source_workload: 'orders',
      destination_workload: 'payments',
      destination_version: '3',
      response_code: '502',
      reporter: 'source',
    });
  });

  test('a callee publishes the per-version sets, requests by code alone; the edge set only for a caller that reports nothing', () => {
    const versions = [
      { sets: [VERSION], metrics: [METRICS.requestsTotal, METRICS.requestDurationMs] },
      { sets: [VERSION_CODE], metrics: [METRICS.requestsTotal] },
    ];
    assert.deepEqual(directives(emfOf({ reporter: 'destination' })), versions);
    const outside = directives(emfOf({ reporter: 'destination', source: EXTERNAL, code: 403, denied: true }));
    assert.deepEqual(outside.slice(1), versions);
    assert.deepEqual(outside[0]!.sets, [EDGE]);
    assert.ok(outside[0]!.metrics.includes(METRICS.deniedTotal));
  });

  test('a mirror copy is counted per version only, apart from requests', () => {
    assert.deepEqual(directives(emfOf({ reporter: 'destination', mirror: true })), [
      { sets: [VERSION], metrics: [METRICS.mirrorRequestsTotal, METRICS.mirrorRequestDurationMs] },
    ]);
  });

  test('detailed adds the full set on both sides', () => {
    assert.deepEqual(directives(emfOf({}, 'detailed'))[0]!.sets, [EDGE, [...METRICS.dimensions]]);
    const callee = directives(emfOf({ reporter: 'destination' }, 'detailed'));
    assert.deepEqual(callee[0]!.sets, [[...METRICS.dimensions]]);
    assert.equal(callee.length, 3);
  });

  test('metrics follow edges and versions, not response codes: 3 callers, 2 versions, 4 codes', () => {
    const count = (dimensions: MetricDimensions) => {
      const keys = new Set<string>();
      for (const source of ['orders', 'cart', 'audit'])
        for (const version of ['1', '2'])
          for (const code of [200, 500, 503, 504])
            for (const reporter of ['source', 'destination'] as const)
              for (const k of metricKeysOf(emfOf({ source, version, code, reporter }, dimensions))) keys.add(k);
      return keys.size;
    };
    // Per edge: requests, latency, errors (3 edges); per version: requests, latency (2 versions), and
    // requests by code (2 versions x 4 codes).
    assert.equal(count('standard'), 3 * 3 + 2 * 2 + 2 * 4);
    // The full set: requests, latency, errors per (edge, version, code, reporter) on top.
    assert.equal(count('detailed'), 3 * 3 + 2 * 2 + 2 * 4 + 3 * 2 * 4 * 2 * 3);
  });

  test('the local store counts a line published under several sets once, with every label', () => {
    const store = new TelemetryStore();
    for (const r of [{}, { code: 500, outcome: 'function-error' }] as const) {
      for (const reporter of ['source', 'destination'] as const) {
        const line = emfOf({ ...r, reporter });
        assert.ok(parseEmf(line).ok);
        store.recordEmf(line, { functionName: 'shop-payments', version: '3' });
      }
    }
    const stats = store.stats();
    assert.deepEqual(
      stats.edges.map((e) => `${e.source}->${e.destination}@${e.version} ${e.reporter} ${e.requests} ${e.successRate}`),
      ['orders->payments@3 destination 2 0.5'],
    );
    assert.deepEqual(stats.edges[0]!.codes, { 200: 1, 500: 1 });
  });
});
