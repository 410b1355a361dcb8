/**
 * The per-version dimension sets: a callee's EMF line publishes its metrics under the full set and the
 * per-version sets a deployment's alarms read; a caller's line only under the full set; the local
 * store counts each line once.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshTelemetry } from '../../functions/mesh/telemetry/mesh-telemetry';
import { parseEmf } from '../../local/telemetry/emf-parser';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import { METRICS } from '../../shared/names';

function lines(reporter: 'source' | 'destination', code = 200) {
  const out: string[] = [];
  new MeshTelemetry(
    (l) => out.push(...l.split('\n')),
    undefined,
    () => {},
  ).record({
    reporter,
    source: 'orders',
    destination: 'payments',
    version: '3',
    code,
    outcome: code === 200 ? 'success' : 'function-error',
    durationMs: 12,
  });
  return out;
}

describe('per-version dimension sets', () => {
  test('a destination line publishes the full set and the per-version sets; a source line the full set only', () => {
    const dst = JSON.parse(lines('destination')[0]!);
    assert.deepEqual(dst._aws.CloudWatchMetrics[0].Dimensions, [METRICS.dimensions, ...METRICS.versionDimensions]);
    const src = JSON.parse(lines('source')[0]!);
    assert.deepEqual(src._aws.CloudWatchMetrics[0].Dimensions, [METRICS.dimensions]);
  });

  test('the per-version sets carry the version, the reporter and (one of them) the code, and no caller', () => {
    const parsed = parseEmf(lines('destination', 500)[0]!);
    assert.ok(parsed.ok);
    const requests = parsed.samples.filter((s) => s.name === METRICS.requestsTotal).map((s) => s.dimensions);
    assert.deepEqual(requests.slice(1), [
      { destination_workload: 'payments', destination_version: '3', reporter: 'destination' },
      { destination_workload: 'payments', destination_version: '3', reporter: 'destination', response_code: '500' },
    ]);
  });

  test('the local store counts a line published under three sets once, with no caller-less edge', () => {
    const store = new TelemetryStore();
    for (const l of [...lines('destination'), ...lines('destination', 500)]) {
      if (l.includes('"_aws"')) store.recordEmf(JSON.parse(l), { functionName: 'shop-payments', version: '3' });
    }
    const stats = store.stats();
    assert.deepEqual(
      stats.edges.map((e) => `${e.source}->${e.destination}@${e.version} ${e.requests} ${e.successRate}`),
      ['orders->payments@3 2 0.5'],
    );
  });
});
