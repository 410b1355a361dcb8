import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { carriesIdentityToken, httpTargetError, parseHttpTargets } from '../../shared/http-target';
import { parsePolicyItem } from '../../shared/policy';

describe('HTTP target declarations', () => {
  it('accepts https with every auth, and plain http on loopback names only', () => {
    for (const auth of ['iam', 'mtls', 'none'])
      assert.equal(httpTargetError('pay', { url: 'https://pay.example/x', auth }), undefined);
    for (const url of ['http://127.0.0.1:9/', 'http://localhost/', 'http://[::1]:80/'])
      assert.equal(httpTargetError('pay', { url, auth: 'none' }), undefined);
  });

  it('refuses plain http off loopback, mTLS without TLS, credentials in the URL and unknown auth', () => {
    assert.match(
      httpTargetError('pay', { url: 'http://10.0.0.7/', auth: 'none' })!,
      /HTTP target "pay": url = "http:\/\/10.0.0.7\/" must be https/,
    );
    assert.match(httpTargetError('pay', { url: 'http://127.0.0.1/', auth: 'mtls' })!, /auth "mtls" needs an https url/);
    assert.match(
      httpTargetError('pay', { url: 'https://a:b@pay.example/', auth: 'iam' })!,
      /must not carry credentials/,
    );
    assert.match(
      httpTargetError('pay', { url: 'https://pay.example/', auth: 'basic' })!,
      /must be one of iam, mtls, none/,
    );
    assert.match(httpTargetError('pay', { url: 'not a url', auth: 'iam' })!, /is not a URL/);
    // Lookalikes of loopback names are not loopback.
    assert.match(httpTargetError('pay', { url: 'http://127.0.0.1.evil.example/', auth: 'none' })!, /must be https/);
  });

  it('sends the identity token only over TLS to a verified peer', () => {
    assert.equal(carriesIdentityToken({ url: 'https://pay.example/', auth: 'mtls' }), true);
    assert.equal(carriesIdentityToken({ url: 'https://abc.lambda-url.us-east-1.on.aws/', auth: 'iam' }), true);
    assert.equal(carriesIdentityToken({ url: 'https://pay.example/', auth: 'none' }), false);
    assert.equal(carriesIdentityToken({ url: 'http://127.0.0.1:9/', auth: 'iam' }), false);
    assert.equal(carriesIdentityToken({ url: 'http://127.0.0.1:9/', auth: 'none' }), false);
  });

  it('parses MESH_HTTP_TARGETS, and refuses a bad value whole, naming the entry', () => {
    const none = parseHttpTargets(undefined);
    assert.ok(none.ok && none.targets.size === 0);
    const ok = parseHttpTargets('{"ledger":{"url":"https://ledger.example/","auth":"mtls"}}');
    assert.ok(ok.ok);
    assert.deepEqual(ok.targets.get('ledger'), { url: 'https://ledger.example/', auth: 'mtls' });
    const bad = parseHttpTargets(
      '{"ledger":{"url":"https://ledger.example/","auth":"mtls"},"pay":{"url":"http://10.0.0.1/","auth":"none"}}',
    );
    assert.ok(!bad.ok && /HTTP target "pay"/.test(bad.error));
    assert.ok(!parseHttpTargets('[1]').ok);
    assert.match((parseHttpTargets('{oops') as { error: string }).error, /not JSON/);
  });
});

describe('policy items and HTTP targets', () => {
  it('refuse a service item that names a url or auth, and say where HTTP targets are declared', () => {
    const res = parsePolicyItem({
      pk: 'payments',
      sk: 'service',
      functionName: 'shop-payments',
      url: 'http://127.0.0.1:9/',
      auth: 'none',
    });
    assert.equal(res.ok, false);
    assert.match(
      (res as { error: string }).error,
      /payments\/service: \(item\) has unknown fields url, auth; remove them \(an HTTP target is declared at deploy/,
    );
  });
});
