/** Stage `authorize`: the target's policy admits the call (with its traffic policy) or refuses it before anything is sent. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshCallError, MeshDeniedError } from '../../functions/mesh/errors';
import { authorize } from '../../functions/mesh/pipeline/authorize';
import { startCall } from '../../functions/mesh/pipeline/call-context';
import { parseChannels } from '../../shared/channel';
import { fixture, PAYMENTS, T0 } from '../support/pipeline-fixture';

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
});
