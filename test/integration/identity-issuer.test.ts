/**
 * The issuer's handlers against the local endpoint's Secrets Manager, through the real SDK:
 * - deploy-time issuance (the custom-resource events): CA first, identities from it, idempotent (a good
 *   current value is kept, so a repeated or updated resource issues nothing), Delete does nothing;
 * - rotation repairs what a failed run left: a still-good pending value is resumed (a pending CA only
 *   while younger than half a certificate lifetime), a stale one loses its AWSPENDING label (the current
 *   value untouched) so the next rotation starts afresh, a pending value that fails its test likewise;
 *   Secrets Manager's set-up check (testSecret on an empty version) passes.
 */

import assert from 'node:assert/strict';
import { randomUUID, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type CaSecret,
  issueIdentity,
  LEAF_LIFETIME_MS,
  parseCaSecret,
  rotateCa,
} from '../../functions/control/ca-issuer';
import { bootstrapIdentity, type CustomResourceEvent } from '../../functions/control/identity-bootstrap';
import type { IssuerDeps } from '../../functions/control/issuer-secrets';
import { rotationStep } from '../../functions/control/rotation';
import { parseIdentitySecret, TrustBundle } from '../../functions/mesh/identity';
import { type Endpoint, SecretStore } from '../../local/endpoint';
import { IDENTITY } from '../../shared/names';
import { startSecretsEndpoint } from './local-endpoint-fixture';

const placeholder = (service: string) => JSON.stringify({ kind: 'identity', spiffeId: `spiffe://shop/svc/${service}` });

