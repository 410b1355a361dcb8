/**
 * Adapter: a service's CodeDeploy deployment in progress (a gated deploy shifting its `live` alias),
 * read through the CodeDeploy API (ListDeployments, GetDeployment, GetDeploymentConfig,
 * ListDeploymentTargets, GetDeploymentTarget, GetDeploymentGroup) and CloudWatch's DescribeAlarms, and
 * stopped with StopDeployment. The application and group are named after the mesh and the service
 * (shared/names.ts DEPLOYMENT): a service without a group has no gated deployments.
 */
import { parseTrafficRouting, type TrafficRouting } from '../shared/deployment-config';
import { DEPLOYMENT } from '../shared/names';
import type { AwsFlags } from './args';
import type { CliContext } from './context';
import { type EndedDeployment, lastEndedDeployment } from './ended-deployment';
import { AwsCallError, awsCall } from './errors';
import { localMeshJson } from './telemetry/local-mesh-telemetry';

/** CodeDeploy's statuses of a deployment that is not over. */
export const ACTIVE_STATUSES = ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'] as const;

export interface DeploymentAlarm {
  readonly name: string;
  /** OK, ALARM, INSUFFICIENT_DATA, or `unknown` when CloudWatch did not say. */
  readonly state: string;
}

/** A deployment in progress, as `mesh status`, `mesh rollback` and `mesh rollout` need it. */
export interface ActiveDeployment {
  readonly id: string;
  readonly service: string;
  readonly status: string;
  readonly configName: string;
  readonly routing?: TrafficRouting;
  readonly from?: string;
  readonly to?: string;
  /** The new version's share now, 0..1. */
  readonly weight?: number;
  /** Epoch ms traffic started to move (AllowTraffic began); undefined before (the pre-traffic check). */
  readonly trafficStartedAt?: number;
  /** The lifecycle event under way: BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic. */
  readonly stage?: string;
  readonly alarms: readonly DeploymentAlarm[];
  /** The local mesh runs deployments this many times faster than CodeDeploy (1 on AWS). */
  readonly speed: number;
}

type CodeDeploy = typeof import('@aws-sdk/client-codedeploy');

/** Errors that mean "this service has no gated deployments here". */
const NOT_GATED = new Set(['ApplicationDoesNotExistException', 'DeploymentGroupDoesNotExistException']);

export interface DeploymentReader {
  /** The service's deployment in progress, or undefined (none, or the service is not gated). */
  active(mesh: string, service: string): Promise<ActiveDeployment | undefined>;
  /** The service's last deployment of the hour when it ended without going live (ended-deployment.ts). */
  lastEnded(mesh: string, service: string): Promise<EndedDeployment | undefined>;
  /** StopDeployment with rollback: CodeDeploy moves `live` back to the version it started from. */
  stop(id: string): Promise<{ status?: string; statusMessage?: string }>;
  /** GetDeployment's status now. */
  status(id: string): Promise<string | undefined>;
  close(): void;
}

type Client = import('@aws-sdk/client-codedeploy').CodeDeployClient;
type Flags = Pick<AwsFlags, 'region' | 'endpointUrl'>;

export function deploymentReader(flags: Flags, ctx: CliContext): DeploymentReader {
  let made: Promise<{ sdk: CodeDeploy; client: Client }> | undefined;
  const codedeploy = () =>
    (made ??= (async () => {
      const sdk = require('@aws-sdk/client-codedeploy') as CodeDeploy;
      return { sdk, client: new sdk.CodeDeployClient(await ctx.clients(flags).config('CODEDEPLOY')) };
    })());
  return {
    async active(mesh, service) {
      const { sdk, client } = await codedeploy();
      const group = {
        applicationName: DEPLOYMENT.applicationName(mesh),
        deploymentGroupName: DEPLOYMENT.groupName(service),
      };
      const id = await activeId(sdk, client, group);
      return id === undefined ? undefined : readActive(sdk, client, { id, service, group, flags, ctx });
    },
    async lastEnded(mesh, service) {
      const { sdk, client } = await codedeploy();
      const group = {
        applicationName: DEPLOYMENT.applicationName(mesh),
        deploymentGroupName: DEPLOYMENT.groupName(service),
      };
      const at = { sdk, client, group, service, now: Date.now() };
      return ifGated(lastEndedDeployment(at, async (id) => (await lambdaTarget(sdk, client, id))?.lambdaFunctionInfo));
    },
    async stop(id) {
      const { sdk, client } = await codedeploy();
      return awsCall('CodeDeploy StopDeployment', () =>
        client.send(new sdk.StopDeploymentCommand({ deploymentId: id, autoRollbackEnabled: true })),
      );
    },
    async status(id) {
      const { sdk, client } = await codedeploy();
      const out = await awsCall('CodeDeploy GetDeployment', () =>
        client.send(new sdk.GetDeploymentCommand({ deploymentId: id })),
      );
      return out.deploymentInfo?.status;
    },
    close() {
      void made?.then((m) => m.client.destroy());
    },
  };
}

