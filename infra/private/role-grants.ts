import { Annotations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * Whether a role keeps none of the statements added to it. aws-cdk-lib attaches a mutable role's
 * statements through a policy child (`DefaultPolicy` of a Role; `Policy`, or `Policy<unique id>` under
 * the importedRoleStackSafeDefaultPolicyName flag `cdk init` sets, of an imported one); a role
 * imported with `mutable: false`, a role's `withoutPolicyUpdates()`, or one of another account
 * takes them and drops them without a word.
 */
export function dropsStatements(role: iam.IRole): boolean {
  return !role.node.children.some((child) => child instanceof iam.Policy);
}

/**
 * Warns at synth when the app's own role dropped the mesh's grants: the function would deploy and
 * then fail every policy read and every call. The app may mean it (roles made apart from CDK), so it
 * is a warning that names what the role needs, not a refusal. A validation: no error (an empty list).
 */
export function warnOfDroppedGrants(fn: lambda.IFunction): string[] {
  if (!fn.role || !dropsStatements(fn.role)) return [];
  Annotations.of(fn).addWarningV2(
    'lambda-mesh:roleDropsGrants',
    `the role ${fn.role.node.path} keeps none of the mesh's grants (it was imported with mutable: false, made with withoutPolicyUpdates(), or belongs to another account): ` +
      'the function could not read its policy items, call its targets, read its identity secret or send traces. ' +
      'Import the role mutable (iam.Role.fromRoleArn without mutable: false), or attach those statements to it yourself: see the synthesized template of the same function without `role`',
  );
  return [];
}
