/**
 * Template assertions for identity secrets: who may read and who may change what. GIVEN a stack with a
 * mesh identity and two functions, WHEN synthesized, THEN each role reads only its own identity secret,
 * only the issuer reads the CA secret, only the issuer and the deployment role may change any of them
 * (resource policies deny everyone else), Secrets Manager may invoke the issuer only for the mesh's own
 * secrets, the issuer knows the declared services, and rotation is scheduled at half life.
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { MeshIdentity, SECRET_WRITE_ACTIONS } from '../../infra/private/identity';
import { ENV, IDENTITY } from '../../shared/names';
import { logicalIdOf, roleStatements } from './infra-fixture';
import { resourceText } from './invoke-grants';

type Res = { Type: string; Properties: Record<string, any> };

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
      // Issued at deploy by Custom::MeshIdentity; the schedule only takes over.
      RotateImmediatelyOnUpdate: false,
    });
    t.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'shop/identity/orders' });
  });

  it('sets each rotation schedule only once Secrets Manager may invoke its function', () => {
    // Secrets Manager invokes the rotation function when a schedule is set; CloudFormation creates
    // resources with no dependency between them at the same time, so without one a schedule can be set
    // before the permission exists, and fail.
    const permissions = t.findResources('AWS::Lambda::Permission', {
      Properties: { Principal: 'secretsmanager.amazonaws.com' },
    });
    const schedules = Object.values(t.findResources('AWS::SecretsManager::RotationSchedule')) as Array<
      Res & { DependsOn?: string[] }
    >;
    assert.equal(schedules.length, 3);
    for (const schedule of schedules) {
      const first = (schedule.DependsOn ?? []).filter((id) => id in permissions);
      assert.equal(first.length, 1, `${JSON.stringify(schedule.Properties.SecretId)} depends on no invoke permission`);
      assert.deepEqual(permissions[first[0]].Properties.FunctionName, schedule.Properties.RotationLambdaARN);
    }
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

  // The CDK bootstrap's CloudFormation execution role: the default deployment role.
  const deploymentRole = {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JS template
    'Fn::Sub': 'arn:${AWS::Partition}:iam::111111111111:role/cdk-hnb659fds-cfn-exec-role-111111111111-us-east-1',
  };
  const policyOf = (secret: string) => {
    const [p] = Object.values(t.findResources('AWS::SecretsManager::ResourcePolicy') as Record<string, Res>).filter(
      (r) => r.Properties.SecretId.Ref === secret,
    );
    assert.ok(p, `secret ${secret} has a resource policy`);
    return p!.Properties.ResourcePolicy.Statement as Record<string, any>[];
  };

  it('only the issuer reads the CA key: an explicit deny for every other principal', () => {
    const [read] = policyOf(ids.ca!).filter((st) => st.Sid === 'OnlyOwnerReads');
    assert.deepEqual(read, {
      Sid: 'OnlyOwnerReads',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [ids.issuer, 'Arn'] }] } },
    });
    const [own] = policyOf(ids.ordersSecret!).filter((st) => st.Sid === 'OnlyOwnerReads');
    assert.deepEqual(own!.Condition, {
      StringNotEquals: {
        'aws:PrincipalArn': [{ 'Fn::GetAtt': [ids.orders, 'Arn'] }, { 'Fn::GetAtt': [ids.issuer, 'Arn'] }],
      },
    });
  });

  it('every secret denies every change to all but the issuer and the deployment role', () => {
    for (const secret of [ids.ca!, ids.ordersSecret!, ids.paymentsSecret!]) {
      const statements = policyOf(secret);
      assert.equal(statements.length, 2, 'a read deny and a change deny, nothing that allows');
      const [change] = statements.filter((st) => st.Sid === 'OnlyIssuerAndDeploymentChange');
      assert.deepEqual(
        { ...change, Action: [change.Action].flat().sort() },
        {
          Sid: 'OnlyIssuerAndDeploymentChange',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          // minimizePolicies (cdk init's flags) sorts a statement's actions
          Action: [...SECRET_WRITE_ACTIONS].sort(),
          Resource: '*',
          Condition: {
            StringNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [ids.issuer, 'Arn'] }, deploymentRole] },
          },
        },
      );
    }
    // The actions an attacker with broad secretsmanager rights would use are all in the list.
    for (const a of [
      'PutSecretValue',
      'UpdateSecret',
      'PutResourcePolicy',
      'DeleteResourcePolicy',
      'RotateSecret',
      'UpdateSecretVersionStage',
      'DeleteSecret',
      'CancelRotateSecret',
      'RestoreSecret',
      'TagResource',
      'UntagResource',
    ]) {
      assert.ok((SECRET_WRITE_ACTIONS as readonly string[]).includes(`secretsmanager:${a}`), a);
    }
  });

  it('deletes the secrets with the stack (CloudFormation deletes them without a recovery window)', () => {
    for (const id of [ids.ca!, ids.ordersSecret!, ids.paymentsSecret!]) {
      const r = t.toJSON().Resources[id];
      assert.equal(r.DeletionPolicy, 'Delete', id);
      assert.equal(r.UpdateReplacePolicy, 'Delete', id);
    }
  });

  it('Secrets Manager may invoke the issuer only for the mesh CA and the mesh’s identity secrets', () => {
    const perms = Object.values(t.findResources('AWS::Lambda::Permission') as Record<string, Res>).filter(
      (p) => p.Properties.Principal === 'secretsmanager.amazonaws.com',
    );
    assert.deepEqual(
      perms.map((p) => resourceText(p.Properties.SourceArn)),
      [`<${ids.ca}>`, 'arn:<AWS::Partition>:secretsmanager:us-east-1:111111111111:secret:shop/identity/*'],
    );
    for (const p of perms) {
      assert.deepEqual(p.Properties.SourceAccount, { Ref: 'AWS::AccountId' });
      assert.equal(p.Properties.Action, 'lambda:InvokeFunction');
    }
  });

  it('tells the issuer which services the deployment declared, and which secret is the CA', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          [IDENTITY.env.trustDomain]: 'shop',
          [IDENTITY.env.services]: 'orders,payments',
          [IDENTITY.env.caSecret]: { Ref: ids.ca },
        },
      },
    });
  });

  it('alarms when the issuer fails', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('Issuer') } }],
    });
  });

  it('the issuer may read, write and relabel the CA and the identity secrets (by prefix), nothing more', () => {
    const statements = roleStatements(t, ids.issuer!).filter((st) =>
      [st.Action].flat().some((a) => a?.startsWith('secretsmanager:')),
    );
    const actions = [
      'secretsmanager:GetSecretValue',
      'secretsmanager:DescribeSecret',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ];
    // Each action on each resource, however the statements are merged (minimizePolicies merges them)
    const grants = statements.flatMap((st) =>
      [st.Action].flat().flatMap((a) => [st.Resource].flat().map((r) => `${st.Effect} ${a} ${resourceText(r)}`)),
    );
    const expected = [
      'arn:<AWS::Partition>:secretsmanager:us-east-1:111111111111:secret:shop/identity/*',
      `<${ids.ca}>`,
    ].flatMap((r) => actions.map((a) => `Allow ${a} ${r}`));
    assert.deepEqual(grants.sort(), expected.sort());
  });
});
