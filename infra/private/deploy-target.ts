import { Stack, Stage, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Where a construct deploys, as a key. Names that must be unique in an account and region (a mesh's, a
 * Lambda function's) compare equal only under equal keys.
 *
 * A stack whose account and region are both known deploys there whatever its stage: two stages of a
 * CDK Pipelines app aimed at one account and region (dev and prod side by side) share it, and their
 * names would collide there. A stack that leaves either to the CLI is keyed by its stage too: stacks of
 * one stage deploy together, wherever the CLI points, while another stage may well be deployed elsewhere.
 */
export function deployTarget(c: IConstruct): string {
  const { account, region } = Stack.of(c);
  const known = !Token.isUnresolved(account) && !Token.isUnresolved(region);
  const stage = known ? '' : (Stage.of(c)?.node.path ?? '');
  return `${stage}\u0000${account}\u0000${region}`;
}
