/**
 * The local mesh (docs/local-mesh.md): one process that runs what would deploy. It reads cloud assemblies
 * (applied in order as deployments), runs every function version in worker processes, serves the AWS
 * endpoint (Lambda, DynamoDB via dynalite, Secrets Manager) and the /_mesh/ dashboard routes, and
 * collects X-Ray segments and EMF metrics into the telemetry store. `stop()` leaves nothing running.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CancelRotateSecretCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { assemblyScope } from './assembly/cloud-assembly';
import {
  type ApplyOptions,
  applyAssembly,
  type DeploymentReport,
  type DeploymentSecrets,
  type DeploymentTargets,
  deleteStack,
  newDeploymentState,
} from './assembly/deployment';
import { handleMeshRequest } from './dashboard/routes';
import { type Endpoint, startEndpoint } from './endpoint';
import type { SecretStore } from './endpoint/secret-store';
import { type FunctionRegistry, LOCAL_ACCOUNT, LOCAL_REGION } from './registry/function-registry';
import { LocalRegions } from './registry/regions';
import { type InvocationRecord, LocalInvoker } from './runtime/invoker';
import { startXrayCollector, TelemetryStore, type XrayCollector } from './telemetry/telemetry-store';

export interface LocalMeshOptions {
  /** cdk.out dirs, applied in order as deployments (release 1, then release 2, ...). */
  readonly assemblies: readonly string[];
  /** @default 4566 (0 = any free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** No progress or warning lines on stderr. */
  readonly quiet?: boolean;
  /** Concurrent executions per function when it reserves none. @default 10 */
  readonly concurrencyLimit?: number;
  /** Worker log lines (default: dropped; `quiet: false` prints warnings only). */
  readonly onLog?: (functionName: string, version: string, line: string) => void;
  /** Progress and warnings. @default stderr unless quiet */
  readonly log?: (line: string) => void;
  /**
   * When a rotation RotateSecret started runs (Secrets Manager runs them asynchronously, after the call
   * returned). Tests hold rotations back to show that no deployment step may wait on one.
   * @default the next turn of the event loop
   */
  readonly rotationScheduler?: (run: () => Promise<void>) => void;
}

export interface LocalMesh {
  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL for the SDK and CLI; the dashboard is at `${url}/_mesh/`. */
  readonly url: string;
  readonly store: TelemetryStore;
  /** The home region's functions (the first region the stacks name). */
  readonly registry: FunctionRegistry;
  /** Every region served, with its functions and secrets. */
  readonly regions: LocalRegions;
  readonly invoker: LocalInvoker;
  readonly endpoint: Endpoint;
  /** One report per applied assembly. */
  readonly deployments: DeploymentReport[];
  /** Applies one more assembly as the next deployment (watch mode's hotswap may replace some code). */
  apply(dir: string, options?: ApplyOptions): Promise<DeploymentReport>;
  /**
   * Deletes what the deployments created for a stack (all stacks when omitted), as `cdk destroy` would:
   * custom resources get Delete, rotations are cancelled, secrets are deleted without a recovery window
   * unless retained. Functions and tables stay. Returns the deleted `<stack>/<logicalId>` keys.
   */
  deleteStack(stackName?: string): Promise<string[]>;
  /** Recent invocations as the invoker saw them (newest last, bounded). */
  recentInvocations(): readonly InvocationRecord[];
  stop(): Promise<void>;
}

const RECENT_LIMIT = 20_000;

/** The running parts of a local mesh; any of them may be missing when start-up failed halfway. */
interface Parts {
  readonly workDir: string;
  readonly store: TelemetryStore;
  /** Every region served; its home region's registry is `registry`. */
  readonly regions: LocalRegions;
  readonly registry: FunctionRegistry;
  readonly recent: InvocationRecord[];
  readonly deployments: DeploymentReport[];
  xray?: XrayCollector;
  invoker?: LocalInvoker;
  endpoint?: Endpoint;
  /** The deployment's SDK clients, destroyed on stop. */
  readonly clients: { destroy(): void }[];
}

