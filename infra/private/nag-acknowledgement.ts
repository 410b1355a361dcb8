import { CfnResource, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The resources each rule the mesh acknowledges fires on: a function's runtime, a role's managed
 * policies, a policy's statements (the mesh's grants are a role's default policy, never inline).
 */
const KINDS: Record<string, RegExp> = {
  'AwsSolutions-L1': /^AWS::Lambda::Function$/,
  'AwsSolutions-IAM4': /^AWS::IAM::Role$/,
  'AwsSolutions-IAM5': /^AWS::IAM::Policy$/,
};

/**
 * A cdk-nag AwsSolutions finding the mesh accepts under `scope`, with its reason, in both forms cdk-nag
 * reads: aws-cdk-lib's acknowledgement, which cdk-nag 3 (a validation plugin) honours, and the
 * `cdk_nag` metadata of each CloudFormation resource under `scope`, the only place cdk-nag 2 (an
 * aspect) looks. So an app on either version synthesizes without suppressing the mesh's findings itself.
 *
 * `finding` is a rule, with the finding within it in brackets where the rule has several:
 * `AwsSolutions-L1`, `AwsSolutions-IAM5[Resource::*]`. cdk-nag 2 reads the metadata while it visits
 * each resource, so the resources the finding is about must exist when this is called: call it after
 * the grant it covers.
 */
export function acknowledgeNag(scope: IConstruct, finding: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::${finding}`, reason });
  const [, rule, within] = /^([^[]+)(?:\[(.*)\])?$/.exec(finding)!;
  // cdk-nag 2 reads a reason outside latin1 only base64-encoded: the mesh's reasons are plain ASCII.
  const suppression = { id: rule, reason, ...(within === undefined ? {} : { applies_to: [within] }) };
  const kinds = KINDS[rule!] ?? /./;
  for (const resource of scope.node.findAll()) {
    // Only where the rule can fire: metadata on every resource would grow the template for nothing.
    if (!(resource instanceof CfnResource) || !kinds.test(resource.cfnResourceType)) continue;
    const had = (resource.getMetadata('cdk_nag') as { rules_to_suppress?: unknown[] } | undefined)?.rules_to_suppress;
    resource.addMetadata('cdk_nag', { rules_to_suppress: [...(had ?? []), suppression] });
  }
}
