/**
 * The token's `ctx` claim: the digest of the metadata the callee acts on besides the request (the
 * attempt, the mirror mark, the routing headers). A token with it binds all three; a token without it
 * (a caller of an older layer) verifies as before and binds none.
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type Identity, REFUSAL } from '../../functions/mesh/identity';
import { type BoundMetadata, contextDigest } from '../../functions/mesh/identity/request-binding';
import { type IdentityWorld, identityOf, identityWorld } from '../support/identity-fixture';

const BODY = '{"amount":42}';
const RH = { 'x-route-cohort': 'beta', 'x-route-region': 'eu' };
const CONTEXT: BoundMetadata = { att: 2, mir: 1, rh: RH };

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('identity token: the bound metadata digest', () => {
  it('is nothing to hash without an attempt, a mirror mark or a routing header', () => {
    assert.equal(contextDigest({}), undefined);
  });

  it('is a 43-character digest as soon as any one field is there', () => {
    for (const c of [{ att: 1 }, { mir: 1 as const }, { rh: { 'x-route-a': 'b' } }]) {
      assert.match(contextDigest(c) ?? '', /^[A-Za-z0-9_-]{43}$/, JSON.stringify(c));
    }
  });

  it('does not depend on the order the routing headers were written in', () => {
    const reversed = { 'x-route-region': 'eu', 'x-route-cohort': 'beta' };
    assert.deepEqual(Object.keys(reversed), [...Object.keys(RH)].reverse());
    assert.equal(contextDigest({ rh: reversed }), contextDigest({ rh: RH }));
    assert.equal(contextDigest({ att: 2, mir: 1, rh: reversed }), contextDigest(CONTEXT));
  });

  it('changes with each field, and with a header moved from one name to another', () => {
    const variants: BoundMetadata[] = [
      CONTEXT,
      { ...CONTEXT, att: 3 },
      { ...CONTEXT, att: undefined },
      { ...CONTEXT, mir: undefined },
      { ...CONTEXT, rh: undefined },
      { ...CONTEXT, rh: { ...RH, 'x-route-cohort': 'stable' } },
      { ...CONTEXT, rh: { ...RH, 'x-route-extra': 'beta' } },
      { ...CONTEXT, rh: { 'x-route-cohort': 'beta' } },
      { ...CONTEXT, rh: { 'x-route-cohort': 'eu', 'x-route-region': 'beta' } },
      { att: 1 },
      { mir: 1 },
      { rh: { 'x-route-a': 'b' } },
      { rh: { 'x-route-b': 'a' } },
    ];
    const digests = new Set(variants.map(contextDigest));
    assert.equal(digests.size, variants.length);
  });
});

describe('identity token: a token that binds the metadata', () => {
  let w: IdentityWorld;
  let orders: Identity;
  let payments: Identity;

  before(async () => {
    w = await identityWorld();
    orders = await identityOf(w.orders);
    payments = await identityOf(w.payments);
  });

  const signed = (context?: BoundMetadata) => orders.sign({ target: 'payments', payload: BODY, context });
  const verify = (token: string, context?: BoundMetadata, async?: boolean) =>
    payments.verify({ token, source: 'orders', payload: BODY, context, ...(async ? { async } : {}) });

  it('carries the digest as claim ctx, and verifies with the metadata as sent', () => {
    const token = signed(CONTEXT);
    assert.equal(claimsOf(token).ctx, contextDigest(CONTEXT));
    assert.deepEqual(verify(token, { rh: { 'x-route-region': 'eu', 'x-route-cohort': 'beta' }, mir: 1, att: 2 }), {
      ok: true,
      contextBound: true,
    });
  });

  it('refuses each field changed, added or dropped after signing, without taking the nonce', () => {
    const token = signed(CONTEXT);
    const tampered: (BoundMetadata | undefined)[] = [
      { ...CONTEXT, att: 1 },
      { ...CONTEXT, mir: undefined },
      { ...CONTEXT, rh: { ...RH, 'x-route-cohort': 'stable' } },
      { ...CONTEXT, rh: { ...RH, 'x-route-more': '1' } },
      { ...CONTEXT, rh: { 'x-route-cohort': 'beta' } },
      { ...CONTEXT, rh: undefined },
      {},
      undefined,
    ];
    for (const context of tampered) {
      assert.deepEqual(verify(token, context), { ok: false, reason: REFUSAL.contextMismatch }, JSON.stringify(context));
    }
    // The refusals left the nonce unclaimed: the call as sent still goes through, once.
    assert.deepEqual(verify(token, CONTEXT), { ok: true, contextBound: true });
    assert.deepEqual(verify(token, CONTEXT), { ok: false, reason: REFUSAL.replayed });
  });

  it('refuses a mirror mark added to an attempt that had none', () => {
    const token = signed({ att: 1 });
    assert.deepEqual(verify(token, { att: 1, mir: 1 }), { ok: false, reason: REFUSAL.contextMismatch });
    assert.deepEqual(verify(token, { att: 1, rh: { 'x-route-a': 'b' } }), {
      ok: false,
      reason: REFUSAL.contextMismatch,
    });
    assert.deepEqual(verify(token, { att: 1 }), { ok: true, contextBound: true });
  });

  it('checks the digest of an asynchronous message too', () => {
    const token = orders.sign({ target: 'payments', payload: BODY, context: CONTEXT, lifetimeS: 60 });
    assert.deepEqual(verify(token, { ...CONTEXT, mir: undefined }, true), {
      ok: false,
      reason: REFUSAL.contextMismatch,
    });
    assert.deepEqual(verify(token, CONTEXT, true), { ok: true, contextBound: true });
  });

  it('the request is checked first: a changed payload is a payload mismatch whatever the metadata', () => {
    const token = signed(CONTEXT);
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: '{"amount":43}', context: {} }), {
      ok: false,
      reason: REFUSAL.payloadMismatch,
    });
  });
});

describe('identity token: a token of an older caller, without the claim', () => {
  let orders: Identity;
  let payments: Identity;

  before(async () => {
    const w = await identityWorld();
    orders = await identityOf(w.orders);
    payments = await identityOf(w.payments);
  });

  it('is what a caller writes when there is nothing to bind, and has no ctx claim', () => {
    const token = orders.sign({ target: 'payments', payload: BODY, context: {} });
    assert.deepEqual(Object.keys(claimsOf(token)).sort(), ['aud', 'dig', 'exp', 'iat', 'iss', 'nce']);
    assert.equal('ctx' in claimsOf(orders.sign({ target: 'payments', payload: BODY })), false);
  });

  it('verifies whatever metadata comes with it, and says it bound none', () => {
    for (const context of [undefined, {}, CONTEXT, { mir: 1 as const }]) {
      const token = orders.sign({ target: 'payments', payload: BODY });
      assert.deepEqual(
        payments.verify({ token, source: 'orders', payload: BODY, context }),
        { ok: true },
        JSON.stringify(context),
      );
    }
  });
});
