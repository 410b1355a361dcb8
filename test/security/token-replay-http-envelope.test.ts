/**
 * Attack: a captured HTTP call (an HTTP target's request, `x-mesh-token` in its headers) replayed
 * inside an Event invoke's envelope whose metadata is not metadata. The wrapper opened the envelope,
 * found no metadata in it, took the payload for an HTTP event and read the caller's `x-mesh-*` headers
 * there, and verified the token as a queued one, whose nonce is never claimed (Lambda delivers an event
 * again on a retry). So whoever may invoke the callee, holding one request its HTTP caller sent (an
 * access log of a proxy, a load balancer's, the callee's own event log), ran the handler as that caller
 * as often as it liked on the sandbox that had already served it, until the token's deadline. A queued
 * message's metadata comes from its envelope only: such an event is `external`. And a refusal of an
 * Event invoke is a function error whatever its payload looks like, so Lambda retries it and its
 * on-failure destination keeps it; it was answered as an HTTP response, a success.
 * Real identities from one mesh CA, the real wrapper.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { MeshDeniedError, MeshUnauthenticatedError } from '../../functions/mesh/errors';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { META } from '../../shared/names';
import { accessReasons, capturingRuntime } from '../support/captured-call';
import { functionUrlEvent, signedCharge } from '../support/function-url-call';
import { type IdentityWorld, identityOf, identityWorld } from '../support/identity-fixture';

describe('attack: a captured HTTP call replayed inside an Event envelope', () => {
  let world: IdentityWorld;
  before(async () => {
    world = await identityWorld('shop');
  });

  test('the envelope does not make the HTTP token a queued one: the handler runs once', async () => {
    // Prepare: orders' call to payments over HTTP, signed as its HTTP transports sign it.
    const payload = '{"amountCents":100}';
    const { token, dl } = await signedCharge(world, payload);
    const event = functionUrlEvent(payload, token, dl);
    const payments = capturingRuntime('payments', await identityOf(world.payments));
    let charges = 0;
    const wrapped = wrapHandler(payments.rt, async () => {
      charges++;
      return { statusCode: 200, body: 'charged' };
    });
    const ctx = (id: string) => ({ awsRequestId: id });

    // Act: the request as sent, the same request again, then the same request in envelopes whose
    // metadata is absent, null, a number or an object that is no metadata.
    assert.equal(((await wrapped(structuredClone(event), ctx('r-1'))) as { statusCode: number }).statusCode, 200);
    const again = (await wrapped(structuredClone(event), ctx('r-2'))) as { statusCode: number };
    assert.equal(again.statusCode, 401);
    for (const [i, meta] of [null, 0, {}, { v: 1 }].entries()) {
      const envelope = { [META.envelopeKey]: meta, [META.envelopePayloadKey]: structuredClone(event) };
      // payments admits only orders: the envelope is an external caller, refused as an Invoke is.
      await assert.rejects(wrapped(envelope, ctx(`r-${3 + i}`)), MeshDeniedError, `envelope ${JSON.stringify(meta)}`);
    }

    // Assess: one charge; the replays are refused, and the log says why.
    assert.equal(charges, 1);
    const reasons = accessReasons(payments.lines);
    assert.deepEqual(reasons.slice(0, 2), ['success', 'token-replayed']);
    for (const r of reasons.slice(2)) assert.match(r, /^no-edge/);
  });

  test('a refused Event invoke or Invoke whose payload looks like an HTTP event is a function error, not a response', async () => {
    // Prepare: a caller payments does not admit (ledger), its payload an API Gateway event it forwards.
    const ledger = { v: 1, src: 'ledger', idk: 'k-1' };
    const forwarded = functionUrlEvent('{}', 'not-a-token', Date.now() + 5_000);
    const payments = capturingRuntime('payments', await identityOf(world.payments));
    let runs = 0;
    const wrapped = wrapHandler(payments.rt, async () => {
      runs++;
      return 'ran';
    });

    // Act + Assess: as an Event invoke's envelope, then as a synchronous Invoke's ClientContext. Each is
    // thrown (Lambda retries the event, then its on-failure destination keeps it), never answered 401.
    const envelope = { [META.envelopeKey]: ledger, [META.envelopePayloadKey]: structuredClone(forwarded) };
    await assert.rejects(wrapped(envelope, { awsRequestId: 'r-1' }), MeshUnauthenticatedError);
    const clientContext = { custom: { [META.clientContextKey]: ledger } };
    await assert.rejects(
      wrapped(structuredClone(forwarded), { awsRequestId: 'r-2', clientContext }),
      MeshUnauthenticatedError,
    );
    assert.equal(runs, 0);
    assert.deepEqual(accessReasons(payments.lines), ['token-missing', 'token-missing']);
  });
});
