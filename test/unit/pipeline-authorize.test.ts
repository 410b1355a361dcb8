/** Stage `authorize`: the target's policy admits the call (with its traffic policy) or refuses it before anything is sent. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshCallError, MeshDeniedError, MeshTimeoutError } from '../../functions/mesh/errors';
import { authorize } from '../../functions/mesh/pipeline/authorize';
import type { ClientState } from '../../functions/mesh/pipeline/call-context';
import { startCall } from '../../functions/mesh/pipeline/call-context';
import { parseChannels } from '../../shared/channel';
import { type Fixture, fixture, PAYMENTS, T0 } from '../support/pipeline-fixture';

/**
 * Makes each policy read of `state` answer only after `ms` of real time, as a table out of reach would
 * not at all: a call bounded by its deadline ends first, and one that is not bound gets its
 * answer (never a test held until the runner's own timeout). Returns what stops the pending reads.
 */
function slowReads(state: ClientState, ms: number): () => void {
  const cache = state.deps.policy;
  const read = cache.get.bind(cache);
  const timers: NodeJS.Timeout[] = [];
  cache.get = (service) => new Promise((r) => timers.push(setTimeout(r, ms))).then(() => read(service));
  return () => {
    for (const t of timers) clearTimeout(t);
  };
}

/** Timers this process holds now. */
const timersHeld = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/**
 * Asserts the call ended at its deadline having sent nothing: a timeout (the caller's deadline, not a
 * refusal, so no denied_total), its access log saying the table was too slow for `ms`.
 */
async function assertEndedLate(f: Fixture, call: Promise<unknown>, ms: number): Promise<void> {
  const why = `the policy table did not answer before the call's deadline (${ms} ms)`;
  await assert.rejects(
    call,
    (err: Error) =>
      err instanceof MeshTimeoutError && err.message === `mesh: call to payments has no time left: ${why}`,
  );
  const [line] = f.accessLog();
  assert.equal(line?.outcome, 'timeout');
  assert.equal(line?.code, 504);
  assert.equal(line?.attempts, 0, 'nothing sent');
  assert.equal(line?.reason, `stale-policy: ${why}`);
  assert.equal(f.lines.filter((l) => l.includes('"denied_total":1')).length, 0, 'not counted as a refusal');
}