export async function startLocalMesh(options: LocalMeshOptions): Promise<LocalMesh> {
  const log =
    options.log ?? (options.quiet ? () => undefined : (line: string) => process.stderr.write(`[mesh] ${line}\n`));
  // The account and regions the stacks name are the ones served (the first region is home).
  const scope = assemblyScope(options.assemblies, { accountId: LOCAL_ACCOUNT, region: LOCAL_REGION });
  const regions = new LocalRegions({
    accountId: scope.accountId,
    home: scope.regions[0]!,
    secrets: { rotationScheduler: options.rotationScheduler },
  });
  for (const r of scope.regions) regions.get(r);
  const parts: Parts = {
    workDir: mkdtempSync(join(tmpdir(), 'lambda-mesh-')),
    store: new TelemetryStore(),
    regions,
    registry: regions.registry(),
    recent: [],
    deployments: [],
    clients: [],
  };
  const cleanup = () => stopParts(parts);
  let invoker: LocalInvoker;
  let endpoint: Endpoint;
  try {
    ({ invoker, endpoint } = await startParts(parts, options, log));
  } catch (err) {
    await cleanup();
    throw err;
  }
  const { store, registry, deployments, recent } = parts;
  const state = newDeploymentState();
  const targets = deploymentTargets(parts, endpoint, log);
  const apply = async (dir: string, applyOptions?: ApplyOptions) => {
    const report = await applyAssembly(dir, targets, state, applyOptions);
    deployments.push(report);
    const changed = report.functions.filter((f) => f.changed).map((f) => f.name);
    log(
      `deployed ${dir}: ${report.functions.length} functions (${changed.length} changed), ${report.versions.length} versions, ${report.aliases.length} aliases, ${report.customResources.length} custom resources run, ${report.policyItems} policy items`,
    );
    return report;
  };
  try {
    for (const dir of options.assemblies) await apply(dir);
  } catch (err) {
    await cleanup();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    url: endpoint.url,
    store,
    registry,
    regions,
    invoker,
    endpoint,
    deployments,
    apply,
    deleteStack: async (stackName) => {
      const deleted = await deleteStack(targets, state, stackName);
      log(`deleted ${stackName ?? 'every stack'}: ${deleted.length} resources`);
      return deleted;
    },
    recentInvocations: () => recent,
    stop: () => (stopping ??= cleanup()),
  };
}

/** The X-Ray collector, the worker invoker and the AWS endpoint (with the /_mesh/ routes), wired together. */
async function startParts(
  parts: Parts,
  options: LocalMeshOptions,
  log: (line: string) => void,
): Promise<{ invoker: LocalInvoker; endpoint: Endpoint }> {
  const { store, registry, regions, recent, deployments } = parts;
  const xray = await startXrayCollector(store, { port: 0, host: '127.0.0.1' });
  parts.xray = xray;
  const invoker = new LocalInvoker({
    registry,
    regions,
    telemetry: store,
    xrayDaemonAddress: xray.address,
    concurrencyLimit: options.concurrencyLimit,
    workDir: join(parts.workDir, 'opt'),
    onLog: options.onLog,
  });
  parts.invoker = invoker;
  invoker.onInvocation((r) => {
    recent.push(r);
    if (recent.length > RECENT_LIMIT) recent.splice(0, recent.length - RECENT_LIMIT);
  });
  const endpoint = await startEndpoint({
    port: options.port ?? 4566,
    host: options.host ?? '127.0.0.1',
    registry,
    invoker,
    secrets: regions.secrets(),
    regions: (region) => regions.get(region),
    extraRoutes: (req: IncomingMessage, res: ServerResponse) =>
      localStatus(req, res, invoker, regions, deployments) || handleMeshRequest(req, res, store),
    log,
  });
  parts.endpoint = endpoint;
  invoker.setEndpointUrl(endpoint.url);
  return { invoker, endpoint };
}

