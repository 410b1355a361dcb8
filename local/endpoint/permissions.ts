/**
 * A function's resource-based policy: AddPermission, RemovePermission, GetPolicy (API reference pages of
 * the same names; errors as AWS words them). One policy per qualifier (the function, a version or an
 * alias), kept by the registry, changing its RevisionId: the templates' AWS::Lambda::Permission
 * statements sit in it beside AddPermission's (local/assembly/resource-policies.ts), GetPolicy shows
 * both and RemovePermission takes either away. It is enforced: the endpoint's IAM evaluation of an
 * Invoke reads the policy of the ARN invoked (iam-enforcement.ts), so a statement grants invokes
 * through the ARN it was added to only, as on AWS.
 */

import { AwsError, invalidParameter } from './errors';
import { functionArn } from './function-name';
import {
  functionNotFound,
  functionRef,
  jsonBody,
  jsonType,
  type LambdaContext,
  type LambdaHandler,
  optionalString,
} from './lambda-context';
import { permissionStatement } from './resource-policy';
import { staleRevision } from './versions';

const STATEMENT_ID = /^[a-zA-Z0-9-_]+$/;

/** The qualifier's key in the registry ($LATEST for the function), or AWS's 404 for one that is not there. */
function resolveQualifier(ctx: LambdaContext, name: string, qualifier: string | undefined): string {
  if (qualifier === undefined) return '$LATEST';
  const arn = functionArn(ctx.region, ctx.accountId, name, qualifier);
  const isAlias = /^(?!^[0-9]+$)[a-zA-Z0-9-_]+$/.test(qualifier);
  if (isAlias) {
    if (!ctx.registry.getAlias(name, qualifier)) throw notFound(`Cannot find alias arn: ${arn}`);
  } else if (!ctx.registry.getFunction(name, qualifier)) {
    throw notFound(`Function not found: ${arn}`);
  }
  return qualifier;
}

/**
 * The StatementId, or the ValidationException Lambda's model answers: a string matching
 * ([a-zA-Z0-9-_]+) (API reference, "AddPermission"). A value of another type is named by its type, never
 * written out: one nested a hundred thousand deep would overflow the stack of JSON.stringify.
 */
function statementIdOf(body: Record<string, unknown>): string {
  const raw = body.StatementId;
  const sid = typeof raw === 'string' ? raw : '';
  if (STATEMENT_ID.test(sid)) return sid;
  const shown = typeof raw === 'string' || raw === undefined || raw === null ? sid : `(${jsonType(raw)})`;
  throw new AwsError(
    'ValidationException',
    400,
    `1 validation error detected: Value '${shown}' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)`,
  );
}

export const addPermission: LambdaHandler = (ctx, req) => {
  const ref = functionRef(ctx, req, true);
  if (ref.qualifier === '$LATEST') throw invalidParameter('We currently do not support adding policies for $LATEST.');
  if (!ctx.registry.getFunction(ref.name)) throw functionNotFound(ctx, ref.name);
  const qualifier = resolveQualifier(ctx, ref.name, ref.qualifier);
  const body = jsonBody(req);
  const revisionId = optionalString(body, 'RevisionId');
  if (revisionId !== undefined && revisionId !== ctx.registry.revisionId(ref.name, qualifier)) {
    throw staleRevision('GetPolicy');
  }
  const sid = statementIdOf(body);
  if (ctx.registry.policyStatements(ref.name, qualifier).some((s) => s.Sid === sid)) {
    throw new AwsError(
      'ResourceConflictException',
      409,
      `The statement id (${sid}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
    );
  }
  const statement = permissionStatement(functionArn(ctx.region, ctx.accountId, ref.name, ref.qualifier), {
    statementId: sid,
    action: optionalString(body, 'Action') ?? '',
    principal: optionalString(body, 'Principal') ?? '',
    sourceArn: optionalString(body, 'SourceArn'),
    sourceAccount: optionalString(body, 'SourceAccount'),
    principalOrgId: optionalString(body, 'PrincipalOrgID'),
    eventSourceToken: optionalString(body, 'EventSourceToken'),
    functionUrlAuthType: optionalString(body, 'FunctionUrlAuthType'),
  });
  ctx.registry.putStatement(ref.name, qualifier, statement);
  return { status: 201, json: { Statement: JSON.stringify(statement) } };
};

export const removePermission: LambdaHandler = (ctx, req) => {
  const ref = functionRef(ctx, req, true);
  if (!ctx.registry.getFunction(ref.name)) {
    throw notFound(`No policy found for: ${functionArn(ctx.region, ctx.accountId, ref.name)}`);
  }
  const qualifier = resolveQualifier(ctx, ref.name, ref.qualifier);
  if (!ctx.registry.policy(ref.name, qualifier)) throw notFound('No policy is associated with the given resource.');
  const sid = req.params.StatementId ?? '';
  if (!ctx.registry.policyStatements(ref.name, qualifier).some((s) => s.Sid === sid))
    throw notFound(`Statement ${sid} is not found in resource policy.`);
  const revisionId = req.query.get('RevisionId');
  if (revisionId && revisionId !== ctx.registry.revisionId(ref.name, qualifier)) throw staleRevision();
  ctx.registry.removeStatement(ref.name, qualifier, sid);
  return { status: 204 };
};

export const getPolicy: LambdaHandler = (ctx, req) => {
  const ref = functionRef(ctx, req, true);
  const policy = ctx.registry.getFunction(ref.name) ? ctx.registry.policy(ref.name, ref.qualifier) : undefined;
  if (!policy) throw notFound('The resource you requested does not exist.');
  return { status: 200, json: policy };
};

function notFound(message: string): AwsError {
  return new AwsError('ResourceNotFoundException', 404, message);
}
