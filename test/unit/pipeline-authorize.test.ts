/** Stage `authorize`: the target's policy admits the call (with its traffic policy) or refuses it before anything is sent. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshDeniedError } from '../../functions/mesh/errors';
import { authorize } from '../../functions/mesh/pipeline/authorize';
import { startCall } from '../../functions/mesh/pipeline/call-context';
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
    const { state, accessLog } = fixture({ items: PAYMENTS.filter((i) => i.sk === 'service') });
    await assert.rejects(authorize(startCall(state, 'payments', {}, { idempotencyKey: 'k-9' })), (err: Error) => {
      assert.ok(err instanceof MeshDeniedError);
      assert.match(err.message, /refused: denied \(request k-9\)/);
      assert.doesNotMatch(err.message, /no-edge/);
      return true;
    });
    const [line] = accessLog();
    assert.equal(line?.outcome, 'denied');
    assert.equal(line?.code, 403);
    assert.equal(line?.version, 'live');
    assert.equal(line?.attempts, 0);
    assert.match(String(line?.reason), /^no-edge: /);
  });

  test('an unknown service is refused too (deny by default)', async () => {
    const { state, accessLog } = fixture();
    await assert.rejects(authorize(startCall(state, 'audit', {}, {})), MeshDeniedError);
    assert.match(String(accessLog()[0]?.reason), /^unknown-service: /);
  });
});
