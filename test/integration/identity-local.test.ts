/**
 * Local identity helpers on the endpoint's secret store (outside a deployment): a hand-made mesh gets a
 * CA and working identities, and an on-demand rotation gives a new certificate that is still trusted.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Identity } from '../../functions/mesh/identity';
import { SecretStore } from '../../local/endpoint';
import { issueLocalIdentities, rotateLocalIdentity } from '../../local/identity/local-identity';

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
});
