/**
 * Identity end to end on the local mesh (startLocalMesh) with the example app and the mesh runtime:
 * every function's identity secret is issued at start, signed calls flow through every hop, callers
 * without a valid token are refused, and traffic keeps flowing with zero failed calls while every
 * identity and the CA rotate and workers restart onto the new certificates.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { issueIdentity, rotateCa } from '../../functions/control/ca-issuer';
import { parseIdentitySecret } from '../../functions/mesh/identity';
import { rotateLocalCa, rotateLocalIdentity } from '../../local/identity/local-identity';
import { ENV, IDENTITY, LIVE_ALIAS, META } from '../../shared/names';
import { clientConfig, exampleAssemblies, startTestMesh, type TestMesh } from '../support/example-assembly';
import { identityOf } from '../support/identity-fixture';

const assemblies = process.env.MESH_TEST_ENDPOINT ? undefined : exampleAssemblies();

describe('identity on the local mesh (example app)', {
  skip: assemblies ? false : 'needs infra/app.ts and the local mesh',
}, () => {
  let mesh: TestMesh;
  let lambda: LambdaClient;
  let sm: SecretsManagerClient;
  const fn = new Map<string, { name: string; secret: string }>();
  let issuerArn = '';

  before(async () => {
    mesh = await startTestMesh([assemblies!.release1, assemblies!.release2]);
    lambda = new LambdaClient(clientConfig(mesh.url));
    sm = new SecretsManagerClient(clientConfig(mesh.url));
    const { Functions = [] } = await lambda.send(new ListFunctionsCommand({}));
    for (const f of Functions) {
      const v = f.Environment?.Variables ?? {};
      if (v[ENV.service]) fn.set(v[ENV.service]!, { name: f.FunctionName!, secret: v[ENV.identitySecret] ?? '' });
      if (v.MESH_CA_SECRET) issuerArn = f.FunctionArn!;
    }
  });
  after(async () => {
    lambda?.destroy();
    sm?.destroy();
    await mesh?.stop();
  });

  const order = async (i: number) => {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: fn.get('frontend')!.name,
        Qualifier: LIVE_ALIAS,
        Payload: Buffer.from(JSON.stringify({ sku: `sku-${i % 5}`, quantity: 1 })),
      }),
    );
    return { error: out.FunctionError, body: Buffer.from(out.Payload ?? new Uint8Array()).toString() };
  };
  const asCaller = (service: string, tok?: string) =>
    lambda.send(
      new InvokeCommand({
        FunctionName: fn.get(service === 'orders' ? 'payments' : 'orders')!.name,
        Qualifier: LIVE_ALIAS,
        Payload: Buffer.from('{"amountCents":1}'),
        ClientContext: Buffer.from(
          JSON.stringify({ custom: { [META.clientContextKey]: { v: 1, src: service, ...(tok ? { tok } : {}) } } }),
        ).toString('base64'),
      }),
    );

  it('issued an identity secret for every function, readable through Secrets Manager', async () => {
    assert.ok(fn.size >= 4);
    for (const [service, { secret }] of fn) {
      assert.ok(secret, `${service} has ${ENV.identitySecret}`);
      const { SecretString } = await sm.send(new GetSecretValueCommand({ SecretId: secret }));
      assert.equal(parseIdentitySecret(SecretString!).spiffeId, `spiffe://shop/svc/${service}`);
    }
  });

  it('keeps every identity and the CA on the schedule the template declares (NextRotationDate)', async () => {
    const dueAfter = async (secretId: string, ms: number) => {
      const d = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
      assert.equal(d.RotationEnabled, true, secretId);
      assert.equal(d.NextRotationDate?.getTime(), (d.LastRotatedDate ?? d.CreatedDate)!.getTime() + ms, secretId);
    };
    for (const { secret } of fn.values()) await dueAfter(secret, 12 * 3_600_000);
    await dueAfter(IDENTITY.caSecretName('shop'), 90 * 86_400_000);
  });

  it('signed calls flow through every hop', async () => {
    const r = await order(0);
    assert.equal(r.error, undefined, r.body);
  });

  it('refuses a caller with no token or a token from a foreign CA', async () => {
    const missing = await asCaller('orders');
    assert.equal(missing.FunctionError, 'Unhandled');
    assert.match(Buffer.from(missing.Payload!).toString(), /Unauthenticated/);
    const foreign = await identityOf(
      await issueIdentity({ mesh: 'shop', service: 'orders', ca: await rotateCa('shop', undefined) }),
    );
    const forged = await asCaller('orders', foreign.sign({ target: 'payments', payload: '{"amountCents":1}' }));
    assert.equal(forged.FunctionError, 'Unhandled');
    assert.match(Buffer.from(forged.Payload!).toString(), /Unauthenticated/);
  });

  it('the refused caller learns only "unauthenticated", not which check failed', async () => {
    const missing = await asCaller('orders');
    assert.doesNotMatch(Buffer.from(missing.Payload!).toString(), /token-missing/);
  });

  it('RotateSecret runs the deployed (bundled) rotation function through all four steps', async () => {
    assert.ok(issuerArn, 'the issuer function is deployed (env MESH_CA_SECRET)');
    const { secret } = fn.get('payments')!;
    const before = await sm.send(new GetSecretValueCommand({ SecretId: secret }));
    const { VersionId } = await sm.send(new RotateSecretCommand({ SecretId: secret, RotationLambdaARN: issuerArn }));
    let stages: Record<string, string[]> = {};
    for (let i = 0; i < 300 && !stages[VersionId!]?.includes('AWSCURRENT'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      stages = (await sm.send(new DescribeSecretCommand({ SecretId: secret }))).VersionIdsToStages ?? {};
    }
    // AWSPENDING may stay on the new current version (a rotation leaves it gone or on AWSCURRENT).
    assert.ok(stages[VersionId!]?.includes('AWSCURRENT'), JSON.stringify(stages));
    assert.deepEqual(stages[before.VersionId!], ['AWSPREVIOUS']);
    const after = parseIdentitySecret((await sm.send(new GetSecretValueCommand({ SecretId: secret }))).SecretString!);
    assert.equal(after.spiffeId, 'spiffe://shop/svc/payments');
    assert.notEqual(after.certificate, parseIdentitySecret(before.SecretString!).certificate);
    assert.equal((await order(1)).error, undefined, 'traffic still flows');
  });

  it('serves every call while all identities and the CA rotate and workers restart', async () => {
    const store = mesh.local!.endpoint.secrets;
    let stop = false;
    const failures: string[] = [];
    let calls = 0;
    const traffic = (async () => {
      for (let i = 0; !stop; i++) {
        const r = await order(i);
        calls++;
        if (r.error) failures.push(r.body.slice(0, 300));
      }
    })();
    try {
      for (let round = 0; round < 2; round++) {
        if (round === 1) await rotateLocalCa(store, { mesh: 'shop' });
        for (const [service, { secret, name }] of fn) {
          await rotateLocalIdentity(store, { mesh: 'shop', service, secretId: secret });
          // A fresh worker reads the new certificate; the others keep theirs (both valid).
          await mesh.local!.invoker.recycle(name);
          const before = calls;
          while (calls < before + 2) await new Promise((r) => setTimeout(r, 20));
        }
      }
    } finally {
      stop = true;
      await traffic;
    }
    assert.deepEqual(failures, []);
    assert.ok(calls >= 16, `only ${calls} calls`);
  });
});
