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
import {
  applyAssembly,
  type DeploymentReport,
  type DeploymentTargets,
  deleteStack,
  newDeploymentState,
} from './assembly/deployment';
import { handleMeshRequest } from './dashboard/routes';
import { type Endpoint, startEndpoint } from './endpoint';
import { SecretStore } from './endpoint/secret-store';
import { FunctionRegistry } from './registry/function-registry';
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
  readonly registry: FunctionRegistry;
  readonly invoker: LocalInvoker;
  readonly endpoint: Endpoint;
  /** One report per applied assembly. */
  readonly deployments: DeploymentReport[];
  /** Applies one more assembly as the next deployment. */
  apply(dir: string): Promise<DeploymentReport>;
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
  readonly registry: FunctionRegistry;
  readonly recent: InvocationRecord[];
  readonly deployments: DeploymentReport[];
  xray?: XrayCollector;
  invoker?: LocalInvoker;
  endpoint?: Endpoint;
  destroyClients?: () => void;
}

export async function startLocalMesh(options: LocalMeshOptions): Promise<LocalMesh> {
  const log =
    options.log ?? (options.quiet ? () => undefined : (line: string) => process.stderr.write(`[mesh] ${line}\n`));
  const parts: Parts = {
    workDir: mkdtempSync(join(tmpdir(), 'lambda-mesh-')),
    store: new TelemetryStore(),
    registry: new FunctionRegistry(),
    recent: [],
    deployments: [],
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
  const { targets, destroy } = deploymentTargets(registry, endpoint, parts.workDir, log);
  parts.destroyClients = destroy;
  const apply = async (dir: string) => {
    const report = await applyAssembly(dir, targets, state);
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
  const { store, registry, recent, deployments } = parts;
  const xray = await startXrayCollector(store, { port: 0, host: '127.0.0.1' });
  parts.xray = xray;
  const invoker = new LocalInvoker({
    registry,
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
    secrets: new SecretStore({
      region: registry.region,
      accountId: registry.accountId,
      rotationScheduler: options.rotationScheduler,
    }),
    extraRoutes: (req: IncomingMessage, res: ServerResponse) =>
      localStatus(req, res, invoker, registry, deployments) || handleMeshRequest(req, res, store),
    log,
  });
  parts.endpoint = endpoint;
  invoker.setEndpointUrl(endpoint.url);
  return { invoker, endpoint };
}

async function stopParts(parts: Parts): Promise<void> {
  parts.destroyClients?.();
  await parts.invoker?.stop().catch(() => undefined);
  await parts.endpoint?.close().catch(() => undefined);
  await parts.xray?.close().catch(() => undefined);
  rmSync(parts.workDir, { recursive: true, force: true });
}

/**
 * What deployments write into: the registry, and the endpoint's stores. The deployment talks to the
 * endpoint over the wire for what CloudFormation asks AWS for (custom-resource invokes, rotation).
 */
function deploymentTargets(
  registry: FunctionRegistry,
  ep: Endpoint,
  workDir: string,
  log: (line: string) => void,
): { targets: DeploymentTargets; destroy(): void } {
  const aws = {
    endpoint: ep.url,
    region: registry.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const lambdaClient = new LambdaClient({ ...aws, maxAttempts: 1 });
  const secretsClient = new SecretsManagerClient({ ...aws, maxAttempts: 1 });
  const targets: DeploymentTargets = {
    registry,
    dynamoEndpoint: ep.url,
    secrets: {
      create: (i) => ep.secrets.create(i),
      put: (id, i) => ep.secrets.put(id, i),
      get: (id) => ep.secrets.get(id),
      describe: (id) => ep.secrets.describe(id),
      has: (id) => ep.secrets.has(id),
      delete: (id, i) => ep.secrets.delete(id, i),
    },
    invoke: async (functionName, payload) => {
      const out = await lambdaClient.send(
        new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }),
      );
      const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
      if (out.FunctionError) throw new Error(`${functionName}: ${text.slice(0, 1000)}`);
      return text === '' ? undefined : JSON.parse(text);
    },
    rotate: async (i) => {
      await secretsClient.send(
        new RotateSecretCommand({
          SecretId: i.secretId,
          RotationLambdaARN: i.rotationLambdaArn,
          RotationRules: i.rotationRules,
          RotateImmediately: i.rotateImmediately,
        }),
      );
    },
    cancelRotation: async (secretId) => {
      await secretsClient.send(new CancelRotateSecretCommand({ SecretId: secretId }));
    },
    workDir,
    log,
  };
  return {
    targets,
    destroy: () => {
      lambdaClient.destroy();
      secretsClient.destroy();
    },
  };
}

/** `/_mesh/local`: the local runtime's own state (workers, counters, deployments), for status views. */
function localStatus(
  req: IncomingMessage,
  res: ServerResponse,
  invoker: LocalInvoker,
  registry: FunctionRegistry,
  deployments: readonly DeploymentReport[],
): boolean {
  const path = (req.url ?? '').split('?')[0].replace(/\/+$/, '');
  if (path !== '/_mesh/local') return false;
  const body = JSON.stringify({
    counters: invoker.counters,
    workers: invoker.workers(),
    functions: registry.functionNames().map((name) => ({
      name,
      aliases: registry.listAliases(name),
      versions: registry.listVersions(name)?.map((v) => v.Version),
    })),
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
