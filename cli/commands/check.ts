/**
 * `mesh check`: validates a deployed mesh (or the local mesh) the way `linkerd check` does. For every
 * mesh function: the mesh layer, the handler redirect, X-Ray tracing Active, a live alias on published
 * versions, a readable identity secret and a reachable policy table. Prints √ / × per check with a fix
 * for each failure; exits 1 when any check fails.
 *
 * The checks are pure functions over gathered facts (`evaluateFunction`); the adapters below gather
 * the facts with Lambda, Secrets Manager and DynamoDB calls.
 */
import { ENV, LAYER, LIVE_ALIAS, SORT_KEY, TABLE } from '../../shared/names';
import { AWS_OPTIONS, type AwsFlags, awsFlags, expectPositionals, parseCommandArgs } from '../args';
import type { AwsClients } from '../aws-clients';
import type { CliContext } from '../context';
import { awsCall, EXIT, UsageError } from '../errors';
import type { DiscoveredMesh, MeshService } from '../mesh-discovery';
import { sdkConfig } from './stat';

export const CHECK_HELP = `mesh check [--service <name>] [--json] [AWS flags]

Checks every mesh function, like \`linkerd check\`:
  mesh layer        the function has the mesh layer
  handler           the handler is the mesh wrapper and ${ENV.handler} names the app's handler
  tracing           X-Ray tracing is Active (TracingConfig)
  live alias        alias "${LIVE_ALIAS}" exists and routes only to published versions
  identity          ${ENV.identitySecret} resolves and can be read (DescribeSecret, GetSecretValue)
  policy table      ${ENV.policyTable} is ACTIVE and the service's items can be read (DescribeTable, Query)
Prints √ or × for each, with a fix for each failure. Exit code 1 when any check fails.

Works against AWS, LocalStack and the local mesh (--endpoint-url / AWS_ENDPOINT_URL).

Flags:
  --service <name>   check only this service
  --json             print the results as JSON
  --mesh, --region, --endpoint-url   as for every mesh command`;

const OPTIONS = { ...AWS_OPTIONS, service: { type: 'string' } } as const;

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  /** What was found, when it is not a plain pass. */
  readonly detail?: string;
  /** How to fix a failure or warning. */
  readonly fix?: string;
}

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
}

const LATEST = '$LATEST';

