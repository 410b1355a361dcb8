import { Stack, Stage } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Where a construct deploys, as a key: its stage, account and region. Names that must be unique in an
 * account and region (a mesh's, a Lambda function's) compare equal only under equal keys. Stacks without
 * an environment compare equal (they deploy wherever the CLI points, together).
 */
export function deployTarget(c: IConstruct): string {
  const { account, region } = Stack.of(c);
  return `${Stage.of(c)?.node.path}\u0000${account}\u0000${region}`;
}
