/**
 * A mesh for the CLI's wire tests: mesh functions with versions and `live` aliases behind a loopback
 * Lambda API (engineer E1's endpoint handlers, so UpdateAlias is validated as Lambda does), and the
 * policy table in dynalite on 127.0.0.1 port 0. The registry here is a test double of the local
 * mesh's deployment state (contract 9): no workers, Invoke is not needed by the CLI.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ENV, LAYER, TABLE } from '../../shared/names';
import type { AliasConfig, AliasInput, EndpointRegistry, FunctionConfig } from '../../local/endpoint/backend';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

export interface FixtureFunction {
  readonly mesh: string;
  readonly service: string;
  /** Published versions, e.g. ['1', '2']. */
  readonly versions: readonly string[];
  /** `live` alias: primary version and optional routing. */
  readonly live?: { readonly version: string; readonly weights?: Record<string, number> };
  /** Overrides the function name (default `${mesh}-${service}`). */
  readonly functionName?: string;
  readonly table?: string;
}

interface FnState {
  config: FunctionConfig;
  versions: FunctionConfig[];
  aliases: Map<string, AliasConfig>;
}

/** In-memory deployment state shaped like E2's registry, enough for the alias/version/list APIs. */
export class FixtureRegistry implements EndpointRegistry {
  readonly region = REGION;
  readonly accountId = ACCOUNT;
  private readonly fns = new Map<string, FnState>();

  addFunction(name: string, env: Record<string, string>, versions: readonly string[]): void {
    const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
    const base = {
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Handler: LAYER.wrapperHandler,
      Environment: { Variables: env },
      RevisionId: randomUUID(),
    };
    const config: FunctionConfig = { ...base, FunctionArn: arn, Version: '$LATEST' };
    this.fns.set(name, {
      config,
      versions: versions.map((v) => ({ ...base, FunctionArn: `${arn}:${v}`, Version: v })),
      aliases: new Map(),
    });
  }
  listFunctions(): readonly FunctionConfig[] {
    return [...this.fns.values()].map((f) => f.config).sort((a, b) => a.FunctionName.localeCompare(b.FunctionName));
  }
  getFunction(name: string, qualifier?: string): FunctionConfig | undefined {
    const f = this.fns.get(name);
    if (!f || !qualifier || qualifier === '$LATEST') return f?.config;
    const alias = f.aliases.get(qualifier);
    return f.versions.find((v) => v.Version === (alias ? alias.FunctionVersion : qualifier));
  }
  listVersions(name: string): readonly FunctionConfig[] | undefined {
    const f = this.fns.get(name);
    return f ? [f.config, ...f.versions] : undefined;
  }
  publishVersion(name: string): FunctionConfig {
    const f = this.fns.get(name)!;
    const next = String(f.versions.length ? Number(f.versions[f.versions.length - 1].Version) + 1 : 1);
    const v = { ...f.config, FunctionArn: `${f.config.FunctionArn}:${next}`, Version: next };
    f.versions.push(v);
    return v;
  }
  getAlias(name: string, alias: string): AliasConfig | undefined {
    return this.fns.get(name)?.aliases.get(alias);
  }
  listAliases(name: string): readonly AliasConfig[] | undefined {
    const f = this.fns.get(name);
    return f ? [...f.aliases.values()] : undefined;
  }
  createAlias(name: string, alias: string, input: AliasInput): AliasConfig {
    return this.put(name, alias, input);
  }
  updateAlias(name: string, alias: string, input: AliasInput): AliasConfig {
    return this.put(name, alias, input);
  }
  resolveVersion(name: string, qualifier?: string): string | undefined {
    return this.getFunction(name, qualifier)?.Version;
  }
  private put(name: string, alias: string, input: AliasInput): AliasConfig {
    const f = this.fns.get(name)!;
    const cfg: AliasConfig = {
      AliasArn: `${f.config.FunctionArn}:${alias}`,
      Name: alias,
      FunctionVersion: input.FunctionVersion ?? f.aliases.get(alias)?.FunctionVersion ?? '$LATEST',
      ...(input.Description !== undefined ? { Description: input.Description } : {}),
      RoutingConfig: { AdditionalVersionWeights: { ...(input.RoutingConfig?.AdditionalVersionWeights ?? {}) } },
      RevisionId: randomUUID(),
    };
    f.aliases.set(alias, cfg);
    return cfg;
  }
}

