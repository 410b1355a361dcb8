/**
 * Lambda function reads: GetFunction, GetFunctionConfiguration, ListFunctions (API reference pages of
 * the same names). A qualified call (version, alias or `$LATEST` named) answers under the qualified ARN
 * the caller named; lists carry the subset of fields the ListFunctions reference names.
 */

import type { FunctionConfig } from './backend';
import { listedConfiguration } from './function-config';
import { validationError } from './function-name';
import {
  functionNotFound,
  functionRef,
  type LambdaContext,
  type LambdaHandler,
  type LambdaRequest,
  paginate,
} from './lambda-context';

function configuration(ctx: LambdaContext, req: LambdaRequest): { config: FunctionConfig; name: string } {
  const ref = functionRef(ctx, req, true);
  const config = ctx.registry.getFunction(ref.name, ref.qualifier);
  if (!config) throw functionNotFound(ctx, ref.name, ref.qualifier);
  return { config, name: ref.name };
}

export const getFunction: LambdaHandler = (ctx, req) => {
  const { config, name } = configuration(ctx, req);
  const tags = ctx.registry.tags(name) ?? {};
  const reserved = ctx.registry.reservedConcurrency(name);
  // The local mesh has no code download; the location names the local endpoint's view of it.
  return {
    status: 200,
    json: {
      Configuration: config,
      Code: { RepositoryType: 'S3', Location: `local://${config.FunctionName}/${config.Version}` },
      ...(Object.keys(tags).length > 0 ? { Tags: tags } : {}),
      ...(reserved !== undefined ? { Concurrency: { ReservedConcurrentExecutions: reserved } } : {}),
    },
  };
};

export const getFunctionConfiguration: LambdaHandler = (ctx, req) => ({
  status: 200,
  json: configuration(ctx, req).config,
});

export const listFunctions: LambdaHandler = (ctx, req) => {
  const fv = req.query.get('FunctionVersion');
  if (fv !== null && fv !== 'ALL') {
    throw validationError([
      `Value '${fv}' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]`,
    ]);
  }
  const latest = ctx.registry.listFunctions();
  // FunctionVersion=ALL lists every version (qualified ARNs, $LATEST's too), each function's together.
  const all = fv === 'ALL' ? latest.flatMap((f) => ctx.registry.listVersions(f.FunctionName) ?? []) : latest;
  const { page, nextMarker } = paginate(all.map(listedConfiguration), req.query, 50);
  return { status: 200, json: { Functions: page, ...(nextMarker ? { NextMarker: nextMarker } : {}) } };
};

/** GetAccountSettings: the account's limits (Lambda's defaults) and what the local mesh uses of them. */
export const getAccountSettings: LambdaHandler = (ctx) => {
  const usage = ctx.registry.usage();
  return {
    status: 200,
    json: {
      AccountLimit: {
        TotalCodeSize: 80_530_636_800,
        CodeSizeUnzipped: 262_144_000,
        CodeSizeZipped: 52_428_800,
        ConcurrentExecutions: 1000,
        UnreservedConcurrentExecutions: 1000 - reservedTotal(ctx),
      },
      AccountUsage: { TotalCodeSize: usage.totalCodeSize, FunctionCount: usage.functionCount },
    },
  };
};

function reservedTotal(ctx: LambdaContext): number {
  return ctx.registry
    .listFunctions()
    .reduce((sum, f) => sum + (ctx.registry.reservedConcurrency(f.FunctionName) ?? 0), 0);
}
