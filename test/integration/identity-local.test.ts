/**
 * Local identity helpers on the endpoint's secret store (outside a deployment): a hand-made mesh gets a
 * CA and working identities, and an on-demand rotation gives a new certificate that is still trusted;
 * the CA rotates on demand only when the CA it drops can have no certificate in use.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Identity } from '../../functions/mesh/identity';
import { SecretStore } from '../../local/endpoint';
import { issueLocalIdentities, rotateLocalCa, rotateLocalIdentity } from '../../local/identity/local-identity';

describe('local identity helpers', () => {
  it('issue the CA and identities, and rotate one on demand', async () => {
    const store = new SecretStore();
    store.set('unrelated', { secretString: '{"password":"x"}' });
    await issueLocalIdentities(store, {
      mesh: 'shop',
      services: [
        { service: 'orders', secretId: 'shop/identity/orders' },
        { service: 'payments', secretId: 'shop/identity/payments' },
      ],
    });
    assert.equal(store.get('unrelated').secretString, '{"password":"x"}');
    const orders = await Identity.create({ read: async () => store.get('shop/identity/orders').secretString! });
    const payments = await Identity.create({ read: async () => store.get('shop/identity/payments').secretString! });
    assert.equal(orders.spiffeId, 'spiffe://shop/svc/orders');
    assert.deepEqual(
      payments.verify({ token: orders.sign({ target: 'payments', payload: 'x' }), source: 'orders', payload: 'x' }),
      { ok: true },
    );

    const before = store.get('shop/identity/orders').versionId;
    await rotateLocalIdentity(store, { mesh: 'shop', service: 'orders', secretId: 'shop/identity/orders' });
    assert.notEqual(store.get('shop/identity/orders').versionId, before);
    await orders.refresh();
    assert.deepEqual(
      payments.verify({ token: orders.sign({ target: 'payments', payload: 'y' }), source: 'orders', payload: 'y' }),
      { ok: true },
    );
  });

  it('rotate the CA on demand, but not again while the CA it would drop may still sign', async () => {
    const store = new SecretStore();
    const services = [{ service: 'orders', secretId: 'shop/identity/orders' }];
    await issueLocalIdentities(store, { mesh: 'shop', services, lifetimeMs: 8 * 3_600_000 });
    const t0 = Date.parse('2031-01-06T00:00:00Z');
    const second = await rotateLocalCa(store, { mesh: 'shop', now: t0, lifetimeMs: 8 * 3_600_000 });
    // The first CA signs for two lifetimes more and its certificates live one after: 24 h with 8 h ones.
    await assert.rejects(
      rotateLocalCa(store, { mesh: 'shop', now: t0 + 24 * 3_600_000 - 1, lifetimeMs: 8 * 3_600_000 }),
      /rotating it again before 2031-01-07T00:00:00.000Z would drop the CA before it/,
    );
    assert.equal(store.get('shop/mesh-ca').secretString, JSON.stringify(second), 'the CA secret is as it was');
    const third = await rotateLocalCa(store, { mesh: 'shop', now: t0 + 24 * 3_600_000, lifetimeMs: 8 * 3_600_000 });
    assert.equal(third.authorities[1]!.certificate, second.authorities[0]!.certificate);
  });
});
