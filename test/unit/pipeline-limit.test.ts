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
import {
  type LeaseRequest,
  type LeaseResult,
  MemoryLeaser,
  type RateLimitLeaser,
} from '../../functions/mesh/resilience/rate-limit-lease';
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

  /** A leaser that answers from the test and counts the leases asked for. */
  function scripted(answer: (req: LeaseRequest) => Promise<LeaseResult>) {
    const asked: LeaseRequest[] = [];
    const leaser: RateLimitLeaser = {
      writes: 0,
      lease: (req) => {
        asked.push(req);
        return answer(req);
      },
    };
    return { asked, leaser: leaser as MemoryLeaser };
  }
  const EDGE_LIMITED = [PAYMENTS[0], { ...PAYMENTS[1], rateLimit: { perSecond: 2, burst: 3 } }];

  test('refused by the table: the error names the limit and its item, and the wait rounded up to a ms', async () => {
    const { leaser } = scripted(async (req) => ({ granted: 0, retryAt: req.now + 1234.4 }));
    const { client, transport, accessLog } = sandbox(EDGE_LIMITED, leaser);
    await assert.rejects(client.call('payments', {}), (err: unknown) => {
      assert.ok(err instanceof MeshRateLimitedError);
      assert.equal(err.retryAfterMs, 1235);
      assert.equal(
        err.message,
        'mesh: the call to payments is over its rate limit (2/s, burst 3, payments/allow#orders); ' +
          'nothing was sent, try again in 1235 ms',
      );
      return true;
    });
    assert.equal(transport.requests.length, 0);
    assert.equal(accessLog()[0]?.reason, 'rate limit payments/allow#orders');
  });

  test('a slice reserved for later: refused until it starts, then spent without another lease', async () => {
    const { asked, leaser } = scripted(async (req) => ({ granted: 3, startsAt: req.now + 300 }));
    const { client, transport, clock } = sandbox(EDGE_LIMITED, leaser);
    await assert.rejects(
      client.call('payments', {}),
      (err: unknown) => err instanceof MeshRateLimitedError && err.retryAfterMs === 300,
    );
    clock.t += 300;
    await client.call('payments', {});
    assert.equal(transport.requests.length, 1);
    assert.equal(asked.length, 1);
  });

  test('calls that need a token while a lease is in flight wait for it instead of leasing again', async () => {
    let grant!: () => void;
    const { asked, leaser } = scripted(
      (req) =>
        new Promise((resolve) => {
          grant = () => resolve({ granted: 2, startsAt: req.now });
        }),
    );
    const { client, transport } = sandbox(EDGE_LIMITED, leaser);
    const calls = [client.call('payments', {}), client.call('payments', {})];
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(asked.length, 1, 'one lease for the two calls');
    grant();
    await Promise.all(calls);
    assert.equal(asked.length, 1);
    assert.equal(transport.requests.length, 2);
  });

  test('a table that cannot be reached: this sandbox enforces the limit alone, and says why', async () => {
    const failure = Object.assign(new Error('table down'), { name: 'ResourceNotFoundException' });
    for (const thrown of [failure, undefined]) {
      const { asked, leaser } = scripted(() => Promise.reject(thrown));
      const { client, transport, lines } = sandbox(EDGE_LIMITED, leaser);
      await client.call('payments', {});
      assert.equal(transport.requests.length, 1, 'the call goes on');
      assert.equal(asked.length, 1);
      const warning = lines.map((l) => JSON.parse(l)).find((l) => l.level === 'WARN');
      assert.equal(warning?.msg, 'mesh: could not lease a rate-limit slice; this sandbox enforces the limit alone');
      assert.equal(warning?.target, 'payments');
      assert.equal(warning?.scope, 'allow#orders');
      if (thrown) assert.equal(warning?.error, 'ResourceNotFoundException: table down');
    }
  });
});
