/**
 * The local mesh (docs/local-mesh.md): one process that runs what would deploy. It reads cloud assemblies
 * (applied in order as deployments), runs every function version in worker processes, serves the AWS
 * endpoint (Lambda, DynamoDB via dynalite, Secrets Manager, SQS, SNS, EventBridge, CodeDeploy, CloudWatch, IAM) and the
 * /_mesh/ dashboard routes, and
 * collects X-Ray segments and EMF metrics into the telemetry store. `stop()` leaves nothing running.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodeDeployClient, CreateDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CancelRotateSecretCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { withTraceHeader } from '../shared/sdk-trace-header';
import { assemblyScope, type RegionStacks } from './assembly/cloud-assembly';
import {
  type ApplyOptions,
  applyAssembly,
  type DeploymentReport,
  type DeploymentSecrets,
  type DeploymentState,
  type DeploymentTargets,
  deleteStack,
  newDeploymentState,
} from './assembly/deployment';
import { servedAssembly } from './assembly/stage-assembly';
import { AlarmRegistry } from './cloudwatch/alarms';
import { type CloudWatchState, handleCloudWatch } from './cloudwatch/cloudwatch-api';
import { cloudWatchQueryService } from './cloudwatch/cloudwatch-query';
import { MetricStore } from './cloudwatch/metric-store';
import { registryAliasShift } from './codedeploy/alias-shift';
import { handleCodeDeploy } from './codedeploy/codedeploy-api';
import { CodeDeployEngine } from './codedeploy/codedeploy-engine';
import { handleDeploymentsRequest } from './codedeploy/deployment-view';
import { registryView } from './dashboard/mesh-view';
import { policyScan } from './dashboard/policy-scan';
import { handleMeshRequest } from './dashboard/routes';
import { type Endpoint, startEndpoint } from './endpoint';
import { SandboxCredentials } from './endpoint/sandbox-credentials';
import type { SecretStore } from './endpoint/secret-store';
import type { JsonService } from './endpoint/server';
import { terminalLog } from './endpoint/terminal-log';
import type { EventBuses } from './events/event-buses';
import { eventsJsonServices } from './events/events-api';
import { localEventBuses } from './events/local-event-buses';
import { DEFAULT_LOCAL_PORT } from './local-flags';
import { type FunctionRegistry, LOCAL_ACCOUNT, LOCAL_REGION } from './registry/function-registry';
import { LocalRegions } from './registry/regions';
import { type InvocationRecord, LocalInvoker } from './runtime/invoker';
import { snsQueryService } from './sns/sns-api';
import { lambdaDelivery } from './sns/topic-delivery';
import { TopicStore } from './sns/topic-store';
import { AsyncDestinations } from './sqs/async-destinations';
import { EventSourcePoller } from './sqs/event-source-poller';
import { QueueStore } from './sqs/queue-store';
import { sqsJsonServices } from './sqs/sqs-api';
import { sqsQueryService } from './sqs/sqs-query';
import { startXrayCollector, TelemetryStore, type XrayCollector } from './telemetry/telemetry-store';

export { AssemblyScopeError } from './assembly/cloud-assembly';
export { StageNotFoundError } from './assembly/stage-assembly';

export interface LocalMeshOptions {
  /** cdk.out dirs, applied in order as deployments (release 1, then release 2, ...). */
  readonly assemblies: readonly string[];
  /**
   * Serve only this CDK Stage of each assembly (its path: `Dev`, `Pipeline/Dev`), here and in `apply`.
   * @default every stack
   */
  readonly stage?: string;
  /** @default DEFAULT_LOCAL_PORT, 4566 (0 = any free port) */
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
  /**
   * How many times faster than CodeDeploy and CloudWatch the local deployments run: the config's
   * intervals, hook time-outs and the alarms' periods are divided by it (10 turns a 5-minute canary into
   * 30 s with 6 s alarm periods).
   * @default 1
   */
  readonly deploymentSpeed?: number;
  /**
   * The wait before an Event invoke's first retry, ms; the second waits twice as long (Lambda: about 1
   * and 2 minutes).
   * @default 1000
   */
  readonly asyncRetryBaseMs?: number;
  /**
   * Hold each function to the IAM its template grants: a sandbox's request for an action the endpoint
   * evaluates (docs/local-mesh.md) that its role's policies do not allow is refused, as AWS refuses it.
   * @default true
   */
  readonly enforceIam?: boolean;
}

