/**
 * Opening a call (functions/mesh/pipeline/call-context.ts, `startCall`): the target's name checked with
 * an error that says which function refused it, the key its breakers and budget are kept under, and what
 * every request of the call carries on: the invocation's routing headers as they came, a call's own
 * headers filtered like an inbound request's, and the mirror mark of a mirror copy.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshCallError } from '../../functions/mesh/errors';
import type { InvocationScope } from '../../functions/mesh/invocation-scope';
import { startCall } from '../../functions/mesh/pipeline/call-context';
import { fixture } from '../support/pipeline-fixture';

describe('pipeline: opening a call', () => {
  test('a target that is no mesh name: the error names the function, and for send the channel too', () => {
    const { state } = fixture();
    const rules = '(lower-case letters, digits, dashes)';
    assert.throws(
      () => startCall(state, 'Payments', {}, {}),
      (e: Error) =>
        e instanceof MeshCallError && e.message === `call(target): "Payments" is not a service name ${rules}`,
    );
    assert.throws(
      () => startCall(state, 'Order Events', {}, {}, 'send'),
      (e: Error) =>
        e instanceof MeshCallError &&
        e.message === `send(target): "Order Events" is not a service name or channel name ${rules}`,
    );
  });

  test('a fallback in another region is kept apart (target@region); one pinned to a version is not', () => {
    const { state } = fixture();
    const there = startCall(state, 'payments', {}, {}, 'call', {
      primary: 'payments',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-payments',
      region: 'eu-west-1',
    });
    assert.equal(there.key, 'payments@eu-west-1');
    assert.equal(there.detour?.region, 'eu-west-1');
    const pinned = startCall(state, 'payments', {}, {}, 'call', { primary: 'payments', qualifier: '3' });
    assert.equal(pinned.key, 'payments');
    assert.equal('detour' in startCall(state, 'payments', {}, {}), false);
  });

  test("carries the invocation's routing headers on as they came, the very object", () => {
    // Read from the inbound request with the callee's MESH_ROUTE_HEADERS; this client lists no extra names.
    const routeHeaders = { 'x-route-cell': 'b', tenant: 'acme' };
    const scope: InvocationScope = { routeHeaders };
    const { state } = fixture({ scope });
    const call = startCall(state, 'payments', {}, {});
    assert.equal(call.carried.rh, routeHeaders);
    assert.equal(call.routeHeaders, routeHeaders);
    assert.equal('mir' in call.carried, false);
  });

  test("a call's own headers go over the invocation's, and only routing headers are carried", () => {
    const scope: InvocationScope = { routeHeaders: { 'x-route-cell': 'b', 'x-route-zone': '1' } };
    const { state } = fixture({ scope });
    const call = startCall(state, 'payments', {}, { headers: { 'x-route-cell': 'c', accept: 'json' } });
    assert.deepEqual(call.carried, { rh: { 'x-route-cell': 'c', 'x-route-zone': '1' } });
    // Outside an invocation, the call's own headers alone.
    const alone = fixture().state;
    assert.deepEqual(startCall(alone, 'payments', {}, { headers: { 'X-Route-Cell': 'd' } }).carried, {
      rh: { 'x-route-cell': 'd' },
    });
    assert.deepEqual(startCall(alone, 'payments', {}, { headers: { accept: 'json' } }).carried, {});
  });

  test('an invocation serving a mirror copy marks every call it makes as mirror traffic', () => {
    const { state } = fixture({ scope: { mirror: true } });
    assert.deepEqual(startCall(state, 'payments', {}, {}).carried, { mir: 1 });
  });
});
