/**
 * Lambda alias operations: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases (API reference
 * pages of the same names; errors as AWS words them: GetAlias "Cannot find alias arn", UpdateAlias
 * "Alias not found", DeleteAlias of an unknown alias succeeds).
 */
import { AwsError } from './errors';
import { functionArn } from './function-name';
import {
  functionNotFound,
  functionRef,
  jsonBody,
  type LambdaContext,
  type LambdaHandler,
  type LambdaRequest,
  optionalString,
  paginate,
} from './lambda-context';
import { validateRoutingConfig } from './routing-config';
import { staleRevision } from './versions';

const ALIAS_NAME = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/;

function checkAliasName(name: unknown): string {
  if (typeof name !== 'string' || name.length < 1 || name.length > 128 || !ALIAS_NAME.test(name)) {
    throw new AwsError(
      'ValidationException',
      400,
      `1 validation error detected: Value '${String(name)}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`,
    );
  }
  return name;
}

/**
 * The function an alias call names, with its published versions. CreateAlias passes the version the
 * alias would point to: Lambda names it when the function is not there ("Function not found:
 * ...:my-function:1"), as it looks the function up by that version.
 */
function target(ctx: LambdaContext, req: LambdaRequest, version?: string): { name: string; published: string[] } {
  const ref = functionRef(ctx, req);
  const versions = ctx.registry.listVersions(ref.name);
  if (!versions) throw functionNotFound(ctx, ref.name, version);
  return { name: ref.name, published: versions.map((v) => v.Version).filter((v) => v !== '$LATEST') };
}

function checkVersion(ctx: LambdaContext, name: string, version: string, published: string[]): void {
  if (version !== '$LATEST' && !published.includes(version)) throw functionNotFound(ctx, name, version);
}

function weightsOf(ctx: LambdaContext, name: string, routing: unknown, primary: string, published: string[]) {
  return validateRoutingConfig(routing, primary, published, (v) => functionNotFound(ctx, name, v));
}

export const createAlias: LambdaHandler = (ctx, req) => {
  const body = jsonBody(req);
  const alias = checkAliasName(body.Name);
  const version = optionalString(body, 'FunctionVersion');
  if (!version)
    throw new AwsError(
      'ValidationException',
      400,
      "1 validation error detected: Value null at 'functionVersion' failed to satisfy constraint: Member must not be null",
    );
  const { name, published } = target(ctx, req, version);
  checkVersion(ctx, name, version, published);
  if (ctx.registry.getAlias(name, alias)) {
    throw new AwsError(
      'ResourceConflictException',
      409,
      `Alias already exists: ${functionArn(ctx.region, ctx.accountId, name, alias)}`,
    );
  }
  const weights = weightsOf(ctx, name, body.RoutingConfig, version, published);
  const created = ctx.registry.createAlias(name, alias, {
    FunctionVersion: version,
    Description: optionalString(body, 'Description'),
    ...(weights ? { RoutingConfig: { AdditionalVersionWeights: weights } } : {}),
  });
  return { status: 201, json: created };
};

export const getAlias: LambdaHandler = (ctx, req) => {
  const { name } = target(ctx, req);
  const alias = ctx.registry.getAlias(name, req.params.Name);
  if (!alias) {
    throw new AwsError(
      'ResourceNotFoundException',
      404,
      `Cannot find alias arn: ${functionArn(ctx.region, ctx.accountId, name, req.params.Name)}`,
    );
  }
  return { status: 200, json: alias };
};

export const updateAlias: LambdaHandler = (ctx, req) => {
  const { name, published } = target(ctx, req);
  const current = ctx.registry.getAlias(name, req.params.Name);
  if (!current) {
    throw new AwsError(
      'ResourceNotFoundException',
      404,
      `Alias not found: ${functionArn(ctx.region, ctx.accountId, name, req.params.Name)}`,
    );
  }
  const body = jsonBody(req);
  const revisionId = optionalString(body, 'RevisionId');
  if (revisionId !== undefined && revisionId !== current.RevisionId) throw staleRevision();
  const version = optionalString(body, 'FunctionVersion');
  if (version !== undefined) checkVersion(ctx, name, version, published);
  const primary = version ?? current.FunctionVersion;
  // RoutingConfig absent = keep the current one (re-checked against a new primary); {} = clear it.
  const routing = body.RoutingConfig !== undefined ? body.RoutingConfig : current.RoutingConfig;
  const weights = weightsOf(ctx, name, routing, primary, published);
  const updated = ctx.registry.updateAlias(name, req.params.Name, {
    FunctionVersion: primary,
    Description: optionalString(body, 'Description') ?? current.Description,
    RoutingConfig: weights ? { AdditionalVersionWeights: weights } : {},
  });
  return { status: 200, json: updated };
};

export const deleteAlias: LambdaHandler = (ctx, req) => {
  const ref = functionRef(ctx, req);
  checkAliasName(req.params.Name);
  if (!ctx.registry.deleteAlias(ref.name, req.params.Name)) throw functionNotFound(ctx, ref.name);
  return { status: 204 };
};

export const listAliases: LambdaHandler = (ctx, req) => {
  const { name } = target(ctx, req);
  const version = req.query.get('FunctionVersion');
  const all = (ctx.registry.listAliases(name) ?? []).filter(
    (a) =>
      !version || a.FunctionVersion === version || a.RoutingConfig?.AdditionalVersionWeights?.[version] !== undefined,
  );
  const { page, nextMarker } = paginate(all, req.query, 10_000);
  return { status: 200, json: { Aliases: page, ...(nextMarker ? { NextMarker: nextMarker } : {}) } };
};
