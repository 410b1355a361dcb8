/**
 * The golden metrics are computed once (shared/telemetry/golden-metrics.ts) for both sources: the same
 * traffic, as the local collector takes it in (EMF lines) and as CloudWatch returns it (a sum per
 * counter series, percentiles per latency series), gives the same edges, services and canary split.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MetricStream, type StreamValues, snapshotFromCloudWatch } from '../../cli/telemetry/cloudwatch-stats';
import { MeshTelemetry } from '../../functions/mesh/telemetry/mesh-telemetry';
import { parseEmf } from '../../local/telemetry/emf-parser';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
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
// by the callee only; a call that timed out before any version answered (after a retry), filed by the
// caller under `live`.
const TRAFFIC: Calls[] = [
  { reporter: 'destination', version: '1', code: '200', requests: 30, durations: [10, 20, 30] },
  { reporter: 'destination', version: '2', code: '200', requests: 8, durations: [40] },
  { reporter: 'destination', version: '2', code: '500', requests: 2, durations: [50] },
  { reporter: 'source', version: '1', code: '200', requests: 32, retries: 2 },
  { reporter: 'source', version: '2', code: '200', requests: 8 },
  { reporter: 'source', version: 'live', code: '504', requests: 1, retries: 1 },
  { reporter: 'destination', source: 'audit', version: '1', code: '403', requests: 3, denied: 3, durations: [1] },
  { reporter: 'source', source: 'audit', version: '1', code: '403', requests: 3, denied: 3, durations: [1] },
  // Calls orders refused over a rate limit (the callee never saw them), and calls the version 1 of
  // payments served as a fallback for another target: counted by the caller only.
  { reporter: 'source', version: 'live', code: '429', requests: 5, rateLimited: 5 },
  // Calls orders' own mesh refused before they left (a deny on the edge): the callee never saw them either.
  { reporter: 'source', version: 'live', code: '403', requests: 4, denied: 4 },
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

/**
 * What CloudWatch holds of the same traffic: the lines the runtime writes for it by default (per-edge
 * and per-version sets), each metric summed per series; a latency series keeps its slowest value.
 */
function fromCloudWatch(): StatsSnapshot {
  const series = new Map<string, { stream: MetricStream; values: StreamValues }>();
  const telemetry = new MeshTelemetry(
    (text) => {
      for (const line of text.split('\n')) {
        if (!line.includes('"_aws"')) continue;
        const parsed = parseEmf(line);
        assert.ok(parsed.ok);
        for (const s of parsed.samples) {
          const key = `${s.name}|${JSON.stringify(s.dimensions)}`;
          const known = series.get(key) ?? { stream: { name: s.name, dims: s.dimensions }, values: {} };
          const v = known.values;
          for (const x of s.values) {
            v.sum = (v.sum ?? 0) + x;
            v.samples = (v.samples ?? 0) + 1;
            v.p50 = v.p95 = v.p99 = Math.max(v.p99 ?? 0, x);
          }
          series.set(key, known);
        }
      }
    },
    undefined,
    () => {},
  );
  for (const c of TRAFFIC) {
    const durations = c.durations ?? [];
    for (let i = 0; i < c.requests; i++) {
      telemetry.record({
        reporter: c.reporter,
        source: c.source ?? 'orders',
        destination: 'payments',
        version: c.version,
        code: Number(c.code),
        outcome: c.code === '200' ? 'success' : 'error',
        // Each line is one call: the group's durations go to its first calls, the rest take the first.
        durationMs: durations[i] ?? durations[0] ?? 1,
        retries: i < (c.retries ?? 0) ? 1 : 0,
        denied: i < (c.denied ?? 0),
        ...(i < (c.rateLimited ?? 0) ? { outcome: 'rate-limited' } : {}),
        ...(i < (c.fallbacks ?? 0) ? { fallbackFor: 'inventory' } : {}),
        ...(c.mirror ? { mirror: true } : {}),
      });
    }
  }
  return snapshotFromCloudWatch([...series.values()], WINDOW_MS, NOW);
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

  it('locally, each edge per version, described by the callee when it saw it', () => {
    const v1 = local.edges.find((e) => e.source === 'orders' && e.version === '1')!;
    assert.equal(v1.reporter, 'destination', 'the callee describes an edge it saw');
    assert.equal(v1.requests, 30, 'the caller is not added on top');
    assert.equal(v1.retries, 2, 'retries only the caller saw still count');
    assert.equal(v1.fallbacks, 2, 'fallbacks only the caller counts show on the callee’s edge');
    const live = local.edges.find((e) => e.version === 'live')!;
    assert.equal(live.reporter, 'source', 'an edge only the caller saw keeps the caller');
    assert.equal(live.rateLimited, 5, 'calls refused over a rate limit show on their edge');
  });

  it('on CloudWatch, each edge over all versions, as its caller reported it (no response code needed)', () => {
    const edges = cloud.edges.map((e) => ({
      edge: `${e.source}->${e.destination}@${e.version}`,
      reporter: e.reporter,
      requests: e.requests,
      successRate: e.successRate,
      retries: e.retries,
      denied: e.denied,
      rateLimited: e.rateLimited,
      fallbacks: e.fallbacks,
    }));
    const edge = { reporter: 'source', retries: 0, denied: 0, rateLimited: 0, fallbacks: 0 };
    assert.deepEqual(edges, [
      { ...edge, edge: 'audit->payments@*', requests: 3, successRate: 0, denied: 3 },
      // 41 calls as before, 5 refused over a rate limit (429), 4 refused by orders' mesh and 2 a fallback served.
      {
        ...edge,
        edge: 'orders->payments@*',
        requests: 52,
        successRate: 42 / 52,
        retries: 3,
        denied: 4,
        rateLimited: 5,
        fallbacks: 2,
      },
    ]);
  });

  it('the same services and the same canary split', () => {
    const services = (s: StatsSnapshot) =>
      s.services.map((x) => ({
        service: x.service,
        ...counts(x),
        // Denials and retries are per-edge facts: the default metrics do not split them by version.
        versions: x.versions.map((v) => ({
          version: v.version,
          share: v.share,
          requests: v.requests,
          successRate: v.successRate,
          codes: v.codes,
        })),
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
    // audit's 3, which payments refused, and the 4 orders' mesh refused before they left, which only
    // orders' records of the edge hold: the service counts every denial its edge table shows.
    assert.equal(payments.denied, 7);
    assert.equal(payments.retries, 3, 'the retry of the call that timed out under the alias too');
  });

  it('mirror copies are counted apart from requests', () => {
    const shadow = local.edges.find((e) => e.version === '3')!;
    assert.equal(shadow.requests, 0);
    assert.equal(shadow.mirrored, 4);
    assert.equal(shadow.p99, null, 'their latency is not the edge’s');
    assert.ok(cloud.edges.every((e) => e.mirrored === 0));
  });

  it('latency: exact over every value locally, the busiest series on CloudWatch', () => {
    const v1 = local.edges.find((e) => e.source === 'orders' && e.version === '1')!;
    assert.equal(v1.p50, 20);
    assert.equal(cloud.edges.find((e) => e.source === 'orders')!.p99, 1, 'the caller measured it: one series');
    const payments = (s: StatsSnapshot) => s.services.find((x) => x.service === 'payments')!;
    assert.equal(payments(local).p99, 50, 'every value of every inbound edge');
    assert.equal(payments(cloud).p99, 30, 'the version series with the most samples');
  });
});
