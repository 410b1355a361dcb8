import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admitEndpointRequest } from '../../functions/mesh/endpoint-guard';

const SECRET = 'AbCdEfGhIjKlMnOpQrStUvWx';
const host = '127.0.0.1:40000';

describe('sandbox endpoint admission', () => {
  it('admits the secret path on a loopback Host and hands on the rest of the path', () => {
    assert.deepEqual(admitEndpointRequest({ url: `/${SECRET}/payments/charge?x=1`, headers: { host } }, SECRET), {
      ok: true,
      path: '/payments/charge?x=1',
    });
    assert.deepEqual(admitEndpointRequest({ url: `/${SECRET}`, headers: { host: 'localhost:1' } }, SECRET), {
      ok: true,
      path: '/',
    });
  });

  it('refuses a request without the secret, with a wrong or partial one, or with the secret elsewhere', () => {
    for (const url of [
      '/payments',
      `/${SECRET.slice(0, -1)}/payments`,
      `/${SECRET}x/payments`,
      `/payments/${SECRET}`,
      `/?${SECRET}`,
      '/',
      undefined,
    ]) {
      const a = admitEndpointRequest({ url, headers: { host } }, SECRET);
      assert.equal(a.ok, false, String(url));
      assert.equal(!a.ok && a.status, 401);
      assert.match(!a.ok ? a.reason : '', /send to the URL in MESH_ENDPOINT/);
    }
  });

  it('refuses a foreign Host or Origin even with the secret (DNS rebinding, a page elsewhere)', () => {
    const url = `/${SECRET}/payments`;
    for (const headers of [
      { host: 'rebind.attacker.example:40000' },
      {},
      { host, origin: 'https://attacker.example' },
      { host, origin: 'null' },
    ]) {
      const a = admitEndpointRequest({ url, headers }, SECRET);
      assert.equal(!a.ok && a.status, 403, JSON.stringify(headers));
      // The refusal says what is refused, and echoes nothing the caller sent.
      assert.doesNotMatch(!a.ok ? a.reason : '', /attacker|rebind/);
    }
  });

  it('reads an absolute-form target: its authority stands for the Host, its path follows the secret', () => {
    const admit = (url: string, headers: { host?: string; origin?: string } = { host: 'attacker.example' }) =>
      admitEndpointRequest({ url, headers }, SECRET);
    assert.deepEqual(admit(`http://127.0.0.1:40000/${SECRET}/payments?x=1`), { ok: true, path: '/payments?x=1' });
    assert.deepEqual(admit(`HTTP://LOCALHOST/${SECRET}`), { ok: true, path: '/' });
    assert.equal(admit(`http://[::1]:1/${SECRET}/payments`, { host }).ok, true);
    // A foreign authority is refused whatever the Host says; so is a page elsewhere, and a missing secret.
    const refused = (a: ReturnType<typeof admit>) => (a.ok ? 0 : a.status);
    assert.equal(refused(admit(`http://attacker.example:40000/${SECRET}/payments`, { host })), 403);
    assert.equal(refused(admit(`http://attacker.example/${SECRET}`, {})), 403);
    assert.equal(refused(admit(`http://127.0.0.1/${SECRET}`, { host, origin: 'https://attacker.example' })), 403);
    assert.equal(refused(admit('http://127.0.0.1:40000/payments')), 401);
    assert.equal(refused(admit('http://127.0.0.1:40000')), 401);
    assert.equal(refused(admit(`https://127.0.0.1/${SECRET}`, { host })), 401, 'not absolute-form http: a path');
  });

  it('never admits anything when the secret is empty', () => {
    assert.equal(admitEndpointRequest({ url: '//payments', headers: { host } }, '').ok, false);
  });
});
