/**
 * A service's last gated deployment when it ended without going live (Stopped or Failed), read from
 * CodeDeploy (ListDeployments, BatchGetDeployments, the target for the versions). At 3 a.m. the alias
 * is back on the stable version and nothing else says why the canary is not live: this does, with
 * CodeDeploy's error (ALARM_ACTIVE naming the alarms, HOOK_EXECUTION_FAILURE, MANUAL_STOP).
 */
import type { CodeDeployClient, DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { awsCall } from './errors';

/** How far back `mesh status` looks: a page is usually answered within it. */
export const ENDED_LOOKBACK_MS = 60 * 60 * 1000;

/** The deployments CodeDeploy itself makes to roll another back: never the one an operator looks for. */
const ROLLBACK_CREATOR = 'codeDeployRollback';

/** BatchGetDeployments takes at most 25 ids (CodeDeploy API Reference). */
const BATCH = 25;

export interface EndedDeployment {
  readonly id: string;
  readonly service: string;
  /** Stopped or Failed. */
  readonly status: string;
  readonly from?: string;
  readonly to?: string;
  /** ISO time CodeDeploy completed it. */
  readonly endedAt?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /** The deployment CodeDeploy made to move live back, when it rolled back. */
  readonly rolledBackBy?: string;
}

type CodeDeploy = typeof import('@aws-sdk/client-codedeploy');
type Group = { readonly applicationName: string; readonly deploymentGroupName: string };
type Versions = (id: string) => Promise<{ currentVersion?: string; targetVersion?: string } | undefined>;

/** The group's newest deployment of the last hour (rollbacks aside), when it ended without going live. */
export async function lastEndedDeployment(
  at: { sdk: CodeDeploy; client: CodeDeployClient; group: Group; service: string; now: number },
  versions: Versions,
): Promise<EndedDeployment | undefined> {
  const { sdk, client, group } = at;
  const createTimeRange = { start: new Date(at.now - ENDED_LOOKBACK_MS) };
  const ids = (
    await awsCall('CodeDeploy ListDeployments', () =>
      client.send(new sdk.ListDeploymentsCommand({ ...group, createTimeRange })),
    )
  ).deployments?.slice(0, BATCH);
  if (!ids?.length) return undefined;
  const infos = (
    await awsCall('CodeDeploy BatchGetDeployments', () =>
      client.send(new sdk.BatchGetDeploymentsCommand({ deploymentIds: ids })),
    )
  ).deploymentsInfo;
  const last = newestOwn(infos ?? [], at.now);
  if (!last?.deploymentId || (last.status !== 'Stopped' && last.status !== 'Failed')) return undefined;
  return endedDeployment(last, at.service, await versions(last.deploymentId));
}

/** Pure: the newest deployment created within the lookback that is no rollback. */
export function newestOwn(infos: readonly DeploymentInfo[], now: number): DeploymentInfo | undefined {
  const created = (d: DeploymentInfo) => d.createTime?.getTime() ?? 0;
  return infos
    .filter((d) => d.creator !== ROLLBACK_CREATOR && created(d) >= now - ENDED_LOOKBACK_MS)
    .sort((a, b) => created(b) - created(a))[0];
}

function endedDeployment(d: DeploymentInfo, service: string, target: Awaited<ReturnType<Versions>>): EndedDeployment {
  return {
    id: d.deploymentId ?? '',
    service,
    status: d.status ?? 'unknown',
    ...(target?.currentVersion ? { from: target.currentVersion } : {}),
    ...(target?.targetVersion ? { to: target.targetVersion } : {}),
    ...(d.completeTime ? { endedAt: d.completeTime.toISOString() } : {}),
    ...(d.errorInformation?.code ? { errorCode: d.errorInformation.code } : {}),
    ...(d.errorInformation?.message ? { errorMessage: d.errorInformation.message } : {}),
    ...(d.rollbackInfo?.rollbackDeploymentId ? { rolledBackBy: d.rollbackInfo.rollbackDeploymentId } : {}),
  };
}
