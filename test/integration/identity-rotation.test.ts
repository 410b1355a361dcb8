/**
 * Rotation under traffic, on the local endpoint through the real SDK: orders calls payments over
 * Lambda Invoke with a signed token in the ClientContext while the identity secrets and the CA rotate
 * through RotateSecret -> the real rotation function (4 steps) -> Secrets Manager staging labels.
 * Both sides re-read their secrets mid-traffic. Zero calls may fail.
 */

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeSecretCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { issueIdentity, parseCaSecret, rotateCa } from '../../functions/control/ca-issuer';
import type { IssuerDeps } from '../../functions/control/issuer-secrets';
import { rotationStep } from '../../functions/control/rotation';
import { Identity, secretsManagerReader } from '../../functions/mesh/identity';
import { type Endpoint, SecretStore, startEndpoint } from '../../local/endpoint';
import { issueLocalIdentities } from '../../local/identity/local-identity';
import { META } from '../../shared/names';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const ROTATOR = 'shop-identity-rotation';
const ROTATOR_ARN = `arn:aws:lambda:us-east-1:000000000000:function:${ROTATOR}`;
const SECRETS = { orders: 'shop/identity/orders', payments: 'shop/identity/payments', ca: 'shop/mesh-ca' };

describe('identity rotation under traffic (local endpoint, real SDK)', () => {
  const store = new SecretStore();
  const registry = new TestRegistry();
  const bgErrors: string[] = [];
  let endpoint: Endpoint;
  let sm: SecretsManagerClient;
  let lambda: LambdaClient;
  let orders: Identity;
  let payments: Identity;
  const deps: { current?: IssuerDeps } = {};
  const denied: string[] = [];

  before(async () => {
    await issueLocalIdentities(store, {
      mesh: 'shop',
      caSecretId: SECRETS.ca,
      services: [
        { service: 'orders', secretId: SECRETS.orders },
        { service: 'payments', secretId: SECRETS.payments },
      ],
    });
    endpoint = await startEndpoint({
      port: 0,
      registry,
      invoker: new TestInvoker(registry),
      secrets: store,
      log: (l) => bgErrors.push(l),
    });
    sm = new SecretsManagerClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
    lambda = new LambdaClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
    deps.current = {
      client: sm,
      scope: { mesh: 'shop', caSecret: SECRETS.ca, services: new Set(['orders', 'payments']) },
    };
    registry.add(ROTATOR, (event) => rotationStep(event as never, deps.current!));
    // payments: verifies the caller's token before doing its work (what the wrapper does).
    registry.add('shop-payments', (event, ctx) => {
      const meta = (ctx.clientContext as { custom?: Record<string, { src?: string; tok?: string }> })?.custom?.[
        META.clientContextKey
      ];
      const r = payments.verify({ token: meta?.tok, source: meta?.src, payload: JSON.stringify(event) });
      if (!r.ok) {
        denied.push(r.reason);
        return { status: 'unauthenticated' };
      }
      return { status: 'ok' };
    });
    const env = { AWS_ENDPOINT_URL: endpoint.url, AWS_REGION: 'us-east-1' };
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    orders = await Identity.create({ read: secretsManagerReader(SECRETS.orders, env) });
    payments = await Identity.create({ read: secretsManagerReader(SECRETS.payments, env) });
  });

  after(async () => {
    sm.destroy();
    lambda.destroy();
    await endpoint.close();
  });

  async function call(i: number): Promise<string> {
    const payload = JSON.stringify({ order: `o-${i}` });
    const tok = orders.sign({ target: 'payments', payload });
    const ctx = Buffer.from(
      JSON.stringify({ custom: { [META.clientContextKey]: { v: 1, src: 'orders', tok } } }),
    ).toString('base64');
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'shop-payments', Payload: payload, ClientContext: ctx }),
    );
    if (out.FunctionError) return `function error ${out.FunctionError}`;
    return (JSON.parse(Buffer.from(out.Payload!).toString()) as { status: string }).status;
  }

  async function rotate(secretId: string): Promise<void> {
    const before = (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages!;
    const { VersionId } = await sm.send(
      new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: ROTATOR_ARN }),
    );
    for (let i = 0; i < 200; i++) {
      const stages = (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages!;
      if (stages[VersionId!]?.includes('AWSCURRENT')) {
        const previous = Object.keys(before).find((v) => before[v]!.includes('AWSCURRENT'))!;
        assert.ok(stages[previous]?.includes('AWSPREVIOUS'), 'the old version is kept as AWSPREVIOUS');
        assert.ok(
          !Object.values(stages).some((s) => s.includes('AWSPENDING') && !s.includes('AWSCURRENT')),
          'no AWSPENDING left over',
        );
        return;
      }
      await sleep(10);
    }
    assert.fail(`rotation of ${secretId} did not finish: ${bgErrors.join('; ')}`);
  }

  const leafIssuer = (id: Identity) =>
    new X509Certificate(id.tlsMaterial().cert.split(/(?<=-----END CERTIFICATE-----)/)[0]!).issuer;
  const leafSerial = (id: Identity) =>
    new X509Certificate(id.tlsMaterial().cert.split(/(?<=-----END CERTIFICATE-----)/)[0]!).serialNumber;

  it('serves every call while certificates and the CA rotate', async () => {
    let stop = false;
    const results: string[] = [];
    const traffic = (async () => {
      for (let i = 0; !stop; i++) results.push(await call(i));
    })();

    try {
      const serial0 = { orders: leafSerial(orders), payments: leafSerial(payments) };
      // 1. leaf rotation: the callee sees the new caller certificate before and after it re-reads its own.
      await rotate(SECRETS.orders);
      await orders.refresh();
      await rotate(SECRETS.payments);
      await payments.refresh();
      assert.notEqual(leafSerial(orders), serial0.orders);
      assert.notEqual(leafSerial(payments), serial0.payments);

      // 2. CA rotation: the new CA first only joins the trust bundles...
      const oldIssuer = leafIssuer(orders);
      await rotate(SECRETS.ca);
      await rotate(SECRETS.orders);
      await rotate(SECRETS.payments);
      await payments.refresh();
      await orders.refresh();
      assert.equal(leafIssuer(orders), oldIssuer, 'a new CA does not sign during the overlap');
      assert.equal(payments.trust.pems.length, 2, 'trust bundle holds the new and the previous CA');

      // 3. ...then signs after the overlap (shortened here); payments still trusts the old CA's leaves.
      deps.current = { ...deps.current!, caOverlapMs: 0 };
      await rotate(SECRETS.orders);
      await orders.refresh();
      const ca = parseCaSecret(store.get(SECRETS.ca).secretString!)!;
      assert.equal(leafIssuer(orders), new X509Certificate(ca.authorities[0]!.certificate).subject);
      assert.notEqual(leafIssuer(orders), leafIssuer(payments), 'caller on the new CA, callee still on the old one');
      const mark = results.length;
      while (results.length < mark + 20) await sleep(5);
    } finally {
      stop = true;
      await traffic;
    }
    assert.deepEqual(bgErrors, []);
    assert.deepEqual(denied, []);
    assert.ok(results.length >= 40, `only ${results.length} calls ran`);
    assert.deepEqual(
      results.filter((r) => r !== 'ok'),
      [],
    );
    console.log(`identity rotation: ${results.length} calls, 0 failed, 7 rotations (1 CA)`);
  });

  it('refuses a caller whose certificate is not from the mesh CA (the test can fail)', async () => {
    const rogue = await Identity.create({
      read: async () =>
        JSON.stringify(await issueIdentity({ mesh: 'shop', service: 'orders', ca: await rotateCa('shop', undefined) })),
    });
    const payload = JSON.stringify({ order: 'rogue' });
    const tok = rogue.sign({ target: 'payments', payload });
    const ctx = Buffer.from(
      JSON.stringify({ custom: { [META.clientContextKey]: { v: 1, src: 'orders', tok } } }),
    ).toString('base64');
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'shop-payments', Payload: payload, ClientContext: ctx }),
    );
    assert.equal(JSON.parse(Buffer.from(out.Payload!).toString()).status, 'unauthenticated');
    assert.equal(denied.at(-1), 'certificate-untrusted');
  });
});