interface GroupName {
  readonly applicationName: string;
  readonly deploymentGroupName: string;
}

/** The group's deployment that is not over, if any; undefined too when the service has no group. */
async function activeId(sdk: CodeDeploy, client: Client, group: GroupName): Promise<string | undefined> {
  const out = await ifGated(
    awsCall('CodeDeploy ListDeployments', () =>
      client.send(new sdk.ListDeploymentsCommand({ ...group, includeOnlyStatuses: [...ACTIVE_STATUSES] })),
    ),
  );
  return out?.deployments?.[0];
}

/** What a read of the service's group gives, or undefined when the service has no group. */
async function ifGated<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof AwsCallError && NOT_GATED.has(err.code)) return undefined;
    throw err;
  }
}

/** Everything `mesh status` shows of one deployment: its config, target, alarms and the local speed. */
async function readActive(
  sdk: CodeDeploy,
  client: Client,
  at: { id: string; service: string; group: GroupName; flags: Flags; ctx: CliContext },
): Promise<ActiveDeployment> {
  const info = (
    await awsCall('CodeDeploy GetDeployment', () => client.send(new sdk.GetDeploymentCommand({ deploymentId: at.id })))
  ).deploymentInfo;
  const configName = info?.deploymentConfigName ?? '';
  const [config, target, group, speed] = await Promise.all([
    awsCall('CodeDeploy GetDeploymentConfig', () =>
      client.send(new sdk.GetDeploymentConfigCommand({ deploymentConfigName: configName })),
    ),
    lambdaTarget(sdk, client, at.id),
    awsCall('CodeDeploy GetDeploymentGroup', () => client.send(new sdk.GetDeploymentGroupCommand(at.group))),
    localSpeed(at.flags, at.ctx),
  ]);
  const names = (group.deploymentGroupInfo?.alarmConfiguration?.alarms ?? []).map((a) => a.name ?? '');
  return {
    id: at.id,
    service: at.service,
    status: info?.status ?? 'unknown',
    configName,
    ...progress(config.deploymentConfigInfo?.trafficRoutingConfig, target),
    alarms: await alarmStates(at.flags, at.ctx, names),
    speed,
  };
}

type LambdaTarget = Awaited<ReturnType<typeof lambdaTarget>>;

/** Pure: how far the deployment is, from its config and its Lambda target's lifecycle events. */
function progress(routingConfig: unknown, target: LambdaTarget): Partial<ActiveDeployment> {
  const events = target?.lifecycleEvents ?? [];
  const allow = events.find((e) => e.lifecycleEventName === 'AllowTraffic');
  const stage = events.find((e) => e.status === 'InProgress')?.lifecycleEventName;
  const fn = target?.lambdaFunctionInfo;
  const routing = parseTrafficRouting(routingConfig);
  return {
    ...(routing ? { routing } : {}),
    ...(fn?.currentVersion ? { from: fn.currentVersion } : {}),
    ...(fn?.targetVersion ? { to: fn.targetVersion } : {}),
    ...(fn?.targetVersionWeight !== undefined ? { weight: fn.targetVersionWeight } : {}),
    ...(allow?.startTime ? { trafficStartedAt: allow.startTime.getTime() } : {}),
    ...(stage ? { stage } : {}),
  };
}

async function lambdaTarget(sdk: CodeDeploy, client: Client, deploymentId: string) {
  const ids = await awsCall('CodeDeploy ListDeploymentTargets', () =>
    client.send(new sdk.ListDeploymentTargetsCommand({ deploymentId })),
  );
  const targetId = ids.targetIds?.[0];
  if (!targetId) return undefined;
  const out = await awsCall('CodeDeploy GetDeploymentTarget', () =>
    client.send(new sdk.GetDeploymentTargetCommand({ deploymentId, targetId })),
  );
  return out.deploymentTarget?.lambdaTarget;
}

async function alarmStates(flags: Flags, ctx: CliContext, names: readonly string[]): Promise<DeploymentAlarm[]> {
  if (names.length === 0) return [];
  const cw = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
  const client = new cw.CloudWatchClient(await ctx.clients(flags).config('CLOUDWATCH'));
  try {
    const out = await awsCall('CloudWatch DescribeAlarms', () =>
      client.send(new cw.DescribeAlarmsCommand({ AlarmNames: [...names] })),
    );
    const state = new Map((out.MetricAlarms ?? []).map((a) => [a.AlarmName, a.StateValue ?? 'unknown']));
    return names.map((name) => ({ name, state: state.get(name) ?? 'unknown' }));
  } finally {
    client.destroy();
  }
}

/** The local mesh's speed (its /_mesh/deployments says), 1 against AWS. */
async function localSpeed(flags: Flags, ctx: CliContext): Promise<number> {
  const endpoint = ctx.clients(flags).settings.endpoints.LAMBDA?.replace(/\/+$/, '');
  if (!endpoint) return 1;
  const speed = Number((await localMeshJson<{ speed?: unknown }>(endpoint, '/_mesh/deployments'))?.speed ?? 1);
  return speed > 0 ? speed : 1;
}
