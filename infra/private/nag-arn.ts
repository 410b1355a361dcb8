import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * An ARN in this stack as cdk-nag spells it in a finding id: the stack's partition, region and account
 * when they are literal (the partition is, with a region, under the enablePartitionLiterals flag
 * `cdk init` sets), else the pseudo parameters they stand for (`<AWS::Partition>`, `<AWS::Region>`).
 */
export function nagArn(scope: IConstruct, service: string, resource: string): string {
  const stack = Stack.of(scope);
  const literal = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  return `arn:${literal(stack.partition, 'Partition')}:${service}:${literal(stack.region, 'Region')}:${literal(stack.account, 'AccountId')}:${resource}`;
}
