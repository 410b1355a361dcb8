/**
 * Pure: a deployment in progress as `mesh status` prints it (and one that ended without going live): the versions, the config, the step and
 * the time to the next shift (from the config's steps and when traffic started to move, scaled by the
 * local mesh's speed), and each alarm's state.
 */
import { describeRouting, stepAt, trafficSteps } from '../shared/deployment-config';
import type { ActiveDeployment } from './deployment-store';
import type { EndedDeployment } from './ended-deployment';

export interface DeploymentPosition {
  /** "pre-traffic check", "step 1/2", "post-traffic hook". */
  readonly stage: string;
  /** The new version's share now, in percent. */
  readonly percent?: number;
  readonly nextShiftInMs?: number;
  /** The new version's share after the next shift, in percent. */
  readonly nextPercent?: number;
}

export function deploymentPosition(d: ActiveDeployment, now: number): DeploymentPosition {
  const percent = d.weight === undefined ? undefined : Math.round(d.weight * 1000) / 10;
  if (d.stage === 'BeforeAllowTraffic' || (d.trafficStartedAt === undefined && !d.stage)) {
    return { stage: 'pre-traffic check', ...(percent !== undefined ? { percent } : {}) };
  }
  if (d.stage === 'AfterAllowTraffic')
    return { stage: 'post-traffic hook', ...(percent !== undefined ? { percent } : {}) };
  if (!d.routing || d.trafficStartedAt === undefined)
    return { stage: 'shifting traffic', ...(percent !== undefined ? { percent } : {}) };
  const steps = trafficSteps(d.routing).map((s) => ({ ...s, afterMs: s.afterMs / d.speed }));
  const p = stepAt(steps, now - d.trafficStartedAt);
  return {
    stage: `step ${p.index + 1}/${p.count}`,
    percent: percent ?? Math.round(p.weight * 1000) / 10,
    ...(p.nextShiftInMs !== undefined
      ? { nextShiftInMs: p.nextShiftInMs, nextPercent: Math.round((p.nextWeight ?? 1) * 1000) / 10 }
      : {}),
  };
}

/** The lines under DEPLOYMENTS IN PROGRESS for one service. */
export function describeDeployment(d: ActiveDeployment, now: number): string[] {
  const p = deploymentPosition(d, now);
  const versions = d.from && d.to ? `v${d.from} -> v${d.to}` : 'versions unknown';
  const config = d.routing ? `${d.configName} (${describeRouting(d.routing)})` : d.configName;
  const where = p.percent !== undefined && d.to ? `${p.stage}: ${p.percent}% on v${d.to}` : p.stage;
  const next =
    p.nextShiftInMs !== undefined ? `, next shift to ${p.nextPercent}% in ${formatWait(p.nextShiftInMs)}` : '';
  const speed = d.speed !== 1 ? ` (local mesh, ${d.speed}x CodeDeploy's pace)` : '';
  const lines = [`  ${d.service}  ${d.id}  ${versions}  ${config}`, `    ${where}${next}${speed}`];
  if (d.alarms.length) lines.push(`    alarms: ${d.alarms.map((a) => `${a.name} ${a.state}`).join(', ')}`);
  return lines;
}

/** 4m12s, 27s. */
export function formatWait(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * The lines under DEPLOYMENTS THAT DID NOT GO LIVE for one service: the deployment, when it ended,
 * CodeDeploy's reason, and where `live` sends traffic now (`live`, as the alias reads).
 */
export function describeEndedDeployment(d: EndedDeployment, now: number, live?: string): string[] {
  const versions = d.from && d.to ? `v${d.from} -> v${d.to}` : 'versions unknown';
  const ended = d.endedAt ? Date.parse(d.endedAt) : undefined;
  const when = ended === undefined ? '' : ` at ${clockTime(ended)} UTC (${formatWait(now - ended)} ago)`;
  const lines = [`  ${d.service}  ${d.id}  ${versions}  ${d.status}${when}`];
  if (d.errorCode || d.errorMessage) lines.push(`    ${[d.errorCode, d.errorMessage].filter(Boolean).join(': ')}`);
  const where = live ? `live now ${live}` : undefined;
  if (d.rolledBackBy) lines.push(`    rolled back by ${d.rolledBackBy}${where ? `: ${where}` : ''}`);
  else if (where) lines.push(`    ${where}`);
  return lines;
}

/** 12:31:36, in UTC. */
function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
