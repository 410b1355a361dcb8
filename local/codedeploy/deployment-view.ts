/**
 * What the live view and the dashboard show of the local deployments: per deployment, the service,
 * the versions, the config, the step and the time to the next shift, the alarms' states and what
 * happened (the pre-traffic check, each shift, the alarm that stopped it, the rollback). Served as
 * `GET /_mesh/deployments`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeRouting, stepAt } from '../../shared/deployment-config';
import type { AlarmRegistry } from '../cloudwatch/alarms';
import type { CodeDeployEngine, Deployment } from './codedeploy-engine';

export interface DeploymentView {
  readonly id: string;
  /** The deployment group: the service. */
  readonly service: string;
  readonly functionName: string;
  readonly from: string;
  readonly to: string;
  readonly config: string;
  readonly configName: string;
  readonly status: string;
  readonly creator: string;
  /** The new version's share now, 0..1. */
  readonly weight: number;
  /** 1-based step and the number of steps, once traffic moves. */
  readonly step?: { readonly index: number; readonly count: number };
  readonly nextShiftInMs?: number;
  readonly nextWeight?: number;
  readonly startedAt: number;
  readonly endedAt?: number;
  readonly alarms: { readonly name: string; readonly state: string; readonly reason: string }[];
  readonly error?: { readonly code: string; readonly message: string };
  /** The alarms (short names) whose ALARM state stopped the deployment, when that is what stopped it. */
  readonly stoppedBy?: readonly string[];
  readonly rolledBack: boolean;
  /**
   * What happened, each with its time since the deployment was created: its first note, "created", comes
   * before the start (`startedAt`), so time from the start would put it below zero.
   */
  readonly notes: { readonly at: number; readonly afterMs: number; readonly text: string }[];
}

/** The deployments (rollback records left out: the one they undo says so), newest first. */
export function deploymentViews(engine: CodeDeployEngine, alarms: AlarmRegistry, now: number): DeploymentView[] {
  return engine
    .list()
    .filter((d) => d.creator !== 'codeDeployRollback')
    .map((d) => view(d, engine, alarms, now));
}

function view(d: Deployment, engine: CodeDeployEngine, alarms: AlarmRegistry, now: number): DeploymentView {
  const active = d.status === 'Created' || d.status === 'InProgress';
  const position = active && d.trafficStartedAt !== undefined ? stepAt(d.steps, now - d.trafficStartedAt) : undefined;
  let names: readonly string[] = [];
  try {
    names = engine.group(d.applicationName, d.groupName).alarms;
  } catch {
    names = [];
  }
  return {
    id: d.id,
    service: d.groupName,
    functionName: d.functionName,
    from: d.currentVersion,
    to: d.targetVersion,
    config: describeRouting(d.routing),
    configName: d.configName,
    status: d.status,
    creator: d.creator,
    weight: d.weight,
    ...(position ? { step: { index: position.index + 1, count: position.count } } : {}),
    ...(position?.nextShiftInMs !== undefined
      ? { nextShiftInMs: position.nextShiftInMs, nextWeight: position.nextWeight }
      : {}),
    startedAt: d.startTime ?? d.createTime,
    ...(d.completeTime !== undefined ? { endedAt: d.completeTime } : {}),
    alarms: names.map((name) => {
      const s = active ? alarms.evaluate(name) : undefined;
      return { name, state: s?.value ?? (active ? 'UNKNOWN' : '-'), reason: s?.reason ?? '' };
    }),
    ...(d.errorInformation ? { error: d.errorInformation } : {}),
    ...(d.errorInformation?.code === 'ALARM_ACTIVE' ? { stoppedBy: firing(d.errorInformation.message) } : {}),
    rolledBack: d.rollbackInfo?.rollbackDeploymentId !== undefined,
    notes: d.notes.map((n) => ({ at: n.at, afterMs: n.at - d.createTime, text: n.text })),
  };
}

/** Lines for the terminal's live view: the latest deployment per service. */
export function deploymentLines(views: readonly DeploymentView[], now: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of views) {
    if (seen.has(v.service)) continue;
    seen.add(v.service);
    const took = (((v.endedAt ?? now) - v.startedAt) / 1000).toFixed(1);
    const head = `deployment ${v.id} ${v.service} v${v.from} -> v${v.to} (${v.config})`;
    if (v.status === 'InProgress' || v.status === 'Created') {
      const where = v.step
        ? `step ${v.step.index}/${v.step.count}: ${pct(v.weight)} on v${v.to}` +
          (v.nextShiftInMs !== undefined
            ? `, ${pct(v.nextWeight ?? 1)} in ${(v.nextShiftInMs / 1000).toFixed(0)} s`
            : '')
        : 'pre-traffic check';
      out.push(`  ${head}: ${where}, ${took} s in`);
      if (v.alarms.length) out.push(`    alarms: ${v.alarms.map((a) => `${shortName(a.name)} ${a.state}`).join('  ')}`);
      continue;
    }
    const why = v.error ? `: ${v.error.code}${v.stoppedBy ? ` (${v.stoppedBy.join(', ')})` : ''}` : '';
    const after = v.rolledBack ? `, rolled back to v${v.from}` : '';
    out.push(`  ${head}: ${v.status.toUpperCase()} after ${took} s${why}${after}`);
    const last = v.notes.filter((n) => /hook failed/.test(n.text)).pop();
    if (last) out.push(`    ${last.text}`);
  }
  return out;
}

/** The alarms CodeDeploy's ALARM_ACTIVE message names ("Activated alarms: <a, b>"), by short name. */
function firing(message: string): string[] {
  const m = /Activated alarms: <([^>]*)>/.exec(message);
  return m ? m[1]!.split(', ').map(shortName) : ['alarm'];
}

/** "LambdaMeshShop-PaymentsDeploymentSuccessRate24908696" -> "SuccessRate". */
export function shortName(alarm: string): string {
  const m = /Deployment([A-Za-z0-9]+?)[0-9A-F]{8}$/.exec(alarm);
  return m ? m[1]! : alarm;
}

function pct(w: number): string {
  return `${Math.round(w * 1000) / 10}%`;
}

/**
 * `GET /_mesh/deployments`: `{ speed, deployments: DeploymentView[] }`; `speed` tells tools reading the
 * CodeDeploy API how much faster than its intervals the local deployments run.
 */
export function handleDeploymentsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  engine: CodeDeployEngine,
  alarms: AlarmRegistry,
): boolean {
  const path = (req.url ?? '').split('?')[0]!.replace(/\/+$/, '');
  // Another method falls through to the mesh routes, which refuse it (405): every /_mesh/ route only reads.
  if (path !== '/_mesh/deployments' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const body = JSON.stringify({ speed: engine.speed, deployments: deploymentViews(engine, alarms, Date.now()) });
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-lambda-mesh-local': '1',
  });
  res.end(body);
  return true;
}