export interface CliMeshFixture {
  /** Lambda API base URL. */
  readonly lambdaUrl: string;
  /** DynamoDB (dynalite) base URL. */
  readonly dynamoUrl: string;
  readonly table: string;
  readonly registry: FixtureRegistry;
  /** Environment for `node cli/bin/mesh.js`: per-service endpoints, no credentials, no region. */
  readonly env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Starts dynalite + the Lambda API, creates the table, registers the functions and their aliases. */
export async function startCliMesh(fns: readonly FixtureFunction[], opts: { table?: string; items?: Record<string, unknown>[] } = {}): Promise<CliMeshFixture> {
  const table = opts.table ?? 'demo-policy';
  const registry = new FixtureRegistry();
  for (const fn of fns) {
    const name = fn.functionName ?? `${fn.mesh}-${fn.service}`;
    registry.addFunction(
      name,
      {
        [ENV.meshName]: fn.mesh,
        [ENV.service]: fn.service,
        [ENV.policyTable]: fn.table ?? table,
        [ENV.handler]: 'index.handler',
        [ENV.policySnapshot]: LAYER.snapshotPath,
      },
      fn.versions,
    );
    if (fn.live) {
      registry.createAlias(name, 'live', {
        FunctionVersion: fn.live.version,
        ...(fn.live.weights ? { RoutingConfig: { AdditionalVersionWeights: fn.live.weights } } : {}),
      });
    }
  }
  // A function outside any mesh: discovery must skip it.
  registry.addFunction('unrelated-fn', { FOO: 'bar' }, ['1']);

  const dynalite = require('dynalite') as (o: Record<string, unknown>) => Server;
  const ddbServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((r) => ddbServer.listen(0, '127.0.0.1', () => r()));
  const dynamoUrl = `http://127.0.0.1:${(ddbServer.address() as AddressInfo).port}`;

  const lambdaServer = await startLambdaApi(registry);
  const lambdaUrl = `http://127.0.0.1:${(lambdaServer.address() as AddressInfo).port}`;

  const { DynamoDBClient, CreateTableCommand, PutItemCommand } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  const ddb = new DynamoDBClient({ region: REGION, endpoint: dynamoUrl, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await ddb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: TABLE.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
  const { toItem } = require('../../cli/attribute-value') as typeof import('../../cli/attribute-value');
  for (const item of opts.items ?? []) await ddb.send(new PutItemCommand({ TableName: table, Item: toItem(item) }));
  ddb.destroy();

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: '/nonexistent-home-for-cli-tests',
    AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
    AWS_ENDPOINT_URL_LAMBDA: lambdaUrl,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoUrl,
    USER: 'tester',
  };
  return {
    lambdaUrl,
    dynamoUrl,
    table,
    registry,
    env,
    async stop() {
      await new Promise<void>((r) => lambdaServer.close(() => r()));
      lambdaServer.closeAllConnections();
      await new Promise<void>((r) => ddbServer.close(() => r()));
    },
  };
}

/** The Lambda restJson API over E1's handlers (handleLambda) on a loopback port. */
async function startLambdaApi(registry: EndpointRegistry): Promise<Server> {
  const { handleLambda } = require('../../local/endpoint/lambda') as typeof import('../../local/endpoint/lambda');
  const { toAwsError, writeError } = require('../../local/endpoint/errors') as typeof import('../../local/endpoint/errors');
  const ctx = {
    registry,
    invoker: { invoke: async () => ({ payload: 'null' }) },
    region: REGION,
    accountId: ACCOUNT,
    onBackgroundError: () => {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const requestId = randomUUID();
      try {
        const out = await handleLambda(ctx, { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks), requestId });
        const body = out.raw ?? (out.json !== undefined ? Buffer.from(JSON.stringify(out.json)) : Buffer.alloc(0));
        res.writeHead(out.status, { 'content-type': 'application/json', 'x-amzn-requestid': requestId, ...(out.headers ?? {}) });
        res.end(body);
      } catch (err) {
        writeError(res, toAwsError(err), 'restJson1', requestId);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return server;
}
