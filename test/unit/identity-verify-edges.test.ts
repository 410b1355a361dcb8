/**
 * Identity's own checks around the token (functions/mesh/identity/identity.ts): the caller's claimed
 * name, SPIFFE targets, the re-read of the secret when a caller's CA is unknown (at most every 30 s),
 * shared and failed re-reads, and the key material the mTLS transport gets.
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Identity, REFUSAL } from '../../functions/mesh/identity';
import { type IdentityWorld, identityOf, identityWorld } from '../support/identity-fixture';

const BODY = '{"n":1}';
const tick = () => new Promise((r) => setImmediate(r));

describe('identity verification edges', () => {
  let w: IdentityWorld;
  before(async () => {
    w = await identityWorld();
  });

  it('refuses a claimed source that is not a service name; a missing token says so only then', async () => {
    const payments = await identityOf(w.payments);
    const token = (await identityOf(w.orders)).sign({ target: 'payments', payload: BODY });
    for (const source of [undefined, 7, 'Orders', 'orders!', `o${'x'.repeat(40)}`, '']) {
      assert.deepEqual(payments.verify({ token, source, payload: BODY }), { ok: false, reason: REFUSAL.wrongSource });
    }
    assert.deepEqual(payments.verify({ token: undefined, source: 7, payload: BODY }), {
      ok: false,
      reason: REFUSAL.missing,
    });
    assert.deepEqual(payments.verify({ token, source: `o${'x'.repeat(39)}`, payload: BODY }), {
      ok: false,
      reason: REFUSAL.wrongSource,
    });
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: BODY }), { ok: true });
  });

  it('signs for a SPIFFE ID as given and for a service name in its own mesh', async () => {
    const orders = await identityOf(w.orders);
    const payments = await identityOf(w.payments);
    assert.equal(orders.mesh, 'shop');
    assert.equal(orders.service, 'orders');
    assert.equal(payments.spiffeId, 'spiffe://shop/svc/payments');
    const bySpiffe = orders.sign({ target: 'spiffe://shop/svc/payments', payload: BODY });
    assert.deepEqual(payments.verify({ token: bySpiffe, source: 'orders', payload: BODY }), { ok: true });
    const other = orders.sign({ target: 'spiffe://elsewhere/svc/payments', payload: BODY });
    assert.deepEqual(payments.verify({ token: other, source: 'orders', payload: BODY }), {
      ok: false,
      reason: REFUSAL.wrongAudience,
    });
  });

  it('re-reads its secret when a caller shows an unknown CA, at most once every 30 s', async () => {
    const clock = { now: Date.now() };
    let reads = 0;
    const payments = await Identity.create({
      read: async () => {
        reads++;
        return JSON.stringify(w.payments);
      },
      now: () => clock.now,
    });
    const foreign = await identityOf(w.foreignOrders, clock);
    const untrusted = () => {
      const token = foreign.sign({ target: 'payments', payload: BODY });
      assert.deepEqual(payments.verify({ token, source: 'orders', payload: BODY }), {
        ok: false,
        reason: REFUSAL.untrustedCertificate,
      });
    };
    untrusted();
    await tick();
    assert.equal(reads, 2, 'the first unknown CA re-reads the secret');
    clock.now += 30_000;
    untrusted();
    await tick();
    assert.equal(reads, 2, 'not again within 30 s');
    clock.now += 1;
    untrusted();
    await tick();
    assert.equal(reads, 3);
    // Other refusals do not re-read.
    const token = (await identityOf(w.orders, clock)).sign({ target: 'payments', payload: BODY });
    payments.verify({ token, source: 'orders', payload: '{"n":2}' });
    clock.now += 60_000;
    payments.verify({ token, source: 'orders', payload: '{"n":2}' });
    await tick();
    assert.equal(reads, 3);
  });

  it('shares one re-read between concurrent refreshes; a failed one warns by error name and keeps the material', async () => {
    let reads = 0;
    let fail = false;
    const warnings: string[] = [];
    const orders = await Identity.create({
      read: async () => {
        reads++;
        await tick();
        if (fail) throw Object.assign(new Error('secret text must not be logged'), { name: 'ResourceNotFound' });
        return JSON.stringify(w.orders);
      },
      warn: (m) => warnings.push(m),
    });
    await Promise.all([orders.refresh(), orders.refresh()]);
    assert.equal(reads, 2, 'one read at create, one shared by the two refreshes');
    fail = true;
    await assert.rejects(orders.refresh(), { name: 'ResourceNotFound' });
    assert.deepEqual(warnings, ['mesh identity refresh failed: ResourceNotFound']);
    const payments = await identityOf(w.payments);
    const token = orders.sign({ target: 'payments', payload: BODY });
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: BODY }), { ok: true });
    fail = false;
    await orders.refresh();
    assert.equal(reads, 4, 'a failed read does not block the next one');
  });

  it('a secret at or past its half life is re-read a minute later, not on every call', async () => {
    const issuedAt = Date.parse(w.orders.notBefore);
    const half = issuedAt + (Date.parse(w.orders.notAfter) - issuedAt) / 2;
    for (const past of [0, 1000]) {
      let reads = 0;
      const clock = { now: half + past };
      const orders = await Identity.create({
        read: async () => {
          reads++;
          return JSON.stringify(w.orders);
        },
        now: () => clock.now,
      });
      orders.sign({ target: 'payments', payload: BODY });
      clock.now += 59_999;
      orders.sign({ target: 'payments', payload: BODY });
      await tick();
      assert.equal(reads, 1, `${past} ms past half life`);
      clock.now += 1;
      orders.sign({ target: 'payments', payload: BODY });
      await tick();
      assert.equal(reads, 2, `${past} ms past half life`);
    }
  });

  it('refuses a secret whose SPIFFE ID has anything before or after spiffe://<mesh>/svc/<service>', async () => {
    for (const id of [`x${w.orders.spiffeId}`, `${w.orders.spiffeId}/x`]) {
      await assert.rejects(identityOf({ ...w.orders, spiffeId: id }), {
        message: 'identity secret spiffeId must look like spiffe://<mesh>/svc/<service>',
      });
    }
  });

  it('refuses a claimed source with a stray character at either end before reading the token', async () => {
    const payments = await identityOf(w.payments);
    // An untrusted certificate whose token claims the odd name: only the source check refuses it as a
    // wrong source (the certificate check would say untrusted).
    const foreign = (await identityOf(w.foreignOrders)).sign({ target: 'payments', payload: BODY });
    const claiming = (name: string) => {
      const [v, claims, cert, sig] = foreign.split('.');
      const c = { ...JSON.parse(Buffer.from(claims!, 'base64url').toString()), iss: `spiffe://shop/svc/${name}` };
      return [v, Buffer.from(JSON.stringify(c)).toString('base64url'), cert, sig].join('.');
    };
    for (const source of ['orders!', '-orders']) {
      assert.deepEqual(payments.verify({ token: claiming(source), source, payload: BODY }), {
        ok: false,
        reason: REFUSAL.wrongSource,
      });
    }
  });

  it('refuses a payload no caller can have signed (undefined: not serializable) even against a token of the empty one', async () => {
    const payments = await identityOf(w.payments);
    const token = (await identityOf(w.orders)).sign({ target: 'payments', payload: '' });
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: undefined }), {
      ok: false,
      reason: 'payload-digest-mismatch',
    });
    // The same token over the empty payload it signed verifies: the refusal is the payload's.
    assert.deepEqual(payments.verify({ token, source: 'orders', payload: '' }), { ok: true });
  });

  it('names a failed re-read "Error" when what it threw has no name', async () => {
    const warnings: string[] = [];
    let reads = 0;
    const orders = await Identity.create({
      read: () => (reads++ === 0 ? Promise.resolve(JSON.stringify(w.orders)) : Promise.reject(undefined)),
      warn: (m) => warnings.push(m),
    });
    await assert.rejects(orders.refresh(), (e) => e === undefined);
    assert.deepEqual(warnings, ['mesh identity refresh failed: Error']);
  });

  it('gives the mTLS transport its chain, key and trust bundle', async () => {
    const orders = await identityOf(w.orders);
    assert.deepEqual(orders.tlsMaterial(), { cert: w.orders.chain, key: w.orders.privateKey, ca: orders.trust.pems });
    assert.equal(orders.trust.pems.length, w.orders.trustBundle.length);
  });

  it('refuses a secret whose SPIFFE ID is not spiffe://<mesh>/svc/<service>', async () => {
    await assert.rejects(
      Identity.create({ read: async () => JSON.stringify({ ...w.orders, spiffeId: 'spiffe://shop/orders' }) }),
      /identity secret spiffeId must look like spiffe:\/\/<mesh>\/svc\/<service>/,
    );
  });
});
