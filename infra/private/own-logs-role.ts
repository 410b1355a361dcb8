import { ArnFormat, Lazy, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { VPC_ACCESS_ACTIONS } from '../../shared/vpc-access-actions';
import { acknowledgeNag } from './nag-acknowledgement';
import { nagArn } from './nag-arn';

/** What the execution role of a function depends on. */
export interface OwnLogsOptions {
  /** The function's name: its log group is `/aws/lambda/<name>` unless `logGroup` is given. */
  readonly functionName?: string;
  /** The log group the function writes to instead of its default one (the function's `logGroup` prop). */
  readonly logGroup?: object;
  /** The function's VPC, whose network interfaces Lambda creates with the role. */
  readonly vpc?: ec2.IVpc;
}

/**
 * The managed policies aws-cdk-lib gives a function's role that allow writing every log group of the
 * account: AWSLambdaBasicExecutionRole, and AWSLambdaVPCAccessExecutionRole for a VPC function.
 */
const ACCOUNT_WIDE_LOGS = ['AWSLambdaBasicExecutionRole', 'AWSLambdaVPCAccessExecutionRole'].map(
  (name) => `:iam::aws:policy/service-role/${name}"`,
);

/**
 * Lets the role aws-cdk-lib made for `fn` write only the function's own log group. The managed
 * AWSLambdaBasicExecutionRole it attaches allows logs:CreateLogGroup, CreateLogStream and PutLogEvents
 * on every log group of the account: a handler could write lines, access logs and EMF metrics, into
 * another function's logs as if that function had printed them. The role keeps its place (and logical
 * id), and managed policies added to it later stay.
 */
export function writeOwnLogsOnly(fn: lambda.Function, options: OwnLogsOptions): void {
  const role = fn.role;
  if (!(role instanceof iam.Role)) return;
  const cfn = role.node.defaultChild as iam.CfnRole;
  const attached = cfn.managedPolicyArns;
  cfn.managedPolicyArns = Lazy.any({
    produce: () => withoutAccountWideLogs(Stack.of(role).resolve(attached)),
  }) as unknown as string[];
  const group = logGroupArns(fn, options);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: group.resources,
    }),
  );
  if (options.vpc)
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...VPC_ACCESS_ACTIONS], resources: ['*'] }));
  if (group.nagStreams) {
    acknowledgeNag(
      fn,
      `AwsSolutions-IAM5[Resource::${group.nagStreams}]`,
      "The log streams of the function's own log group, which Lambda names per execution environment",
    );
  }
}

/** The resolved managed policy ARNs without the account-wide logs policies; none left drops the property. */
function withoutAccountWideLogs(arns: unknown): unknown[] | undefined {
  const kept = ((arns as unknown[] | undefined) ?? []).filter(
    (arn) => !ACCOUNT_WIDE_LOGS.some((name) => JSON.stringify(arn).includes(name)),
  );
  return kept.length > 0 ? kept : undefined;
}

/** The log group's ARN and its streams' (`<group>:*`), and the streams' ARN as cdk-nag spells it. */
function logGroupArns(fn: lambda.Function, { functionName, logGroup }: OwnLogsOptions) {
  // A log group's ARN in CloudFormation (its Arn attribute) already ends in `:*`.
  if (logGroup) return { resources: [givenGroupArn(logGroup)], nagStreams: undefined };
  if (functionName === undefined) throw new Error('writeOwnLogsOnly: give the function name or its log group');
  const name = `/aws/lambda/${functionName}`;
  const arn = (resourceName: string) =>
    Stack.of(fn).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  return { resources: [arn(name), arn(`${name}:*`)], nagStreams: nagArn(fn, 'logs', `log-group:${name}:*`) };
}

/** The ARN of a `logGroup` prop: a reference (`logGroupRef`) in newer aws-cdk-lib, an ILogGroup before. */
function givenGroupArn(logGroup: object): string {
  const group = logGroup as { logGroupRef?: { logGroupArn: string }; logGroupArn?: string };
  const arn = group.logGroupRef?.logGroupArn ?? group.logGroupArn;
  if (arn === undefined)
    throw new Error('logGroup: a log group without an ARN; pass a logs.LogGroup or an imported one');
  return arn;
}

/**
 * One of the mesh's own functions (the seeder, the version bumper, the issuer, the pre-traffic hook),
 * with a log group of its own that its role alone may write. Their names are generated, and
 * `/aws/lambda/<generated name>` in the function's own role would make a dependency cycle (the role,
 * the name, the function, the role); a log group resource, which the function names in its logging
 * settings and the role by ARN, has none. The group keeps aws-cdk-lib's defaults (it stays on stack
 * deletion, as a log group Lambda creates does).
 */
export function controlFunction(scope: Construct, id: string, props: lambda.FunctionProps): lambda.Function {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`);
  const fn = new lambda.Function(scope, id, { ...props, logGroup });
  writeOwnLogsOnly(fn, { logGroup });
  return fn;
}

/** A custom-resource provider whose framework function writes a log group of its own, and only that. */
export function controlProvider(scope: Construct, id: string, onEventHandler: lambda.IFunction): cr.Provider {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`);
  const provider = new cr.Provider(scope, id, { onEventHandler, logGroup });
  writeOwnLogsOnly(provider.node.findChild('framework-onEvent') as lambda.Function, { logGroup });
  return provider;
}
