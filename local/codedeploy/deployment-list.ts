/**
 * ListDeployments as the CodeDeploy API Reference describes it: an application and a deployment group
 * named together or not at all, `includeOnlyStatuses` of DeploymentStatus's values, `createTimeRange`
 * (either end optional, both inclusive), newest first, in pages with a `nextToken`.
 */
import { AwsError } from '../endpoint/errors';
import { tokenPage } from '../endpoint/next-token';
import type { CodeDeployEngine } from './codedeploy-engine';

/** DeploymentStatus's values in the CodeDeploy API Reference. */
const STATUSES = ['Created', 'Queued', 'InProgress', 'Baking', 'Succeeded', 'Failed', 'Stopped', 'Ready'];
/** Deployments in one page: the reference does not say how many; the local mesh gives 100. */
export const DEPLOYMENTS_PER_PAGE = 100;

export function listDeployments(engine: CodeDeployEngine, input: Record<string, unknown>): unknown {
  const applicationName = text(input, 'applicationName');
  const groupName = text(input, 'deploymentGroupName');
  if (groupName && !applicationName) {
    throw new AwsError('ApplicationNameRequiredException', 400, 'applicationName is required with deploymentGroupName');
  }
  if (applicationName && !groupName) {
    throw new AwsError(
      'DeploymentGroupNameRequiredException',
      400,
      'deploymentGroupName is required with applicationName',
    );
  }
  if (applicationName && groupName) engine.group(applicationName, groupName);
  const statuses = Array.isArray(input.includeOnlyStatuses) ? input.includeOnlyStatuses.map(String) : undefined;
  const unknown = statuses?.find((s) => !STATUSES.includes(s));
  if (unknown !== undefined) {
    throw new AwsError(
      'InvalidDeploymentStatusException',
      400,
      `includeOnlyStatuses has ${JSON.stringify(unknown)}, which is no deployment status: use ${STATUSES.join(', ')}`,
    );
  }
  const { from, to } = timeRange(input.createTimeRange);
  const ids = engine
    .list({ applicationName, groupName, statuses })
    // No local deployment is linked to an external resource, so an externalId matches none.
    .filter((d) => d.createTime >= from && d.createTime <= to && input.externalId === undefined)
    .map((d) => d.id);
  const { page, nextToken } = tokenPage(ids, text(input, 'nextToken'), DEPLOYMENTS_PER_PAGE, (token) => {
    return new AwsError(
      'InvalidNextTokenException',
      400,
      `nextToken ${JSON.stringify(token)} is not one this list gave`,
    );
  });
  return { deployments: page, ...(nextToken ? { nextToken } : {}) };
}

function text(input: Record<string, unknown>, key: string): string | undefined {
  return typeof input[key] === 'string' && input[key] !== '' ? input[key] : undefined;
}

/** TimeRange's start and end, epoch seconds on the wire, in ms; a start after its end is refused. */
function timeRange(range: unknown): { from: number; to: number } {
  const r = (range ?? {}) as { start?: unknown; end?: unknown };
  const from = typeof r.start === 'number' ? r.start * 1000 : -Infinity;
  const to = typeof r.end === 'number' ? r.end * 1000 : Infinity;
  if (from > to) {
    throw new AwsError(
      'InvalidTimeRangeException',
      400,
      `createTimeRange starts (${new Date(from).toISOString()}) after it ends (${new Date(to).toISOString()})`,
    );
  }
  return { from, to };
}
