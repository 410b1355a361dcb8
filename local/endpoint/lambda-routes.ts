/**
 * Lambda's REST routes (restJson1): method + path template -> operation name, taken from
 * `@aws-sdk/client-lambda`'s HTTP traits. Every known route is listed, served or not, so an
 * unsupported call is answered with its operation's name. Path parameters arrive URI-encoded
 * (ARNs carry `%3A`); segments are decoded after splitting.
 */

export interface LambdaRoute {
  readonly operation: string;
  /** Decoded path parameters: FunctionName, Name, ... */
  readonly params: Record<string, string>;
}

// [method, path template, operation]. A query in a template is required: two operations share the path
// of ListLayers and two that of GetProvisionedConcurrencyConfig, and the query tells them apart.
const ROUTES: readonly (readonly [string, string, string])[] = [
  ['POST', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy', 'AddLayerVersionPermission'],
  ['POST', '/2015-03-31/functions/{FunctionName}/policy', 'AddPermission'],
  ['POST', '/2025-12-01/durable-executions/{DurableExecutionArn}/checkpoint', 'CheckpointDurableExecution'],
  ['POST', '/2015-03-31/functions/{FunctionName}/aliases', 'CreateAlias'],
  ['POST', '/2025-11-30/capacity-providers', 'CreateCapacityProvider'],
  ['POST', '/2020-04-22/code-signing-configs', 'CreateCodeSigningConfig'],
  ['POST', '/2015-03-31/event-source-mappings', 'CreateEventSourceMapping'],
  ['POST', '/2015-03-31/functions', 'CreateFunction'],
  ['POST', '/2021-10-31/functions/{FunctionName}/url', 'CreateFunctionUrlConfig'],
  ['DELETE', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'DeleteAlias'],
  ['DELETE', '/2025-11-30/capacity-providers/{CapacityProviderName}', 'DeleteCapacityProvider'],
  ['DELETE', '/2020-04-22/code-signing-configs/{CodeSigningConfigArn}', 'DeleteCodeSigningConfig'],
  ['DELETE', '/2015-03-31/event-source-mappings/{UUID}', 'DeleteEventSourceMapping'],
  ['DELETE', '/2015-03-31/functions/{FunctionName}', 'DeleteFunction'],
  ['DELETE', '/2020-06-30/functions/{FunctionName}/code-signing-config', 'DeleteFunctionCodeSigningConfig'],
  ['DELETE', '/2017-10-31/functions/{FunctionName}/concurrency', 'DeleteFunctionConcurrency'],
  ['DELETE', '/2019-09-25/functions/{FunctionName}/event-invoke-config', 'DeleteFunctionEventInvokeConfig'],
  ['DELETE', '/2021-10-31/functions/{FunctionName}/url', 'DeleteFunctionUrlConfig'],
  ['DELETE', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}', 'DeleteLayerVersion'],
  ['DELETE', '/2019-09-30/functions/{FunctionName}/provisioned-concurrency', 'DeleteProvisionedConcurrencyConfig'],
  ['DELETE', '/2026-07-09/resource-policy/{ResourceArn}', 'DeleteResourcePolicy'],
  ['GET', '/2016-08-19/account-settings', 'GetAccountSettings'],
  ['GET', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'GetAlias'],
  ['GET', '/2025-11-30/capacity-providers/{CapacityProviderName}', 'GetCapacityProvider'],
  ['GET', '/2020-04-22/code-signing-configs/{CodeSigningConfigArn}', 'GetCodeSigningConfig'],
  ['GET', '/2025-12-01/durable-executions/{DurableExecutionArn}', 'GetDurableExecution'],
  ['GET', '/2025-12-01/durable-executions/{DurableExecutionArn}/history', 'GetDurableExecutionHistory'],
  ['GET', '/2025-12-01/durable-executions/{DurableExecutionArn}/state', 'GetDurableExecutionState'],
  ['GET', '/2015-03-31/event-source-mappings/{UUID}', 'GetEventSourceMapping'],
  ['GET', '/2015-03-31/functions/{FunctionName}', 'GetFunction'],
  ['GET', '/2020-06-30/functions/{FunctionName}/code-signing-config', 'GetFunctionCodeSigningConfig'],
  ['GET', '/2019-09-30/functions/{FunctionName}/concurrency', 'GetFunctionConcurrency'],
  ['GET', '/2015-03-31/functions/{FunctionName}/configuration', 'GetFunctionConfiguration'],
  ['GET', '/2019-09-25/functions/{FunctionName}/event-invoke-config', 'GetFunctionEventInvokeConfig'],
  ['GET', '/2024-08-31/functions/{FunctionName}/recursion-config', 'GetFunctionRecursionConfig'],
  ['GET', '/2025-11-30/functions/{FunctionName}/function-scaling-config', 'GetFunctionScalingConfig'],
  ['GET', '/2021-10-31/functions/{FunctionName}/url', 'GetFunctionUrlConfig'],
  ['GET', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}', 'GetLayerVersion'],
  ['GET', '/2018-10-31/layers?find=LayerVersion', 'GetLayerVersionByArn'],
  ['GET', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy', 'GetLayerVersionPolicy'],
  ['GET', '/2015-03-31/functions/{FunctionName}/policy', 'GetPolicy'],
  ['GET', '/2019-09-30/functions/{FunctionName}/provisioned-concurrency', 'GetProvisionedConcurrencyConfig'],
  ['GET', '/2026-07-09/resource-policy/{ResourceArn}', 'GetResourcePolicy'],
  ['GET', '/2021-07-20/functions/{FunctionName}/runtime-management-config', 'GetRuntimeManagementConfig'],
  ['POST', '/2015-03-31/functions/{FunctionName}/invocations', 'Invoke'],
  ['POST', '/2014-11-13/functions/{FunctionName}/invoke-async', 'InvokeAsync'],
  ['POST', '/2021-11-15/functions/{FunctionName}/response-streaming-invocations', 'InvokeWithResponseStream'],
  ['GET', '/2015-03-31/functions/{FunctionName}/aliases', 'ListAliases'],
  ['GET', '/2025-11-30/capacity-providers', 'ListCapacityProviders'],
  ['GET', '/2020-04-22/code-signing-configs', 'ListCodeSigningConfigs'],
  ['GET', '/2025-12-01/functions/{FunctionName}/durable-executions', 'ListDurableExecutionsByFunction'],
  ['GET', '/2015-03-31/event-source-mappings', 'ListEventSourceMappings'],
  ['GET', '/2019-09-25/functions/{FunctionName}/event-invoke-config/list', 'ListFunctionEventInvokeConfigs'],
  ['GET', '/2015-03-31/functions', 'ListFunctions'],
  ['GET', '/2020-04-22/code-signing-configs/{CodeSigningConfigArn}/functions', 'ListFunctionsByCodeSigningConfig'],
  ['GET', '/2021-10-31/functions/{FunctionName}/urls', 'ListFunctionUrlConfigs'],
  [
    'GET',
    '/2025-11-30/capacity-providers/{CapacityProviderName}/function-versions',
    'ListFunctionVersionsByCapacityProvider',
  ],
  ['GET', '/2018-10-31/layers', 'ListLayers'],
  ['GET', '/2018-10-31/layers/{LayerName}/versions', 'ListLayerVersions'],
  ['GET', '/2019-09-30/functions/{FunctionName}/provisioned-concurrency?List=ALL', 'ListProvisionedConcurrencyConfigs'],
  ['GET', '/2017-03-31/tags/{Resource}', 'ListTags'],
  ['GET', '/2015-03-31/functions/{FunctionName}/versions', 'ListVersionsByFunction'],
  ['POST', '/2018-10-31/layers/{LayerName}/versions', 'PublishLayerVersion'],
  ['POST', '/2015-03-31/functions/{FunctionName}/versions', 'PublishVersion'],
  ['PUT', '/2020-06-30/functions/{FunctionName}/code-signing-config', 'PutFunctionCodeSigningConfig'],
  ['PUT', '/2017-10-31/functions/{FunctionName}/concurrency', 'PutFunctionConcurrency'],
  ['PUT', '/2019-09-25/functions/{FunctionName}/event-invoke-config', 'PutFunctionEventInvokeConfig'],
  ['PUT', '/2024-08-31/functions/{FunctionName}/recursion-config', 'PutFunctionRecursionConfig'],
  ['PUT', '/2025-11-30/functions/{FunctionName}/function-scaling-config', 'PutFunctionScalingConfig'],
  ['PUT', '/2019-09-30/functions/{FunctionName}/provisioned-concurrency', 'PutProvisionedConcurrencyConfig'],
  ['PUT', '/2026-07-09/resource-policy/{ResourceArn}', 'PutResourcePolicy'],
  ['PUT', '/2021-07-20/functions/{FunctionName}/runtime-management-config', 'PutRuntimeManagementConfig'],
  [
    'DELETE',
    '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId}',
    'RemoveLayerVersionPermission',
  ],
  ['DELETE', '/2015-03-31/functions/{FunctionName}/policy/{StatementId}', 'RemovePermission'],
  ['POST', '/2025-12-01/durable-execution-callbacks/{CallbackId}/fail', 'SendDurableExecutionCallbackFailure'],
  ['POST', '/2025-12-01/durable-execution-callbacks/{CallbackId}/heartbeat', 'SendDurableExecutionCallbackHeartbeat'],
  ['POST', '/2025-12-01/durable-execution-callbacks/{CallbackId}/succeed', 'SendDurableExecutionCallbackSuccess'],
  ['POST', '/2025-12-01/durable-executions/{DurableExecutionArn}/stop', 'StopDurableExecution'],
  ['POST', '/2017-03-31/tags/{Resource}', 'TagResource'],
  ['DELETE', '/2017-03-31/tags/{Resource}', 'UntagResource'],
  ['PUT', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'UpdateAlias'],
  ['PUT', '/2025-11-30/capacity-providers/{CapacityProviderName}', 'UpdateCapacityProvider'],
  ['PUT', '/2020-04-22/code-signing-configs/{CodeSigningConfigArn}', 'UpdateCodeSigningConfig'],
  ['PUT', '/2015-03-31/event-source-mappings/{UUID}', 'UpdateEventSourceMapping'],
  ['PUT', '/2015-03-31/functions/{FunctionName}/code', 'UpdateFunctionCode'],
  ['PUT', '/2015-03-31/functions/{FunctionName}/configuration', 'UpdateFunctionConfiguration'],
  ['POST', '/2019-09-25/functions/{FunctionName}/event-invoke-config', 'UpdateFunctionEventInvokeConfig'],
  ['PUT', '/2021-10-31/functions/{FunctionName}/url', 'UpdateFunctionUrlConfig'],
];

const COMPILED = ROUTES.map(([method, template, operation]) => {
  const [path, query = ''] = template.split('?');
  return { method, operation, segments: path.split('/').filter(Boolean), query: [...new URLSearchParams(query)] };
})
  // A route that requires a query is tried before the one that shares its path without it.
  .sort((a, b) => b.query.length - a.query.length);

/**
 * Matches a request (its path, and its query when it has one) to a Lambda operation. A trailing slash
 * is accepted everywhere (ListFunctions is sent as `/2015-03-31/functions/` by the SDK). Returns
 * undefined when nothing matches.
 */
export function matchLambdaRoute(method: string, url: string): LambdaRoute | undefined {
  const [path, search = ''] = url.split(/\?(.*)/s, 2);
  const raw = path.split('/').filter(Boolean);
  let segments: string[];
  try {
    segments = raw.map((s) => decodeURIComponent(s));
  } catch {
    return undefined; // malformed %-escape: not a route we know
  }
  const query = new URLSearchParams(search);
  for (const route of COMPILED) {
    if (route.method !== method || route.segments.length !== segments.length) continue;
    if (!route.query.every(([key, value]) => query.get(key) === value)) continue;
    const params = pathParams(route.segments, segments);
    if (params) return { operation: route.operation, params };
  }
  return undefined;
}

/** The path parameters when `segments` fit the template's, else undefined. */
function pathParams(template: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const t = template[i];
    if (t.startsWith('{')) params[t.slice(1, -1).replace(/\+$/, '')] = segments[i];
    else if (t !== segments[i]) return undefined;
  }
  return params;
}

/** Best guess at the operation for an unmatched Lambda request, for the error message. */
export function guessLambdaOperation(method: string, path: string): string {
  return `${method} ${path.split('?')[0]}`;
}
