/**
 * CloudFormation's pseudo parameters ("Pseudo parameters reference", AWS CloudFormation User Guide) as
 * the local mesh gives them: the stack's region and account, the `aws` partition, and a stack id of
 * zeros (CloudFormation's is a random UUID; nothing local reads it back).
 */

/** Where a stack deploys: what its pseudo parameters say. */
export interface StackPlace {
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
}

/** The value of the pseudo parameter `name`, or undefined when `name` is not one that has a value. */
export function pseudoParameter(name: string, at: StackPlace): string | undefined {
  switch (name) {
    case 'AWS::Region':
      return at.region;
    case 'AWS::AccountId':
      return at.accountId;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return at.stackName;
    case 'AWS::StackId':
      return `arn:aws:cloudformation:${at.region}:${at.accountId}:stack/${at.stackName}/00000000-0000-0000-0000-000000000000`;
    default:
      return undefined;
  }
}