describe('the issuer on the local endpoint', () => {
  const store = new SecretStore();
  let endpoint: Endpoint;
  let deps: IssuerDeps;
  let caArn = '';
  const arn = (name: string) => store.describe(name).arn;
  const event = (
    type: 'ca' | 'identity',
    secret: string,
    extra: Record<string, unknown> = {},
  ): CustomResourceEvent => ({
    RequestType: 'Create',
    ResourceType: IDENTITY.resourceType[type],
    RequestId: randomUUID(),
    ResourceProperties: { SecretId: arn(secret), ...extra },
  });
  const current = (name: string) => store.get(name).secretString!;
  const labels = (name: string) => store.describe(name).versionIdsToStages;
  /** Opens a rotation as Secrets Manager does (an empty AWSPENDING version); returns its token. */
  const open = (name: string) => {
    const token = randomUUID();
    store.beginRotation(name, { rotationLambdaArn: 'arn:aws:lambda:us-east-1:000000000000:function:issuer', token });
    return token;
  };
  const step = (Step: string, name: string, token: string) =>
    rotationStep({ Step, SecretId: arn(name), ClientRequestToken: token }, deps);

  before(async () => {
    store.set('shop/mesh-ca', { secretString: JSON.stringify({ kind: 'ca', mesh: 'shop' }) });
    for (const s of ['orders', 'payments']) store.set(`shop/identity/${s}`, { secretString: placeholder(s) });
    let sm: SecretsManagerClient;
    ({ endpoint, sm } = await startSecretsEndpoint(store));
    caArn = arn('shop/mesh-ca');
    deps = {
      client: sm,
      scope: { mesh: 'shop', caSecret: caArn, services: new Set(['orders', 'payments']) },
    };
  });
  after(async () => {
    deps.client.destroy();
    await endpoint.close();
  });

  it('refuses an identity before the CA exists, with what to do', async () => {
    await assert.rejects(
      bootstrapIdentity(event('identity', 'shop/identity/orders', { Service: 'orders' }), deps),
      /holds no CA yet/,
    );
  });

  it('issues the CA, then identities from it; a repeated request keeps what is there', async () => {
    const ca = await bootstrapIdentity(event('ca', 'shop/mesh-ca'), deps);
    assert.deepEqual(ca, { PhysicalResourceId: caArn, Data: { Issued: 'true' } });
    const caValue = current('shop/mesh-ca');
    const orders = await bootstrapIdentity(event('identity', 'shop/identity/orders', { Service: 'orders' }), deps);
    assert.equal(orders.Data.Issued, 'true');
    assert.equal(orders.Data.SpiffeId, 'spiffe://shop/svc/orders');
    const issued = parseIdentitySecret(current('shop/identity/orders'));
    const trust = new TrustBundle(parseCaSecret(caValue)!.authorities.map((a) => a.certificate));
    assert.ok(trust.checkCertificate(new X509Certificate(issued.certificate)).ok, 'signed by the mesh CA');

    const versions = Object.keys(labels('shop/identity/orders')).length;
    assert.equal((await bootstrapIdentity(event('ca', 'shop/mesh-ca'), deps)).Data.Issued, 'false');
    const again = await bootstrapIdentity(
      { ...event('identity', 'shop/identity/orders', { Service: 'orders' }), RequestType: 'Update' },
      deps,
    );
    assert.equal(again.Data.Issued, 'false');
    assert.equal(current('shop/mesh-ca'), caValue);
    assert.equal(current('shop/identity/orders'), JSON.stringify(issued));
    assert.equal(Object.keys(labels('shop/identity/orders')).length, versions, 'no new version');
  });

  it('Delete writes nothing (CloudFormation deletes the secret itself)', async () => {
    const before = current('shop/identity/orders');
    const out = await bootstrapIdentity(
      {
        ...event('identity', 'shop/identity/orders', { Service: 'orders' }),
        RequestType: 'Delete',
        PhysicalResourceId: 'p',
      },
      deps,
    );
    assert.deepEqual(out, { PhysicalResourceId: 'p', Data: { Issued: 'false' } });
    assert.equal(current('shop/identity/orders'), before);
  });

  it('reissues a current identity that no longer serves (signed by a CA the mesh does not have)', async () => {
    const foreign = await issueIdentity({ mesh: 'shop', service: 'payments', ca: await rotateCa('shop', undefined) });
    store.put('shop/identity/payments', { secretString: JSON.stringify(foreign) });
    const out = await bootstrapIdentity(event('identity', 'shop/identity/payments', { Service: 'payments' }), deps);
    assert.equal(out.Data.Issued, 'true');
    assert.notEqual(parseIdentitySecret(current('shop/identity/payments')).certificate, foreign.certificate);
  });

  it('refuses a resource whose type or Service does not match its secret', async () => {
    await assert.rejects(bootstrapIdentity(event('ca', 'shop/identity/orders'), deps), { name: 'IssuerRefusedError' });
    await assert.rejects(bootstrapIdentity(event('identity', 'shop/identity/orders', { Service: 'payments' }), deps), {
      name: 'IssuerRefusedError',
    });
  });

  it('rotates an identity through the four steps; the old value becomes AWSPREVIOUS', async () => {
    const before = current('shop/identity/orders');
    const token = open('shop/identity/orders');
    for (const s of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'])
      await step(s, 'shop/identity/orders', token);
    assert.notEqual(current('shop/identity/orders'), before);
    assert.equal(store.get('shop/identity/orders', { versionStage: 'AWSPREVIOUS' }).secretString, before);
  });

  it('resumes a pending value an earlier run left while it is still good', async () => {
    const token = open('shop/identity/orders');
    await step('createSecret', 'shop/identity/orders', token); // the earlier run stopped after this step
    const pending = store.get('shop/identity/orders', { versionId: token }).secretString;
    await step('createSecret', 'shop/identity/orders', token); // retried: keeps it
    assert.equal(store.get('shop/identity/orders', { versionId: token }).secretString, pending);
    await step('testSecret', 'shop/identity/orders', token);
    await step('finishSecret', 'shop/identity/orders', token);
    assert.equal(current('shop/identity/orders'), pending);
  });

  it('drops a stale pending value (from a CA no longer in use) instead of leaving the secret stuck', async () => {
    const before = current('shop/identity/orders');
    const token = open('shop/identity/orders');
    const stale = await issueIdentity({ mesh: 'shop', service: 'orders', ca: await rotateCa('shop', undefined) });
    store.put('shop/identity/orders', {
      secretString: JSON.stringify(stale),
      clientRequestToken: token,
      versionStages: ['AWSPENDING'],
    });
    await assert.rejects(step('createSecret', 'shop/identity/orders', token), /stale.*removed its AWSPENDING label/);
    assert.ok(
      !Object.values(labels('shop/identity/orders')).some((l) => l.includes('AWSPENDING') && !l.includes('AWSCURRENT')),
    );
    assert.equal(current('shop/identity/orders'), before, 'the current identity is untouched');
    // The next rotation starts afresh: not refused as "a previous rotation isn't complete".
    const next = open('shop/identity/orders');
    for (const s of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'])
      await step(s, 'shop/identity/orders', next);
    assert.notEqual(current('shop/identity/orders'), before);
  });

  it('a pending value that fails its test loses its label; the current value stays', async () => {
    const before = current('shop/identity/payments');
    const token = open('shop/identity/payments');
    const wrongKey = {
      ...parseIdentitySecret(before),
      privateKey: parseIdentitySecret(current('shop/identity/orders')).privateKey,
    };
    store.put('shop/identity/payments', {
      secretString: JSON.stringify(wrongKey),
      clientRequestToken: token,
      versionStages: ['AWSPENDING'],
    });
    await assert.rejects(
      step('testSecret', 'shop/identity/payments', token),
      /fails its test \(private key does not match/,
    );
    assert.deepEqual(labels('shop/identity/payments')[token], undefined, 'the bad version carries no label');
    assert.equal(current('shop/identity/payments'), before);
  });

  it('passes Secrets Manager’s set-up check (testSecret alone on an empty AWSPENDING version)', async () => {
    for (const name of ['shop/mesh-ca', 'shop/identity/orders']) {
      const token = open(name);
      await step('testSecret', name, token);
      store.endRotationTest(name, token);
    }
  });

  it('resumes a pending CA only while it is younger than half a certificate lifetime', async () => {
    const before = current('shop/mesh-ca');
    const token = open('shop/mesh-ca');
    const t0 = Date.now();
    const at = (t: number) => (Step: string) =>
      rotationStep({ Step, SecretId: arn('shop/mesh-ca'), ClientRequestToken: token }, { ...deps, now: () => t });
    await at(t0)('createSecret'); // the earlier run stopped after this step
    const pending = store.get('shop/mesh-ca', { versionId: token }).secretString;
    await at(t0 + LEAF_LIFETIME_MS / 2 - 60_000)('createSecret'); // retried soon: kept
    assert.equal(store.get('shop/mesh-ca', { versionId: token }).secretString, pending);
    // Retried later: it would start signing as soon as it joined (the overlap counts from its making).
    await assert.rejects(
      at(t0 + LEAF_LIFETIME_MS / 2)('createSecret'),
      /shop\/mesh-ca: the pending value an earlier rotation left is stale \(made at \S+, half a certificate lifetime or more ago: it would sign before the trust bundles hold it\); removed its AWSPENDING label/,
    );
    assert.ok(
      !Object.values(labels('shop/mesh-ca')).some((l) => l.includes('AWSPENDING') && !l.includes('AWSCURRENT')),
    );
    assert.equal(current('shop/mesh-ca'), before, 'the current CA is untouched');
  });

  it('rotates the CA: the new authority in front, the previous kept', async () => {
    const before = parseCaSecret(current('shop/mesh-ca'))! as CaSecret;
    const token = open('shop/mesh-ca');
    for (const s of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await step(s, 'shop/mesh-ca', token);
    const after = parseCaSecret(current('shop/mesh-ca'))!;
    assert.equal(after.authorities.length, 2);
    assert.equal(after.authorities[1]!.certificate, before.authorities[0]!.certificate);
  });
});
