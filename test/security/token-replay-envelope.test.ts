/**
 * Attack: a captured token of a synchronous call, replayed inside an Event invoke's envelope. A
 * synchronous token's nonce is claimed once per sandbox (a second delivery is `token-replayed`); an
 * envelope's token is not claimed, since Lambda's queue delivers the same event again on a retry. Whoever
 * may invoke the callee puts the captured metadata and payload into an envelope
 * (`{"lambda-mesh": <metadata>, "payload": <payload>}`) and sends it as many times as it likes, on
 * the sandbox that already ran the call, before the deadline. Or it sends the captured ClientContext
 * again with the payload wrapped in an envelope whose metadata is not metadata, so that the envelope's
 * shape alone would mark the call as queued. Neither may carry a synchronous token: the handler runs
 * once. Real identities from one mesh CA, the real wrapper.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { MeshUnauthenticatedError } from '../../functions/mesh/errors';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { META } from '../../shared/names';
import { accessReasons, capturingRuntime } from '../support/captured-call';
import { type IdentityWorld, identityOf, identityWorld } from '../support/identity-fixture';

describe('attack: a synchronous token replayed in an Event envelope', () => {
  let world: IdentityWorld;
  before(async () => {
    world = await identityWorld('shop');
  });

  test('the envelope does not make a synchronous token good again: the handler runs once', async () => {
    // Prepare: orders charges once; the attacker holds the Invoke as it went out.
    const orders = capturingRuntime('orders', await identityOf(world.orders));
    assert.equal(await orders.rt.call('payments', { amountCents: 100 }), 'charged');
    const [sent] = orders.transport.sent;
    const clientContext = JSON.parse(Buffer.from(sent!.clientContext, 'base64').toString('utf8'));
    const meta = clientContext.custom[META.clientContextKey];
    const payload = JSON.parse(Buffer.from(sent!.payload).toString('utf8'));
    assert.equal(typeof meta.tok, 'string');
    assert.equal(typeof meta.dl, 'number');

    const payments = capturingRuntime('payments', await identityOf(world.payments));
    let charges = 0;
    const wrapped = wrapHandler(payments.rt, async () => {
      charges++;
      return 'charged';
    });
    const ctx = (id: string, cc?: unknown) => ({ awsRequestId: id, clientContext: cc });
    // Act: the call as sent, the same call again (the replay cache's case), then three envelopes.
    assert.equal(await wrapped(payload, ctx('r-1', clientContext)), 'charged');
    await assert.rejects(wrapped(payload, ctx('r-2', clientContext)), MeshUnauthenticatedError);
    const envelope = { [META.envelopeKey]: meta, [META.envelopePayloadKey]: payload };
    for (const id of ['r-3', 'r-4', 'r-5']) {
      await assert.rejects(wrapped(structuredClone(envelope), ctx(id)), MeshUnauthenticatedError, id);
    }

    // Assess: one charge; the replays are refused, and the log says why.
    assert.equal(charges, 1);
    assert.deepEqual(accessReasons(payments.lines), [
      'success',
      'token-replayed',
      'payload-digest-mismatch',
      'payload-digest-mismatch',
      'payload-digest-mismatch',
    ]);
  });

  test('a synchronous call sent again with its payload in an envelope with no metadata: the handler runs once', async () => {
    // Prepare: orders charges once; the attacker holds the Invoke as it went out, ClientContext and all.
    const orders = capturingRuntime('orders', await identityOf(world.orders));
    assert.equal(await orders.rt.call('payments', { amountCents: 100 }), 'charged');
    const [sent] = orders.transport.sent;
    const clientContext = JSON.parse(Buffer.from(sent!.clientContext, 'base64').toString('utf8'));
    const payload = JSON.parse(Buffer.from(sent!.payload).toString('utf8'));

    const payments = capturingRuntime('payments', await identityOf(world.payments));
    let charges = 0;
    const wrapped = wrapHandler(payments.rt, async () => {
      charges++;
      return 'charged';
    });
    const ctx = (id: string) => ({ awsRequestId: id, clientContext: structuredClone(clientContext) });
    // Act: the call as sent, then the same ClientContext three times with the payload wrapped in an
    // envelope whose metadata is not metadata: the envelope's shape must not make the ClientContext's
    // synchronous token a queued one, whose nonce is never claimed.
    assert.equal(await wrapped(payload, ctx('r-1')), 'charged');
    for (const id of ['r-2', 'r-3', 'r-4']) {
      const envelope = { [META.envelopeKey]: 0, [META.envelopePayloadKey]: structuredClone(payload) };
      await assert.rejects(wrapped(envelope, ctx(id)), MeshUnauthenticatedError, id);
    }

    // Assess: one charge.
    assert.equal(charges, 1);
  });
});
