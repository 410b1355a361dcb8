/**
 * What `mesh check` finds out about one mesh function, with Lambda, Secrets Manager and DynamoDB
 * calls. A failed call becomes a fact (its message), never an exception: the checks
 * (check-table.ts) judge the facts.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { ENV, LIVE_ALIAS, SORT_KEY, TABLE } from '../../shared/names';
import type { AwsClients } from '../aws-clients';
import { awsCall } from '../errors';
import type { MeshService } from '../mesh-discovery';
import type { MeshFacts } from './check-policy';

/** What the adapters found out about one mesh function. */
export interface FunctionFacts {
  readonly service: string;
  readonly functionName: string;
  readonly config?: {
    readonly handler?: string;
    readonly env: Readonly<Record<string, string>>;
    readonly tracingMode?: string;
    readonly layers: readonly string[];
    /** Layer ARN -> description, read when no layer's name says "mesh" (Mesh describes its layer). */
    readonly layerDescriptions?: Readonly<Record<string, string>>;
    /** The execution role's ARN (its inline policies are the edges' IAM wall). */
    readonly role?: string;
  };
  readonly configError?: string;
  /** undefined when the alias does not exist (and no error). */
  readonly alias?: { readonly functionVersion: string; readonly weights: Readonly<Record<string, number>> };
  readonly aliasError?: string;
  /** undefined when MESH_IDENTITY_SECRET is unset (identity off). */
  readonly secret?: {
    readonly id: string;
    readonly describeError?: string;
    readonly readError?: string;
    readonly empty?: boolean;
  };
  /** undefined when MESH_POLICY_TABLE is unset. */
  readonly table?: {
    readonly name: string;
    readonly status?: string;
    readonly describeError?: string;
    readonly queryError?: string;
    readonly items?: number;
    readonly registered?: boolean;
  };
  /** What `mesh check` knows of the whole mesh (policy items, versions, IAM grants); undefined = not read. */
  readonly mesh?: MeshFacts;
}

type Lambda = typeof import('@aws-sdk/client-lambda');

export async function gatherFacts(clients: AwsClients, s: MeshService): Promise<FunctionFacts> {
  const lambda = await clients.lambda();
  const fn = s.functionName;
  const { alias, aliasError } = await aliasFacts(lambda, fn);
  // The configuration that serves traffic: the live alias's version when there is one.
  const { config, configError } = await configFacts(lambda, fn, alias !== undefined);
  const facts: FunctionFacts = { service: s.service, functionName: fn, config, configError, alias, aliasError };
  if (!config) return facts;
  const secretId = config.env[ENV.identitySecret];
  const tableName = config.env[ENV.policyTable];
  return {
    ...facts,
    secret: secretId ? await secretFacts(clients, secretId) : undefined,
    table: tableName ? await tableFacts(clients, tableName, s.service) : undefined,
  };
}

/** The message of a failed call, without the "<operation> failed: " awsCall puts before it. */
function message(err: unknown): string {
  const e = err as { message?: string };
  return (e.message ?? String(err)).replace(/^[\w ]+ failed: /, '');
}

async function aliasFacts(lambda: LambdaClient, fn: string): Promise<Pick<FunctionFacts, 'alias' | 'aliasError'>> {
  const { GetAliasCommand } = require('@aws-sdk/client-lambda') as Lambda;
  try {
    const a = await awsCall('GetAlias', () => lambda.send(new GetAliasCommand({ FunctionName: fn, Name: LIVE_ALIAS })));
    return {
      alias: {
        functionVersion: a.FunctionVersion ?? '',
        weights: { ...(a.RoutingConfig?.AdditionalVersionWeights ?? {}) },
      },
    };
  } catch (err) {
    // No alias is a fact the checks judge, not an error of the check.
    return /ResourceNotFound/.test(message(err)) ? {} : { aliasError: message(err) };
  }
}

async function configFacts(
  lambda: LambdaClient,
  fn: string,
  viaAlias: boolean,
): Promise<Pick<FunctionFacts, 'config' | 'configError'>> {
  const { GetFunctionConfigurationCommand } = require('@aws-sdk/client-lambda') as Lambda;
  let config: FunctionFacts['config'];
  try {
    const c = await awsCall('GetFunctionConfiguration', () =>
      lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: fn, ...(viaAlias ? { Qualifier: LIVE_ALIAS } : {}) }),
      ),
    );
    config = {
      handler: c.Handler,
      env: { ...(c.Environment?.Variables ?? {}) },
      tracingMode: c.TracingConfig?.Mode,
      layers: (c.Layers ?? []).map((l) => l.Arn ?? '').filter(Boolean),
      ...(c.Role ? { role: c.Role } : {}),
    };
  } catch (err) {
    return { configError: message(err) };
  }
  if (config.layers.length > 0 && !config.layers.some((arn) => /mesh/i.test(arn.split(':')[6] ?? ''))) {
    // The layer's name does not say; its description does (Mesh writes "Lambda Mesh runtime ...").
    config = { ...config, layerDescriptions: await layerDescriptions(lambda, config.layers) };
  }
  return { config };
}

async function layerDescriptions(lambda: LambdaClient, arns: readonly string[]): Promise<Record<string, string>> {
  const { GetLayerVersionByArnCommand } = require('@aws-sdk/client-lambda') as Lambda;
  const descriptions: Record<string, string> = {};
  for (const arn of arns) {
    try {
      const l = await lambda.send(new GetLayerVersionByArnCommand({ Arn: arn }));
      descriptions[arn] = l.Description ?? '';
    } catch {
      // unreadable layer: judged by its name alone
    }
  }
  return descriptions;
}

async function secretFacts(clients: AwsClients, secretId: string): Promise<NonNullable<FunctionFacts['secret']>> {
  const sm = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
  const client = new sm.SecretsManagerClient(await clients.config('SECRETS_MANAGER'));
  try {
    try {
      await awsCall('DescribeSecret', () => client.send(new sm.DescribeSecretCommand({ SecretId: secretId })));
    } catch (err) {
      return { id: secretId, describeError: message(err) };
    }
    try {
      const v = await awsCall('GetSecretValue', () =>
        client.send(new sm.GetSecretValueCommand({ SecretId: secretId })),
      );
      // Only whether it is there: the key material is never printed or kept.
      return { id: secretId, empty: !(v.SecretString || v.SecretBinary?.length) };
    } catch (err) {
      return { id: secretId, readError: message(err) };
    }
  } finally {
    client.destroy();
  }
}

async function tableFacts(
  clients: AwsClients,
  tableName: string,
  service: string,
): Promise<NonNullable<FunctionFacts['table']>> {
  const ddb = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  const dynamo = await clients.dynamo();
  let status: string | undefined;
  try {
    const d = await awsCall('DescribeTable', () => dynamo.send(new ddb.DescribeTableCommand({ TableName: tableName })));
    status = d.Table?.TableStatus;
  } catch (err) {
    return { name: tableName, describeError: message(err) };
  }
  try {
    const q = await awsCall('Query', () =>
      dynamo.send(
        new ddb.QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
          ExpressionAttributeValues: { ':pk': { S: service } },
        }),
      ),
    );
    const items = q.Items ?? [];
    return {
      name: tableName,
      status,
      items: items.length,
      registered: items.some((i) => i[TABLE.sortKey]?.S === SORT_KEY.service),
    };
  } catch (err) {
    return { name: tableName, status, queryError: message(err) };
  }
}