/** Pure: the checks for one function. */
export function evaluateFunction(f: FunctionFacts): CheckResult[] {
  const fn = f.functionName;
  const out: CheckResult[] = [];
  if (!f.config) {
    return [
      {
        check: 'function configuration readable',
        status: 'fail',
        detail: f.configError ?? 'no configuration',
        fix: `grant yourself lambda:GetFunctionConfiguration on ${fn}, or check --region / --endpoint-url`,
      },
    ];
  }
  const c = f.config;
  const layerName = (arn: string) => arn.split(':')[6] ?? arn;
  const meshLayer = c.layers.find(
    (arn) => /mesh/i.test(layerName(arn)) || /lambda mesh/i.test(c.layerDescriptions?.[arn] ?? ''),
  );
  out.push(
    meshLayer
      ? { check: 'mesh layer attached', status: 'pass', detail: layerName(meshLayer) }
      : {
          check: 'mesh layer attached',
          status: 'fail',
          detail: c.layers.length
            ? `layers: ${c.layers.map(layerName).join(', ')}; none is the mesh layer`
            : 'the function has no layers',
          fix: `wrap the function in MeshFunction (it adds the mesh layer), or add Mesh's layer to ${fn} and redeploy`,
        },
  );
  const userHandler = c.env[ENV.handler];
  if (c.handler === LAYER.wrapperHandler && userHandler) {
    out.push({ check: 'handler redirected to the mesh wrapper', status: 'pass', detail: `app handler ${userHandler}` });
  } else {
    out.push({
      check: 'handler redirected to the mesh wrapper',
      status: 'fail',
      detail:
        c.handler !== LAYER.wrapperHandler
          ? `handler is ${JSON.stringify(c.handler)}, not ${LAYER.wrapperHandler}`
          : `${ENV.handler} is unset, so the wrapper cannot find the app's handler`,
      fix: `set the handler to ${LAYER.wrapperHandler} and ${ENV.handler} to the app's handler (MeshFunction does both), then redeploy`,
    });
  }
  out.push(
    c.tracingMode === 'Active'
      ? { check: 'X-Ray tracing Active', status: 'pass' }
      : {
          check: 'X-Ray tracing Active',
          status: 'fail',
          detail: `TracingConfig.Mode is ${c.tracingMode ?? 'unset'}`,
          fix: `set tracing: lambda.Tracing.ACTIVE (MeshFunction's default) and redeploy, or: aws lambda update-function-configuration --function-name ${fn} --tracing-config Mode=Active`,
        },
  );
  if (f.aliasError) {
    out.push({
      check: `alias ${LIVE_ALIAS}`,
      status: 'fail',
      detail: f.aliasError,
      fix: `grant yourself lambda:GetAlias on ${fn}, or check --region / --endpoint-url`,
    });
  } else if (!f.alias) {
    out.push({
      check: `alias ${LIVE_ALIAS}`,
      status: 'fail',
      detail: `${fn} has no alias ${LIVE_ALIAS}`,
      fix: `deploy with MeshFunction (it publishes a version and points ${LIVE_ALIAS} at it), or: aws lambda create-alias --function-name ${fn} --name ${LIVE_ALIAS} --function-version <n>`,
    });
  } else {
    const versions = [f.alias.functionVersion, ...Object.keys(f.alias.weights)];
    const total = Object.values(f.alias.weights).reduce((a, b) => a + b, 0);
    const split = Object.entries(f.alias.weights)
      .map(([v, w]) => `v${v} ${Math.round(w * 100)}%`)
      .join(', ');
    if (versions.includes(LATEST)) {
      out.push({
        check: `alias ${LIVE_ALIAS}`,
        status: 'fail',
        detail: `${LIVE_ALIAS} routes to ${LATEST}, which is not a published version`,
        fix: `publish a version and point ${LIVE_ALIAS} at it: mesh promote ${f.service}, or aws lambda update-alias --function-name ${fn} --name ${LIVE_ALIAS} --function-version <n>`,
      });
    } else if (total > 1) {
      out.push({
        check: `alias ${LIVE_ALIAS}`,
        status: 'fail',
        detail: `additional version weights add up to ${total}`,
        fix: `mesh shift ${f.service} <version> <percent> to set a valid split`,
      });
    } else {
      out.push({
        check: `alias ${LIVE_ALIAS}`,
        status: 'pass',
        detail: `v${f.alias.functionVersion}${split ? ` + canary ${split}` : ''}`,
      });
    }
  }
  if (!f.secret) {
    out.push({ check: 'identity readable', status: 'skip', detail: `identity off (${ENV.identitySecret} unset)` });
  } else if (f.secret.describeError) {
    out.push({
      check: 'identity readable',
      status: 'fail',
      detail: `DescribeSecret ${f.secret.id}: ${f.secret.describeError}`,
      fix: `check that ${ENV.identitySecret} names an existing secret (deploy the Mesh with identity on), and that you may secretsmanager:DescribeSecret it`,
    });
  } else if (f.secret.readError || f.secret.empty) {
    out.push({
      check: 'identity readable',
      status: 'fail',
      detail: f.secret.readError
        ? `GetSecretValue ${f.secret.id}: ${f.secret.readError}`
        : `secret ${f.secret.id} has no current value`,
      fix: `let the identity rotation issue a certificate (it writes AWSCURRENT), and grant the function secretsmanager:GetSecretValue on ${f.secret.id}`,
    });
  } else {
    out.push({ check: 'identity readable', status: 'pass', detail: f.secret.id });
  }
  if (!f.table) {
    out.push({
      check: 'policy table reachable',
      status: 'fail',
      detail: `${ENV.policyTable} is unset`,
      fix: `wrap the function in MeshFunction (it sets ${ENV.policyTable}) and redeploy`,
    });
  } else if (f.table.describeError || f.table.status !== 'ACTIVE') {
    out.push({
      check: 'policy table reachable',
      status: 'fail',
      detail: f.table.describeError
        ? `DescribeTable ${f.table.name}: ${f.table.describeError}`
        : `table ${f.table.name} is ${f.table.status}`,
      fix: `deploy the Mesh (it owns the table ${f.table.name}), wait until it is ACTIVE, and check --region / --endpoint-url`,
    });
  } else if (f.table.queryError) {
    out.push({
      check: 'policy table reachable',
      status: 'fail',
      detail: `Query ${f.table.name} for ${f.service}: ${f.table.queryError}`,
      fix: `grant dynamodb:Query on ${f.table.name} (the function needs it too: Mesh grants it to every MeshFunction)`,
    });
  } else if (!f.table.registered) {
    out.push({
      check: 'policy table reachable',
      status: 'warn',
      detail: `${f.table.name} has ${f.table.items ?? 0} items for ${f.service} and no "${SORT_KEY.service}" registration`,
      fix: `redeploy so the Custom::MeshPolicy resource seeds the service's items, or \`mesh policy\` to add them`,
    });
  } else {
    out.push({ check: 'policy table reachable', status: 'pass', detail: `${f.table.name}, ${f.table.items} items` });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Adapters

function message(err: unknown): string {
  const e = err as { message?: string };
  return (e.message ?? String(err)).replace(/^[\w ]+ failed: /, '');
}

export async function gatherFacts(
  clients: AwsClients,
  flags: AwsFlags,
  ctx: CliContext,
  s: MeshService,
): Promise<FunctionFacts> {
  const lambdaSdk = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  const lambda = await clients.lambda();
  const fn = s.functionName;
  let alias: FunctionFacts['alias'];
  let aliasError: string | undefined;
  try {
    const a = await awsCall('GetAlias', () =>
      lambda.send(new lambdaSdk.GetAliasCommand({ FunctionName: fn, Name: LIVE_ALIAS })),
    );
    alias = {
      functionVersion: a.FunctionVersion ?? '',
      weights: { ...(a.RoutingConfig?.AdditionalVersionWeights ?? {}) },
    };
  } catch (err) {
    if (!/ResourceNotFound/.test(message(err))) aliasError = message(err);
  }
  let config: FunctionFacts['config'];
  let configError: string | undefined;
  try {
    // The configuration that serves traffic: the live alias's version when there is one.
    const c = await awsCall('GetFunctionConfiguration', () =>
      lambda.send(
        new lambdaSdk.GetFunctionConfigurationCommand({
          FunctionName: fn,
          ...(alias ? { Qualifier: LIVE_ALIAS } : {}),
        }),
      ),
    );
    config = {
      handler: c.Handler,
      env: { ...(c.Environment?.Variables ?? {}) },
      tracingMode: c.TracingConfig?.Mode,
      layers: (c.Layers ?? []).map((l) => l.Arn ?? '').filter(Boolean),
    };
  } catch (err) {
    configError = message(err);
  }
  if (config && config.layers.length > 0 && !config.layers.some((arn) => /mesh/i.test(arn.split(':')[6] ?? ''))) {
    // The layer's name does not say; its description does (Mesh writes "Lambda Mesh runtime ...").
    const descriptions: Record<string, string> = {};
    for (const arn of config.layers) {
      try {
        const l = await lambda.send(new lambdaSdk.GetLayerVersionByArnCommand({ Arn: arn }));
        descriptions[arn] = l.Description ?? '';
      } catch {
        // unreadable layer: judged by its name alone
      }
    }
    config = { ...config, layerDescriptions: descriptions };
  }
  const facts: FunctionFacts = { service: s.service, functionName: fn, config, configError, alias, aliasError };
  if (!config) return facts;

  let secret: FunctionFacts['secret'];
  const secretId = config.env[ENV.identitySecret];
  if (secretId) {
    const sm = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
    const client = new sm.SecretsManagerClient(await sdkConfig(flags, ctx, 'SECRETS_MANAGER'));
    try {
      try {
        await awsCall('DescribeSecret', () => client.send(new sm.DescribeSecretCommand({ SecretId: secretId })));
      } catch (err) {
        secret = { id: secretId, describeError: message(err) };
      }
      if (!secret) {
        try {
          const v = await awsCall('GetSecretValue', () =>
            client.send(new sm.GetSecretValueCommand({ SecretId: secretId })),
          );
          // Only whether it is there: the key material is never printed or kept.
          secret = { id: secretId, empty: !(v.SecretString || v.SecretBinary?.length) };
        } catch (err) {
          secret = { id: secretId, readError: message(err) };
        }
      }
    } finally {
      client.destroy();
    }
  }

  let table: FunctionFacts['table'];
  const tableName = config.env[ENV.policyTable];
  if (tableName) {
    const ddb = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
    const dynamo = await clients.dynamo();
    try {
      const d = await awsCall('DescribeTable', () =>
        dynamo.send(new ddb.DescribeTableCommand({ TableName: tableName })),
      );
      const status = d.Table?.TableStatus;
      try {
        const q = await awsCall('Query', () =>
          dynamo.send(
            new ddb.QueryCommand({
              TableName: tableName,
              KeyConditionExpression: '#pk = :pk',
              ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
              ExpressionAttributeValues: { ':pk': { S: s.service } },
            }),
          ),
        );
        const items = q.Items ?? [];
        table = {
          name: tableName,
          status,
          items: items.length,
          registered: items.some((i) => i[TABLE.sortKey]?.S === SORT_KEY.service),
        };
      } catch (err) {
        table = { name: tableName, status, queryError: message(err) };
      }
    } catch (err) {
      table = { name: tableName, describeError: message(err) };
    }
  }
  return { ...facts, secret, table };
}

// ---------------------------------------------------------------------------------------------

export interface CheckReport {
  readonly mesh: string;
  readonly region: string;
  readonly endpoint?: string;
  readonly services: { readonly service: string; readonly functionName: string; readonly checks: CheckResult[] }[];
  readonly passed: number;
  readonly failed: number;
  readonly warnings: number;
}

const MARK: Record<CheckStatus, string> = { pass: '√', fail: '×', warn: '‼', skip: '-' };

export function renderReport(r: CheckReport): string {
  const lines = [`mesh ${r.mesh} in ${r.region}${r.endpoint ? ` at ${r.endpoint}` : ''}`, ''];
  for (const s of r.services) {
    lines.push(`${s.service} (${s.functionName})`, '-'.repeat(s.service.length + s.functionName.length + 3));
    for (const c of s.checks) {
      lines.push(`${MARK[c.status]} ${c.check}${c.detail && c.status === 'pass' ? ` (${c.detail})` : ''}`);
      if (c.status !== 'pass') {
        if (c.detail) lines.push(`    ${c.detail}`);
        if (c.fix) lines.push(`    fix: ${c.fix}`);
      }
    }
    lines.push('');
  }
  lines.push(
    `Status check results are ${r.failed ? '×' : '√'}: ${r.passed} passed, ${r.failed} failed${r.warnings ? `, ${r.warnings} warning${r.warnings > 1 ? 's' : ''}` : ''}`,
  );
  return lines.join('\n');
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('check', args, OPTIONS);
  if (values.help) {
    ctx.out(CHECK_HELP);
    return EXIT.ok;
  }
  expectPositionals('check', positionals, []);
  const flags = awsFlags(values);
  const { mesh, clients } = await ctx.discover(flags);
  const services = pickServices(mesh, values.service);
  const results = await Promise.all(
    services.map(async (s) => ({
      service: s.service,
      functionName: s.functionName,
      checks: evaluateFunction(await gatherFacts(clients, flags, ctx, s)),
    })),
  );
  const all = results.flatMap((r) => r.checks);
  const report: CheckReport = {
    mesh: mesh.name,
    region: await clients.region(),
    endpoint: clients.settings.endpoints.LAMBDA,
    services: results,
    passed: all.filter((c) => c.status === 'pass').length,
    failed: all.filter((c) => c.status === 'fail').length,
    warnings: all.filter((c) => c.status === 'warn').length,
  };
  ctx.out(flags.json ? JSON.stringify(report, null, 2) : renderReport(report));
  return report.failed > 0 ? EXIT.failure : EXIT.ok;
}

function pickServices(mesh: DiscoveredMesh, service: string | undefined): readonly MeshService[] {
  if (service === undefined) return mesh.services;
  const s = mesh.services.filter((x) => x.service === service);
  if (s.length === 0) {
    throw new UsageError(
      `unknown service ${JSON.stringify(service)} in mesh ${mesh.name}; known services: ${mesh.services.map((x) => x.service).join(', ')}`,
    );
  }
  return s;
}
