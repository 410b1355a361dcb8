/**
 * `mesh stat --window`: calls on either side of the window's start, from each source. The local store
 * counts what falls in the window and divides by it. CloudWatch reads a start time of the last 15 days
 * from its minute ("GetMetricData", Amazon CloudWatch API Reference): a 60 s window starting at
 * 12:32:34 holds what came from 12:32:00, so the numbers, RPS included, must be over that span and say so.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { renderStats } from '../../cli/commands/stat';
import { cloudWatchStats } from '../../cli/telemetry/cloudwatch-stats';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import { METRICS } from '../../shared/names';
import { LoopbackCloudWatch } from '../support/loopback-cloudwatch';
import { emfLine } from '../support/observ-fixtures';

const MINUTE = 60_000;
const ctx = { functionName: 'demo-payments', version: '1' };
/** RPS as the snapshot gives it, to three decimals. */
const rps = (requests: number, seconds: number) => Math.round((requests / seconds) * 1000) / 1000;

describe('mesh stat: calls either side of the window start, local store', () => {
  it('counts a call 1 ms after the start once, none 1 ms before, and divides by the window', () => {
    // Prepare: a store listening for ten minutes already, so its rate is over the whole window.
    let t = 1_800_000_000_000;
    const store = new TelemetryStore({ now: () => t });
    t += 10 * MINUTE;
    const start = t - MINUTE;
    store.recordEmf(emfLine({ timestamp: start - 1, durations: [50] }), ctx);
    store.recordEmf(emfLine({ timestamp: start + 1, durations: [7] }), ctx);
    // Act
    const now = store.stats({ windowMs: MINUTE }).edges[0]!;
    t += MINUTE;
    const next = store.stats({ windowMs: MINUTE }).edges[0]!;
    // Assess
    assert.deepEqual([now.requests, now.rps, now.p99], [1, rps(1, 60), 7]);
    assert.deepEqual([next.requests, next.rps], [0, 0], 'the next window holds neither');
  });
});

describe('mesh stat: a window not on a minute, read from CloudWatch', () => {
  const loopback = new LoopbackCloudWatch();
  const cloudwatch = loopback.metrics;
  let client: CloudWatchClient;
  // 12:33:34 of a minute some time ago: a 60 s window starts at 12:32:34, CloudWatch reads from 12:32:00.
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
  const now = minute + MINUTE + 34_000;
  const edge = { source_workload: 'orders', destination_workload: 'payments', reporter: 'source' };
  const call = (at: number, ms: number) => {
    cloudwatch.put(METRICS.requestsTotal, edge, 1, at);
    cloudwatch.put(METRICS.requestDurationMs, edge, ms, at);
  };

  before(async () => {
    call(minute - 1_000, 900); // 12:31:59: before the minute the window starts in
    call(minute + 10_000, 10); // 12:32:10: before the window, in its first minute
    call(minute + 40_000, 20); // 12:32:40
    call(minute + MINUTE + 30_000, 5); // 12:33:30
    client = new CloudWatchClient({
      endpoint: await loopback.listen(),
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });
  after(async () => {
    client?.destroy();
    await loopback.close();
  });

  it('counts from the minute the window starts in, once, over the time that covers', async () => {
    const s = await cloudWatchStats(client, 'shop', MINUTE, now);
    const e = s.edges[0]!;
    assert.equal(e.requests, 3, 'the calls of 12:32:10, 12:32:40 and 12:33:30, each once');
    assert.equal(s.windowMs, 94_000, 'the numbers cover 12:32:00 to 12:33:34');
    assert.equal(e.rps, rps(3, 94), 'not over 60 s: 0.05 would be a third too high');
    assert.deepEqual([e.p50, e.p99], [10, 20], 'percentiles over every call counted, not the last minute alone');
    for (const q of cloudwatch.requests) {
      assert.equal(q.startTime % MINUTE, 0, 'asks from a whole minute, as CloudWatch would read it anyway');
      assert.deepEqual(new Set(q.periods), new Set([120]), 'one period up to now');
    }
  });

  it('says which span the numbers cover', async () => {
    const text = renderStats({ source: 'cloudwatch', ...(await cloudWatchStats(client, 'shop', MINUTE, now)) });
    const from = new Date(minute).toISOString().slice(11, 19);
    assert.equal(
      text.split('\n')[0],
      `CloudWatch LambdaMesh/shop, last 94s (from ${from} UTC, the minute the window starts in)`,
    );
  });

  it('puts a call in the next window once the minute it fell in is past', async () => {
    const s = await cloudWatchStats(client, 'shop', MINUTE, now + MINUTE);
    assert.equal(s.edges[0]!.requests, 1, 'from 12:33:00: the call of 12:33:30 alone');
  });
});
