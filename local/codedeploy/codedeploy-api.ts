/**
 * CodeDeploy on the wire (awsJson1_1, `X-Amz-Target: CodeDeploy_20141006.<Op>`), for the calls a
 * Lambda deployment involves: CreateDeployment, GetDeployment, ListDeployments, StopDeployment,
 * PutLifecycleEventHookExecutionStatus, and what `mesh status` reads (GetDeploymentGroup,
 * GetDeploymentConfig, ListDeploymentTargets, GetDeploymentTarget, GetApplication, ListApplications,
 * ListDeploymentGroups). Shapes follow the CodeDeploy API Reference; timestamps are epoch seconds, as the JSON protocols send them.
 */
import { trafficRoutingApiShape } from '../../shared/deployment-config';
import { AwsError } from '../endpoint/errors';
import { type CodeDeployEngine, type Deployment, parseAppSpec } from './codedeploy-engine';

export function handleCodeDeploy(
  engine: CodeDeployEngine,
  operation: string,
  input: Record<string, unknown>,
  where: { region: string; accountId: string },
): unknown {
  const str = (key: string): string | undefined =>
    typeof input[key] === 'string' ? (input[key] as string) : undefined;
  const required = (key: string, code: string): string => {
    const v = str(key);
    if (!v) throw new AwsError(code, 400, `${key} is required`);
    return v;
  };
  switch (operation) {
    case 'CreateDeployment': {
      const applicationName = required('applicationName', 'ApplicationNameRequiredException');
      const groupName = required('deploymentGroupName', 'DeploymentGroupNameRequiredException');
      const revision = input.revision as { revisionType?: string; appSpecContent?: { content?: unknown } } | undefined;
      if (revision?.revisionType !== 'AppSpecContent' || typeof revision.appSpecContent?.content !== 'string') {
        throw new AwsError(
          'InvalidRevisionException',
          400,
          'A Lambda deployment needs revision { revisionType: "AppSpecContent", appSpecContent: { content } }',
        );
      }
      const d = engine.create({
        applicationName,
        groupName,
        appSpec: parseAppSpec(revision.appSpecContent.content),
        configName: str('deploymentConfigName'),
        description: str('description'),
      });
      return { deploymentId: d.id };
    }
    case 'GetDeployment':
      return { deploymentInfo: deploymentInfo(engine.deployment(str('deploymentId') ?? '')) };
    case 'BatchGetDeployments': {
      const ids = Array.isArray(input.deploymentIds) ? (input.deploymentIds as string[]) : [];
      return { deploymentsInfo: ids.map((id) => deploymentInfo(engine.deployment(id))) };
    }
    case 'ListDeployments': {
      const applicationName = str('applicationName');
      const groupName = str('deploymentGroupName');
      if (groupName && !applicationName) {
        throw new AwsError(
          'ApplicationNameRequiredException',
          400,
          'applicationName is required with deploymentGroupName',
        );
      }
      if (applicationName && groupName) engine.group(applicationName, groupName);
      else if (applicationName) engine.application(applicationName);
      const statuses = Array.isArray(input.includeOnlyStatuses) ? (input.includeOnlyStatuses as string[]) : undefined;
      return { deployments: engine.list({ applicationName, groupName, statuses }).map((d) => d.id) };
    }
    case 'StopDeployment': {
      const id = required('deploymentId', 'DeploymentIdRequiredException');
      const rollback = typeof input.autoRollbackEnabled === 'boolean' ? input.autoRollbackEnabled : undefined;
      return engine.stop(id, rollback);
    }
    case 'PutLifecycleEventHookExecutionStatus': {
      const id = required('deploymentId', 'DeploymentIdRequiredException');
      const executionId = required('lifecycleEventHookExecutionId', 'InvalidLifecycleEventHookExecutionIdException');
      return { lifecycleEventHookExecutionId: engine.putHookStatus(id, executionId, str('status') ?? '') };
    }
    case 'GetApplication': {
      const name = required('applicationName', 'ApplicationNameRequiredException');
      const a = engine.application(name);
      return {
        application: {
          applicationId: a.id,
          applicationName: name,
          createTime: a.createTime / 1000,
          computePlatform: 'Lambda',
        },
      };
    }
    case 'ListApplications':
      return { applications: engine.applicationNames() };
    case 'ListDeploymentGroups': {
      const applicationName = required('applicationName', 'ApplicationNameRequiredException');
      return { applicationName, deploymentGroups: engine.groupNames(applicationName) };
    }
    case 'GetDeploymentGroup': {
      const g = engine.group(
        required('applicationName', 'ApplicationNameRequiredException'),
        required('deploymentGroupName', 'DeploymentGroupNameRequiredException'),
      );
      return {
        deploymentGroupInfo: {
          applicationName: g.applicationName,
          deploymentGroupId: g.id,
          deploymentGroupName: g.name,
          deploymentConfigName: g.configName,
          ...(g.serviceRoleArn ? { serviceRoleArn: g.serviceRoleArn } : {}),
          alarmConfiguration: {
            enabled: g.alarmsEnabled,
            ignorePollAlarmFailure: g.ignorePollAlarmFailure,
            alarms: g.alarms.map((name) => ({ name })),
          },
          autoRollbackConfiguration: { enabled: g.autoRollbackEvents.length > 0, events: [...g.autoRollbackEvents] },
          deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
          computePlatform: 'Lambda',
        },
      };
    }
    case 'GetDeploymentConfig': {
      const c = engine.config(required('deploymentConfigName', 'DeploymentConfigNameRequiredException'));
      return {
        deploymentConfigInfo: {
          deploymentConfigId: c.id,
          deploymentConfigName: c.name,
          createTime: c.createTime / 1000,
          computePlatform: 'Lambda',
          trafficRoutingConfig: trafficRoutingApiShape(c.routing),
        },
      };
    }
    case 'ListDeploymentTargets': {
      const d = engine.deployment(str('deploymentId') ?? '');
      return { targetIds: [targetId(d)] };
    }
    case 'GetDeploymentTarget': {
      const d = engine.deployment(str('deploymentId') ?? '');
      const wanted = str('targetId');
      if (wanted !== targetId(d)) {
        throw new AwsError('DeploymentTargetDoesNotExistException', 400, `No target ${wanted} in deployment ${d.id}`);
      }
      return { deploymentTarget: { deploymentTargetType: 'LambdaTarget', lambdaTarget: lambdaTarget(d, where) } };
    }
    default:
      throw new AwsError(
        'UnknownOperationException',
        400,
        `lambda-mesh local endpoint does not support CodeDeploy.${operation}`,
      );
  }
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/** GetDeployment's `deploymentInfo`. */
export function deploymentInfo(d: Deployment): Record<string, unknown> {
  const events = d.events;
  const count = (s: string) => events.filter((e) => e.status === s).length;
  return {
    applicationName: d.applicationName,
    deploymentGroupName: d.groupName,
    deploymentConfigName: d.configName,
    deploymentId: d.id,
    status: d.status,
    creator: d.creator,
    ...(d.description ? { description: d.description } : {}),
    createTime: seconds(d.createTime),
    ...(d.startTime !== undefined ? { startTime: seconds(d.startTime) } : {}),
    ...(d.completeTime !== undefined ? { completeTime: seconds(d.completeTime) } : {}),
    ...(d.errorInformation ? { errorInformation: d.errorInformation } : {}),
    ...(d.rollbackInfo ? { rollbackInfo: d.rollbackInfo } : {}),
    computePlatform: 'Lambda',
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    deploymentOverview: {
      Pending: count('Pending'),
      InProgress: count('InProgress'),
      Succeeded: count('Succeeded'),
      Failed: count('Failed'),
      Skipped: count('Skipped'),
      Ready: 0,
    },
    revision: {
      revisionType: 'AppSpecContent',
      appSpecContent: { content: appSpecOf(d) },
    },
  };
}

function targetId(d: Deployment): string {
  return `${d.functionName}:${d.alias}`;
}

function lambdaTarget(d: Deployment, where: { region: string; accountId: string }): Record<string, unknown> {
  const ended = d.status === 'Succeeded' || d.status === 'Failed' || d.status === 'Stopped';
  return {
    deploymentId: d.id,
    targetId: targetId(d),
    targetArn: `arn:aws:lambda:${where.region}:${where.accountId}:function:${d.functionName}:${d.alias}`,
    status: ended ? d.status : d.status === 'Created' ? 'Pending' : 'InProgress',
    lastUpdatedAt: seconds(d.notes[d.notes.length - 1]?.at ?? d.createTime),
    lifecycleEvents: d.events.map((e) => ({
      lifecycleEventName: e.name,
      status: e.status,
      ...(e.startTime !== undefined ? { startTime: seconds(e.startTime) } : {}),
      ...(e.endTime !== undefined ? { endTime: seconds(e.endTime) } : {}),
      ...(e.diagnostics
        ? { diagnostics: { ...e.diagnostics, scriptName: d.hooks[e.name as 'BeforeAllowTraffic'] } }
        : {}),
    })),
    lambdaFunctionInfo: {
      functionName: d.functionName,
      functionAlias: d.alias,
      currentVersion: d.currentVersion,
      targetVersion: d.targetVersion,
      targetVersionWeight: d.weight,
    },
  };
}

function appSpecOf(d: Deployment): string {
  const hooks = Object.entries(d.hooks).map(([k, v]) => ({ [k]: v }));
  return JSON.stringify({
    version: 0.0,
    Resources: [
      {
        [d.functionName]: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Name: d.functionName,
            Alias: d.alias,
            CurrentVersion: d.currentVersion,
            TargetVersion: d.targetVersion,
          },
        },
      },
    ],
    ...(hooks.length ? { Hooks: hooks } : {}),
  });
}
