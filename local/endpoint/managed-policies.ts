/**
 * The AWS managed policies the local mesh carries, as the "AWS managed policy reference" prints them:
 * the ones aws-cdk-lib attaches to a function's role (AWSLambdaBasicExecutionRole, and the VPC one for
 * a function in a VPC) and the execution roles' usual companions. None of them grants an action the
 * endpoint evaluates; they are here so a role holding them is judged on what it holds. A managed policy
 * not carried here leaves a refusal undecided (iam-enforcement.ts).
 */

import { VPC_ACCESS_ACTIONS } from '../../shared/vpc-access-actions';

const LOGS = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'];

const allow = (...actions: string[]) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
});

/** By path and name under `arn:<partition>:iam::aws:policy/`. */
const CARRIED: Readonly<Record<string, unknown>> = {
  'service-role/AWSLambdaBasicExecutionRole': allow(...LOGS),
  'service-role/AWSLambdaVPCAccessExecutionRole': allow(...LOGS, ...VPC_ACCESS_ACTIONS),
  'service-role/AWSLambdaSQSQueueExecutionRole': allow(
    ...LOGS,
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
  ),
  'service-role/AWSLambdaDynamoDBExecutionRole': allow(
    ...LOGS,
    'dynamodb:DescribeStream',
    'dynamodb:GetRecords',
    'dynamodb:GetShardIterator',
    'dynamodb:ListStreams',
  ),
  AWSXRayDaemonWriteAccess: allow(
    'xray:PutTraceSegments',
    'xray:PutTelemetryRecords',
    'xray:GetSamplingRules',
    'xray:GetSamplingTargets',
    'xray:GetSamplingStatisticSummaries',
  ),
};

/** The document of an AWS managed policy carried here, by its ARN; undefined for any other. */
export function awsManagedPolicy(arn: string): unknown {
  const m = /^arn:[a-z-]+:iam::aws:policy\/(.+)$/.exec(arn);
  return m ? CARRIED[m[1]!] : undefined;
}
