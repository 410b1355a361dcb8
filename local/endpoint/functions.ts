/** Lambda function reads: GetFunction, GetFunctionConfiguration, ListFunctions. */

import type { FunctionConfig } from './backend';
import { invalidParameter } from './errors';
import { functionArn, parseFunctionName } from './function-name';
import {
  functionNotFound,
  type LambdaContext,
  type LambdaHandler,
  type LambdaRequest,
  paginate,
} from './lambda-context';

function configuration(ctx: LambdaContext, req: LambdaRequest): FunctionConfig {
  const ref = parseFunctionName(req.params.FunctionName, req.query.get('Qualifier') ?? undefined);
  const config = ctx.registry.getFunction(ref.name, ref.qualifier);
  if (!config) throw functionNotFound(ctx, ref.name, ref.qualifier);
  // Through an alias AWS reports the alias's version but the ARN the caller named.
  if (ref.qualifier && ref.qualifier !== config.Version) {
    return { ...config, FunctionArn: functionArn(ctx.region, ctx.accountId, ref.name, ref.qualifier) };
  }
  return config;
}

export const getFunction: LambdaHandler = (ctx, req) => {
  const config = configuration(ctx, req);
  // The local mesh has no code download; the location names the local endpoint's view of it.
  return {
    status: 200,
    json: {
      Configuration: config,
      Code: { RepositoryType: 'S3', Location: `local://${config.FunctionName}/${config.Version}` },
    },
  };
};

export const getFunctionConfiguration: LambdaHandler = (ctx, req) => ({ status: 200, json: configuration(ctx, req) });

export const listFunctions: LambdaHandler = (ctx, req) => {
  const fv = req.query.get('FunctionVersion');
  if (fv !== null && fv !== 'ALL') throw invalidParameter(`FunctionVersion must be ALL, got ${JSON.stringify(fv)}`);
  const latest = ctx.registry.listFunctions();
  // FunctionVersion=ALL lists every published version too, each function's versions together.
  const all = fv === 'ALL' ? latest.flatMap((f) => ctx.registry.listVersions(f.FunctionName) ?? [f]) : latest;
  const { page, nextMarker } = paginate(all, req.query, 50);
  return { status: 200, json: { Functions: page, ...(nextMarker ? { NextMarker: nextMarker } : {}) } };
};
