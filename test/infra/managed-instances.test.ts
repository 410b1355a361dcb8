/** MeshFunction on Lambda Managed Instances: the capacity provider and its settings reach the function. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { MeshErrorCode, MeshValidationError } from '../../infra/mesh-validation-error';
import { meshStack } from './infra-fixture';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:capacity-provider:mesh-fleet';

describe('MeshFunction capacityProvider (Lambda Managed Instances)', () => {
  it('puts the function on a capacity provider of the app, with its concurrency, memory and scaling', () => {
    // GIVEN a capacity provider in a VPC
    const { stack, fn } = meshStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const provider = new lambda.CapacityProvider(stack, 'Fleet', {
      subnets: vpc.isolatedSubnets.length ? vpc.isolatedSubnets : vpc.publicSubnets,
      securityGroups: [new ec2.SecurityGroup(stack, 'Sg', { vpc })],
    });
    // WHEN
    fn('Orders', 'orders', {
      capacityProvider: {
        provider,
        perExecutionEnvironmentMaxConcurrency: 64,
        executionEnvironmentMemoryGiBPerVCpu: 4,
        latestPublishedScalingConfig: { minExecutionEnvironments: 2, maxExecutionEnvironments: 10 },
      },
    });
    fn('Payments', 'payments');
    // THEN
    const template = Template.fromStack(stack);
    const arn = stack.resolve(provider.capacityProviderArn);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'shop-orders',
      CapacityProviderConfig: {
        LambdaManagedInstancesCapacityProviderConfig: {
          CapacityProviderArn: arn,
          PerExecutionEnvironmentMaxConcurrency: 64,
          ExecutionEnvironmentMemoryGiBPerVCpu: 4,
        },
      },
      FunctionScalingConfig: { MinExecutionEnvironments: 2, MaxExecutionEnvironments: 10 },
    });
    const payments = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (f) => f.Properties.FunctionName === 'shop-payments',
    );
    assert.equal(payments?.Properties.CapacityProviderConfig, undefined, 'only the function that asked for it');
  });

  it('takes a capacity provider imported by ARN', () => {
    const { stack, fn } = meshStack();
    const provider = lambda.CapacityProvider.fromCapacityProviderArn(stack, 'Fleet', ARN);
    fn('Orders', 'orders', { capacityProvider: { provider, publishToLatestPublished: false } });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'shop-orders',
      PublishToLatestPublished: false,
      CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: ARN } },
    });
  });

  it('refuses scaling settings Lambda would refuse, naming the value and the fix', () => {
    const { stack, fn } = meshStack();
    const provider = lambda.CapacityProvider.fromCapacityProviderArn(stack, 'Fleet', ARN);
    const scaling = (min: number, max: number) => () =>
      fn(`Orders${min}x${max}`, `orders-${min}-${max}`, {
        capacityProvider: {
          provider,
          latestPublishedScalingConfig: { minExecutionEnvironments: min, maxExecutionEnvironments: max },
        },
      });
    assert.throws(scaling(5, 2), (err: unknown) => {
      assert.ok(err instanceof MeshValidationError);
      assert.equal(err.code, MeshErrorCode.INVALID_CAPACITY_PROVIDER);
      assert.match(err.message, /minExecutionEnvironments \(5\) is above maxExecutionEnvironments \(2\)/);
      return true;
    });
    assert.throws(scaling(0, 20_000), /maxExecutionEnvironments must be a whole number from 0 to 15000, got 20000/);
  });
});
