/**
 * A mesh function's role may write its own log group only. aws-cdk-lib's default role carries the
 * managed AWSLambdaBasicExecutionRole, which allows writing every log group of the account: a handler
 * could print another service's access logs and EMF metrics into that service's logs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import {
  constructStatements,
  ENV,
  type IamStatement,
  logicalIdOf,
  meshStack,
  roleStatements,
  shopApp,
} from './infra-fixture';
import { actionMatches, resourceText } from './invoke-grants';

const LOG_ACTIONS = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'];

/** The resources a role's statements let it write logs to, spelled out. */
function logResources(statements: readonly IamStatement[]): string[] {
  return statements
    .filter(
      (s) =>
        s.Effect === 'Allow' && [s.Action].flat().some((a) => LOG_ACTIONS.some((l) => actionMatches(String(a), l))),
    )
    .flatMap((s) => [s.Resource].flat().map(resourceText));
}

/** The managed policy ARNs of the role with this logical id, spelled out. */
function managedPolicies(template: Template, roleId: string): string[] {
  const role = template.findResources('AWS::IAM::Role')[roleId];
  assert.ok(role, `no role ${roleId}`);
  return (role.Properties.ManagedPolicyArns ?? []).map(resourceText);
}

describe("a mesh function's role and its logs", () => {
  it('writes only /aws/lambda/<its name> and its streams, with no account-wide managed policy', () => {
    // GIVEN two services
    const { app, stack, fn } = meshStack('m');
    const orders = fn('Orders', 'orders');
    fn('Payments', 'payments');
    app.synth();
    const template = Template.fromStack(stack);
    // THEN orders' role names its own log group only
    const roleId = logicalIdOf(orders.role as iam.Role);
    assert.deepEqual(managedPolicies(template, roleId), []);
    assert.deepEqual(logResources(roleStatements(template, roleId)), [
      'arn:<AWS::Partition>:logs:us-east-1:123456789012:log-group:/aws/lambda/m-orders',
      'arn:<AWS::Partition>:logs:us-east-1:123456789012:log-group:/aws/lambda/m-orders:*',
    ]);
  });

  it('names the log group the app gives (logGroup) instead of the default one', () => {
    const { app, stack, fn } = meshStack('m');
    const group = new logs.LogGroup(stack, 'OrdersLogs', { logGroupName: 'orders-logs' });
    const orders = fn('Orders', 'orders', { logGroup: group });
    app.synth();
    const template = Template.fromStack(stack);
    const roleId = logicalIdOf(orders.role as iam.Role);
    assert.deepEqual(logResources(roleStatements(template, roleId)), [`<${logicalIdOf(group)}.Arn>`]);
  });

  it('in a VPC: the network-interface actions without the VPC managed policy’s account-wide logs', () => {
    const { app, stack, fn } = meshStack('m');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0 });
    const orders = fn('Orders', 'orders', { vpc });
    app.synth();
    const template = Template.fromStack(stack);
    const roleId = logicalIdOf(orders.role as iam.Role);
    assert.deepEqual(managedPolicies(template, roleId), []);
    const statements = constructStatements(template, 'Test/Orders/');
    assert.ok(statements.some((s) => [s.Action].flat().includes('ec2:CreateNetworkInterface')));
    assert.deepEqual(logResources(statements).length, 2);
    assert.ok(logResources(statements).every((r) => r.includes(':log-group:/aws/lambda/m-orders')));
  });

  it("keeps the managed policies the app adds, and leaves the app's own role as given", () => {
    const { app, stack, fn } = meshStack('m');
    const orders = fn('Orders', 'orders');
    orders.role?.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonS3ReadOnlyAccess'));
    const own = new iam.Role(stack, 'OwnRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    fn('Payments', 'payments', { role: own });
    app.synth();
    const template = Template.fromStack(stack);
    assert.deepEqual(managedPolicies(template, logicalIdOf(orders.role as iam.Role)), [
      'arn:<AWS::Partition>:iam::aws:policy/AmazonS3ReadOnlyAccess',
    ]);
    assert.deepEqual(managedPolicies(template, logicalIdOf(own)), [
      'arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    ]);
  });
});

describe("an app's own role that drops the mesh's grants", () => {
  const warnings = (stack: import('aws-cdk-lib').Stack) =>
    Annotations.fromStack(stack)
      .findWarning('*', Match.stringLikeRegexp('keeps none of the mesh'))
      .map((w) => String(w.entry.data));

  it('warns at synth for a role imported with mutable: false, naming it and the fix', () => {
    const { stack, fn } = meshStack('m');
    const role = iam.Role.fromRoleArn(stack, 'Locked', 'arn:aws:iam::123456789012:role/locked', { mutable: false });
    fn('Orders', 'orders', { role }).allowCallsTo(fn('Payments', 'payments'));
    const found = warnings(stack);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /Test\/Locked keeps none of the mesh's grants .*Import the role mutable/);
  });

  it('is silent for a mutable imported role and for a role the app made', () => {
    const { stack, fn } = meshStack('m');
    fn('Orders', 'orders', { role: iam.Role.fromRoleArn(stack, 'Open', 'arn:aws:iam::123456789012:role/open') });
    const made = new iam.Role(stack, 'Made', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    fn('Payments', 'payments', { role: made });
    assert.deepEqual(warnings(stack), []);
  });

  it("is silent for a mutable imported role under cdk init's flags, whose policy has a stack-unique id", () => {
    // GIVEN the flags `cdk init` writes (importedRoleStackSafeDefaultPolicyName names the imported
    // role's policy `Policy<unique id>`), and a role imported mutable as a shared stack's role is
    const { stack, fn } = meshStack('m', ENV, { context: CURRENTLY_RECOMMENDED_FLAGS });
    const role = iam.Role.fromRoleArn(stack, 'Shared', 'arn:aws:iam::123456789012:role/shared');
    // WHEN a function takes it
    fn('Orders', 'orders', { role });
    // THEN the mesh's statements are in that policy, and synth does not claim the role dropped them
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('^PolicyTestShared') },
    });
    assert.equal(Object.keys(policies).length, 1, 'the imported role keeps the grants in a policy of its own');
    assert.deepEqual(warnings(stack), []);
  });
});

describe("the mesh's own functions and their logs", () => {
  it('every function of the example app writes only the log group it logs to, with no account-wide policy', () => {
    // GIVEN the example app with identity, a gated deployment and a channel: the seeder, the version
    // bumper, the issuer, the pre-traffic hook and two provider framework functions beside the services
    const { template } = shopApp(2);
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    assert.ok(functions.length >= 11, `the example has its control functions (${functions.length} functions)`);
    for (const [id, fn] of functions) {
      const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
      // THEN no role keeps the account-wide logs policy
      assert.deepEqual(managedPolicies(template, roleId), [], `${id}'s role`);
      // AND each writes the group it logs to: its own LogGroup resource, or /aws/lambda/<its name>
      const group = fn.Properties.LoggingConfig?.LogGroup;
      const expected = group
        ? [`<${group.Ref}.Arn>`]
        : [
            `:log-group:/aws/lambda/${fn.Properties.FunctionName}`,
            `:log-group:/aws/lambda/${fn.Properties.FunctionName}:*`,
          ];
      const written = logResources(roleStatements(template, roleId));
      assert.equal(written.length, expected.length, `${id} writes ${written.join(', ')}`);
      for (const [i, e] of expected.entries())
        assert.ok(written[i]!.endsWith(e), `${id} writes ${written[i]}, not ${e}`);
    }
  });
});
