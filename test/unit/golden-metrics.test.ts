/**
 * The golden metrics are computed once (shared/telemetry/golden-metrics.ts) for both sources: the same
 * traffic, as the local collector takes it in (EMF lines) and as CloudWatch returns it (a sum per
 * counter series, percentiles per latency series), gives the same edges, services and canary split.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MetricStream, type StreamValues, snapshotFromCloudWatch } from '../../cli/telemetry/cloudwatch-stats';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import { METRICS } from '../../shared/names';
import type { GoldenMetrics, StatsSnapshot } from '../../shared/telemetry/golden-metrics';
import { type EdgeLine, emfLine } from '../support/observ-fixtures';

/** One group of calls, as one reporter saw them. */
interface Calls extends EdgeLine {
  readonly reporter: 'source' | 'destination';
  readonly version: string;
  readonly code: string;
  readonly requests: number;
}

// orders -> payments with a canary: the callee reports every attempt, the caller one record per call
// (a canary failure retried onto v1 shows as a v1 success on the caller's side); a denied caller seen
// by the callee only; a call that timed out before any version answered, filed by the caller under `live`.
const TRAFFIC: Calls[] = [
  { reporter: 'destination', version: '1', code: '200', requests: 30, durations: [10, 20, 30] },
  { reporter: 'destination', version: '2', code: '200', requests: 8, durations: [40] },
  { reporter: 'destination', version: '2', code: '500', requests: 2, durations: [50] },
  { reporter: 'source', version: '1', code: '200', requests: 32, retries: 2 },
  { reporter: 'source', version: '2', code: '200', requests: 8 },
  { reporter: 'source', version: 'live', code: '504', requests: 1 },
  { reporter: 'destination', source: 'audit', version: '1', code: '403', requests: 3, denied: 3, durations: [1] },
  // Calls orders refused over a rate limit (the callee never saw them), and calls the version 1 of
  // payments served as a fallback for another target: counted by the caller only.
  { reporter: 'source', version: 'live', code: '429', requests: 5, rateLimited: 5 },
  { reporter: 'source', version: '1', code: '200', requests: 2, fallbacks: 2 },
  // Mirror copies to a shadow version: counted apart, in no request count, success rate or split.
  { reporter: 'destination', version: '3', code: '500', requests: 4, mirror: true, durations: [900] },
];

const WINDOW_MS = 60_000;
const NOW = 1_800_000_000_000;

function fromCollector(): StatsSnapshot {
  // The store rates over the time it has listened: it starts listening a whole window before.
  let now = NOW - WINDOW_MS;
  const store = new TelemetryStore({ now: () => now });
  for (const c of TRAFFIC) {
    store.recordEmf(emfLine({ ...c, durations: c.durations ?? [], timestamp: NOW - 1_000 }), {
      functionName: 'shop-payments',
      version: c.version,
    });
  }
  now = NOW;
  return store.stats({ windowMs: WINDOW_MS });
}

function fromCloudWatch(): StatsSnapshot {
  const streams: { stream: MetricStream; values: StreamValues }[] = [];
  for (const c of TRAFFIC) {
    const dims = {
      source_workload: c.source ?? 'orders',
      destination_workload: 'payments',
      destination_version: c.version,
      response_code: c.code,
      reporter: c.reporter,
    };
    const sum = (name: string, value: number | undefined) => {
      if (value !== undefined) streams.push({ stream: { name, dims }, values: { sum: value } });
    };
    sum(c.mirror ? METRICS.mirrorRequestsTotal : METRICS.requestsTotal, c.requests);
    sum(METRICS.deniedTotal, c.denied);
    sum(METRICS.retriesTotal, c.retries);
    sum(METRICS.rateLimitedTotal, c.rateLimited);
    sum(METRICS.fallbackTotal, c.fallbacks);
    if (c.durations?.length && !c.mirror) {
      const max = Math.max(...c.durations);
      streams.push({
        stream: { name: METRICS.requestDurationMs, dims },
        values: { samples: c.durations.length, p50: max, p95: max, p99: max },
      });
    }
  }
  return snapshotFromCloudWatch(streams, WINDOW_MS, NOW);
}

/** What both sources must agree on: everything but latency, which only one of them can merge exactly. */
function counts(m: GoldenMetrics) {
  return {
    requests: m.requests,
    rps: m.rps,
    successRate: m.successRate,
    denied: m.denied,
    retries: m.retries,
    breakerOpens: m.breakerOpens,
    codes: m.codes,
    mirrored: m.mirrored,
    rateLimited: m.rateLimited,
    fallbacks: m.fallbacks,
  };
}

describe('golden metrics, from the local collector and from CloudWatch', () => {
  const local = fromCollector();
  const cloud = fromCloudWatch();
  const edges = (s: StatsSnapshot) =>
    s.edges.map((e) => ({ edge: `${e.source}->${e.destination}@${e.version}`, reporter: e.reporter, ...counts(e) }));

  it('the same edges, each described by the same reporter with the same counts', () => {
    assert.deepEqual(edges(cloud), edges(local));
    const v1 = cloud.edges.find((e) => e.source === 'orders' && e.version === '1')!;
    assert.equal(v1.reporter, 'destination', 'the callee describes an edge it saw');
    assert.equal(v1.requests, 30, 'the caller is not added on top');
    assert.equal(v1.retries, 2, 'retries only the caller saw still count');
    assert.equal(v1.fallbacks, 2, 'fallbacks only the caller counts show on the callee’s edge');
    const live = cloud.edges.find((e) => e.version === 'live')!;
    assert.equal(live.reporter, 'source', 'an edge only the caller saw keeps the caller');
    assert.equal(live.rateLimited, 5, 'calls refused over a rate limit show on their edge');
  });

  it('the same services and the same canary split', () => {
    const services = (s: StatsSnapshot) =>
      s.services.map((x) => ({
        service: x.service,
        ...counts(x),
        versions: x.versions.map((v) => ({ version: v.version, share: v.share, ...counts(v) })),
      }));
    assert.deepEqual(services(cloud), services(local));
    const payments = cloud.services.find((x) => x.service === 'payments')!;
    assert.deepEqual(
      payments.versions.map((v) => v.version),
      ['1', '2'],
      'the caller-only `live` record adds no phantom version',
    );
    assert.equal(payments.requests, 43);
    assert.equal(payments.successRate, 38 / 43, 'the failing mirror copies do not count against it');
    assert.equal(payments.mirrored, 4);
  });

  it('mirror copies show on their edge, counted apart from its requests', () => {
    for (const s of [local, cloud]) {
      const shadow = s.edges.find((e) => e.version === '3')!;
      assert.equal(shadow.requests, 0);
      assert.equal(shadow.mirrored, 4);
      assert.equal(shadow.p99, null, 'their latency is not the edge’s');
    }
  });

  it('latency: exact over every value locally, the busiest series on CloudWatch', () => {
    const v1 = (s: StatsSnapshot) => s.edges.find((e) => e.source === 'orders' && e.version === '1')!;
    assert.equal(v1(local).p50, 20);
    assert.equal(v1(cloud).p50, 30);
    const payments = (s: StatsSnapshot) => s.services.find((x) => x.service === 'payments')!;
    assert.equal(payments(local).p99, 50, 'every value of every inbound edge');
    assert.equal(payments(cloud).p99, 30, 'the series with the most samples');
  });
});
