/**
 * The token's time checks at their exact edges (functions/mesh/identity/identity-token.ts), with the
 * clock given as a number: a token is good through its expiry plus the 5 s of skew and refused one
 * second later; the same for its issue time, its lifetime, and its certificate's validity.
 */

import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { TrustBundle } from '../../functions/mesh/identity/certificate-check';
import {
  CLOCK_SKEW_S,
  MAX_TOKEN_LIFETIME_S,
  REFUSAL,
  TOKEN_LIFETIME_S,
  type VerifyResult,
} from '../../functions/mesh/identity/identity-reason';
import { signToken, verifyToken } from '../../functions/mesh/identity/identity-token';
import { ReplayCache } from '../../functions/mesh/identity/replay-cache';
import { type IdentityWorld, identityWorld } from '../support/identity-fixture';

const BODY = '{"amount":42}';

describe('identity token: time checks at their edges', () => {
  let w: IdentityWorld;
  let trust: TrustBundle;
  let notBeforeS: number;
  let notAfterS: number;
  let T: number;

  before(async () => {
    w = await identityWorld();
    trust = new TrustBundle(w.payments.trustBundle);
    const leaf = new X509Certificate(w.orders.certificate);
    notBeforeS = Math.floor(Date.parse(leaf.validFrom) / 1000);
    notAfterS = Math.floor(Date.parse(leaf.validTo) / 1000);
    T = notBeforeS + 3600; // well inside the certificate's validity
  });

  const sign = (nowS: number, lifetimeS?: number, deadline?: number) =>
    signToken({
      deadline,
      issuer: w.orders.spiffeId,
      audience: w.payments.spiffeId,
      payload: BODY,
      key: createPrivateKey(w.orders.privateKey),
      certB64u: new X509Certificate(w.orders.certificate).raw.toString('base64url'),
      nowS,
      lifetimeS,
    });
  const verify = (token: string, nowS: number, replay = new ReplayCache(), deadline?: number): VerifyResult =>
    verifyToken({
      deadline,
      token,
      expectedIssuer: w.orders.spiffeId,
      audience: w.payments.spiffeId,
      payload: BODY,
      trust,
      replay,
      nowS,
    });

  it('is good through expiry + skew, and expired one second later', () => {
    const token = sign(T);
    const exp = T + TOKEN_LIFETIME_S;
    assert.deepEqual(verify(token, exp + CLOCK_SKEW_S), { ok: true });
    assert.deepEqual(verify(token, exp + CLOCK_SKEW_S + 1), { ok: false, reason: REFUSAL.expired });
  });

  it('is good from issue time - skew, and not yet valid one second earlier', () => {
    const token = sign(T);
    assert.deepEqual(verify(token, T - CLOCK_SKEW_S), { ok: true });
    assert.deepEqual(verify(token, T - CLOCK_SKEW_S - 1), { ok: false, reason: REFUSAL.notYetValid });
  });

  it('takes a lifetime of exactly the maximum, refuses one second more; a signer never issues less than 1 s', () => {
    assert.deepEqual(verify(sign(T, MAX_TOKEN_LIFETIME_S), T), { ok: true });
    assert.deepEqual(verify(sign(T, MAX_TOKEN_LIFETIME_S + 1), T), { ok: false, reason: REFUSAL.lifetimeTooLong });
    for (const lifetime of [-1, 0]) {
      const token = sign(T, lifetime);
      assert.deepEqual(verify(token, T + 1 + CLOCK_SKEW_S), { ok: true }, `lifetime ${lifetime} becomes 1 s`);
      assert.deepEqual(verify(token, T + 2 + CLOCK_SKEW_S), { ok: false, reason: REFUSAL.expired });
    }
  });

  it("expires by the attempt's deadline, rounded up to its second, when that comes before the lifetime", () => {
    const deadline = (T + 3) * 1000 + 1; // epoch ms: 1 ms into second T + 3
    const token = sign(T, undefined, deadline);
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp;
    assert.equal(exp, T + 4);
    assert.deepEqual(verify(token, T + 4 + CLOCK_SKEW_S, new ReplayCache(), deadline), { ok: true });
    assert.deepEqual(verify(token, T + 5 + CLOCK_SKEW_S, new ReplayCache(), deadline), {
      ok: false,
      reason: REFUSAL.expired,
    });
  });

  it("holds the certificate's validity with the same skew on both ends", () => {
    assert.deepEqual(verify(sign(notBeforeS - CLOCK_SKEW_S), notBeforeS - CLOCK_SKEW_S), { ok: true });
    const early = notBeforeS - CLOCK_SKEW_S - 1;
    assert.deepEqual(verify(sign(early), early), { ok: false, reason: REFUSAL.certificateNotYetValid });
    assert.deepEqual(verify(sign(notAfterS + CLOCK_SKEW_S), notAfterS + CLOCK_SKEW_S), { ok: true });
    const late = notAfterS + CLOCK_SKEW_S + 1;
    assert.deepEqual(verify(sign(late), late), { ok: false, reason: REFUSAL.certificateExpired });
  });

  it('remembers the nonce until the token can no longer verify', () => {
    const token = sign(T);
    const replay = new ReplayCache();
    const at = (nowS: number) => verify(token, nowS, replay);
    assert.deepEqual(at(T), { ok: true });
    // Replayed in the token's last good second: still a replay.
    assert.deepEqual(at(T + TOKEN_LIFETIME_S + CLOCK_SKEW_S), { ok: false, reason: REFUSAL.replayed });
  });
});
