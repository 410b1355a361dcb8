/**
 * The policy table's stream and the function it triggers: any writer's change bumps the policy version.
 * The table streams new images (what a write left); the function is mapped to that stream, may update the version items and
 * write nothing else.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { ENV, POLICY_VERSION } from '../../shared/names';
import { POLICY_STREAM_FILTER } from '../../shared/policy-stream-filter';
import { stringLike } from '../support/iam-string-like';
import { logicalId, meshStack } from './infra-fixture';

describe('policy version bumper', () => {
  // GIVEN a mesh / WHEN synthesized
  const { stack, mesh } = meshStack('m');
  const template = Template.fromStack(stack);
  const table = logicalId(template, 'AWS::DynamoDB::Table', '/Mesh/PolicyTable/Resource');
  const bumper = logicalId(template, 'AWS::Lambda::Function', '/Mesh/PolicyVersionBumper/Resource');

  it('is triggered by the table stream (new images), from the latest record, retried until it goes through', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_IMAGE' } });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: bumper },
      EventSourceArn: { 'Fn::GetAtt': [table, 'StreamArn'] },
      StartingPosition: 'LATEST',
      BatchSize: 100,
      MaximumRetryAttempts: -1,
      // Policy items only: the bumper is not invoked for its own version writes nor for breaker state
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(POLICY_STREAM_FILTER) }] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [ENV.policyTable]: 'm-policy' } },
      Handler: 'index.handler',
    });
  });

  it('alarms when it fails and when it falls behind the stream (what a deny written outside the CLI waits on)', () => {
    // THEN one alarm on its errors, one on the age of the records it takes
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: bumper } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: bumper } }],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 2,
      Threshold: 30_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    // AND the mesh hands out these two, for alarm actions
    const alarmOf = (metric: string) =>
      Object.entries(template.findResources('AWS::CloudWatch::Alarm')).find(
        ([, r]) => r.Properties.MetricName === metric && r.Properties.Dimensions[0].Value.Ref === bumper,
      )?.[0];
    const idOf = (alarm: Alarm) => stack.getLogicalId(alarm.node.defaultChild as CfnElement);
    const { failed, lag } = mesh.versionBumperAlarms;
    assert.deepEqual([idOf(failed), idOf(lag)], [alarmOf('Errors'), alarmOf('IteratorAge')]);
  });

  it('may update the version items and write nothing else, and read single items', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      String(p.Metadata?.['aws:cdk:path']).startsWith('Test/Mesh/PolicyVersionBumper/'),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const writes = statements.filter((s: { Action: string | string[] }) =>
      [s.Action].flat().some((a) => /^dynamodb:(Put|Update|Delete|BatchWrite|TransactWrite)/.test(a)),
    );
    assert.equal(writes.length, 1);
    assert.deepEqual([writes[0].Action].flat(), ['dynamodb:UpdateItem']);
    assert.deepEqual(writes[0].Condition, {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['mesh#version#*'] },
    });
    // The same grant writes the change items of a deploy's bump, and no service's items.
    const [writable] = writes[0].Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys'];
    assert.ok(stringLike(writable, POLICY_VERSION.changesPartition(POLICY_VERSION.changeShards - 1)));
    assert.ok(stringLike(writable, POLICY_VERSION.partition(0)));
    assert.ok(!stringLike(writable, 'payments') && !stringLike(writable, 'breaker#payments'));
    // It reads items (the version, the changed ones) and nothing else: no Query, no Scan.
    const reads = statements.filter((s: { Action: string | string[] }) =>
      [s.Action].flat().some((a) => /^dynamodb:(GetItem|Query|Scan|BatchGetItem)$/.test(a)),
    );
    assert.deepEqual(
      reads.map((s: { Action: string | string[] }) => [s.Action].flat()),
      [['dynamodb:GetItem']],
    );
  });
});
