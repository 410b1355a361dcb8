/**
 * The network-interface actions Lambda takes with a VPC function's role (AWS Lambda Developer Guide,
 * "Giving Lambda functions access to resources in an Amazon VPC"): the AWS managed policy
 * AWSLambdaVPCAccessExecutionRole less its CloudWatch Logs actions. The constructs grant them in its
 * place; the local mesh carries the managed policy itself.
 */
export const VPC_ACCESS_ACTIONS: readonly string[] = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];