describe('pipeline stage: authorize', () => {
  test('an allowed edge: the traffic policy, function, alias, payload bytes and overall deadline', async () => {
    const { state } = fixture({
      items: [
        { pk: 'payments', sk: 'service', functionName: 'shop-payments-fn', alias: 'stable' },
        { pk: 'payments', sk: 'allow#orders', source: 'orders', timeoutMs: 900 },
      ],
    });
    const call = await authorize(startCall(state, 'payments', { amount: 3 }, {}));
    assert.equal(call.functionName, 'shop-payments-fn');
    assert.equal(call.alias, 'stable');
    assert.equal(call.version, 'stable', 'reported under the alias until an attempt names a version');
    assert.equal(call.bytes.toString(), '{"amount":3}');
    assert.equal(call.overallDeadline, T0 + 900);
    assert.equal(call.traffic.timeoutMs, 900);
    assert.equal(call.budget.snapshot(T0).requests, 1, 'the admitted call counts in the retry budget');
  });

  test('the call option timeoutMs wins over the policy; no payload is sent as {}', async () => {
    const { state } = fixture();
    const call = await authorize(startCall(state, 'payments', undefined, { timeoutMs: 250 }));
    assert.equal(call.overallDeadline, T0 + 250);
    assert.equal(call.bytes.toString(), '{}');
    assert.equal(call.functionName, 'shop-payments');
  });

  test('no edge: denied with the request key only; the reason stays in the access log', async () => {
    const { state, accessLog, lines } = fixture({ items: PAYMENTS.filter((i) => i.sk === 'service') });
    await assert.rejects(authorize(startCall(state, 'payments', {}, { idempotencyKey: 'k-9' })), (err: Error) => {
      assert.ok(err instanceof MeshDeniedError);
      assert.equal(
        err.message,
        'mesh: the call to payments was refused: denied (request k-9); the reason is in the mesh access log',
      );
      assert.doesNotMatch(err.message, /no-edge/);
      return true;
    });
    const [line] = accessLog();
    assert.equal(line?.outcome, 'denied');
    assert.equal(line?.code, 403);
    assert.equal(line?.version, 'live');
    assert.equal(line?.attempts, 0);
    assert.match(String(line?.reason), /^no-edge: /);
    assert.equal(lines.filter((l) => l.includes('"denied_total":1')).length, 1, 'counted as a refusal');
  });

  test('no service item: the function is named after the mesh and the service', async () => {
    const { state } = fixture({ items: PAYMENTS.filter((i) => i.sk !== 'service') });
    const call = await authorize(startCall(state, 'payments', {}, {}));
    assert.deepEqual([call.functionName, call.alias], ['shop-payments', 'live']);
  });

  test('a target that is not a service name: a call error before anything, and no record', async () => {
    const { state, lines } = fixture();
    const lookalike = { toString: () => 'payments' } as unknown as string; // not a string, though it reads as one
    for (const bad of ['Payments', 'pay_ments', 42 as unknown as string, lookalike]) {
      assert.throws(
        () => startCall(state, bad, {}, {}),
        (e: Error) =>
          e instanceof MeshCallError &&
          e.message.startsWith(`call(target): ${JSON.stringify(bad)} is not a service name`),
      );
    }
    assert.equal(lines.length, 0);
  });

  test('serving a mirror copy: only a call on an idempotent edge goes out; a send or any other call is refused', async () => {
    const mirror = { mirror: true, source: 'frontend', idempotencyKey: 'k-1' };
    const items = (idempotent: boolean) => [
      { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
      { pk: 'payments', sk: 'allow#orders', source: 'orders', idempotent },
    ];
    const idempotent = fixture({ items: items(true), scope: mirror });
    const call = await authorize(startCall(idempotent.state, 'payments', {}, {}));
    assert.equal(call.carried.mir, 1, 'it goes out marked as a mirror copy');
    for (const mode of ['call', 'send'] as const) {
      const f = fixture({ items: items(mode === 'send'), scope: mirror });
      await assert.rejects(authorize(startCall(f.state, 'payments', {}, {}, mode)), (err: Error) => {
        assert.ok(err instanceof MeshCallError);
        const why = mode === 'send' ? 'a message' : 'not idempotent';
        assert.equal(err.message, `mesh: a mirror copy makes no ${mode} to payments (${why})`);
        assert.equal((err as MeshCallError).status, 409);
        return true;
      });
      const [line] = f.accessLog();
      assert.equal(line?.outcome, 'client-error');
      assert.equal(line?.reason, `mirror copy: ${mode === 'send' ? 'a message' : 'not idempotent'}`);
      assert.equal(f.lines.filter((l) => l.includes('"denied_total"')).length, 0, 'not a refusal by policy');
    }
    // The same call outside a mirror copy goes out on an edge that is not idempotent.
    const real = fixture({ items: items(false), scope: { ...mirror, mirror: undefined } });
    assert.equal((await authorize(startCall(real.state, 'payments', {}, {}))).carried.mir, undefined);
  });

  test('an unknown service is refused too (deny by default)', async () => {
    const { state, accessLog } = fixture();
    await assert.rejects(authorize(startCall(state, 'audit', {}, {})), MeshDeniedError);
    assert.match(String(accessLog()[0]?.reason), /^unknown-service: /);
  });

  test('only a send goes to a channel: a call to a service of the same name invokes the service', async () => {
    const queue = { kind: 'sqs', arn: 'arn:aws:sqs:eu-west-1:123456789012:payments', url: 'http://127.0.0.1:1/q' };
    const { state } = fixture({ deps: { channels: () => parseChannels(JSON.stringify({ payments: queue })) } });
    const called = await authorize(startCall(state, 'payments', {}, {}));
    assert.equal(called.channel, undefined);
    assert.equal(called.functionName, 'shop-payments');
    const sent = await authorize(startCall(state, 'payments', {}, {}, 'send'));
    assert.equal(sent.channel?.arn, queue.arn);
    assert.equal(sent.functionName, queue.arn);
  });

  test('MESH_CHANNELS unreadable: a send fails closed, naming the variable and the fix', async () => {
    const channels = parseChannels('{not json');
    assert.equal(channels.ok, false);
    const { state } = fixture({ deps: { channels: () => channels } });
    await assert.rejects(
      authorize(startCall(state, 'payments', {}, {}, 'send')),
      (e: Error) =>
        e instanceof MeshCallError &&
        e.status === 500 &&
        e.message ===
          `mesh: MESH_CHANNELS is malformed (${channels.ok ? '' : channels.error}); ` +
            'MeshFunction sets it at deploy, so redeploy the function',
    );
  });

  describe("a policy read bounded by the call's own deadline", () => {
    const scope = (deadline?: number) => ({ source: 'frontend', idempotencyKey: 'in-1', deadline });

    test('from the call option timeoutMs: ended when the read is still waiting then', async () => {
      const f = fixture();
      const stop = slowReads(f.state, 5_000);
      await assertEndedLate(
        f,
        authorize(startCall(f.state, 'payments', {}, { timeoutMs: 5, idempotencyKey: 'k-1' })),
        5,
      );
      stop();
    });

    test('from the deadline of the invocation the call serves', async () => {
      const f = fixture({ scope: scope(T0 + 4) });
      const stop = slowReads(f.state, 5_000);
      await assertEndedLate(f, authorize(startCall(f.state, 'payments', {}, { idempotencyKey: 'k-1' })), 4);
      stop();
    });

    test('the earlier of the two', async () => {
      for (const [timeoutMs, deadline] of [
        [3, T0 + 9],
        [9, T0 + 3],
      ] as const) {
        const f = fixture({ scope: scope(deadline) });
        const stop = slowReads(f.state, 5_000);
        await assertEndedLate(
          f,
          authorize(startCall(f.state, 'payments', {}, { timeoutMs, idempotencyKey: 'k-1' })),
          3,
        );
        stop();
      }
    });

    test('the time the call spent before authorize counts: the timer runs to the deadline, not for timeoutMs', async () => {
      const f = fixture();
      const stop = slowReads(f.state, 5_000);
      const call = startCall(f.state, 'payments', {}, { timeoutMs: 60_000, idempotencyKey: 'k-1' });
      f.clock.t = T0 + 59_995;
      await assertEndedLate(f, authorize(call), 60_000);
      stop();
    });

    test('neither known: no bound, the read is waited for', async () => {
      const f = fixture({ scope: scope(undefined) });
      const stop = slowReads(f.state, 20);
      const call = await authorize(startCall(f.state, 'payments', {}, {}));
      stop();
      assert.equal(call.functionName, 'shop-payments');
      assert.equal(f.accessLog().length, 0, 'nothing refused');
    });

    test('a read that answers before the deadline: allowed as usual, and the timer is cleared', async () => {
      const f = fixture({ scope: scope(T0 + 600_000) });
      slowReads(f.state, 20);
      const before = timersHeld();
      const call = await authorize(startCall(f.state, 'payments', {}, { timeoutMs: 60_000 }));
      assert.equal(call.functionName, 'shop-payments');
      assert.equal(call.overallDeadline, T0 + 60_000);
      assert.equal(f.accessLog().length, 0, 'nothing refused');
      assert.equal(timersHeld(), before, 'no deadline timer is left behind');
    });

    test('a copy at hand, fresh or being refreshed within the bound: no timer is armed', async (t) => {
      const f = fixture({ scope: scope(T0 + 500) });
      const setTimeoutSpy = t.mock.method(globalThis, 'setTimeout');
      const fresh = await authorize(startCall(f.state, 'payments', {}, { timeoutMs: 500 }));
      f.clock.t += 6_000; // past the cache's TTL: served while it is read again
      const stale = await authorize(startCall(f.state, 'payments', {}, { timeoutMs: 500 }));
      assert.deepEqual([fresh.functionName, stale.functionName], ['shop-payments', 'shop-payments']);
      assert.equal(setTimeoutSpy.mock.callCount(), 0);
    });
  });
});
