/**
 * Template assertions for identity secrets: who may read what. GIVEN a stack with a mesh identity and
 * two functions, WHEN synthesized, THEN each role reads only its own identity secret, only the issuer
 * reads the CA secret (resource policies deny everyone else), and rotation is scheduled at half life.
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { MeshIdentity } from '../../infra/private/identity';
import { ENV } from '../../shared/names';
import { logicalIdOf, roleStatements } from './infra-fixture';

describe('mesh identity infra', () => {
  let t: Template;
  let stack: Stack;
  const ids: Record<string, string> = {};

  before(() => {
    const app = new App();
    stack = new Stack(app, 'IdentityStack', { env: { account: '111111111111', region: 'us-east-1' } });
    const identity = new MeshIdentity(stack, 'Identity', { meshName: 'shop' });
    for (const service of ['orders', 'payments']) {
      const fn = new lambda.Function(stack, service, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => 1'),
      });
      identity.addService(service, fn);
      identity.addService(service, fn); // idempotent
      ids[service] = logicalIdOf(fn.role!);
      ids[`${service}Secret`] = logicalIdOf(identity.node.findChild(`Identity-${service}`));
    }
    ids.ca = logicalIdOf(identity.caSecret);
    ids.issuer = logicalIdOf(identity.issuer.role!);
    t = Template.fromStack(stack);
  });

  it('creates a CA secret and one identity secret per service, each with a rotation schedule', () => {
    t.resourceCountIs('AWS::SecretsManager::Secret', 3);
    t.resourceCountIs('AWS::SecretsManager::RotationSchedule', 3);
    t.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: ids.ordersSecret },
      RotationRules: { ScheduleExpression: 'rate(12 hours)' },
      RotateImmediatelyOnUpdate: true,
    });
    t.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'shop/identity/orders' });
  });

  it('sets MESH_IDENTITY_SECRET to the function’s own secret', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [ids.orders, 'Arn'] },
      Environment: { Variables: { [ENV.identitySecret]: { Ref: ids.ordersSecret } } },
    });
  });

  it('each role reads only its own identity secret, never the CA or another service’s', () => {
    for (const [svc, other] of [
      ['orders', 'payments'],
      ['payments', 'orders'],
    ] as const) {
      const text = JSON.stringify(roleStatements(t, ids[svc]!));
      assert.ok(text.includes(ids[`${svc}Secret`]!), `${svc} reads its own secret`);
      assert.ok(!text.includes(ids[`${other}Secret`]!), `${svc} must not read ${other}'s secret`);
      assert.ok(!text.includes(ids.ca!), `${svc} must not read the CA secret`);
      assert.ok(!/PutSecretValue|lambda:InvokeFunction/.test(text), `${svc} gets no write and no invoke from identity`);
    }
  });

  it('only the issuer reads the CA key: an explicit deny for every other principal', () => {
    t.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: { Ref: ids.ca },
      ResourcePolicy: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Action: 'secretsmanager:GetSecretValue',
            Condition: { StringNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [ids.issuer, 'Arn'] }] } },
          }),
        ],
      },
    });
    t.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: { Ref: ids.ordersSecret },
      ResourcePolicy: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Condition: {
              StringNotEquals: {
                'aws:PrincipalArn': [{ 'Fn::GetAtt': [ids.orders, 'Arn'] }, { 'Fn::GetAtt': [ids.issuer, 'Arn'] }],
              },
            },
          }),
        ],
      },
    });
  });

  it('the issuer may write identity secrets by prefix and rotate the CA', () => {
    const text = JSON.stringify(roleStatements(t, ids.issuer!));
    assert.match(text, /secret:shop\/identity\/\*/);
    assert.match(text, /secretsmanager:PutSecretValue/);
    assert.ok(text.includes(ids.ca!));
  });
});
