/**
 * A mesh for the CLI's wire tests, from the real local parts: the FunctionRegistry holds mesh
 * functions with published versions and `live` aliases, the local endpoint (startEndpoint) serves them on
 * the Lambda wire (so UpdateAlias is validated as Lambda does), and the policy table lives in a
 * separate dynalite on 127.0.0.1 port 0. No workers: the CLI never invokes a function.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { fromItem } from '../../cli/attribute-value';
import { startEndpoint } from '../../local/endpoint';
import { FunctionRegistry } from '../../local/registry/function-registry';
import { ENV, LAYER, LIVE_ALIAS, POLICY_VERSION } from '../../shared/names';
import { WITHOUT_COVERAGE } from './without-coverage';

const REGION = 'us-east-1';

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

export interface CliMeshFixture {
  /** Lambda API base URL. */
  readonly lambdaUrl: string;
  /** DynamoDB (dynalite) base URL. */
  readonly dynamoUrl: string;
  readonly table: string;
  readonly registry: FunctionRegistry;
  /** Environment for `node cli/bin/mesh.js`: per-service endpoints, no credentials, no region. */
  readonly env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Starts dynalite + the Lambda API, creates the table, registers the functions and their aliases. */
export async function startCliMesh(
  fns: readonly FixtureFunction[],
  opts: { table?: string; items?: Record<string, unknown>[] } = {},
): Promise<CliMeshFixture> {
  const table = opts.table ?? 'demo-policy';
  const registry = new FunctionRegistry();
  const codeDir = mkdtempSync(join(tmpdir(), 'cli-mesh-'));
  const addFunction = (name: string, environment: Record<string, string>, versions: readonly string[]) => {
    const spec = {
      name,
      codeDir,
      handler: LAYER.wrapperHandler,
      runtime: 'nodejs20.x',
      timeout: 3,
      memorySize: 128,
      environment,
      layerDirs: [],
    };
    registry.putFunction({ ...spec, codeSha256: 'code-0' });
    // Each version gets its own code hash: publishing unchanged code returns the latest version (as AWS).
    for (const v of versions) {
      registry.putFunction({ ...spec, codeSha256: `code-${v}` });
      registry.publishVersion(name, {});
    }
  };
  for (const fn of fns) {
    const name = fn.functionName ?? `${fn.mesh}-${fn.service}`;
    addFunction(
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
      registry.createAlias(name, LIVE_ALIAS, {
        FunctionVersion: fn.live.version,
        ...(fn.live.weights ? { RoutingConfig: { AdditionalVersionWeights: fn.live.weights } } : {}),
      });
    }
  }
  // A function outside any mesh: discovery must skip it.
  addFunction('unrelated-fn', { FOO: 'bar' }, ['1']);

  const dynalite = require('dynalite') as (o: Record<string, unknown>) => Server;
  const ddbServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((r) => ddbServer.listen(0, '127.0.0.1', () => r()));
  const dynamoUrl = `http://127.0.0.1:${(ddbServer.address() as AddressInfo).port}`;

  const endpoint = await startEndpoint({
    port: 0,
    host: '127.0.0.1',
    registry,
    invoker: { invoke: async () => Promise.reject(new Error('the CLI fixture runs no functions')) },
    log: () => undefined,
  });
  const lambdaUrl = endpoint.url;

  // The same table the local mesh makes (local/endpoint), here in a dynalite of its own.
  const { createPolicyTable } =
    require('../../local/endpoint/dynamodb') as typeof import('../../local/endpoint/dynamodb');
  await createPolicyTable(dynamoUrl, table);
  const { DynamoDBClient, PutItemCommand } =
    require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  const ddb = new DynamoDBClient({
    region: REGION,
    endpoint: dynamoUrl,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const { toItem } = require('../../cli/attribute-value') as typeof import('../../cli/attribute-value');
  for (const item of opts.items ?? []) await ddb.send(new PutItemCommand({ TableName: table, Item: toItem(item) }));
  ddb.destroy();

  const env: NodeJS.ProcessEnv = {
    // `mesh` runs from its bundle, whose coverage counts for no source file (test/support/mesh-cli.ts).
    ...WITHOUT_COVERAGE,
    PATH: process.env.PATH,
    HOME: '/nonexistent-home-for-cli-tests',
    AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
    // The global URL serves Lambda; the service-specific one sends DynamoDB to the separate dynalite.
    AWS_ENDPOINT_URL: lambdaUrl,
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
      await endpoint.close();
      await new Promise<void>((r) => ddbServer.close(() => r()));
      rmSync(codeDir, { recursive: true, force: true });
    },
  };
}

/** The policy items `table` holds at `endpoint` (a consistent Scan), the version counters left out, by sk. */
export async function storedPolicyItems(endpoint: string, table: string): Promise<Record<string, unknown>[]> {
  const db = new DynamoDBClient({
    region: REGION,
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    const r = await db.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
    return (r.Items ?? [])
      .map(fromItem)
      .filter((i) => !String(i.pk).startsWith(POLICY_VERSION.partitionPrefix))
      .sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
  } finally {
    db.destroy();
  }
}
