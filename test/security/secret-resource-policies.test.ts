/**
 * The mesh secrets' resource policies deny every write and policy action to everyone but the issuer
 * and the deployment role, and every read to everyone but the secret's readers. The local mesh's
 * Secrets Manager does not evaluate resource policies (all its callers share one set of credentials),
 * so this is attacked on the template: GIVEN the example shop, WHEN its policies are evaluated for each
 * principal and each Secrets Manager action on each mesh secret (explicit deny wins over any identity
 * policy, so a principal with secretsmanager:* gets exactly what is not denied), THEN an administrator
 * can neither read a key, nor drop or replace a policy, nor write its own CA, nor relabel, rotate,
 * delete, tag or replicate a secret.
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ShopStack } from '../../infra/shop-stack';
import { tempDir } from '../support/temp-dir';

/**
 * Every Secrets Manager action that acts on a secret at the Write, Tagging or Permissions management
 * access level (the Service Authorization Reference's list for AWS Secrets Manager), written out here
 * rather than taken from the constructs, so a missing one fails this test.
 */
const WRITE_AND_POLICY_ACTIONS = [
  'CancelRotateSecret',
  'DeleteResourcePolicy',
  'DeleteSecret',
  'PutResourcePolicy',
  'PutSecretValue',
  'RemoveRegionsFromReplication',
  'ReplicateSecretToRegions',
  'RestoreSecret',
  'RotateSecret',
  'StopReplicationToReplica',
  'TagResource',
  'UntagResource',
  'UpdateSecret',
  'UpdateSecretVersionStage',
  'ValidateResourcePolicy',
].map((a) => `secretsmanager:${a}`);

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Principal: unknown;
  readonly Condition?: { StringNotEquals?: { 'aws:PrincipalArn'?: unknown } };
}

/** A principal as the template names it (a GetAtt of a role, a literal or Fn::Sub ARN). */
type Principal = unknown;

/** Whether `statements` explicitly deny `action` to `principal` (the only effect these policies use). */
function denied(statements: readonly Statement[], principal: Principal, action: string): boolean {
  const key = JSON.stringify(principal);
  return statements.some((s) => {
    if (s.Effect !== 'Deny' || JSON.stringify(s.Principal) !== JSON.stringify({ AWS: '*' })) return false;
    const actions = [s.Action].flat();
    const matches = actions.some((a) => a === action || a === 'secretsmanager:*' || a === '*');
    const except = [s.Condition?.StringNotEquals?.['aws:PrincipalArn'] ?? []].flat().map((p) => JSON.stringify(p));
    return matches && !except.includes(key);
  });
}

describe('security: mesh secrets deny every write and policy action to all but the issuer and the deployment', () => {
  let stack: ShopStack;
  const policies = new Map<string, Statement[]>(); // secret name -> statements
  const role = (c: { role?: { node: { defaultChild?: unknown } } }): Principal => ({
    'Fn::GetAtt': [stack.getLogicalId(c.role!.node.defaultChild as never), 'Arn'],
  });
  const deployment: Principal = {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JS template
    'Fn::Sub': 'arn:${AWS::Partition}:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1',
  };
  const admin: Principal = 'arn:aws:iam::123456789012:role/Administrator';

  before(() => {
    const app = new App({
      outdir: tempDir('secret-policies-'),
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    stack = new ShopStack(app, 'Shop', { env: { account: '123456789012', region: 'us-east-1' } });
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: any }>;
    const names = new Map(
      Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret')
        .map(([id, r]) => [id, r.Properties.Name as string]),
    );
    for (const r of Object.values(resources)) {
      if (r.Type !== 'AWS::SecretsManager::ResourcePolicy') continue;
      policies.set(names.get(r.Properties.SecretId.Ref)!, r.Properties.ResourcePolicy.Statement);
    }
  });

  it('every mesh secret has a policy', () => {
    assert.deepEqual([...policies.keys()].sort(), [
      'shop/identity/frontend',
      'shop/identity/inventory',
      'shop/identity/mesh-deploy-check',
      'shop/identity/notifications',
      'shop/identity/orders',
      'shop/identity/payments',
      'shop/mesh-ca',
    ]);
  });

  it('an administrator with secretsmanager:* can neither read nor change any mesh secret', () => {
    for (const [secret, statements] of policies) {
      for (const action of ['secretsmanager:GetSecretValue', ...WRITE_AND_POLICY_ACTIONS]) {
        assert.ok(denied(statements, admin, action), `${action} on ${secret} must be denied`);
      }
    }
  });

  it('a mesh function reads its own identity only and changes nothing', () => {
    const orders = role(stack.orders);
    for (const [secret, statements] of policies) {
      assert.equal(
        denied(statements, orders, 'secretsmanager:GetSecretValue'),
        secret !== 'shop/identity/orders',
        secret,
      );
      for (const action of WRITE_AND_POLICY_ACTIONS)
        assert.ok(denied(statements, orders, action), `${action} on ${secret}`);
    }
  });

  it('the pre-traffic hook of gated deployments reads its own identity only and changes nothing', () => {
    const hook = role(stack.payments.deployment!.preTrafficHook as { role?: { node: { defaultChild?: unknown } } });
    for (const [secret, statements] of policies) {
      assert.equal(
        denied(statements, hook, 'secretsmanager:GetSecretValue'),
        secret !== 'shop/identity/mesh-deploy-check',
        secret,
      );
      for (const action of WRITE_AND_POLICY_ACTIONS)
        assert.ok(denied(statements, hook, action), `${action} on ${secret}`);
    }
  });

  it('the issuer reads and changes every mesh secret; the deployment role changes but cannot read them', () => {
    const issuer = role(stack.mesh.identity!.issuer);
    for (const [secret, statements] of policies) {
      assert.equal(denied(statements, issuer, 'secretsmanager:GetSecretValue'), false, secret);
      assert.equal(denied(statements, deployment, 'secretsmanager:GetSecretValue'), true, secret);
      for (const action of WRITE_AND_POLICY_ACTIONS) {
        assert.equal(denied(statements, issuer, action), false, `issuer ${action} on ${secret}`);
        assert.equal(denied(statements, deployment, action), false, `deployment ${action} on ${secret}`);
      }
    }
  });
});
