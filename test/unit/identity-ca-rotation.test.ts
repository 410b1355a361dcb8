/**
 * CA rotation: the trust bundle carries the previous CA too, so leaves of both CAs verify; a new CA
 * signs only after the overlap, so nobody meets a leaf from a CA they have not learned yet; the CA
 * before the previous is dropped only once nothing it signed can still be in use.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  issueIdentity,
  LEAF_LIFETIME_MS,
  nextCaRotationAt,
  rotateCa,
  signingAuthority,
} from '../../functions/control/ca-issuer';
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
  });

  it('drops the CA before the previous only once its certificates are all expired, and keeps two', async () => {
    const first = await rotateCa('shop', undefined);
    const t0 = Date.parse('2031-01-06T00:00:00Z');
    const second = await rotateCa('shop', first, t0);
    // The first CA signs until the second is two lifetimes old; its last certificates live one more.
    const safe = t0 + 3 * LEAF_LIFETIME_MS;
    assert.equal(nextCaRotationAt(second), safe);
    assert.equal(nextCaRotationAt(first), Number.NEGATIVE_INFINITY, 'nothing to drop yet');
    await assert.rejects(
      rotateCa('shop', second, safe - 1),
      new Error(
        'the shop mesh CA rotated at 2031-01-06T00:00:00.000Z; rotating it again before 2031-01-09T00:00:00.000Z ' +
          'would drop the CA before it, whose certificates may still be in use until then, and every call that ' +
          'presents one would be refused: rotate the CA after that time',
      ),
    );
    const third = await rotateCa('shop', second, safe);
    assert.deepEqual(
      third.authorities.slice(1).map((a) => a.certificate),
      [second.authorities[0]!.certificate],
      'only current and previous are kept',
    );
  });

  it('measures the wait in the issuer’s lifetimes', async () => {
    const t0 = Date.parse('2031-01-06T00:00:00Z');
    const ca = await rotateCa('shop', await rotateCa('shop', undefined), t0);
    const hour = 3_600_000;
    assert.equal(nextCaRotationAt(ca, { leafLifetimeMs: 8 * hour }), t0 + 24 * hour);
    assert.equal(nextCaRotationAt(ca, { leafLifetimeMs: 8 * hour, overlapMs: 0 }), t0 + 8 * hour);
    await assert.rejects(rotateCa('shop', ca, t0 + 8 * hour - 1, { leafLifetimeMs: 8 * hour, overlapMs: 0 }));
    await rotateCa('shop', ca, t0 + 8 * hour, { leafLifetimeMs: 8 * hour, overlapMs: 0 });
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
