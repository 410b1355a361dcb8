/**
 * The local mesh's CloudFormation order: every resource after what it depends on (DependsOn, Ref,
 * Fn::GetAtt, Fn::Sub), and the resources whose work others might silently rely on (custom resources,
 * rotation schedules) as late as allowed, so a template that forgot a dependency fails locally.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TemplateResource } from '../../local/assembly/cloud-assembly';
import { dependenciesOf, deployOrder } from '../../local/assembly/deploy-order';

const fn: TemplateResource = { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } };
const resources = (issuedFirst: boolean): Record<string, TemplateResource> => ({
  Issued: {
    Type: 'Custom::MeshIdentity',
    Properties: { ServiceToken: { 'Fn::GetAtt': ['Provider', 'Arn'] }, SecretId: { Ref: 'Secret' } },
  },
  Alias: {
    Type: 'AWS::Lambda::Alias',
    Properties: { FunctionName: { Ref: 'Fn' }, FunctionVersion: { 'Fn::GetAtt': ['Version', 'Version'] } },
    ...(issuedFirst ? { DependsOn: ['Issued'] } : {}),
  },
  Version: {
    Type: 'AWS::Lambda::Version',
    Properties: { FunctionName: { Ref: 'Fn' } },
    ...(issuedFirst ? { DependsOn: 'Issued' } : {}),
  },
  Fn: fn,
  Role: { Type: 'AWS::IAM::Role' },
  Secret: { Type: 'AWS::SecretsManager::Secret' },
  Provider: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
  Schedule: {
    Type: 'AWS::SecretsManager::RotationSchedule',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JS template
    Properties: { SecretId: { Ref: 'Secret' }, RotationLambdaARN: { 'Fn::Sub': '${Provider.Arn}' } },
  },
});

describe('local deploy order', () => {
  it('finds dependencies in DependsOn, Ref, Fn::GetAtt and Fn::Sub, ignoring pseudo parameters', () => {
    const ids = new Set(Object.keys(resources(true)));
    assert.deepEqual([...dependenciesOf(resources(true).Alias!, ids)].sort(), ['Fn', 'Issued', 'Version']);
    assert.deepEqual([...dependenciesOf(resources(true).Schedule!, ids)].sort(), ['Provider', 'Secret']);
    const sub: TemplateResource = {
      Type: 'X',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JS template
      Properties: { A: { 'Fn::Sub': ['${AWS::Region}-${Secret}-${Thing}', { Thing: { Ref: 'Role' } }] } },
    };
    assert.deepEqual([...dependenciesOf(sub, ids)].sort(), ['Role', 'Secret']);
  });

  it('without a declared dependency, the version and alias come before the custom resource', () => {
    const order = deployOrder(resources(false));
    assert.ok(order.indexOf('Alias') < order.indexOf('Issued'), order.join(' '));
    assert.ok(order.indexOf('Version') < order.indexOf('Issued'), order.join(' '));
    assert.deepEqual(order.slice(-2).sort(), ['Issued', 'Schedule']);
  });

  it('with the dependency declared, the custom resource runs first, and only as early as needed', () => {
    const order = deployOrder(resources(true));
    for (const [before, after] of [
      ['Issued', 'Version'],
      ['Issued', 'Alias'],
      ['Version', 'Alias'],
      ['Secret', 'Issued'],
      ['Provider', 'Issued'],
      ['Role', 'Fn'],
    ]) {
      assert.ok(order.indexOf(before!) < order.indexOf(after!), `${before} before ${after}: ${order.join(' ')}`);
    }
    assert.equal(order.at(-1), 'Schedule', 'nothing waits for the rotation schedule: it runs last');
  });

  it('names the resources of a cycle', () => {
    assert.throws(
      () => deployOrder({ A: { Type: 'X', DependsOn: 'B' }, B: { Type: 'X', DependsOn: 'A' }, C: { Type: 'X' } }),
      /circular dependency between resources: A, B/,
    );
  });
});
