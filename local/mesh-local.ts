/**
 * The local mesh (contract 8): one process that runs what would deploy. It reads cloud assemblies
 * (applied in order as deployments), runs every function version in worker processes, serves the AWS
 * endpoint (Lambda, DynamoDB via dynalite, Secrets Manager) and the /_mesh/ dashboard routes, and
 * collects X-Ray segments and EMF metrics into the telemetry store. `stop()` leaves nothing running.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyAssembly, type DeploymentReport, newDeploymentState } from './assembly/deployment';
import { handleMeshRequest } from './dashboard/routes';
import { type Endpoint, startEndpoint } from './endpoint';
import { issueLocalPlaceholders } from './identity/local-identity';
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
  /** Recent invocations as the invoker saw them (newest last, bounded). */
  recentInvocations(): readonly InvocationRecord[];
  stop(): Promise<void>;
}

const RECENT_LIMIT = 20_000;

export async function startLocalMesh(options: LocalMeshOptions): Promise<LocalMesh> {
  const log =
    options.log ?? (options.quiet ? () => undefined : (line: string) => process.stderr.write(`[mesh] ${line}\n`));
  const workDir = mkdtempSync(join(tmpdir(), 'lambda-mesh-'));
  const store = new TelemetryStore();
  const registry = new FunctionRegistry();
  const recent: InvocationRecord[] = [];
  let xray: XrayCollector | undefined;
  let invoker: LocalInvoker | undefined;
  let endpoint: Endpoint | undefined;

  const cleanup = async () => {
    await invoker?.stop().catch(() => undefined);
    await endpoint?.close().catch(() => undefined);
    await xray?.close().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    xray = await startXrayCollector(store, { port: 0, host: '127.0.0.1' });
    invoker = new LocalInvoker({
      registry,
      telemetry: store,
      xrayDaemonAddress: xray.address,
      concurrencyLimit: options.concurrencyLimit,
      workDir: join(workDir, 'opt'),
      onLog: options.onLog,
    });
    invoker.onInvocation((r) => {
      recent.push(r);
      if (recent.length > RECENT_LIMIT) recent.splice(0, recent.length - RECENT_LIMIT);
    });
    const inv = invoker;
    endpoint = await startEndpoint({
      port: options.port ?? 4566,
      host: options.host ?? '127.0.0.1',
      registry,
      invoker,
      extraRoutes: (req: IncomingMessage, res: ServerResponse) =>
        localStatus(req, res, inv, registry, deployments) || handleMeshRequest(req, res, store),
      log,
    });
    invoker.setEndpointUrl(endpoint.url);
  } catch (err) {
    await cleanup();
    throw err;
  }

  const deployments: DeploymentReport[] = [];
  const state = newDeploymentState();
  const ep = endpoint;
  const apply = async (dir: string) => {
    const report = await applyAssembly(
      dir,
      {
        registry,
        dynamoEndpoint: ep.url,
        secrets: {
          create: (i) => ep.secrets.create(i),
          put: (id, i) => ep.secrets.put(id, i),
          get: (id) => ep.secrets.get(id),
          describe: (id) => ep.secrets.describe(id),
          has: (id) => ep.secrets.has(id),
        },
        workDir,
        log,
      },
      state,
    );
    // Identity (F): issue the mesh CA and identity secrets the deployment left as placeholders.
    await issueLocalPlaceholders(ep.secrets);
    deployments.push(report);
    const changed = report.functions.filter((f) => f.changed).map((f) => f.name);
    log(
      `deployed ${dir}: ${report.functions.length} functions (${changed.length} changed), ${report.versions.length} versions, ${report.aliases.length} aliases, ${report.policyItems} policy items`,
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
    recentInvocations: () => recent,
    stop: () => (stopping ??= cleanup()),
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