async function stopParts(parts: Parts): Promise<void> {
  for (const c of parts.clients) c.destroy();
  await parts.invoker?.stop().catch(() => undefined);
  await parts.endpoint?.close().catch(() => undefined);
  await parts.xray?.close().catch(() => undefined);
  rmSync(parts.workDir, { recursive: true, force: true });
}

/**
 * What deployments write into: each region's registry, and the endpoint's stores. The deployment talks
 * to the endpoint over the wire for what CloudFormation asks AWS for (custom-resource invokes,
 * rotation), in each stack's region.
 */
function deploymentTargets(parts: Parts, ep: Endpoint, log: (line: string) => void): DeploymentTargets {
  const { regions } = parts;
  /** One client per region, made on first use and destroyed on stop. */
  const perRegion = <C extends { destroy(): void }>(make: (config: object) => C) => {
    const made = new Map<string, C>();
    return (region: string): C => {
      let c = made.get(region);
      if (!c) {
        c = make({
          endpoint: ep.url,
          region,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          maxAttempts: 1,
        });
        made.set(region, c);
        parts.clients.push(c);
      }
      return c;
    };
  };
  const lambdaClient = perRegion((config) => new LambdaClient(config));
  const secretsClient = perRegion((config) => new SecretsManagerClient(config));
  return {
    registry: parts.registry,
    region: (region) => ({ registry: regions.registry(region), secrets: secretsTarget(regions.secrets(region)) }),
    dynamoEndpoint: ep.url,
    secrets: secretsTarget(regions.secrets()),
    iam: ep.iam,
    invoke: async (functionName, payload, region) => {
      const out = await lambdaClient(region).send(
        new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }),
      );
      const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
      if (out.FunctionError) throw new Error(`${functionName}: ${text.slice(0, 1000)}`);
      return text === '' ? undefined : JSON.parse(text);
    },
    rotate: async (i) => {
      await secretsClient(i.region).send(
        new RotateSecretCommand({
          SecretId: i.secretId,
          RotationLambdaARN: i.rotationLambdaArn,
          RotationRules: i.rotationRules,
          RotateImmediately: i.rotateImmediately,
        }),
      );
    },
    cancelRotation: async (secretId, region) => {
      await secretsClient(region).send(new CancelRotateSecretCommand({ SecretId: secretId }));
    },
    workDir: parts.workDir,
    log,
  };
}

function secretsTarget(s: SecretStore): DeploymentSecrets {
  return {
    create: (i) => s.create(i),
    put: (id, i) => s.put(id, i),
    get: (id) => s.get(id),
    describe: (id) => s.describe(id),
    has: (id) => s.has(id),
    delete: (id, i) => s.delete(id, i),
  };
}

/** `/_mesh/local`: the local runtime's own state (workers, counters, deployments), for status views. */
function localStatus(
  req: IncomingMessage,
  res: ServerResponse,
  invoker: LocalInvoker,
  regions: LocalRegions,
  deployments: readonly DeploymentReport[],
): boolean {
  const path = (req.url ?? '').split('?')[0].replace(/\/+$/, '');
  if (path !== '/_mesh/local') return false;
  const body = JSON.stringify({
    counters: invoker.counters,
    workers: invoker.workers(),
    functions: regions.regions().flatMap((region) => {
      const registry = regions.registry(region);
      return registry.functionNames().map((name) => ({
        name,
        region,
        aliases: registry.listAliases(name),
        versions: registry.listVersions(name)?.map((v) => v.Version),
      }));
    }),
    deployments: deployments.map((d) => ({
      dir: d.dir,
      functions: d.functions,
      aliases: d.aliases,
      warnings: d.warnings,
    })),
  });
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
  return true;
}
