/**
 * Attack: a captured call replayed on another sandbox (each keeps its own replay cache) before its token
 * expires, with the metadata the callee acts on changed: the mirror mark set, so the call is counted
 * apart from real traffic and a canary's gates do not see it, or the routing headers changed, to steer
 * the callee's own calls. The token binds that metadata (claim `ctx`): each replay is refused and the
 * handler never runs. A token of an older layer binds none of it: its mirror mark and routing headers
 * are dropped, not trusted. Real identities from one mesh CA, the real wrapper.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { MeshUnauthenticatedError } from '../../functions/mesh/errors';
import type { InvocationScope } from '../../functions/mesh/invocation-scope';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { META } from '../../shared/names';
import { accessReasons, capturingRuntime } from '../support/captured-call';
import { type IdentityWorld, identityOf, identityWorld } from '../support/identity-fixture';

type Metadata = Record<string, unknown>;

/** A fresh payments sandbox (its own replay cache) whose handler notes the scope it ran in. */
async function sandbox(world: IdentityWorld) {
  const payments = capturingRuntime('payments', await identityOf(world.payments));
  const scopes: (InvocationScope | undefined)[] = [];
  const wrapped = wrapHandler(payments.rt, async () => {
    scopes.push(payments.rt.scope);
    return 'charged';
  });
  const deliver = (payload: unknown, meta: Metadata) =>
    wrapped(structuredClone(payload), {
      awsRequestId: 'r-1',
      clientContext: { custom: { [META.clientContextKey]: meta } },
    });
  return { ...payments, scopes, deliver };
}

describe('attack: a captured call replayed with its mirror mark or routing headers changed', () => {
  let world: IdentityWorld;
  let meta: Metadata;
  let payload: unknown;
  before(async () => {
    world = await identityWorld('shop');
    // Prepare: orders charges once, routed by a cohort header; the attacker holds the Invoke as it went out.
    const orders = capturingRuntime('orders', await identityOf(world.orders));
    const headers = { 'x-route-cohort': 'beta' };
    assert.equal(await orders.rt.call('payments', { amountCents: 100 }, { headers }), 'charged');
    const [sent] = orders.transport.sent;
    meta = JSON.parse(Buffer.from(sent!.clientContext, 'base64').toString('utf8')).custom[META.clientContextKey];
    payload = JSON.parse(Buffer.from(sent!.payload).toString('utf8'));
    assert.deepEqual(meta.rh, headers);
    assert.equal('mir' in meta, false);
  });

  test('the call as sent, on a sandbox of its own: served, with its routing headers and as real traffic', async () => {
    const payments = await sandbox(world);
    assert.equal(await payments.deliver(payload, meta), 'charged');
    assert.deepEqual(payments.scopes[0]?.routeHeaders, { 'x-route-cohort': 'beta' });
    assert.equal(payments.scopes[0]?.mirror, undefined);
    assert.deepEqual(accessReasons(payments.lines), ['success']);
  });

  test('replayed as a mirror copy (hidden from a canary gate): refused, the handler never runs', async () => {
    const payments = await sandbox(world);
    await assert.rejects(payments.deliver(payload, { ...meta, mir: 1 }), MeshUnauthenticatedError);
    assert.equal(payments.scopes.length, 0);
    assert.deepEqual(accessReasons(payments.lines), ['metadata-digest-mismatch']);
    // The refusal is counted as the real traffic it is (denied_total), not as a mirror copy.
    assert.equal(
      payments.lines.some((l) => l.includes('"mirror_requests_total"')),
      false,
    );
    assert.ok(payments.lines.some((l) => l.includes('"denied_total":1')));
  });

  test('replayed with other routing headers, more of them or none: each refused on a sandbox of its own', async () => {
    const variants = [{ 'x-route-cohort': 'canary' }, { 'x-route-cohort': 'beta', 'x-route-region': 'eu' }, undefined];
    for (const rh of variants) {
      const payments = await sandbox(world);
      await assert.rejects(payments.deliver(payload, { ...meta, rh }), MeshUnauthenticatedError, JSON.stringify(rh));
      assert.equal(payments.scopes.length, 0);
      assert.deepEqual(accessReasons(payments.lines), ['metadata-digest-mismatch']);
    }
  });

  test('replayed with another attempt number: refused', async () => {
    const payments = await sandbox(world);
    await assert.rejects(payments.deliver(payload, { ...meta, att: 2 }), MeshUnauthenticatedError);
    assert.deepEqual(accessReasons(payments.lines), ['metadata-digest-mismatch']);
  });
});

describe('a caller of an older layer, whose token has no ctx claim', () => {
  test('its call is served, but its mirror mark and routing headers are not trusted: dropped', async () => {
    const world = await identityWorld('shop');
    const orders = await identityOf(world.orders);
    const payload = { amountCents: 100 };
    const bytes = JSON.stringify(payload);
    const dl = Date.now() + 5_000;
    // What an older layer sends: a token over the request alone, beside a mirror mark and routing headers.
    const tok = orders.sign({ target: 'payments', payload: bytes, idempotencyKey: 'k-1', deadline: dl });
    const old = { v: 1, src: 'orders', dl, att: 1, idk: 'k-1', tok, mir: 1, rh: { 'x-route-cohort': 'beta' } };

    const payments = await sandbox(world);
    assert.equal(await payments.deliver(payload, old), 'charged');
    assert.equal(payments.scopes[0]?.routeHeaders, undefined);
    assert.equal(payments.scopes[0]?.mirror, undefined);
    // Counted as real traffic, not as a mirror copy.
    assert.deepEqual(accessReasons(payments.lines), ['success']);
    assert.equal(
      payments.lines.some((l) => l.includes('"mirror_requests_total"')),
      false,
    );
    assert.ok(payments.lines.some((l) => l.includes('"requests_total"')));
  });
});
