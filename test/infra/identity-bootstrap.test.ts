/**
 * Deploy-time issuance in the template. GIVEN the example shop, WHEN synthesized, THEN the CA and each
 * identity are issued by custom resources the Provider framework runs on the issuer, the identities
 * after the CA, every function's version and `live` alias after its own identity, and the rotation
 * schedules only take over afterwards (no rotation at deploy: RotateSecret is asynchronous and nothing
 * may wait on it).
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { App, Duration, LegacyStackSynthesizer, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CA_LIFETIME_MS } from '../../functions/control/ca-issuer';
import { Mesh } from '../../infra/mesh';
import { MeshErrorCode, MeshValidationError } from '../../infra/mesh-validation-error';
import { CA_LIFETIME_DAYS, MeshIdentity } from '../../infra/private/identity';
import { ShopStack } from '../../infra/shop-stack';
import { IDENTITY } from '../../shared/names';
import { tempDir } from '../support/temp-dir';

type Res = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };

function app(): App {
  return new App({
    outdir: tempDir('identity-bootstrap-'),
    context: { 'aws:cdk:bundling-stacks': [] },
  });
}

describe('identity issuance at deploy (template)', () => {
  let stack: ShopStack;
  let resources: Record<string, Res>;
  const logicalId = (c: { node: { defaultChild?: unknown } }): string =>
    stack.getLogicalId(c.node.defaultChild as never);
  /** Every resource `id` waits for, directly or through others. */
  const waitsFor = (id: string, seen = new Set<string>()): Set<string> => {
    for (const d of resources[id]?.DependsOn ?? []) {
      if (seen.has(d)) continue;
      seen.add(d);
      waitsFor(d, seen);
    }
    return seen;
  };

  before(() => {
    stack = new ShopStack(app(), 'Shop', { release: 2, env: { account: '123456789012', region: 'us-east-1' } });
    resources = Template.fromStack(stack).toJSON().Resources;
  });

  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  it('issues the CA through the Provider framework running the issuer', () => {
    const identity = stack.mesh.identity!;
    const [[caId, ca]] = ofType(IDENTITY.resourceType.ca) as [[string, Res]];
    assert.equal(caId, logicalId(identity.caIssued));
    assert.deepEqual(ca.Properties.SecretId, { Ref: logicalId(identity.caSecret) });
    const framework = ca.Properties.ServiceToken['Fn::GetAtt'][0] as string;
    assert.deepEqual(resources[framework]!.Properties.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN, {
      'Fn::GetAtt': [logicalId(identity.issuer), 'Arn'],
    });
  });

  it('the provider framework may only invoke and describe the issuer, and write its own logs (its whole role policy)', () => {
    const issuer = logicalId(stack.mesh.identity!.issuer);
    const framework = ofType('AWS::Lambda::Function').find(
      ([, r]) => r.Properties.Environment?.Variables?.USER_ON_EVENT_FUNCTION_ARN?.['Fn::GetAtt']?.[0] === issuer,
    )!;
    const role = framework[1].Properties.Role['Fn::GetAtt'][0];
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, r]) => JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: role }]))
      .flatMap(([, r]) => r.Properties.PolicyDocument.Statement);
    const arn = { 'Fn::GetAtt': [issuer, 'Arn'] };
    assert.deepEqual(statements, [
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: [arn, { 'Fn::Join': ['', [arn, ':*']] }],
      },
      { Action: 'lambda:GetFunction', Effect: 'Allow', Resource: arn },
      {
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [framework[1].Properties.LoggingConfig.LogGroup.Ref, 'Arn'] },
      },
    ]);
  });

  it('issues one identity per service (and one for the pre-traffic check), each after the CA', () => {
    const identities = ofType(IDENTITY.resourceType.identity);
    assert.deepEqual(identities.map(([, r]) => r.Properties.Service).sort(), [
      'frontend',
      'inventory',
      'mesh-deploy-check',
      'notifications',
      'orders',
      'payments',
    ]);
    const caId = logicalId(stack.mesh.identity!.caIssued);
    for (const [id, r] of identities) {
      assert.ok(r.DependsOn?.includes(caId), `${id} waits for the CA`);
      const secret = stack.mesh.identity!.node.findChild(`Identity-${r.Properties.Service}`);
      assert.deepEqual(r.Properties.SecretId, { Ref: logicalId(secret as never) });
    }
  });

  it('no function version or live alias exists before its identity is issued', () => {
    for (const fn of stack.mesh.functions) {
      const issued = logicalId(stack.mesh.identity!.issuedResource(fn.service)!);
      const caId = logicalId(stack.mesh.identity!.caIssued);
      const fnId = logicalId(fn);
      const own = Object.entries(resources).filter(
        ([, r]) =>
          (r.Type === 'AWS::Lambda::Version' || r.Type === 'AWS::Lambda::Alias') &&
          r.Properties.FunctionName?.Ref === fnId,
      );
      assert.deepEqual(own.map(([, r]) => r.Type).sort(), ['AWS::Lambda::Alias', 'AWS::Lambda::Version']);
      for (const [id] of own) {
        const deps = waitsFor(id);
        assert.ok(deps.has(issued), `${fn.service}: ${resources[id]!.Type} ${id} waits for ${issued}`);
        assert.ok(deps.has(caId), `${fn.service}: ${id} waits for the CA too`);
      }
    }
  });

  it('rotation schedules only take over after the deploy-time issuance, and start no rotation at deploy', () => {
    const schedules = ofType('AWS::SecretsManager::RotationSchedule');
    // The CA, five services and the pre-traffic check's identity.
    assert.equal(schedules.length, 7);
    const issuedIds = new Set(
      [...ofType(IDENTITY.resourceType.identity), ...ofType(IDENTITY.resourceType.ca)].map(([id]) => id),
    );
    for (const [id, r] of schedules) {
      assert.equal(r.Properties.RotateImmediatelyOnUpdate, false, id);
      assert.ok(
        r.DependsOn?.some((d) => issuedIds.has(d)),
        `${id} waits for its secret's issuance`,
      );
    }
  });

  it('a mesh without identity has none of it', () => {
    const s = new Stack(app(), 'NoIdentity', { env: { account: '123456789012', region: 'us-east-1' } });
    new Mesh(s, 'Mesh', { meshName: 'plain', identity: { enabled: false } });
    const t = Template.fromStack(s);
    t.resourceCountIs(IDENTITY.resourceType.ca, 0);
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  it('refuses at synth a declared-service list that would not fit the issuer’s 4 KB environment', () => {
    const a = app();
    const s = new Stack(a, 'Many', { env: { account: '123456789012', region: 'us-east-1' } });
    const identity = new MeshIdentity(s, 'Identity', { meshName: 'many' });
    const code = lambda.Code.fromInline('exports.handler = async () => 1');
    for (let i = 0; i < 90; i++) {
      const service = `service-${String(i).padStart(3, '0')}-${'x'.repeat(28)}`; // 40 characters
      identity.addService(
        service,
        new lambda.Function(s, `F${i}`, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code }),
      );
    }
    assert.throws(() => a.synth(), /90 services take 3689 bytes in the issuer's MESH_IDENTITY_SERVICES/);
  });

  it('takes the deployment role from the props, and asks for it when the synthesizer names none', () => {
    const named = new Stack(app(), 'Named', {
      env: { account: '123456789012', region: 'us-east-1' },
      synthesizer: new LegacyStackSynthesizer(),
    });
    new Mesh(named, 'Mesh', {
      meshName: 'named',
      identity: { deploymentRoleArn: 'arn:aws:iam::123456789012:role/deployer' },
    });
    const text = JSON.stringify(Template.fromStack(named).findResources('AWS::SecretsManager::ResourcePolicy'));
    assert.match(text, /arn:aws:iam::123456789012:role\/deployer/);

    const legacy = new Stack(app(), 'Legacy', { synthesizer: new LegacyStackSynthesizer() });
    assert.throws(
      () => new Mesh(legacy, 'Mesh', { meshName: 'legacy' }),
      (err: unknown) => {
        assert.ok(err instanceof MeshValidationError, String(err));
        assert.equal(err.code, MeshErrorCode.INVALID_IDENTITY_OPTION);
        assert.match(
          err.message,
          /pass identity: \{ deploymentRoleArn: '<the role CloudFormation deploys with>' \} to Mesh/,
        );
        return true;
      },
    );
  });

  it('refuses a CA rotation period that would drop a CA still in use, or keep one trusted past its end', () => {
    const identity = (caRotation: Duration, certificateLifetime?: Duration) => {
      const stack = new Stack(app(), 'Ca', { env: { account: '123456789012', region: 'us-east-1' } });
      new Mesh(stack, 'Mesh', { meshName: 'ca', identity: { caRotation, certificateLifetime } });
      return Template.fromStack(stack).findResources('AWS::SecretsManager::RotationSchedule');
    };
    const refused = (caRotation: Duration, certificateLifetime: Duration | undefined, message: string) =>
      assert.throws(
        () => identity(caRotation, certificateLifetime),
        (err: unknown) => {
          assert.ok(err instanceof MeshValidationError, String(err));
          assert.equal(err.code, MeshErrorCode.INVALID_IDENTITY_OPTION);
          assert.equal(err.message, message);
          return true;
        },
      );
    const why =
      '(a CA rotation drops a CA whose certificates stay in use three lifetimes after the rotation before, and ' +
      'Secrets Manager may rotate anywhere in the scheduled day; a CA is valid 365 days and stays trusted two rotations)';
    refused(
      Duration.days(3),
      undefined,
      `Ca/Mesh/Identity: caRotation must be between 4 and 181 days with a certificateLifetime of 24 h ${why}, got 3 days`,
    );
    refused(
      Duration.days(182),
      undefined,
      `Ca/Mesh/Identity: caRotation must be between 4 and 181 days with a certificateLifetime of 24 h ${why}, got 182 days`,
    );
    refused(
      Duration.days(6),
      Duration.hours(48),
      `Ca/Mesh/Identity: caRotation must be between 7 and 180 days with a certificateLifetime of 48 h ${why}, got 6 days`,
    );
    const schedules = (caRotation: Duration, lifetime?: Duration) =>
      Object.values(identity(caRotation, lifetime)).map((r) => r.Properties.RotationRules.ScheduleExpression);
    assert.ok(schedules(Duration.days(4)).includes('rate(4 days)'));
    assert.ok(schedules(Duration.days(181)).includes('rate(181 days)'));
    assert.ok(schedules(Duration.days(7), Duration.hours(48)).includes('rate(7 days)'));
    // The bound is the issuer's CA lifetime, which infra states on its own.
    assert.equal(CA_LIFETIME_DAYS * 24 * 3_600_000, CA_LIFETIME_MS);
  });
});