export interface LocalMesh {
  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL for the SDK and CLI; the dashboard is at `${url}/_mesh/`. */
  readonly url: string;
  readonly store: TelemetryStore;
  /** The home region's functions (the first region the stacks name). */
  readonly registry: FunctionRegistry;
  /** Every region served, with its functions and secrets. */
  readonly regions: LocalRegions;
  /** The regions the stacks name, the home region first, each with its stacks' names. */
  readonly regionStacks: readonly RegionStacks[];
  readonly invoker: LocalInvoker;
  readonly endpoint: Endpoint;
  /** One report per applied assembly. */
  readonly deployments: DeploymentReport[];
  /** The local CodeDeploy: gated alias updates (StopDeployment, hooks, alarms) run here. */
  readonly codeDeploy: CodeDeployEngine;
  /** The local CloudWatch alarms, evaluated against `metrics`. */
  readonly alarms: AlarmRegistry;
  /** The metrics CloudWatch would hold: the workers' EMF (every dimension set) and Lambda's own. */
  readonly metrics: MetricStore;
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
  readonly regionStacks: readonly RegionStacks[];
  readonly registry: FunctionRegistry;
  readonly recent: InvocationRecord[];
  readonly deployments: DeploymentReport[];
  /** Each sandbox's role session: the endpoint knows whose request it serves by its key. */
  readonly credentials: SandboxCredentials;
  xray?: XrayCollector;
  invoker?: LocalInvoker;
  endpoint?: Endpoint;
  /** The deployment's SDK clients, destroyed on stop. */
  readonly clients: { destroy(): void }[];
  /** The metrics CloudWatch would hold, the alarms on them, and the CodeDeploy that reads the alarms. */
  readonly metrics: MetricStore;
  readonly alarms: AlarmRegistry;
  readonly codeDeploy: CodeDeployEngine;
  /** The client a deployment's hooks are invoked with: over the wire, set once the endpoint runs. */
  readonly hook: { client?: LambdaClient };
  /** The local SQS queues, their event source mappings, and where failed Event invokes go. */
  readonly queues: QueueStore;
  poller?: EventSourcePoller;
  destinations?: AsyncDestinations;
  /** The local EventBridge buses and rules. */
  buses?: EventBuses;
  /** The local SNS topics and their Lambda subscriptions. */
  readonly topics: TopicStore;
}

/**
 * The local CodeDeploy and CloudWatch, `speed` times faster than AWS: the metrics the workers' EMF
 * and invocations feed, the alarms on them, and the deployments those alarms stop.
 */
function deploymentParts(
  scope: { regions: readonly string[]; accountId: string },
  speed: number,
  registry: FunctionRegistry,
  log: (line: string) => void,
): Pick<Parts, 'metrics' | 'alarms' | 'codeDeploy' | 'hook'> {
  const metrics = new MetricStore();
  const alarms = new AlarmRegistry({ metrics, speed, region: scope.regions[0], accountId: scope.accountId });
  const hook: Parts['hook'] = {};
  const codeDeploy = new CodeDeployEngine({
    speed,
    region: scope.regions[0],
    accountId: scope.accountId,
    ...registryAliasShift(registry),
    invokeHook: (functionName, event) => invokeForJson(hook.client!, functionName, event),
    alarmState: (name) => alarms.evaluate(name)?.value,
    log: (line) => log(line),
  });
  return { metrics, alarms, codeDeploy, hook };
}

