/**
 * CA rotation: the trust bundle carries the previous CA too, so leaves of both CAs verify; a new CA
 * signs only after the overlap, so nobody meets a leaf from a CA they have not learned yet.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issueIdentity, LEAF_LIFETIME_MS, rotateCa, signingAuthority } from '../../functions/control/ca-issuer';
import { REFUSAL } from '../../functions/mesh/identity';
import { identityOf } from '../support/identity-fixture';

describe('CA rotation', () => {
  it('keeps signing with the old CA during the overlap, then with the new one', async () => {
    const first = await rotateCa('shop', undefined);
    const t0 = Date.now();
    const second = await rotateCa('shop', first, t0);
    assert.equal(second.authorities.length, 2);
    assert.equal(signingAuthority(second, t0 + 1000), second.authorities[1]);
    assert.equal(signingAuthority(second, t0 + 2 * LEAF_LIFETIME_MS), second.authorities[0]);
    const third = await rotateCa('shop', second, t0);
    assert.equal(third.authorities.length, 2, 'only current and previous are kept');
  });

  it('a callee that knows both CAs accepts leaves of either; one that knows only the old refuses the new', async () => {
    const oldCa = await rotateCa('shop', undefined);
    const both = await rotateCa('shop', oldCa);
    const newOnly = { v: 1 as const, authorities: [both.authorities[0]!] };
    const callerOld = await identityOf(await issueIdentity({ mesh: 'shop', service: 'orders', ca: oldCa }));
    const callerNew = await identityOf(await issueIdentity({ mesh: 'shop', service: 'orders', ca: newOnly }));
    const calleeBoth = await identityOf(await issueIdentity({ mesh: 'shop', service: 'payments', ca: both }));
    const calleeOld = await identityOf(await issueIdentity({ mesh: 'shop', service: 'payments', ca: oldCa }));
    for (const caller of [callerOld, callerNew]) {
      const token = caller.sign({ target: 'payments', payload: 'p' });
      assert.deepEqual(calleeBoth.verify({ token, source: 'orders', payload: 'p' }), { ok: true });
    }
    const token = callerNew.sign({ target: 'payments', payload: 'p' });
    assert.deepEqual(calleeOld.verify({ token, source: 'orders', payload: 'p' }), {
      ok: false,
      reason: REFUSAL.untrustedCertificate,
    });
  });
});
