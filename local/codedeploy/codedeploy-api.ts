/**
 * CodeDeploy on the wire (awsJson1_1, `X-Amz-Target: CodeDeploy_20141006.<Op>`), for the calls a
 * Lambda deployment involves: CreateDeployment, GetDeployment, ListDeployments, StopDeployment,
 * PutLifecycleEventHookExecutionStatus, and what `mesh status` reads (GetDeploymentGroup,
 * GetDeploymentConfig, ListDeploymentTargets, GetDeploymentTarget, GetApplication, ListApplications,
 * ListDeploymentGroups). Shapes follow the CodeDeploy API Reference; timestamps are epoch seconds, as the JSON protocols send them.
 */
import { trafficRoutingApiShape } from '../../shared/deployment-config';
import { AwsError } from '../endpoint/errors';
import { type CodeDeployEngine, type Deployment, type DeploymentGroup, parseAppSpec } from './codedeploy-engine';
import { listDeployments } from './deployment-list';

interface Where {
  readonly region: string;
  readonly accountId: string;
}

/** One request's input, with the checks every operation makes of its fields. */
class Input {
  constructor(readonly raw: Record<string, unknown>) {}

  str(key: string): string | undefined {
    return typeof this.raw[key] === 'string' ? (this.raw[key] as string) : undefined;
  }

  /** A required string field; CodeDeploy names each missing one with its own exception. */
  required(key: string, code: string): string {
    const v = this.str(key);
    if (!v) throw new AwsError(code, 400, `${key} is required`);
    return v;
  }

  strings(key: string): string[] | undefined {
    return Array.isArray(this.raw[key]) ? (this.raw[key] as string[]) : undefined;
  }
}

type Operation = (engine: CodeDeployEngine, input: Input, where: Where) => unknown;

const APP = ['applicationName', 'ApplicationNameRequiredException'] as const;
const GROUP = ['deploymentGroupName', 'DeploymentGroupNameRequiredException'] as const;
const DEPLOYMENT_ID = ['deploymentId', 'DeploymentIdRequiredException'] as const;

const OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateDeployment: (engine, input) => ({ deploymentId: createDeployment(engine, input).id }),
  GetDeployment: (engine, input) => ({
    deploymentInfo: deploymentInfo(engine.deployment(input.str('deploymentId') ?? '')),
  }),
  BatchGetDeployments: (engine, input) => ({
    deploymentsInfo: (input.strings('deploymentIds') ?? []).map((id) => deploymentInfo(engine.deployment(id))),
  }),
  ListDeployments: (engine, input) => listDeployments(engine, input.raw),
  StopDeployment: (engine, input) => {
    const rollback = typeof input.raw.autoRollbackEnabled === 'boolean' ? input.raw.autoRollbackEnabled : undefined;
    return engine.stop(input.required(...DEPLOYMENT_ID), rollback);
  },
  PutLifecycleEventHookExecutionStatus: (engine, input) => {
    const id = input.required(...DEPLOYMENT_ID);
    const executionId = input.required(
      'lifecycleEventHookExecutionId',
      'InvalidLifecycleEventHookExecutionIdException',
    );
    return { lifecycleEventHookExecutionId: engine.putHookStatus(id, executionId, input.str('status') ?? '') };
  },
  GetApplication: (engine, input) => {
    const name = input.required(...APP);
    const a = engine.application(name);
    return {
      application: {
        applicationId: a.id,
        applicationName: name,
        createTime: a.createTime / 1000,
        computePlatform: 'Lambda',
      },
    };
  },
  ListApplications: (engine) => ({ applications: engine.applicationNames() }),
  ListDeploymentGroups: (engine, input) => {
    const applicationName = input.required(...APP);
    return { applicationName, deploymentGroups: engine.groupNames(applicationName) };
  },
  GetDeploymentGroup: (engine, input) => ({
    deploymentGroupInfo: deploymentGroupInfo(engine.group(input.required(...APP), input.required(...GROUP))),
  }),
  GetDeploymentConfig: (engine, input) => {
    const c = engine.config(input.required('deploymentConfigName', 'DeploymentConfigNameRequiredException'));
    return {
      deploymentConfigInfo: {
        deploymentConfigId: c.id,
        deploymentConfigName: c.name,
        createTime: c.createTime / 1000,
        computePlatform: 'Lambda',
        trafficRoutingConfig: trafficRoutingApiShape(c.routing),
      },
    };
  },
  ListDeploymentTargets: (engine, input) => ({
    targetIds: [targetId(engine.deployment(input.str('deploymentId') ?? ''))],
  }),
  GetDeploymentTarget: (engine, input, where) => {
    const d = engine.deployment(input.str('deploymentId') ?? '');
    const wanted = input.str('targetId');
    if (wanted !== targetId(d)) {
      throw new AwsError('DeploymentTargetDoesNotExistException', 400, `No target ${wanted} in deployment ${d.id}`);
    }
    return { deploymentTarget: { deploymentTargetType: 'LambdaTarget', lambdaTarget: lambdaTarget(d, where) } };
  },
};

export function handleCodeDeploy(
  engine: CodeDeployEngine,
  operation: string,
  input: Record<string, unknown>,
  where: Where,
): unknown {
  const run = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
  if (!run) {
    throw new AwsError(
      'UnknownOperationException',
      400,
      `lambda-mesh local endpoint does not support CodeDeploy.${operation}`,
    );
  }
  return run(engine, new Input(input), where);
}

function createDeployment(engine: CodeDeployEngine, input: Input): Deployment {
  const applicationName = input.required(...APP);
  const groupName = input.required(...GROUP);
  const revision = input.raw.revision as { revisionType?: string; appSpecContent?: { content?: unknown } } | undefined;
  if (revision?.revisionType !== 'AppSpecContent' || typeof revision.appSpecContent?.content !== 'string') {
    throw new AwsError(
      'InvalidRevisionException',
      400,
      'A Lambda deployment needs revision { revisionType: "AppSpecContent", appSpecContent: { content } }',
    );
  }
  return engine.create({
    applicationName,
    groupName,
    appSpec: parseAppSpec(revision.appSpecContent.content),
    configName: input.str('deploymentConfigName'),
    description: input.str('description'),
  });
}

function deploymentGroupInfo(g: DeploymentGroup): Record<string, unknown> {
  return {
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
  };
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/**
 * The status of a Lambda deployment's one target, the alias (LambdaTarget, CodeDeploy API Reference):
 * Pending | InProgress | Succeeded | Failed | Skipped | Unknown | Ready. There is no Stopped: a stopped
 * deployment's traffic shift did not complete, so its target failed.
 */
function targetStatus(d: Deployment): string {
  if (d.status === 'Created') return 'Pending';
  return d.status === 'Stopped' ? 'Failed' : d.status;
}

/** GetDeployment's `deploymentInfo`. */
export function deploymentInfo(d: Deployment): Record<string, unknown> {
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
    // DeploymentOverview counts the deployment's targets by status; a Lambda deployment has one, the alias.
    deploymentOverview: {
      Pending: 0,
      InProgress: 0,
      Succeeded: 0,
      Failed: 0,
      Skipped: 0,
      Ready: 0,
      [targetStatus(d)]: 1,
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

function lambdaTarget(d: Deployment, where: Where): Record<string, unknown> {
  return {
    deploymentId: d.id,
    targetId: targetId(d),
    targetArn: `arn:aws:lambda:${where.region}:${where.accountId}:function:${d.functionName}:${d.alias}`,
    status: targetStatus(d),
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
