/**
 * Token and chain checks: a good token passes once; every kind of bad token is refused with the reason
 * that names the failed check, and nothing throws.
 */

import assert from 'node:assert/strict';
import { createPrivateKey, sign as ecSign, type KeyObject, X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { issueIdentity } from '../../functions/control/ca-issuer';
import { type Identity, MAX_TOKEN_CHARS, REFUSAL } from '../../functions/mesh/identity';
import { TrustBundle } from '../../functions/mesh/identity/certificate-check';
import { TOKEN_VERSION, type VerifyResult } from '../../functions/mesh/identity/identity-reason';
import { payloadDigest, verifyToken } from '../../functions/mesh/identity/identity-token';
import { ReplayCache } from '../../functions/mesh/identity/replay-cache';
import { type BoundMetadata, contextDigest } from '../../functions/mesh/identity/request-binding';
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

/** The P-256 group order: a caller's signature is sent in its low-S form. */
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const B64U_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Signs `m2.<claims>.<cert>` as a caller would, whatever the parts hold: the parse checks alone must refuse. */
function signParts(claimsPart: string, certPart: string, key: KeyObject): string {
  const signed = `${TOKEN_VERSION}.${claimsPart}.${certPart}`;
  const sig = ecSign('sha256', Buffer.from(signed), { key, dsaEncoding: 'ieee-p1363' });
  const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
  const low = s > P256_N >> 1n ? Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex') : sig.subarray(32);
  return `${signed}.${Buffer.concat([sig.subarray(0, 32), low]).toString('base64url')}`;
}

/** The same bytes spelled with a trailing bit set (the part must end in spare bits: length not a multiple of 4). */
function withTrailingBit(part: string): string {
  assert.notEqual(part.length % 4, 0, 'a part without spare bits has one spelling only');
  return part.slice(0, -1) + B64U_ALPHABET[B64U_ALPHABET.indexOf(part.at(-1)!) + 1];
}

describe('identity token: each parse check on its own, the token otherwise signed', () => {
  let w: IdentityWorld;
  let key: KeyObject;
  let cert: string;
  let trust: TrustBundle;
  const T = Math.floor(Date.now() / 1000);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  let nonces = 0;
  const claims = (patch: Record<string, unknown> = {}) => ({
    iss: 'spiffe://shop/svc/orders',
    aud: 'spiffe://shop/svc/payments',
    iat: T,
    exp: T + 10,
    nce: `nonce-${String(++nonces).padStart(10, '0')}`,
    dig: payloadDigest(BODY),
    ...patch,
  });
  const verify = (
    token: unknown,
    opts: { async?: boolean; replay?: ReplayCache; context?: BoundMetadata } = {},
  ): VerifyResult =>
    verifyToken({
      token,
      expectedIssuer: 'spiffe://shop/svc/orders',
      audience: 'spiffe://shop/svc/payments',
      payload: BODY,
      context: opts.context,
      trust,
      replay: opts.replay ?? new ReplayCache(),
      nowS: T,
      async: opts.async,
    });
  const MALFORMED = { ok: false, reason: REFUSAL.malformed };

  before(async () => {
    w = await identityWorld();
    key = createPrivateKey(w.orders.privateKey);
    cert = new X509Certificate(w.orders.certificate).raw.toString('base64url');
    trust = new TrustBundle(w.payments.trustBundle);
  });

  it('takes a token signed here from claims built here (the helpers sign as the runtime does)', () => {
    assert.deepEqual(verify(signParts(b64(claims()), cert, key)), { ok: true });
  });

  it('refuses a claims part or a certificate part with a trailing bit set, though the signature covers it', async () => {
    // Padded until the part ends in spare bits (its JSON is not a multiple of 3 bytes).
    let part = b64(claims());
    for (let pad = 0; part.length % 4 === 0; pad++) part = b64(claims({ p: 'x'.repeat(pad) }));
    assert.deepEqual(verify(signParts(part, cert, key)), { ok: true });
    assert.deepEqual(verify(signParts(withTrailingBit(part), cert, key)), MALFORMED);
    // A leaf whose DER is not a multiple of 3 bytes long (its length varies with its signature).
    let leaf = cert;
    let signer = key;
    for (let i = 0; leaf.length % 4 === 0; i++) {
      assert.ok(i < 30, 'thirty leaves in a row with a DER length divisible by 3');
      const issued = await issueIdentity({ mesh: 'shop', service: 'orders', ca: w.ca });
      leaf = new X509Certificate(issued.certificate).raw.toString('base64url');
      signer = createPrivateKey(issued.privateKey);
    }
    assert.deepEqual(verify(signParts(b64(claims()), leaf, signer)), { ok: true });
    assert.deepEqual(verify(signParts(b64(claims()), withTrailingBit(leaf), signer)), MALFORMED);
  });

  it('refuses an empty certificate part and a signature part with a stray character at either end', () => {
    assert.deepEqual(verify(signParts(b64(claims()), '', key)), MALFORMED);
    const good = signParts(b64(claims()), cert, key);
    const [v, c, l, sig] = good.split('.');
    assert.deepEqual(verify([v, c, l, `!${sig}`].join('.')), MALFORMED);
    assert.deepEqual(verify([v, c, l, `${sig}!`].join('.')), MALFORMED);
  });

  it('reads a token of exactly MAX_TOKEN_CHARS, and refuses one character more unread', () => {
    assert.deepEqual(verify('x'.repeat(MAX_TOKEN_CHARS)), MALFORMED);
    assert.deepEqual(verify('x'.repeat(MAX_TOKEN_CHARS + 1)), { ok: false, reason: REFUSAL.oversized });
  });

  it('reads a claims part of 1024 characters and refuses a longer one', () => {
    const sized = (chars: number) => {
      const bytes = Math.floor((chars * 3) / 4);
      const base = JSON.stringify(claims({ p: '' })).length;
      const part = b64(claims({ p: 'x'.repeat(bytes - base) }));
      assert.equal(part.length, chars);
      return part;
    };
    assert.deepEqual(verify(signParts(sized(1024), cert, key)), { ok: true });
    // 1025 characters is no base64url length.
    assert.deepEqual(verify(signParts(sized(1026), cert, key)), MALFORMED);
  });

  it('refuses claims that are null, an array, a number or a string, without throwing', () => {
    for (const c of [null, [claims()], 5, 'claims']) {
      assert.deepEqual(verify(signParts(b64(c), cert, key)), MALFORMED, JSON.stringify(c));
    }
  });

  it('refuses a fractional issue time or expiry, each on its own', () => {
    assert.deepEqual(verify(signParts(b64(claims({ iat: T + 0.5 })), cert, key)), MALFORMED);
    assert.deepEqual(verify(signParts(b64(claims({ exp: T + 9.5 })), cert, key)), MALFORMED);
  });

  it('takes nonces of 16 to 64 characters and a 43-character digest, nothing else', () => {
    const nonce = (n: number) => ({ nce: 'n'.repeat(n) });
    for (const n of [16, 64]) assert.deepEqual(verify(signParts(b64(claims(nonce(n))), cert, key)), { ok: true });
    for (const n of [15, 65]) assert.deepEqual(verify(signParts(b64(claims(nonce(n))), cert, key)), MALFORMED);
    const dig = payloadDigest(BODY);
    assert.equal(dig.length, 43);
    assert.deepEqual(verify(signParts(b64(claims({ dig: `${dig}A` })), cert, key)), MALFORMED);
  });

  it('takes a ctx claim of a 43-character string only; other claims it does not know it ignores', () => {
    const context = { att: 1 };
    const ctx = contextDigest(context)!;
    assert.equal(ctx.length, 43);
    assert.deepEqual(verify(signParts(b64(claims({ ctx })), cert, key), { context }), { ok: true, contextBound: true });
    for (const bad of [`${ctx}A`, ctx.slice(1), 7, null, true, {}, [ctx]]) {
      assert.deepEqual(verify(signParts(b64(claims({ ctx: bad })), cert, key), { context }), MALFORMED, String(bad));
    }
    assert.deepEqual(verify(signParts(b64(claims({ ctx: 'A'.repeat(43) })), cert, key), { context }), {
      ok: false,
      reason: REFUSAL.contextMismatch,
    });
    assert.deepEqual(verify(signParts(b64(claims({ xyz: 1, ctx })), cert, key), { context }), {
      ok: true,
      contextBound: true,
    });
  });

  it('takes a token expiring in the second it was issued, refuses one expiring before it', () => {
    assert.deepEqual(verify(signParts(b64(claims({ exp: T })), cert, key)), { ok: true });
    assert.deepEqual(verify(signParts(b64(claims({ exp: T - 1 })), cert, key)), {
      ok: false,
      reason: REFUSAL.lifetimeTooLong,
    });
  });

  it('refuses a signature of 32 bytes as a bad signature, without throwing', () => {
    const [v, c, l, sig] = signParts(b64(claims()), cert, key).split('.');
    const short = Buffer.from(sig!, 'base64url').subarray(0, 32).toString('base64url');
    assert.deepEqual(verify([v, c, l, short].join('.')), { ok: false, reason: REFUSAL.badSignature });
  });

  it('does not claim the nonce of an asynchronous message: a redelivery verifies again', () => {
    const token = signParts(b64(claims()), cert, key);
    const replay = new ReplayCache();
    assert.deepEqual(verify(token, { async: true, replay }), { ok: true });
    assert.deepEqual(verify(token, { async: true, replay }), { ok: true });
    assert.equal(replay.size, 0);
    assert.deepEqual(verify(token, { replay }), { ok: true });
    assert.deepEqual(verify(token, { replay }), { ok: false, reason: REFUSAL.replayed });
  });
});
