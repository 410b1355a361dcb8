/**
 * Token and chain checks: a good token passes once; every kind of bad token is refused with the reason
 * that names the failed check, and nothing throws.
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { issueIdentity } from '../../functions/control/ca-issuer';
import { type Identity, MAX_TOKEN_CHARS, REFUSAL } from '../../functions/mesh/identity';
import { type IdentityWorld, identityOf, identityWorld } from '../support/identity-fixture';

const BODY = Buffer.from('{"amount":42}');

/** Replaces one JSON claim and re-encodes the claims part (the signature then no longer matches). */
function withClaim(token: string, patch: Record<string, unknown>): string {
  const [v, claims, cert, sig] = token.split('.');
  const obj = { ...JSON.parse(Buffer.from(claims!, 'base64url').toString()), ...patch };
  return [v, Buffer.from(JSON.stringify(obj)).toString('base64url'), cert, sig].join('.');
}

describe('identity token', () => {
  let w: IdentityWorld;
  let orders: Identity;
  let payments: Identity;
  const clock = { now: Date.now() };

  before(async () => {
    w = await identityWorld();
    orders = await identityOf(w.orders, clock);
    payments = await identityOf(w.payments, clock);
  });

  it('accepts a good token once, then refuses the replay', () => {
    const token = orders.sign({ target: 'payments', payload: BODY });
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: BODY }), { ok: true });
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.replayed,
    });
  });

  it('each attempt gets its own nonce, so retries are not replays', () => {
    const a = orders.sign({ target: 'payments', payload: BODY });
    const b = orders.sign({ target: 'payments', payload: BODY });
    assert.notEqual(a, b);
    assert.equal(payments.verify({ token: a, source: 'orders', payload: BODY }).ok, true);
    assert.equal(payments.verify({ token: b, source: 'orders', payload: BODY }).ok, true);
  });

  it('accepts string payloads equal to the signed bytes', () => {
    const token = orders.sign({ target: 'payments', payload: '{"amount":42}' });
    assert.equal(payments.verify({ token, source: 'orders', payload: BODY }).ok, true);
  });

  it('refuses a payload changed after signing', () => {
    const token = orders.sign({ target: 'payments', payload: BODY });
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: '{"amount":4200}' }), {
      ok: false,
      reason: REFUSAL.payloadMismatch,
    });
  });

  it('refuses a token for another audience', () => {
    const token = orders.sign({ target: 'ledger', payload: BODY });
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.wrongAudience,
    });
  });

  it('refuses a caller claiming another source', () => {
    const token = orders.sign({ target: 'payments', payload: BODY });
    assert.deepEqual(payments.verify({ token, source: 'admin', payload: BODY }), {
      ok: false,
      reason: REFUSAL.wrongSource,
    });
  });

  it('refuses a forged issuer claim (signature no longer matches, SAN says orders)', () => {
    const token = withClaim(orders.sign({ target: 'payments', payload: BODY }), { iss: 'spiffe://shop/svc/admin' });
    assert.deepEqual(payments.verify({ token, source: 'admin', payload: BODY }), {
      ok: false,
      reason: REFUSAL.wrongSource,
    });
  });

  it('refuses a wrong signature', () => {
    const token = orders.sign({ target: 'payments', payload: BODY });
    const parts = token.split('.');
    const sig = Buffer.from(parts[3]!, 'base64url');
    sig[10] = sig[10]! ^ 0xff;
    parts[3] = sig.toString('base64url');
    assert.deepEqual(payments.verify({ token: parts.join('.'), source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.badSignature,
    });
    const patched = withClaim(orders.sign({ target: 'payments', payload: BODY }), {
      exp: Math.floor(clock.now / 1000) + 5,
    });
    assert.deepEqual(payments.verify({ token: patched, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.badSignature,
    });
  });

  it('refuses expired and not-yet-valid tokens, and over-long lifetimes, with 2 s of skew tolerated', () => {
    const saved = clock.now;
    const token = orders.sign({ target: 'payments', payload: BODY });
    const skewed = orders.sign({ target: 'payments', payload: BODY });
    const early = orders.sign({ target: 'payments', payload: BODY });
    clock.now = saved + 13_000; // lifetime 10 s + skew 2 s passed
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.expired,
    });
    clock.now = saved + 10_500; // expired less than 2 s ago: within skew
    assert.equal(payments.verify({ token: skewed, source: 'orders', payload: BODY }).ok, true);
    clock.now = saved - 4_000; // the caller's clock runs 4 s ahead
    assert.deepEqual(payments.verify({ token: early, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.notYetValid,
    });
    clock.now = saved;
    const long = withClaim(orders.sign({ target: 'payments', payload: BODY }), {
      exp: Math.floor(saved / 1000) + 11,
    });
    assert.deepEqual(payments.verify({ token: long, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.lifetimeTooLong,
    });
  });

  it('refuses a certificate from another CA, even with the right SAN', async () => {
    const foreign = await identityOf(w.foreignOrders, clock);
    const token = foreign.sign({ target: 'payments', payload: BODY });
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.untrustedCertificate,
    });
  });

  it('refuses a certificate for another service signing as orders', async () => {
    const inventory = await identityOf(await issueIdentity({ mesh: 'shop', service: 'inventory', ca: w.ca }), clock);
    // inventory signs a token that claims to come from orders
    const real = inventory.sign({ target: 'payments', payload: BODY });
    const forged = withClaim(real, { iss: 'spiffe://shop/svc/orders' });
    assert.deepEqual(payments.verify({ token: forged, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.wrongSource,
    });
    assert.deepEqual(payments.verify({ token: real, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.wrongSource,
    });
  });

  it('refuses a certificate from another mesh (trust domain)', async () => {
    const other = await identityOf(await issueIdentity({ mesh: 'other', service: 'orders', ca: w.ca }), clock);
    const token = other.sign({ target: 'spiffe://shop/svc/payments', payload: BODY });
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.wrongSource,
    });
  });

  it('refuses an expired or not-yet-valid certificate', async () => {
    const old = await issueIdentity({ mesh: 'shop', service: 'orders', ca: w.ca, now: clock.now - 3 * 86_400_000 });
    const oldClock = { now: clock.now };
    const stale = await identityOf(old, oldClock);
    const token = stale.sign({ target: 'payments', payload: BODY });
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.certificateExpired,
    });
    const future = await identityOf(
      await issueIdentity({ mesh: 'shop', service: 'orders', ca: w.ca, now: clock.now + 3_600_000 }),
      clock,
    );
    const t2 = future.sign({ target: 'payments', payload: BODY });
    assert.deepEqual(payments.verify({ token: t2, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.certificateNotYetValid,
    });
  });

  it('refuses missing, truncated, oversized and garbage tokens without throwing', () => {
    const good = orders.sign({ target: 'payments', payload: BODY });
    const cases: [unknown, string][] = [
      [undefined, REFUSAL.missing],
      ['', REFUSAL.missing],
      [null, REFUSAL.missing],
      [42, REFUSAL.malformed],
      [{ tok: good }, REFUSAL.malformed],
      [good.slice(0, good.length / 2), REFUSAL.malformed],
      [good.slice(0, -3), REFUSAL.badSignature],
      [good + 'A'.repeat(MAX_TOKEN_CHARS), REFUSAL.oversized],
      ['m1...', REFUSAL.malformed],
      [`m1${good.slice(2)}`, REFUSAL.malformed],
      [good.replace(/\./g, '!'), REFUSAL.malformed],
      [good.split('.').slice(0, 3).join('.'), REFUSAL.malformed],
      [`${good}.x`, REFUSAL.malformed],
    ];
    for (const [token, reason] of cases) {
      assert.deepEqual(
        payments.verify({ token, source: 'orders', payload: BODY }),
        { ok: false, reason },
        `token ${String(token).slice(0, 40)}`,
      );
    }
  });

  it('refuses garbage in every claim and a garbage certificate part', () => {
    const good = orders.sign({ target: 'payments', payload: BODY });
    const garbage: unknown[] = [null, 1.5, -1, '', 'x'.repeat(2000), [], {}, true, 1e300];
    for (const key of ['iss', 'aud', 'iat', 'exp', 'nce', 'dig']) {
      for (const g of garbage) {
        const r = payments.verify({ token: withClaim(good, { [key]: g }), source: 'orders', payload: BODY });
        assert.equal(r.ok, false, `${key}=${JSON.stringify(g)}`);
      }
    }
    const parts = good.split('.');
    for (const cert of ['AAAA', parts[1]!, Buffer.from('not a certificate').toString('base64url')]) {
      const r = payments.verify({
        token: [parts[0], parts[1], cert, parts[3]].join('.'),
        source: 'orders',
        payload: BODY,
      });
      assert.deepEqual(r, { ok: false, reason: REFUSAL.untrustedCertificate });
    }
    assert.deepEqual(payments.verify({ token: good, source: 42, payload: BODY }), {
      ok: false,
      reason: REFUSAL.wrongSource,
    });
    assert.deepEqual(payments.verify({ token: good, source: '../admin', payload: BODY }), {
      ok: false,
      reason: REFUSAL.wrongSource,
    });
  });

  it('never names a secret in a refusal', () => {
    const r = payments.verify({ token: 'garbage', source: 'orders', payload: BODY });
    assert.ok(!r.ok && !r.reason.includes('PRIVATE'));
    assert.ok(!JSON.stringify(r).includes(w.payments.privateKey.slice(40, 80)));
  });
});
