import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackHost, isLoopbackHostname, isLoopbackRequest } from '../../shared/loopback';

describe('loopback names', () => {
  it('accept 127.0.0.1, localhost and [::1], with or without a port, in any letter case', () => {
    for (const host of ['127.0.0.1', '127.0.0.1:4566', 'localhost', 'LocalHost:4566', '[::1]', '[::1]:4566'])
      assert.equal(isLoopbackHost(host), true, host);
    assert.equal(isLoopbackHostname('[::1]'), true);
  });

  it('refuse every other name: rebinding domains, lookalikes, bare IPv6, other addresses, a missing Host', () => {
    for (const host of [
      'rebind.attacker.example',
      'rebind.attacker.example:4566',
      '127.0.0.1.nip.io:4566',
      'localhost.attacker.example',
      'localhost.',
      '::1',
      '0.0.0.0:4566',
      '127.0.0.2',
      '10.0.0.1:4566',
      'localhost:4566 ',
      'localhost:45666666',
      '',
      undefined,
    ])
      assert.equal(isLoopbackHost(host), false, String(host));
  });

  it('refuse a browser request from a foreign or opaque origin, and serve tools that send none', () => {
    assert.equal(isLoopbackRequest({ host: '127.0.0.1:4566' }), true);
    assert.equal(isLoopbackRequest({ host: '127.0.0.1:4566', origin: 'http://127.0.0.1:4566' }), true);
    assert.equal(isLoopbackRequest({ host: 'localhost:4566', origin: 'http://127.0.0.1:4566' }), true);
    assert.equal(isLoopbackRequest({ host: 'localhost', origin: 'http://localhost' }), true);
    // Another local web server's page: another origin, which these listeners never serve.
    assert.equal(isLoopbackRequest({ host: 'localhost:4566', origin: 'http://localhost:3000' }), false);
    assert.equal(isLoopbackRequest({ host: 'localhost', origin: 'http://localhost:3000' }), false);
    assert.equal(isLoopbackRequest({ host: '127.0.0.1:4566', origin: 'http://127.0.0.1' }), false);
    assert.equal(isLoopbackRequest({ host: '127.0.0.1:4566', origin: 'https://attacker.example' }), false);
    assert.equal(isLoopbackRequest({ host: '127.0.0.1:4566', origin: 'null' }), false);
    assert.equal(isLoopbackRequest({ host: '127.0.0.1:4566', origin: ['http://127.0.0.1'] }), false);
    assert.equal(isLoopbackRequest({ host: 'attacker.example', origin: 'http://127.0.0.1' }), false);
  });
});
