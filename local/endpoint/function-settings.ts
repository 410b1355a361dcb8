/**
 * What Lambda keeps beside a function: tags (TagResource, UntagResource, ListTags) and reserved
 * concurrency (PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency); API reference
 * pages of the same names, errors as AWS words them. Reserved concurrency takes effect: the invoker
 * throttles past it.
 */
import { AwsError, invalidParameter } from './errors';
import { parseFunctionName, validationError } from './function-name';
import {
  functionNotFound,
  functionRef,
  jsonBody,
  type LambdaContext,
  type LambdaHandler,
  type LambdaRequest,
} from './lambda-context';

/** The pattern ListTags/TagResource/UntagResource print for a Resource that is no taggable ARN. */
const TAGGABLE_PATTERN =
  'arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)';
const FUNCTION_ARN =
  /^arn:aws[a-zA-Z-]*:lambda:(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d:\d{12}:function:[a-zA-Z0-9-_]+(?::(?:\$LATEST|[a-zA-Z0-9-_]+))?$/;
const OTHER_TAGGABLE = new RegExp(`^${TAGGABLE_PATTERN}$`);

/** The most tags a function may carry ("Using tags on Lambda functions", AWS Lambda Developer Guide). */
const TAG_LIMIT = 50;

/** Lambda's minimum of unreserved concurrency an account keeps, and its default account limit. */
const ACCOUNT_CONCURRENCY = 1000;
const MIN_UNRESERVED = 100;

function taggedFunction(ctx: LambdaContext, req: LambdaRequest): string {
  const resource = req.params.Resource;
  if (!FUNCTION_ARN.test(resource)) {
    if (OTHER_TAGGABLE.test(resource)) {
      throw invalidParameter(`The local mesh keeps tags on functions only, not on ${resource}.`);
    }
    throw validationError([
      `Value '${resource}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: ${TAGGABLE_PATTERN}`,
    ]);
  }
  const ref = parseFunctionName(resource, undefined, req.operation, ctx);
  if (ref.qualifier !== undefined) {
    throw invalidParameter('Tags on function aliases and versions are not supported. Please specify a function ARN.');
  }
  if (!ctx.registry.tags(ref.name)) throw functionNotFound(ctx, ref.name);
  return ref.name;
}

export const listTags: LambdaHandler = (ctx, req) => ({
  status: 200,
  json: { Tags: ctx.registry.tags(taggedFunction(ctx, req)) ?? {} },
});

export const tagResource: LambdaHandler = (ctx, req) => {
  const name = taggedFunction(ctx, req);
  const tags = jsonBody(req).Tags;
  if (!tags || typeof tags !== 'object' || Object.values(tags).some((v) => typeof v !== 'string')) {
    throw invalidParameter('Tags must be a map of strings.');
  }
  // Lambda's words, as recorded from AWS, for no tags at all and for more than the limit in all.
  if (Object.keys(tags).length === 0) throw invalidParameter('An error occurred and the request cannot be processed.');
  if (Object.keys({ ...ctx.registry.tags(name), ...tags }).length > TAG_LIMIT) {
    throw invalidParameter('Number of tags exceeds resource tag limit.');
  }
  ctx.registry.setTags(name, tags as Record<string, string>);
  return { status: 204 };
};

export const untagResource: LambdaHandler = (ctx, req) => {
  const keys = req.query.getAll('tagKeys');
  // An empty TagKeys goes on the wire as no tagKeys at all: the request's validation finds it missing.
  if (keys.length === 0) {
    throw validationError(["Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"]);
  }
  const name = taggedFunction(ctx, req);
  ctx.registry.setTags(name, {}, keys);
  return { status: 204 };
};

/** Concurrency is a setting of the function, never of a version or alias. */
function unqualified(ctx: LambdaContext, req: LambdaRequest, missingQualifier?: string): string {
  const ref = functionRef(ctx, req);
  if (ref.qualifier !== undefined) {
    throw invalidParameter(
      'This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.',
    );
  }
  if (!ctx.registry.getFunction(ref.name)) throw functionNotFound(ctx, ref.name, missingQualifier);
  return ref.name;
}

export const putFunctionConcurrency: LambdaHandler = (ctx, req) => {
  // AWS's 404 for this operation names $LATEST (recorded responses).
  const name = unqualified(ctx, req, '$LATEST');
  const value = jsonBody(req).ReservedConcurrentExecutions;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw validationError([
      `Value '${String(value)}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null`,
    ]);
  }
  if (value < 0) {
    throw validationError([
      `Value '${value}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0`,
    ]);
  }
  const others = ctx.registry
    .listFunctions()
    .filter((f) => f.FunctionName !== name)
    .reduce((sum, f) => sum + (ctx.registry.reservedConcurrency(f.FunctionName) ?? 0), 0);
  if (ACCOUNT_CONCURRENCY - others - value < MIN_UNRESERVED) {
    throw new AwsError(
      'InvalidParameterValueException',
      400,
      `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${MIN_UNRESERVED}].`,
    );
  }
  ctx.registry.setReservedConcurrency(name, value);
  return { status: 200, json: { ReservedConcurrentExecutions: value } };
};

export const getFunctionConcurrency: LambdaHandler = (ctx, req) => {
  const reserved = ctx.registry.reservedConcurrency(unqualified(ctx, req));
  return { status: 200, json: reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved } };
};

export const deleteFunctionConcurrency: LambdaHandler = (ctx, req) => {
  ctx.registry.setReservedConcurrency(unqualified(ctx, req), null);
  return { status: 204 };
};
