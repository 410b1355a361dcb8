/**
 * Stage `limit`: over a mesh-wide rate limit a call fails fast (429, nothing sent) and counts in
 * rate_limited_total; a retry takes a token like any request, so retries never spend budget the
 * limit has not granted; the service's bucket and the edge's both apply. Slices come from a leaser
 * shared by two clients here (two sandboxes of one caller).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshClient } from '../../functions/mesh/client';
import { MeshRateLimitedError, MeshThrottledError } from '../../functions/mesh/errors';
import type { RateLimitState } from '../../functions/mesh/pipeline/limit';
import { type LeaseRequest, MemoryLeaser } from '../../functions/mesh/resilience/rate-limit-lease';
import type { InvokeRequest } from '../../functions/mesh/transport/lambda-invoke';
import { fixture, ok, PAYMENTS, transportOf } from '../support/pipeline-fixture';

function sandbox(
  items: unknown[],
  leaser: MemoryLeaser,
  answer: (req: InvokeRequest) => ReturnType<typeof ok> = () => ok({}),
) {
  const transport = transportOf(answer);
  const f = fixture({ items, transport, deps: { rateLimitLeaser: () => leaser } });
  const client = new MeshClient({ ...f.state.deps, now: f.state.now, sleep: async () => undefined, random: () => 0 });
  return { ...f, transport, client };
}

describe('pipeline stage: limit', () => {
  test('over the limit: MeshRateLimitedError, no Invoke, counted on the edge', async () => {
    const items = [PAYMENTS[0], { ...PAYMENTS[1], rateLimit: { perSecond: 1, burst: 2 } }];
    const { client, transport, lines, clock } = sandbox(items, new MemoryLeaser());
    await client.call('payments', {});
    await client.call('payments', {});
    await assert.rejects(client.call('payments', {}), (err: unknown) => {
      assert.ok(err instanceof MeshRateLimitedError);
      assert.equal(err.status, 429);
      assert.ok(err.retryAfterMs > 0);
      return true;
    });
    assert.equal(transport.requests.length, 2, 'the refused call sent nothing');
    const counted = lines.filter((l) => l.includes('"rate_limited_total":1'));
    assert.equal(counted.length, 1);
    assert.match(counted[0]!, /"destination_workload":"payments".*"response_code":"429"/);
    clock.t += 3_000;
    await client.call('payments', {});
    assert.equal(transport.requests.length, 3, 'the bucket refills');
  });

  test('two sandboxes share one bucket: together they get the burst, not twice it', async () => {
    const items = [PAYMENTS[0], { pk: 'payments', sk: 'traffic', rateLimit: { perSecond: 1, burst: 4 } }, PAYMENTS[1]];
    const leaser = new MemoryLeaser();
    const a = sandbox(items, leaser);
    const b = sandbox(items, leaser);
    const results = [];
    for (let i = 0; i < 6; i++) {
      for (const s of [a, b])
        results.push(
          await s.client.call('payments', {}).then(
            () => 'ok',
            (e: Error) => e.name,
          ),
        );
    }
    assert.equal(results.filter((r) => r === 'ok').length, 4, results.join(','));
    assert.equal(a.transport.requests.length + b.transport.requests.length, 4);
  });

  test('a retry takes a token: with none left, the call ends with the attempt’s own error', async () => {
    const items = [PAYMENTS[0], { ...PAYMENTS[1], retries: { maxAttempts: 3 }, rateLimit: { perSecond: 1, burst: 2 } }];
    const { client, transport } = sandbox(items, new MemoryLeaser(), () => {
      throw Object.assign(new Error('Rate exceeded'), {
        name: 'TooManyRequestsException',
        $metadata: { httpStatusCode: 429 },
      });
    });
    await assert.rejects(client.call('payments', {}), MeshThrottledError);
    assert.equal(transport.requests.length, 2, 'two tokens, two attempts: the third was never sent');
  });

  test('the edge’s limit does not lift the service’s: a call takes a token from each', async () => {
    const items = [
      PAYMENTS[0],
      { pk: 'payments', sk: 'traffic', rateLimit: { perSecond: 1, burst: 1 } },
      { ...PAYMENTS[1], rateLimit: { perSecond: 100, burst: 100 } },
    ];
    const { client } = sandbox(items, new MemoryLeaser());
    await client.call('payments', {});
    await assert.rejects(client.call('payments', {}), (e: MeshRateLimitedError) => /payments\/traffic/.test(e.message));
  });

  test('a call the edge’s bucket refuses gives the service’s token back: nothing sent, nothing spent', async () => {
    // Prepare: a roomy service bucket, a tight edge bucket; count what the table grants each.
    const items = [
      PAYMENTS[0],
      { pk: 'payments', sk: 'traffic', rateLimit: { perSecond: 50, burst: 50 } },
      { ...PAYMENTS[1], rateLimit: { perSecond: 1, burst: 1 } },
    ];
    const table = new MemoryLeaser();
    const granted = new Map<string, number>();
    const leaser = {
      lease: async (req: LeaseRequest) => {
        const r = await table.lease(req);
        granted.set(req.scope, (granted.get(req.scope) ?? 0) + r.granted);
        return r;
      },
    };
    const { client, transport, state } = sandbox(items, leaser as MemoryLeaser);
    // Act: one call goes through, then the edge refuses five in a row.
    await client.call('payments', {});
    for (let i = 0; i < 5; i++) await assert.rejects(client.call('payments', {}), MeshRateLimitedError);
    // Assess: every token the service bucket granted was either spent on a sent call or is still held.
    const held = (client as unknown as { state: { rateLimits: RateLimitState } }).state.rateLimits.buckets
      .get('payments', 'traffic', { perSecond: 50, burst: 50 })
      .held(state.now());
    assert.equal(transport.requests.length, 1);
    assert.equal(granted.get('traffic'), transport.requests.length + held);
  });
});
