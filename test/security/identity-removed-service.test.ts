/**
 * Attack: the certificate a service removed from the mesh leaves behind (with an old sandbox, or in a
 * copy of its secret). On the local mesh running test/support/identity-app (identity on, policy TTL
 * 1 s): release 2 has the service `late` calling `back` (a deploy edge), and an operator lets it call
 * `front` too (`mesh policy allow late front`); a copy of late's identity secret is kept; a deploy of
 * release 1 removes late; a later deploy of release 2 brings a service named late back.
 *
 * An identity is a name (spiffe://idm/svc/late), and the certificate names it, not one life of it:
 * nothing revokes the copy, which passes the identity check until the certificate expires. What must
 * hold is that once the removal is deployed, no callee lets that name in: the deploy's own edges and
 * the operator's go with the service, so back and front deny the copy (denied, not unauthenticated:
 * it is the policy, not the certificate, that refuses it) within TTL + 1 s. A new service of that name
 * gets a new key; the old certificate then acts as that name again, where the new service's own
 * edges reach (and only there), until it expires: at most a certificate lifetime after the removal.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LEAF_LIFETIME_MS } from '../../functions/control/ca-issuer';
import { Identity, parseIdentitySecret } from '../../functions/mesh/identity';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { IDENTITY, LIVE_ALIAS, META, type MeshMetadata } from '../../shared/names';
import { clientConfig, identityFixtureAssemblies } from '../support/example-assembly';
import { runMesh } from '../support/mesh-cli';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('security: the certificate a removed service leaves behind', () => {
  const { release1, release2 } = identityFixtureAssemblies();
  let mesh: LocalMesh;
  let lambda: LambdaClient;
  let sm: SecretsManagerClient;
  const logs: { fn: string; line: string }[] = [];
  const secretName = IDENTITY.secretName('idm', 'late');

  before(async () => {
    mesh = await startLocalMesh({
      assemblies: [release2],
      port: 0,
      quiet: true,
      onLog: (fn, _v, line) => logs.push({ fn, line }),
    });
    lambda = new LambdaClient(clientConfig(mesh.url));
    sm = new SecretsManagerClient(clientConfig(mesh.url));
  });
  after(async () => {
    lambda?.destroy();
    sm?.destroy();
    await mesh?.stop();
  });

  /** A synchronous call to `service` signed as late with `id`, as late's runtime would sign it. */
  const callAs = async (id: Identity, service: string, n: number) => {
    const payload = JSON.stringify({ target: 'back', n });
    const idk = `leftover-${service}-${n}`;
    const meta: MeshMetadata = {
      v: 1,
      src: 'late',
      att: 1,
      idk,
      tok: id.sign({ target: service, payload, idempotencyKey: idk, context: { att: 1 } }),
    };
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: `idm-${service}`,
        Qualifier: LIVE_ALIAS,
        Payload: Buffer.from(payload),
        ClientContext: Buffer.from(JSON.stringify({ custom: { [META.clientContextKey]: meta } })).toString('base64'),
      }),
    );
    const body = Buffer.from(out.Payload ?? new Uint8Array()).toString();
    if (/MeshDeniedError/.test(body)) return 'denied';
    if (/MeshUnauthenticatedError/.test(body)) return 'unauthenticated';
    return out.FunctionError ? `error: ${body.slice(0, 200)}` : 'served';
  };
  let calls = 0;
  /** Calls until the answer is `want` (policy caches refresh within TTL + 1 s), within a generous bound. */
  const eventually = async (id: Identity, service: string, want: string) => {
    const until = Date.now() + 20_000;
    let got = '';
    while (Date.now() < until) {
      got = await callAs(id, service, calls++);
      if (got === want) return;
      await sleep(200);
    }
    assert.fail(`${service} answered the leftover certificate "${got}", not "${want}"`);
  };
  const currentSecret = async () =>
    parseIdentitySecret((await sm.send(new GetSecretValueCommand({ SecretId: secretName }))).SecretString!);

  it('is let in nowhere once the removal is deployed; a new service of that name gets a new key', async () => {
    // GIVEN late calling back (deploy edge) and front (an operator's edge), and a copy of its identity
    const allowed = await runMesh(mesh.url, ['policy', 'allow', 'late', 'front']);
    assert.equal(allowed.code, 0, allowed.stderr);
    const copy = await currentSecret();
    const leftover = await Identity.create({ read: async () => JSON.stringify(copy) });
    await eventually(leftover, 'back', 'served'); // the copy works before the removal: the test can fail
    await eventually(leftover, 'front', 'served');

    // WHEN a deploy removes late (its function, secret and edges)
    const removedAt = Date.now();
    await mesh.apply(release1);
    assert.equal(mesh.endpoint.secrets.has(secretName), false, 'its secret went with it');

    // THEN the copy still holds a certificate of the mesh CA, but no callee lets its name in
    await eventually(leftover, 'back', 'denied');
    await eventually(leftover, 'front', 'denied');
    const refusals = logs.filter((l) => /"source":"late"/.test(l.line) && /"outcome":"denied"/.test(l.line));
    assert.ok(refusals.some((l) => l.fn.includes('front')) && refusals.some((l) => l.fn.includes('back')));
    assert.ok(
      !logs.some((l) => /"source":"late"/.test(l.line) && /"outcome":"unauthenticated"/.test(l.line)),
      'refused by the policy: the certificate itself still verifies',
    );
    // ...and it ends: the certificate expires at most a lifetime after the removal.
    assert.ok(Date.parse(new X509Certificate(copy.certificate).validTo) <= removedAt + LEAF_LIFETIME_MS);

    // WHEN a later deploy brings a service named late back
    await mesh.apply(release2);
    const renewed = await currentSecret();
    // THEN it has a key and certificate of its own
    assert.notEqual(renewed.privateKey, copy.privateKey);
    assert.notEqual(renewed.certificate, copy.certificate);
    // ...and the old certificate, naming it, is let in where the new service's own edges reach (back),
    // not where the operator's removed grant did (front), until it expires.
    await eventually(leftover, 'back', 'served');
    assert.equal(await callAs(leftover, 'front', calls++), 'denied');
  });
});
