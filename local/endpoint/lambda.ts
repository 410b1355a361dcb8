/** The Lambda operations the endpoint serves; every other Lambda route answers "not supported" by name. */

import type { IncomingHttpHeaders } from 'node:http';
import { createAlias, deleteAlias, getAlias, listAliases, updateAlias } from './aliases';
import { unsupported } from './errors';
import {
  deleteFunctionEventInvokeConfig,
  getFunctionEventInvokeConfig,
  listFunctionEventInvokeConfigs,
  putFunctionEventInvokeConfig,
  updateFunctionEventInvokeConfig,
} from './event-invoke-config';
import {
  deleteFunctionConcurrency,
  getFunctionConcurrency,
  listTags,
  putFunctionConcurrency,
  tagResource,
  untagResource,
} from './function-settings';
import { updateFunctionCode, updateFunctionConfiguration } from './function-updates';
import { getAccountSettings, getFunction, getFunctionConfiguration, listFunctions } from './functions';
import { invoke } from './invoke';
import type { LambdaContext, LambdaHandler, LambdaResponse } from './lambda-context';
import { matchLambdaRoute } from './lambda-routes';
import { addPermission, getPolicy, removePermission } from './permissions';
import { listVersionsByFunction, publishVersion } from './versions';

const HANDLERS: Record<string, LambdaHandler> = {
  Invoke: invoke,
  GetFunction: getFunction,
  GetFunctionConfiguration: getFunctionConfiguration,
  ListFunctions: listFunctions,
  GetAccountSettings: getAccountSettings,
  UpdateFunctionCode: updateFunctionCode,
  UpdateFunctionConfiguration: updateFunctionConfiguration,
  ListVersionsByFunction: listVersionsByFunction,
  PublishVersion: publishVersion,
  CreateAlias: createAlias,
  GetAlias: getAlias,
  UpdateAlias: updateAlias,
  DeleteAlias: deleteAlias,
  ListAliases: listAliases,
  AddPermission: addPermission,
  RemovePermission: removePermission,
  GetPolicy: getPolicy,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTags: listTags,
  PutFunctionConcurrency: putFunctionConcurrency,
  GetFunctionConcurrency: getFunctionConcurrency,
  DeleteFunctionConcurrency: deleteFunctionConcurrency,
  PutFunctionEventInvokeConfig: putFunctionEventInvokeConfig,
  UpdateFunctionEventInvokeConfig: updateFunctionEventInvokeConfig,
  GetFunctionEventInvokeConfig: getFunctionEventInvokeConfig,
  DeleteFunctionEventInvokeConfig: deleteFunctionEventInvokeConfig,
  ListFunctionEventInvokeConfigs: listFunctionEventInvokeConfigs,
};

/** Lambda operations this endpoint implements. */
export const SUPPORTED_LAMBDA_OPERATIONS = Object.keys(HANDLERS);

export async function handleLambda(
  ctx: LambdaContext,
  http: { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer; requestId: string },
): Promise<LambdaResponse> {
  const [path, search = ''] = http.url.split(/\?(.*)/s, 2);
  const route = matchLambdaRoute(http.method, http.url);
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
