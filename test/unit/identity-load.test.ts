/**
 * Loading: identity off without MESH_IDENTITY_SECRET; the secret is read once, re-read in the
 * background after half life (sign keeps working meanwhile), and a failed re-read keeps the old
 * certificate and logs no secret. Past the certificate's end the loader waits for one re-read first. Bad ClientContext shapes around the token are refused, never thrown.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { issueIdentity, rotateCa } from '../../functions/control/ca-issuer';
import { Identity, IdentityLoader, loadIdentity, REFUSAL, resetIdentity } from '../../functions/mesh/identity';
import { metadataFromClientContext } from '../../functions/mesh/metadata';
import { ENV } from '../../shared/names';
import { identityOf } from '../support/identity-fixture';

const certOf = (token: string) => token.split('.')[2];

describe('identity loading', () => {
  it('is off (undefined) when MESH_IDENTITY_SECRET is unset', async () => {
    const saved = process.env[ENV.identitySecret];
    delete process.env[ENV.identitySecret];
    resetIdentity();
    try {
      assert.equal(await loadIdentity(), undefined);
    } finally {
      if (saved !== undefined) process.env[ENV.identitySecret] = saved;
    }
  });

  it('reads once, re-reads after half life in the background, keeps the old cert if that fails', async () => {
    const ca = await rotateCa('shop', undefined);
    const first = JSON.stringify(await issueIdentity({ mesh: 'shop', service: 'orders', ca }));
    const second = JSON.stringify(await issueIdentity({ mesh: 'shop', service: 'orders', ca }));
    const clock = { now: Date.now() };
    let reads = 0;
    let fail = false;
    const warnings: string[] = [];
    const id = await Identity.create({
      read: async () => {
        reads++;
        if (fail) throw Object.assign(new Error(`boom ${first}`), { name: 'ServiceUnavailable' });
        return reads === 1 ? first : second;
      },
      now: () => clock.now,
      warn: (m) => warnings.push(m),
    });
    const t1 = id.sign({ target: 'payments', payload: 'x' });
    id.sign({ target: 'payments', payload: 'x' });
    assert.equal(reads, 1, 'no re-read before half life');

    clock.now += 11 * 3_600_000; // 11 h of a 24 h certificate (issued 5 min back-dated): not yet
    id.sign({ target: 'payments', payload: 'x' });
    assert.equal(reads, 1);

    fail = true;
    clock.now += 2 * 3_600_000; // past half life: a background re-read, which fails
    const during = id.sign({ target: 'payments', payload: 'x' });
    assert.equal(certOf(during), certOf(t1), 'signing goes on with the current certificate');
    await tick();
    await tick();
    assert.equal(reads, 2);
    assert.deepEqual(warnings, ['mesh identity refresh failed: ServiceUnavailable'], 'no secret in the log line');

    fail = false;
    clock.now += 61_000; // the retry waits a minute
    id.sign({ target: 'payments', payload: 'x' });
    await tick();
    await tick();
    assert.equal(reads, 3);
    assert.notEqual(certOf(id.sign({ target: 'payments', payload: 'x' })), certOf(t1), 'the new certificate is in use');
  });

  it('past its certificate’s end (a sandbox idle that long) reads its secret again before it is used', async () => {
    const ca = await rotateCa('shop', undefined);
    const t0 = Date.parse('2031-01-06T00:00:00Z');
    const first = await issueIdentity({ mesh: 'shop', service: 'orders', ca, now: t0 });
    const second = await issueIdentity({ mesh: 'shop', service: 'orders', ca, now: t0 + 30 * 3_600_000 });
    const clock = { now: t0 };
    let value = JSON.stringify(first);
    let reads = 0;
    let fail = false;
    const loader = new IdentityLoader(() =>
      Identity.create({
        read: async () => {
          reads++;
          if (fail) throw new Error('unreachable');
          return value;
        },
        now: () => clock.now,
      }),
    );
    const use = async () => {
      const r = await loader.get();
      assert.ok('identity' in r);
      return certOf(r.identity.sign({ target: 'payments', payload: 'x' })!);
    };
    const firstCert = await use();
    assert.equal(reads, 1);
    clock.now = t0 + 11 * 3_600_000;
    await use();
    assert.equal(reads, 1, 'before half life nothing is read');

    // Idle for 31 hours: the certificate ended 7 hours ago. The first call waits for the new one.
    value = JSON.stringify(second);
    clock.now = t0 + 31 * 3_600_000;
    const [a, b] = await Promise.all([use(), use()]);
    assert.equal(reads, 2, 'concurrent calls share one read');
    assert.notEqual(a, firstCert);
    assert.equal(b, a);

    // Expired again, and the read fails: the call goes on with what there is.
    clock.now = t0 + 60 * 3_600_000;
    fail = true;
    assert.equal(await use(), a);
    assert.equal(reads, 4, 'the read it waited for, and the half-life re-read sign starts');
    await tick();
    // For that certificate nothing is waited for again (the half-life re-reads go on in the background).
    const r = await loader.get();
    assert.ok('identity' in r);
    assert.equal(r.identity.ready(), undefined);
  });

  it('counts its certificate as ended from its notAfter on, not a millisecond before', async () => {
    const ca = await rotateCa('shop', undefined);
    const t0 = Date.parse('2031-01-06T00:00:00Z');
    const issued = await issueIdentity({ mesh: 'shop', service: 'orders', ca, now: t0 });
    const clock = { now: t0 };
    let reads = 0;
    const loader = new IdentityLoader(() =>
      Identity.create({
        read: async () => {
          reads++;
          return JSON.stringify(issued);
        },
        now: () => clock.now,
      }),
    );
    const r = await loader.get();
    assert.ok('identity' in r);
    const end = Date.parse(issued.notAfter);
    clock.now = end - 1;
    assert.equal(r.identity.ready(), undefined, 'valid up to its end');
    clock.now = end;
    await r.identity.ready();
    assert.equal(reads, 2, 'read again once it ended');
  });

  it('refuses tokens out of truncated, oversized or garbage ClientContexts without throwing', async () => {
    const ca = await rotateCa('shop', undefined);
    const orders = await identityOf(await issueIdentity({ mesh: 'shop', service: 'orders', ca }));
    const payments = await identityOf(await issueIdentity({ mesh: 'shop', service: 'payments', ca }));
    const tok = orders.sign({ target: 'payments', payload: 'p' });
    const good = Buffer.from(JSON.stringify({ custom: { mesh: { v: 1, src: 'orders', tok } } })).toString('base64');
    const contexts = [
      good.slice(0, good.length - 40),
      good.slice(0, 100),
      Buffer.from(JSON.stringify({ custom: { mesh: { v: 1, src: 'orders', tok: tok + 'A'.repeat(4000) } } })).toString(
        'base64',
      ),
      Buffer.from(JSON.stringify({ custom: { mesh: { v: 1, src: ['orders'], tok: { tok } } } })).toString('base64'),
      '!!!not base64!!!',
      '',
    ];
    for (const cc of contexts) {
      let meta: { src?: unknown; tok?: unknown } | undefined;
      try {
        meta = metadataFromClientContext(cc);
      } catch {
        // The metadata parser may refuse it outright: also a refusal
      }
      const r = payments.verify({ token: meta?.tok, source: meta?.src, payload: 'p' });
      assert.equal(r.ok, false, cc.slice(0, 30));
    }
    // The untouched context still works (the cases above can fail).
    const meta = metadataFromClientContext(good)!;
    assert.deepEqual(payments.verify({ token: meta.tok, source: meta.src, payload: 'p' }), { ok: true });
    assert.deepEqual(payments.verify({ token: tok, source: 'orders', payload: 'p' }), {
      ok: false,
      reason: REFUSAL.replayed,
    });
  });
});