export async function startLocalMesh(given: LocalMeshOptions): Promise<LocalMesh> {
  const served = (dir: string) => servedAssembly(dir, given.stage);
  const options = { ...given, assemblies: given.assemblies.map(served) };
  const log = options.log ?? (options.quiet ? () => undefined : terminalLog('mesh'));
  const { parts, endpointUrl } = newParts(options, log);
  const cleanup = () => stopParts(parts);
  let invoker: LocalInvoker;
  let endpoint: Endpoint;
  try {
    ({ invoker, endpoint } = await startParts(parts, options, log));
    endpointUrl.url = endpoint.url;
  } catch (err) {
    await cleanup();
    throw err;
  }
  const state = newDeploymentState();
  const targets = deploymentTargets(parts, endpoint, log);
  const apply = applier(parts, targets, state, log);
  try {
    for (const dir of options.assemblies) await apply(dir);
  } catch (err) {
    await cleanup();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const { store, registry, regions, regionStacks, deployments, recent, codeDeploy, alarms, metrics } = parts;
  return {
    url: endpoint.url,
    store,
    registry,
    regions,
    regionStacks,
    invoker,
    endpoint,
    deployments,
    codeDeploy,
    alarms,
    metrics,
    apply: (dir, applyOptions) => apply(served(dir), applyOptions),
    deleteStack: async (stackName) => {
      const deleted = await deleteStack(targets, state, stackName);
      log(`deleted ${stackName ?? 'every stack'}: ${deleted.length} resources`);
      return deleted;
    },
    recentInvocations: () => recent,
    stop: () => (stopping ??= codeDeploy.close().then(cleanup)),
  };
}

/** Applies one assembly as the next deployment, keeps its report and says what it did. */
function applier(
  parts: Parts,
  targets: DeploymentTargets,
  state: DeploymentState,
  log: (line: string) => void,
): LocalMesh['apply'] {
  return async (dir, applyOptions) => {
    const report = await applyAssembly(dir, targets, state, applyOptions);
    parts.deployments.push(report);
    const changed = report.functions.filter((f) => f.changed).map((f) => f.name);
    log(
      `deployed ${dir}: ${report.functions.length} functions (${changed.length} changed), ${report.versions.length} versions, ${report.aliases.length} aliases, ${report.customResources.length} custom resources run, ${report.policyItems} policy items`,
    );
    return report;
  };
}

/**
 * The parts that run nothing yet, in the account and regions the stacks name (the first region is
 * home). Queue URLs name the endpoint, whose URL is known once it listens.
 */
function newParts(
  options: LocalMeshOptions,
  log: (line: string) => void,
): { parts: Parts; endpointUrl: { url: string } } {
  const scope = assemblyScope(options.assemblies, { accountId: LOCAL_ACCOUNT, region: LOCAL_REGION });
  const regions = new LocalRegions({
    accountId: scope.accountId,
    home: scope.regions[0]!,
    secrets: { rotationScheduler: options.rotationScheduler },
  });
  for (const r of scope.regions) regions.get(r);
  const speed = options.deploymentSpeed ?? 1;
  if (!(speed > 0)) throw new Error(`deploymentSpeed must be a positive number, got ${speed}`);
  const endpointUrl = { url: '' };
  const parts: Parts = {
    queues: new QueueStore({
      region: scope.regions[0]!,
      accountId: scope.accountId,
      endpointUrl: () => endpointUrl.url,
    }),
    topics: newTopicStore(scope, () => parts, log),
    workDir: mkdtempSync(join(tmpdir(), 'lambda-mesh-')),
    store: new TelemetryStore(),
    regions,
    regionStacks: scope.regionStacks,
    registry: regions.registry(),
    recent: [],
    deployments: [],
    credentials: new SandboxCredentials(),
    clients: [],
    ...deploymentParts(scope, speed, regions.registry(), log),
  };
  return { parts, endpointUrl };
}

/**
 * The topics, delivering as SNS does: an Event invoke over the wire, once the function's policy lets
 * sns.amazonaws.com invoke it (the endpoint, which holds the policies, runs by the first Publish).
 */
function newTopicStore(
  scope: { regions: readonly string[]; accountId: string },
  parts: () => Parts,
  log: (line: string) => void,
): TopicStore {
  return new TopicStore({
    region: scope.regions[0]!,
    accountId: scope.accountId,
    deliver: lambdaDelivery({
      functionPolicy: (arn) => parts().endpoint?.functionPolicy(arn) ?? [],
      invokeAsync: async (arn, payload) => {
        await parts().hook.client!.send(
          new InvokeCommand({ FunctionName: arn, Payload: payload, InvocationType: 'Event' }),
        );
      },
      log,
    }),
  });
}

/** The X-Ray collector, the worker invoker and the AWS endpoint (with the /_mesh/ routes), wired together. */
async function startParts(
  parts: Parts,
  options: LocalMeshOptions,
  log: (line: string) => void,
): Promise<{ invoker: LocalInvoker; endpoint: Endpoint }> {
  parts.xray = await startXrayCollector(parts.store, { port: 0, host: '127.0.0.1' });
  startQueueWork(parts, options, log);
  const invoker = startInvoker(parts, options, parts.xray);
  const endpoint = await startMeshEndpoint(parts, options, invoker, log);
  invoker.setEndpointUrl(endpoint.url);
  return { invoker, endpoint };
}

/** Where failed Event invokes go, and the event source mappings' pollers: both invoke over the wire. */
function startQueueWork(parts: Parts, options: LocalMeshOptions, log: (line: string) => void): void {
  const lambda = () => parts.hook.client!;
  parts.destinations = new AsyncDestinations({
    queues: parts.queues,
    retryBaseMs: options.asyncRetryBaseMs,
    invokeAsync: async (arn, payload) => {
      await lambda().send(new InvokeCommand({ FunctionName: arn, Payload: payload, InvocationType: 'Event' }));
    },
  });
  parts.buses = localEventBuses({ ...parts, lambda, log });
  parts.poller = new EventSourcePoller({
    queues: parts.queues,
    log,
    invoke: async (functionName, qualifier, payload, traceHeader) => {
      const out = await lambda().send(
        withTraceHeader(
          new InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, Payload: payload }),
          traceHeader,
        ),
      );
      return { functionError: out.FunctionError, payload: out.Payload ?? new Uint8Array() };
    },
  });
}

