/**
 * The issuer is not a confused deputy. Attacked on the local mesh the way it was found: a principal that
 * may create a secret under `<mesh>/identity/` and call RotateSecret writes another service's SPIFFE ID
 * into its own secret and asks the issuer to rotate it; or it invokes the issuer with a forged
 * deploy-time event. The issuer derives the service from the secret's name, issues only the services
 * the deployment declared, and writes nothing else; and Secrets Manager may invoke it only for the mesh's
 * own secrets (SourceArn, template assertion).
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ShopStack } from '../../infra/shop-stack';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { IDENTITY } from '../../shared/names';
import { clientConfig, identityFixtureAssemblies } from '../support/example-assembly';
import { tempDir } from '../support/temp-dir';

describe('security: the issuer issues only the identities the deployment declared', () => {
  let mesh: LocalMesh;
  let sm: SecretsManagerClient;
  let lambda: LambdaClient;
  const held: (() => Promise<void>)[] = [];
  const release = async () => {
    while (held.length > 0) await held.shift()!();
  };
  let issuerArn = '';

  before(async () => {
    mesh = await startLocalMesh({
      assemblies: [identityFixtureAssemblies().release1],
      port: 0,
      quiet: true,
      rotationScheduler: (run) => held.push(run),
    });
    await release();
    sm = new SecretsManagerClient(clientConfig(mesh.url));
    lambda = new LambdaClient(clientConfig(mesh.url));
    issuerArn = mesh.registry.arn(mesh.registry.functionNames().find((n) => n.includes('MeshIdentityIssuer'))!);
  });
  after(async () => {
    sm?.destroy();
    lambda?.destroy();
    await mesh?.stop();
  });

  const holdsKey = async (secretId: string) => {
    const stages = (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
    for (const versionId of Object.keys(stages)) {
      const v = await sm
        .send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }))
        .catch(() => undefined);
      if (v?.SecretString?.includes('PRIVATE KEY')) return true;
    }
    return false;
  };

  it('refuses to rotate an attacker’s secret that claims a declared service’s SPIFFE ID', async () => {
    for (const name of ['idm/identity/evil', 'idm/identity/back-copy', 'other/identity/back']) {
      await sm.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: JSON.stringify({ kind: 'identity', spiffeId: 'spiffe://idm/svc/back' }),
        }),
      );
      await sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: issuerArn }));
      await release();
      assert.equal(await holdsKey(name), false, `${name} got no key`);
    }
    const refusals = mesh
      .recentInvocations()
      .filter((r) => r.functionName.includes('MeshIdentityIssuer') && r.outcome === 'error');
    assert.ok(refusals.length >= 3, 'each attempt was refused by the issuer');
  });

  it('refuses an attacker’s secret that poses as the CA', async () => {
    await sm.send(
      new CreateSecretCommand({ Name: 'idm/identity/ca', SecretString: JSON.stringify({ kind: 'ca', mesh: 'idm' }) }),
    );
    await sm.send(new RotateSecretCommand({ SecretId: 'idm/identity/ca', RotationLambdaARN: issuerArn }));
    await release();
    assert.equal(await holdsKey('idm/identity/ca'), false);
  });

  it('refuses a forged deploy-time event naming an undeclared secret', async () => {
    const evil = (await sm.send(new DescribeSecretCommand({ SecretId: 'idm/identity/evil' }))).ARN!;
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: issuerArn,
        Payload: Buffer.from(
          JSON.stringify({
            RequestType: 'Create',
            ResourceType: IDENTITY.resourceType.identity,
            RequestId: 'forged',
            ResourceProperties: { SecretId: evil, Service: 'back' },
          }),
        ),
      }),
    );
    assert.equal(out.FunctionError, 'Unhandled');
    assert.match(Buffer.from(out.Payload!).toString(), /IssuerRefusedError/);
    assert.equal(await holdsKey('idm/identity/evil'), false);
  });

  it('still rotates the declared identities', async () => {
    const before = await sm.send(new GetSecretValueCommand({ SecretId: 'idm/identity/back' }));
    const r = await sm.send(new RotateSecretCommand({ SecretId: 'idm/identity/back', RotationLambdaARN: issuerArn }));
    await release();
    const after = await sm.send(new GetSecretValueCommand({ SecretId: 'idm/identity/back' }));
    assert.equal(after.VersionId, r.VersionId);
    assert.notEqual(after.SecretString, before.SecretString);
  });

  it('Secrets Manager may invoke the issuer only for the mesh CA and the mesh’s identity secrets (SourceArn)', () => {
    const app = new App({ outdir: tempDir('deputy-'), context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new ShopStack(app, 'Shop', { env: { account: '123456789012', region: 'us-east-1' } });
    const t = Template.fromStack(stack).toJSON();
    const issuer = stack.getLogicalId(stack.mesh.identity!.issuer.node.defaultChild as never);
    const caSecret = stack.getLogicalId(stack.mesh.identity!.caSecret.node.defaultChild as never);
    const perms = Object.values(
      t.Resources as Record<string, { Type: string; Properties: Record<string, any> }>,
    ).filter((r) => r.Type === 'AWS::Lambda::Permission' && r.Properties.FunctionName?.['Fn::GetAtt']?.[0] === issuer);
    assert.ok(perms.length > 0);
    // Resolve each SourceArn as AWS would for this account and check which secrets it lets invoke the issuer.
    const resolve = (v: unknown): string =>
      typeof v === 'string'
        ? v
        : (v as { Ref?: string }).Ref === caSecret
          ? 'arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/mesh-ca-AbCdEf'
          : (v as { Ref?: string }).Ref === 'AWS::Partition'
            ? 'aws'
            : ((v as { 'Fn::Join': [string, unknown[]] })['Fn::Join']?.[1] ?? []).map(resolve).join('');
    const allows = (secretArn: string) =>
      perms.some((p) => {
        if (p.Properties.Principal !== 'secretsmanager.amazonaws.com') return false;
        if (p.Properties.SourceArn === undefined) return true; // no condition: any secret
        const pattern = resolve(p.Properties.SourceArn);
        return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(secretArn);
      });
    const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-XyZ123`;
    assert.ok(allows(arn('shop/identity/payments')));
    assert.ok(allows('arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/mesh-ca-AbCdEf'));
    for (const other of [
      'attacker/identity/payments',
      'shop-evil/identity/payments',
      'payments',
      'shop/mesh-ca-copy',
    ]) {
      assert.equal(allows(arn(other)), false, `${other} cannot have Secrets Manager invoke the issuer`);
    }
  });
});
