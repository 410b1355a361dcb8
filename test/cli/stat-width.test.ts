/**
 * `mesh stat` at a terminal fits its width, as kubectl and linkerd's tables do: the edges table of the
 * example shop was 138 columns wide, so at 80 every row broke over two lines. Pure rendering of a
 * snapshot shaped like the shop's (names, canary split, a denied edge, retries).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderStats, type StatResult } from '../../cli/commands/stat';
import type { EdgeStats, GoldenMetrics, ServiceStats } from '../../shared/telemetry/golden-metrics';

const golden = (requests: number, more: Partial<GoldenMetrics> = {}): GoldenMetrics => ({
  requests,
  rps: requests / 60,
  successRate: 1,
  p50: 59,
  p95: 293,
  p99: 720,
  denied: 0,
  breakerOpens: 0,
  retries: 0,
  codes: {},
  mirrored: 0,
  rateLimited: 0,
  fallbacks: 0,
  ...more,
});

const service = (name: string, requests: number, more: Partial<ServiceStats> = {}): ServiceStats => ({
  service: name,
  versions: [{ version: '1', share: 1, ...golden(requests) }],
  ...golden(requests),
  ...more,
});

const edge = (source: string, destination: string, version: string, m: GoldenMetrics): EdgeStats => ({
  source,
  destination,
  version,
  reporter: 'source',
  ...m,
});

function shop(): StatResult {
  return {
    source: 'local',
    at: 0,
    windowMs: 60_000,
    services: [
      service('frontend', 471),
      service('notifications', 410),
      service('order-events', 410),
      service('payments', 416, {
        successRate: 0.993,
        denied: 61,
        versions: [
          { version: '1', share: 0.94, ...golden(390) },
          { version: '2', share: 0.06, ...golden(26, { successRate: 0.87 }) },
        ],
      }),
    ],
    edges: [
      edge('external', 'frontend', '1', golden(471)),
      edge('frontend', 'payments', 'live', golden(61, { successRate: 0, denied: 61 })),
      edge('mesh-deploy-check', 'payments', '2', golden(1)),
      edge('orders', 'notifications', '1', golden(410)),
      edge('orders', 'payments', '1', golden(393, { retries: 3 })),
    ],
    callers: [],
    collector: {} as StatResult['collector'],
  };
}

const widest = (text: string) => Math.max(...text.split('\n').map((l) => l.length));

describe('mesh stat: tables that fit the terminal', () => {
  it('without a width (a pipe, a file, --wide): every column, as before', () => {
    const text = renderStats(shop());
    assert.ok(widest(text) > 120, `${widest(text)}`);
    for (const h of ['BREAKER', 'LIMITED', 'FALLBACK', 'MIRROR', 'P95', 'RPS', 'SOURCE', 'DESTINATION']) {
      assert.match(text, new RegExp(`\\b${h}\\b`));
    }
    assert.doesNotMatch(text, /not shown/);
  });

  it('at 80 columns every line fits, and no column that had something to say is lost unnamed', () => {
    const text = renderStats(shop(), undefined, 80);
    assert.ok(widest(text) <= 80, `\n${text}`);
    // Events that happened stay; those that did not (0 on every row) are named under the tables.
    const [header] = text.split('\n').filter((l) => l.startsWith('EDGE'));
    assert.ok(header, `one edge column at 80:\n${text}`);
    assert.match(header, /DENIED/);
    assert.match(header, /RETRIES/);
    assert.doesNotMatch(header, /BREAKER|LIMITED|FALLBACK|MIRROR/);
    assert.match(text, /frontend -> payments@live .* 61\b/);
    assert.match(text, /orders -> payments@1 .* 3$/m);
    // The note is prose, broken between words to fit too.
    assert.match(
      text.slice(text.indexOf('not shown')).replaceAll('\n', ' '),
      /^not shown to fit 80 columns: BREAKER, LIMITED, FALLBACK, MIRROR \(0 on every row\), P95(, RPS)?; --wide shows every column/,
    );
  });

  it('at 100 columns, P95 and RPS stay where they fit', () => {
    const text = renderStats(shop(), undefined, 100);
    assert.ok(widest(text) <= 100, `\n${text}`);
    const services = text.split('\n').find((l) => l.startsWith('SERVICE'))!;
    assert.match(services, /RPS .*P95/);
  });

  it('a table that fits is left as it is', () => {
    const text = renderStats(shop(), undefined, 200);
    assert.equal(text, renderStats(shop()));
  });
});