/** The worker invoker, its telemetry feeding the store and the metrics, its invocations kept (bounded). */
function startInvoker(parts: Parts, options: LocalMeshOptions, xray: XrayCollector): LocalInvoker {
  const { store, metrics, recent } = parts;
  // Workers' EMF feeds both the golden metrics and the metrics alarms read.
  const telemetry = {
    recordEmf: (obj: unknown, ctx: { functionName: string; version: string }) => {
      metrics.recordEmf(obj);
      return store.recordEmf(obj, ctx);
    },
    recordSegment: (doc: unknown) => store.recordSegment(doc),
  };
  const invoker = new LocalInvoker({
    registry: parts.registry,
    regions: parts.regions,
    telemetry,
    xrayDaemonAddress: xray.address,
    concurrencyLimit: options.concurrencyLimit,
    workDir: join(parts.workDir, 'opt'),
    credentials: parts.credentials,
    onLog: (functionName, version, line) => {
      store.accessLog.record(line);
      options.onLog?.(functionName, version, line);
    },
  });
  parts.invoker = invoker;
  invoker.onInvocation((r) => {
    metrics.recordInvocation(r);
    recent.push(r);
    if (recent.length > RECENT_LIMIT) recent.splice(0, recent.length - RECENT_LIMIT);
  });
  return invoker;
}

/** The AWS endpoint, with the local CodeDeploy, CloudWatch (JSON and query), SQS and SNS, and the /_mesh/ routes. */
async function startMeshEndpoint(
  parts: Parts,
  options: LocalMeshOptions,
  invoker: LocalInvoker,
  log: (line: string) => void,
): Promise<Endpoint> {
  const { store, registry, regions, deployments, alarms, codeDeploy } = parts;
  const cloudWatch: CloudWatchState = { alarms, metrics: parts.metrics, accountId: registry.accountId };
  // The dashboard reads the policy tables as any client would: over the wire, once the endpoint runs.
  let dynamo: DynamoDBClient | undefined;
  const scan = policyScan(() => (dynamo ??= wireClients(parts.endpoint!.url, parts.clients).dynamo(registry.region)));
  parts.endpoint = await startEndpoint({
    port: options.port ?? DEFAULT_LOCAL_PORT,
    host: options.host ?? '127.0.0.1',
    registry,
    invoker,
    secrets: regions.secrets(),
    regions: (region) => regions.get(region),
    servedRegions: regions.regions(),
    extraRoutes: (req: IncomingMessage, res: ServerResponse) =>
      localStatus(req, res, invoker, regions, deployments) ||
      handleDeploymentsRequest(req, res, codeDeploy, alarms) ||
      handleMeshRequest(req, res, store, registryView(registry, scan)),
    jsonServices: {
      ...jsonServices(codeDeploy, cloudWatch, { region: registry.region, accountId: registry.accountId }),
      ...sqsJsonServices(parts.queues),
      ...eventsJsonServices(parts.buses!),
    },
    queryServices: {
      sns: snsQueryService(parts.topics),
      sqs: sqsQueryService(parts.queues),
      monitoring: cloudWatchQueryService(cloudWatch),
    },
    asyncInvokes: parts.destinations,
    sandboxes: options.enforceIam === false ? undefined : parts.credentials,
    log,
  });
  return parts.endpoint;
}

