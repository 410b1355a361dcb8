/**
 * The trust bundle's certificate checks (functions/mesh/identity/certificate-check.ts), one refusal per
 * property of a good leaf: issued and signed by a CA of the bundle, not a CA itself, an EC P-256 key,
 * exactly one SAN and that a URI, dates that parse. Also what the bundle keeps (CAs only) and its cache
 * of checked leaves, which forgets the oldest entry at its size.
 */

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { type Authority, issueIdentity } from '../../functions/control/ca-issuer';
import { TrustBundle } from '../../functions/mesh/identity/certificate-check';
import { REFUSAL } from '../../functions/mesh/identity/identity-reason';
import { forge, type LeafSpec, leafSpecOf, p256Key, withTime } from '../support/certificate-forge';
import { type IdentityWorld, identityWorld } from '../support/identity-fixture';

const URI = 'spiffe://shop/svc/orders';
const UNTRUSTED = { ok: false, reason: REFUSAL.untrustedCertificate };
const derOf = (pem: string) => new X509Certificate(pem).raw.toString('base64url');

describe('trust bundle: certificate checks', () => {
  let w: IdentityWorld;
  let authority: Authority;
  let trust: TrustBundle;
  let good: LeafSpec;

  before(async () => {
    w = await identityWorld();
    authority = w.ca.authorities[0]!;
    trust = new TrustBundle(w.payments.trustBundle);
    good = leafSpecOf(authority, URI);
  });

  /** Both entry points: the parsed certificate (mTLS) and the token's DER text. */
  const check = (pem: string) => {
    const parsed = trust.checkCertificate(new X509Certificate(pem));
    assert.deepEqual(new TrustBundle(w.payments.trustBundle).checkLeaf(derOf(pem)), parsed);
    return parsed;
  };

  it('trusts a leaf the mesh CA issued, with its key, its URI and its dates in seconds', async () => {
    const pem = await forge(good);
    const leaf = new X509Certificate(pem);
    const res = check(pem);
    assert.equal(res.ok, true);
    if (!res.ok) return;
    assert.equal(res.uri, URI);
    assert.ok(res.publicKey.equals(leaf.publicKey));
    assert.equal(res.notBeforeS, Date.parse(leaf.validFrom) / 1000);
    assert.equal(res.notAfterS, Date.parse(leaf.validTo) / 1000);
  });

  it('refuses a leaf that is itself a CA', async () => {
    assert.deepEqual(check(await forge({ ...good, ca: true })), UNTRUSTED);
  });

  it('refuses a key that is not EC P-256: P-384 and RSA', async () => {
    assert.deepEqual(check(await forge({ ...good, keyKind: 'p384' })), UNTRUSTED);
    assert.deepEqual(check(await forge({ ...good, keyKind: 'rsa' })), UNTRUSTED);
  });

  it("refuses a leaf naming the mesh CA but signed by another key, and one the CA's key signed under another name", async () => {
    const forger = await p256Key();
    assert.deepEqual(check(await forge({ ...good, signerKey: forger })), UNTRUSTED);
    assert.deepEqual(check(await forge({ ...good, issuer: 'CN=shop mesh CA, O=lambda-mesh' })), UNTRUSTED);
  });

  it('refuses a leaf of a CA whose key cannot be read, without throwing', async () => {
    const key = await p256Key();
    // SubjectPublicKeyInfo with algorithm 1.2.3.4, which OpenSSL does not know.
    const spki = Buffer.from('300c300506032a03040303000102', 'hex');
    const odd = await forge({ signerKey: key, issuer: 'CN=odd CA', subject: 'CN=odd CA', ca: true, spki });
    const oddTrust = new TrustBundle([odd]);
    const leaf = await forge({ ...leafSpecOf(authority, URI), signerKey: key, issuer: 'CN=odd CA' });
    assert.deepEqual(oddTrust.checkCertificate(new X509Certificate(leaf)), UNTRUSTED);
    assert.deepEqual(oddTrust.checkLeaf(derOf(leaf)), UNTRUSTED);
  });

  it('refuses a leaf without a SAN, with a DNS name only, or with a URI and a DNS name', async () => {
    assert.deepEqual(check(await forge({ ...good, names: [] })), UNTRUSTED);
    assert.deepEqual(check(await forge({ ...good, names: [{ type: 'dns', value: 'orders.shop' }] })), UNTRUSTED);
    const two = await forge({ ...good, names: [...(good.names ?? []), { type: 'dns', value: 'orders.shop' }] });
    assert.deepEqual(check(two), UNTRUSTED);
  });

  it('refuses a leaf whose notBefore or notAfter no parser reads (month 13), each on its own', async () => {
    const pem = await forge(good);
    const badStart = withTime(pem, 0, '991301000000Z', authority.privateKey);
    const badEnd = withTime(pem, 1, '991301000000Z', authority.privateKey);
    // The rewrite is signed again: a readable date in the same place is trusted.
    const fine = withTime(pem, 0, '000101000000Z', authority.privateKey);
    assert.equal(check(fine).ok, true);
    assert.deepEqual(check(badStart), UNTRUSTED);
    assert.deepEqual(check(badEnd), UNTRUSTED);
  });

  it('keeps only the CA certificates of the bundle, and refuses a bundle without one', () => {
    const bundle = new TrustBundle([w.orders.certificate, authority.certificate]);
    assert.deepEqual(
      bundle.pems.map((p) => new X509Certificate(p).fingerprint256),
      [new X509Certificate(authority.certificate).fingerprint256],
    );
    assert.throws(
      () => new TrustBundle([w.orders.certificate]),
      /trust bundle holds no CA certificate; re-issue the identity secret/,
    );
  });

  it('caches checked leaves and forgets the oldest one once it holds its size', async () => {
    const shipping = await issueIdentity({ mesh: 'shop', service: 'shipping', ca: w.ca });
    const [a, b, c] = [w.orders, w.payments, shipping].map((s) => derOf(s.certificate));
    const small = new TrustBundle(w.payments.trustBundle, 2);
    const first = small.checkLeaf(a!);
    assert.equal(first.ok, true);
    assert.equal(small.checkLeaf(b!), small.checkLeaf(b!), 'a second look is the cached result');
    assert.equal(small.checkLeaf(a!), first, 'two entries fit in a cache of two');
    small.checkLeaf(c!);
    const again = small.checkLeaf(a!);
    assert.notEqual(again, first, 'the third leaf pushed out the oldest');
    assert.deepEqual(again, first);
  });
});
