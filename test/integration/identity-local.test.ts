/**
 * Local issuance: the placeholders a deployment writes (what the rotation function issues on AWS)
 * become a CA and working identities in the endpoint's secret store; issued secrets stay untouched.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Identity } from '../../functions/mesh/identity';
import { SecretStore } from '../../local/endpoint';
import { issueLocalPlaceholders, rotateLocalIdentity } from '../../local/identity/local-identity';

describe('local identity issuance', () => {
  it('issues the CA and every identity placeholder, once', async () => {
    const store = new SecretStore();
    store.set('shop/identity/orders', {
      secretString: JSON.stringify({ kind: 'identity', spiffeId: 'spiffe://shop/svc/orders' }),
    });
    store.set('shop/identity/payments', {
      secretString: JSON.stringify({ kind: 'identity', spiffeId: 'spiffe://shop/svc/payments' }),
    });
    store.set('shop/mesh-ca', { secretString: JSON.stringify({ kind: 'ca', mesh: 'shop' }) });
    store.set('unrelated', { secretString: '{"password":"x"}' });

    const issued = await issueLocalPlaceholders(store);
    assert.deepEqual(issued.sort(), ['shop/identity/orders', 'shop/identity/payments', 'shop/mesh-ca']);
    assert.equal(store.get('unrelated').secretString, '{"password":"x"}');

    const orders = await Identity.create({ read: async () => store.get('shop/identity/orders').secretString! });
    const payments = await Identity.create({ read: async () => store.get('shop/identity/payments').secretString! });
    assert.equal(orders.spiffeId, 'spiffe://shop/svc/orders');
    assert.deepEqual(
      payments.verify({ token: orders.sign({ target: 'payments', payload: 'x' }), source: 'orders', payload: 'x' }),
      { ok: true },
    );

    assert.deepEqual(await issueLocalPlaceholders(store), [], 'a second deployment re-issues nothing');

    // A redeploy writes the placeholders again: the issued CA and certificates come back unchanged.
    const caBefore = store.get('shop/mesh-ca').secretString;
    const certBefore = store.get('shop/identity/orders').secretString;
    store.set('shop/mesh-ca', { secretString: JSON.stringify({ kind: 'ca', mesh: 'shop' }) });
    store.set('shop/identity/orders', {
      secretString: JSON.stringify({ kind: 'identity', spiffeId: 'spiffe://shop/svc/orders' }),
    });
    assert.deepEqual((await issueLocalPlaceholders(store)).sort(), ['shop/identity/orders', 'shop/mesh-ca']);
    assert.equal(store.get('shop/mesh-ca').secretString, caBefore);
    assert.equal(store.get('shop/identity/orders').secretString, certBefore);

    // On-demand rotation: new certificate, still trusted.
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