async function stopParts(parts: Parts): Promise<void> {
  parts.poller?.stop();
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
  const clients = wireClients(ep.url, parts.clients);
  parts.hook.client = clients.lambda(parts.registry.region);
  return {
    registry: parts.registry,
    region: (region) => ({ registry: regions.registry(region), secrets: secretsTarget(regions.secrets(region)) }),
    dynamoEndpoint: ep.url,
    secrets: secretsTarget(regions.secrets()),
    iam: ep.iam,
    streams: ep.streams,
    invoke: (functionName, payload, region) =>
      invokeForJson(clients.lambda(region), functionName, payload, `${functionName}: `),
    ...rotationTargets(clients.secrets),
    gates: deploymentGates(parts, clients.codeDeploy),
    queues: parts.queues,
    buses: parts.buses,
    topics: parts.topics,
    eventSources: parts.poller,
    asyncSettings: parts.destinations,
    workDir: parts.workDir,
    log,
  };
}

/** Makes one SDK client for a region, given its config. */
type ClientMaker<C> = (config: object) => C;

/** The deployment's SDK clients on the local endpoint, one per region each, all destroyed on stop. */
function wireClients(endpointUrl: string, clients: { destroy(): void }[]) {
  const perRegion = <C extends { destroy(): void }>(make: ClientMaker<C>) =>
    clientPerRegion(endpointUrl, clients, make);
  return {
    lambda: perRegion((config) => new LambdaClient(config)),
    secrets: perRegion((config) => new SecretsManagerClient(config)),
    codeDeploy: perRegion((config) => new CodeDeployClient(config)),
    dynamo: perRegion((config) => new DynamoDBClient(config)),
  };
}

/**
 * A client per region, made on first use and kept in `clients` (destroyed on stop). One attempt each: the
 * deployment reports a failed call rather than have the SDK retry it against the local endpoint.
 */
function clientPerRegion<C extends { destroy(): void }>(
  endpointUrl: string,
  clients: { destroy(): void }[],
  make: ClientMaker<C>,
): (region: string) => C {
  const made = new Map<string, C>();
  return (region) => {
    let c = made.get(region);
    if (!c) {
      c = make({
        endpoint: endpointUrl,
        region,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
      });
      made.set(region, c);
      clients.push(c);
    }
    return c;
  };
}

/**
 * Invokes a function synchronously and resolves its JSON result (undefined when it returned nothing);
 * a function error rejects with `errorPrefix` and the start of the error payload.
 */
async function invokeForJson(
  client: LambdaClient,
  functionName: string,
  payload: unknown,
  errorPrefix = '',
): Promise<unknown> {
  const out = await client.send(
    new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  if (out.FunctionError) throw new Error(`${errorPrefix}${text.slice(0, 1000)}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** RotateSecret and CancelRotateSecret on the wire, in the rotation schedule's region. */
function rotationTargets(
  secretsClient: (region: string) => SecretsManagerClient,
): Pick<DeploymentTargets, 'rotate' | 'cancelRotation'> {
  return {
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
  };
}

/** The local CodeDeploy and alarms an alias's gated update goes through, started as CloudFormation does. */
function deploymentGates(
  parts: Parts,
  codeDeployClient: (region: string) => CodeDeployClient,
): NonNullable<DeploymentTargets['gates']> {
  return {
    codeDeploy: parts.codeDeploy,
    alarms: parts.alarms,
    // As CloudFormation starts an alias's deployment: CreateDeployment on the wire, in the home region.
    createDeployment: async (i) => {
      const out = await codeDeployClient(parts.registry.region).send(
        new CreateDeploymentCommand({
          applicationName: i.applicationName,
          deploymentGroupName: i.groupName,
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content: i.appSpecContent } },
        }),
      );
      return out.deploymentId!;
    },
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

/** CodeDeploy and CloudWatch on the endpoint, by signing name and by target prefix (unsigned calls). */
function jsonServices(
  codeDeploy: CodeDeployEngine,
  cloudWatch: CloudWatchState,
  where: { region: string; accountId: string },
): Record<string, JsonService> {
  const cd: JsonService = {
    protocol: 'awsJson1_1',
    handle: (op, input, region) => handleCodeDeploy(codeDeploy, op, input, { ...where, region }),
  };
  const cw: JsonService = { protocol: 'awsJson1_0', handle: (op, input) => handleCloudWatch(cloudWatch, op, input) };
  return { codedeploy: cd, CodeDeploy_20141006: cd, monitoring: cw, GraniteServiceVersion20100801: cw };
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
  // Another method falls through to the mesh routes, which refuse it (405): every /_mesh/ route only reads.
  if (path !== '/_mesh/local' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
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
