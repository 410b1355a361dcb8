/**
 * A function's resource-based policy as AddPermission builds it (API reference, "AddPermission";
 * statement shapes as Lambda returns them): one statement per StatementId under the policy
 * `{"Version":"2012-10-17","Id":"default"}`. Pure: request fields in, statement out. The deployer builds the
 * templates' AWS::Lambda::Permission statements with it too, for IAM evaluation.
 */
import { AwsError } from './errors';

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Principal: string | { readonly Service: string } | { readonly AWS: string };
  readonly Action: string;
  readonly Resource: string;
  readonly Condition?: Record<string, Record<string, string>>;
}

export interface PermissionInput {
  readonly statementId: string;
  readonly action: string;
  readonly principal: string;
  readonly sourceArn?: string;
  readonly sourceAccount?: string;
  readonly principalOrgId?: string;
  readonly eventSourceToken?: string;
  readonly functionUrlAuthType?: string;
}

/** The statement AddPermission adds for `resource` (the function, version or alias ARN). */
export function permissionStatement(resource: string, input: PermissionInput): PolicyStatement {
  const condition: Record<string, Record<string, string>> = {};
  const add = (op: string, key: string, value: string | undefined) => {
    if (value !== undefined) condition[op] = { ...condition[op], [key]: value };
  };
  // In the order Lambda writes them (recorded): the Statement is text, and a caller may compare it as such.
  add('StringEquals', 'AWS:SourceAccount', input.sourceAccount);
  add('StringEquals', 'lambda:FunctionUrlAuthType', input.functionUrlAuthType);
  add('StringEquals', 'aws:PrincipalOrgID', input.principalOrgId);
  add('StringEquals', 'lambda:EventSourceToken', input.eventSourceToken);
  add('ArnLike', 'AWS:SourceArn', input.sourceArn);
  return {
    Sid: input.statementId,
    Effect: 'Allow',
    Principal: principalOf(input.principal),
    Action: input.action,
    Resource: resource,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}

export function resourcePolicy(statements: readonly PolicyStatement[]): {
  Version: string;
  Id: string;
  Statement: readonly PolicyStatement[];
} {
  return { Version: '2012-10-17', Id: 'default', Statement: statements };
}

function principalOf(p: string): PolicyStatement['Principal'] {
  if (p === '*') return '*';
  if (p.endsWith('.amazonaws.com')) return { Service: p };
  if (/^\d{12}$/.test(p)) return { AWS: `arn:aws:iam::${p}:root` };
  if (/^arn:aws[a-zA-Z-]*:iam:/.test(p)) return { AWS: p };
  throw new AwsError(
    'InvalidParameterValueException',
    400,
    'The provided principal was invalid. Please check the principal and try again.',
  );
}
