/**
 * An enterprise's own guard rails over an app with the mesh: a permissions boundary applied to the whole
 * app (`iam.PermissionsBoundary.of(app)`), a role-naming aspect and tags (`Tags.of(app)`). Every role
 * the mesh makes takes them, its control functions' and custom-resource providers' too: an SCP that
 * refuses a role without the boundary would otherwise fail the deploy on the first one missed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Aspects, type IAspect, Stack, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { ShopStack } from '../../infra/shop-stack';
import { ENV, newApp } from './infra-fixture';

/** The kind of role-naming aspect platform teams apply: every role named `acme-<logical id>`. */
class RoleNames implements IAspect {
  public visit(node: IConstruct): void {
    if (node instanceof iam.CfnRole) node.roleName = `acme-${Stack.of(node).getLogicalId(node)}`.slice(0, 64);
  }
}

/** Resources of the example that carry tags in CloudFormation. */
const TAGGED = [
  'AWS::IAM::Role',
  'AWS::Lambda::Function',
  'AWS::DynamoDB::Table',
  'AWS::SecretsManager::Secret',
  'AWS::SQS::Queue',
  'AWS::CodeDeploy::DeploymentGroup',
];

describe("an app's own guard rails over the mesh", () => {
  it('every role takes the permissions boundary and the role name, every taggable resource the tags', () => {
    const app = newApp();
    const boundary = iam.ManagedPolicy.fromManagedPolicyName(new Stack(app, 'Org'), 'Boundary', 'org-boundary');
    iam.PermissionsBoundary.of(app).apply(boundary);
    Aspects.of(app).add(new RoleNames());
    Tags.of(app).add('cost-center', 'cc-42');
    const stack = new ShopStack(app, 'Shop', { release: 2, env: ENV });
    const resources = Object.entries(app.synth().getStackByName(stack.stackName).template.Resources) as [
      string,
      { Type: string; Properties: Record<string, unknown> },
    ][];

    const roles = resources.filter(([, r]) => r.Type === 'AWS::IAM::Role');
    assert.ok(roles.length >= 10, 'the mesh functions, control functions and providers all have roles');
    for (const [id, role] of roles) {
      assert.match(
        JSON.stringify(role.Properties.PermissionsBoundary ?? ''),
        /:policy\/org-boundary/,
        `${id}: boundary`,
      );
      assert.equal(role.Properties.RoleName, `acme-${id}`.slice(0, 64), `${id}: role name`);
    }
    const tagged = resources.filter(([, r]) => TAGGED.includes(r.Type));
    for (const type of TAGGED)
      assert.ok(
        tagged.some(([, r]) => r.Type === type),
        `the example has a ${type}`,
      );
    for (const [id, r] of tagged) {
      assert.ok(JSON.stringify(r.Properties.Tags ?? '').includes('cc-42'), `${r.Type} ${id}: tagged`);
    }
  });
});
