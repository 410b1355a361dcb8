/** The Lambda operations the endpoint serves; every other Lambda route answers "not supported" by name. */

import type { IncomingHttpHeaders } from 'node:http';
import { createAlias, getAlias, listAliases, updateAlias } from './aliases';
import { unsupported } from './errors';
import { getFunction, getFunctionConfiguration, listFunctions } from './functions';
import { invoke } from './invoke';
import type { LambdaContext, LambdaHandler, LambdaResponse } from './lambda-context';
import { matchLambdaRoute } from './lambda-routes';
import { listVersionsByFunction, publishVersion } from './versions';

const HANDLERS: Record<string, LambdaHandler> = {
  Invoke: invoke,
  GetFunction: getFunction,
  GetFunctionConfiguration: getFunctionConfiguration,
  ListFunctions: listFunctions,
  ListVersionsByFunction: listVersionsByFunction,
  PublishVersion: publishVersion,
  CreateAlias: createAlias,
  GetAlias: getAlias,
  UpdateAlias: updateAlias,
  ListAliases: listAliases,
};

/** Lambda operations this endpoint implements. */
export const SUPPORTED_LAMBDA_OPERATIONS = Object.keys(HANDLERS);

export async function handleLambda(
  ctx: LambdaContext,
  http: { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer; requestId: string },
): Promise<LambdaResponse> {
  const [path, search = ''] = http.url.split(/\?(.*)/s, 2);
  const route = matchLambdaRoute(http.method, path);
  if (!route) throw unsupported('Lambda', `${http.method} ${path}`, 'restJson1');
  const handler = HANDLERS[route.operation];
  if (!handler) throw unsupported('Lambda', route.operation, 'restJson1');
  return handler(ctx, {
    operation: route.operation,
    params: route.params,
    query: new URLSearchParams(search),
    headers: http.headers,
    body: http.body,
    requestId: http.requestId,
  });
}
