/**
 * A gated deployment of a `MeshFunction` (its `deployment` prop): every deploy that publishes a new
 * version becomes a CodeDeploy deployment of the `live` alias, which shifts traffic from the version
 * that is live to the new one on the config's schedule, runs the mesh's pre-traffic check first, and
 * stops and rolls back when an alarm fires. The alarms watch the new version as the mesh measures it
 * (its success rate: the callee's own EMF metrics per `destination_version`, in the per-version
 * dimension sets the runtime publishes, so no alarm needs SEARCH or Metrics Insights) and as Lambda
 * measures it (Duration and Errors of the version behind the alias).
 */
import { type CfnElement, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { DEPLOYMENT, LIVE_ALIAS, METRICS, metricNamespace } from '../shared/names';
import type { MeshFunction } from './mesh-function';
import { MeshErrorCode, MeshValidationError } from './mesh-validation-error';
import { acknowledgeNag } from './private/nag-acknowledgement';

/** How a gated deployment's alarms judge the new version. */
export interface DeploymentAlarmOptions {
  /**
   * Success rate of the new version, in percent, as its own mesh wrapper measures it (every caller,
   * every attempt), below which the deployment stops and rolls back.
   * @default 99
   */
  readonly successRateThreshold?: number;
  /**
   * p99 duration of the new version's invocations through `live` in milliseconds, as Lambda measures it
   * (its own `Duration` metric, which no function can print), above which the deployment stops and
   * rolls back.
   * @default 1000
   */
  readonly p99ThresholdMs?: number;
  /**
   * Share of the new version's invocations through `live` that Lambda counts as errors, in percent,
   * above which the deployment stops and rolls back (the second signal, from outside the mesh).
   * @default 1
   */
  readonly lambdaErrorRateThreshold?: number;
  /**
   * Period of the alarms' datapoints.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
  /**
   * Consecutive periods that must breach before an alarm fires.
   * @default 2
   */
  readonly evaluationPeriods?: number;
}

/** The mesh's pre-traffic check of a new version. */
export interface PreTrafficCheckOptions {
  /**
   * A synthetic request (a JSON value) sent to the new version after the ping; its handler runs, and a
   * function error fails the deployment. Declare one that is safe to repeat.
   * @default - the ping only: the handler does not run
   */
  readonly request?: unknown;
}

/** A `MeshFunction`'s gated deployments (`deployment` prop). */
export interface MeshDeploymentOptions {
  /**
   * How traffic shifts: one of CodeDeploy's predefined configs (`LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES`,
   * `LINEAR_10PERCENT_EVERY_1MINUTE`, `ALL_AT_ONCE`, ...) or your own `new LambdaDeploymentConfig(...)`.
   * @default LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES
   */
  readonly config?: codedeploy.ILambdaDeploymentConfig;
  /**
   * Thresholds of the alarms that stop and roll back a deployment.
   * @default - success rate below 99%, p99 above 1 s or Lambda errors above 1%, two minutes running
   */
  readonly alarms?: DeploymentAlarmOptions;
  /**
   * Alarms of your own that also stop and roll back a deployment.
   * @default - none
   */
  readonly extraAlarms?: cloudwatch.IAlarm[];
  /**
   * The mesh's pre-traffic check: before any traffic shifts, the mesh pings the new version through the
   * mesh (its identity, its policy table and a call to each target it declared are checked; the handler
   * does not run) and sends the request you declare, if any. A failure names the check and stops the
   * deployment. `false` turns it off.
   * @default - on, the ping only
   */
  readonly preTraffic?: PreTrafficCheckOptions | false;
  /**
   * A function of your own CodeDeploy runs once all traffic has shifted (AfterAllowTraffic).
   * @default - none
   */
  readonly postHook?: lambda.IFunction;
}

/** The alarms of a gated deployment, each on the version this deploy published. */
export interface DeploymentAlarms {
  /** The new version's success rate as the mesh measures it. */
  readonly successRate: cloudwatch.Alarm;
  /** The new version's p99 duration through `live`, as Lambda measures it. */
  readonly p99Latency: cloudwatch.Alarm;
  /** The share of the new version's invocations Lambda counts as errors. */
  readonly lambdaErrors: cloudwatch.Alarm;
}

/** Props of a `MeshDeployment`. */
export interface MeshDeploymentProps extends MeshDeploymentOptions {
  /** The function whose `live` alias the deployments shift. */
  readonly fn: MeshFunction;
  /** The function's name, a literal (alarm dimensions name it without referring to the function). */
  readonly functionName: string;
}

/** Alarm defaults: a canary failing one call in five breaches the success rate and Lambda's error rate within two minutes. */
const DEFAULTS = {
  successRateThreshold: 99,
  p99ThresholdMs: 1000,
  lambdaErrorRateThreshold: 1,
  evaluationPeriods: 2,
} as const;

/** The response code the mesh wrapper records for a call its handler answered. */
const SUCCESS_CODE = '200';

/**
 * The gated deployment of one function: its CodeDeploy deployment group (named after the service, in
 * the mesh's application), the alarms on the new version, and the mesh's pre-traffic hook.
 */
export class MeshDeployment extends Construct {
  /** The CodeDeploy deployment group of the `live` alias. */
  public readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** The alarms that stop and roll back a deployment. */
  public readonly alarms: DeploymentAlarms;
  /** The pre-traffic hook (the mesh's, shared by its gated functions), unless turned off. */
  public readonly preTrafficHook?: lambda.IFunction;

  constructor(scope: Construct, id: string, props: MeshDeploymentProps) {
    checkOptions(`${scope.node.path}/${id}`, props);
    super(scope, id);
    this.alarms = createAlarms(this, props);
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'Group', {
      application: props.fn.mesh._deploymentApplication(),
      deploymentGroupName: DEPLOYMENT.groupName(props.fn.service),
      alias: props.fn.liveAlias,
      deploymentConfig: props.config ?? codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [this.alarms.successRate, this.alarms.p99Latency, this.alarms.lambdaErrors, ...(props.extraAlarms ?? [])],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      ...(props.postHook ? { postHook: props.postHook } : {}),
    });
    if (props.preTraffic !== false) this.preTrafficHook = this.addPreTrafficHook(props);
    // ... and the group its alarms on this version.
    props.fn.liveAlias.node.addDependency(this.deploymentGroup);
    this.acknowledgeGroupRole();
  }

  private addPreTrafficHook(props: MeshDeploymentProps): lambda.IFunction {
    const { fn } = props;
    const request = props.preTraffic === false ? undefined : props.preTraffic?.request;
    const hook = fn.mesh._preTrafficHook(fn, props.functionName, request, this.deploymentGroup);
    this.deploymentGroup.addPreHook(hook);
    // The alias update starts the deployment: by then the hook must know this deploy's version.
    fn.liveAlias.node.addDependency(hook);
    return hook;
  }

  /** cdk-nag (AwsSolutions) findings on the deployment group's role, each with its reason. */
  private acknowledgeGroupRole(): void {
    acknowledgeNag(
      this.deploymentGroup,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      "CodeDeploy's own role policy for Lambda deployments: it reads and updates aliases, reads the alarms and invokes hook functions whose names start with CodeDeployHook_ (the mesh hook gets its own grant)",
    );
    if (this.preTrafficHook) {
      const hook = Stack.of(this).getLogicalId(this.preTrafficHook.node.defaultChild as CfnElement);
      acknowledgeNag(
        this.deploymentGroup,
        `AwsSolutions-IAM5[Resource::<${hook}.Arn>:*]`,
        `CodeDeploy invokes the mesh's pre-traffic hook; ":*" only adds the hook's versions and aliases`,
      );
    }
  }
}

/** The three alarms on the new version: the mesh's success rate, and Lambda's p99 duration and error rate. */
function createAlarms(scope: Construct, props: MeshDeploymentProps): DeploymentAlarms {
  const { fn } = props;
  const a = { ...DEFAULTS, ...props.alarms };
  const period = props.alarms?.period ?? Duration.minutes(1);
  const meshMetric = meshMetricOf(props, period);
  const lambdaMetric = lambdaMetricOf(props, period);
  const codeDim = METRICS.versionDimensions[1][3];
  const describe = (what: string) =>
    `Lambda Mesh ${fn.mesh.meshName}: ${what} of ${fn.service}'s new version (gates its deployments)`;
  const alarm = (alarmId: string, alarmProps: Omit<cloudwatch.AlarmProps, 'evaluationPeriods'>) =>
    new cloudwatch.Alarm(scope, alarmId, {
      evaluationPeriods: a.evaluationPeriods,
      datapointsToAlarm: a.evaluationPeriods,
      // No traffic yet is not a failure: a quiet period keeps the alarm as it is.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...alarmProps,
    });
  return {
    successRate: alarm('SuccessRate', {
      alarmDescription: describe(`success rate below ${a.successRateThreshold}%`),
      metric: new cloudwatch.MathExpression({
        expression: 'IF(FILL(requests, 0) > 0, 100 * FILL(ok, 0) / FILL(requests, 0), 100)',
        usingMetrics: {
          requests: meshMetric(METRICS.requestsTotal, 'Sum'),
          ok: meshMetric(METRICS.requestsTotal, 'Sum', { [codeDim]: SUCCESS_CODE }),
        },
        label: `${fn.service} new version success rate %`,
        period,
      }),
      threshold: a.successRateThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    }),
    p99Latency: alarm('P99Latency', {
      alarmDescription: describe(`p99 duration above ${a.p99ThresholdMs} ms`),
      // Lambda's own Duration, which no log line writes: EMF latency could be printed by any function.
      metric: lambdaMetric('Duration', 'p99'),
      threshold: a.p99ThresholdMs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    }),
    lambdaErrors: alarm('LambdaErrors', {
      alarmDescription: describe(`Lambda error rate above ${a.lambdaErrorRateThreshold}%`),
      metric: new cloudwatch.MathExpression({
        expression: 'IF(FILL(invocations, 0) > 0, 100 * FILL(errors, 0) / FILL(invocations, 0), 0)',
        usingMetrics: { invocations: lambdaMetric('Invocations'), errors: lambdaMetric('Errors') },
        label: `${fn.service} new version Lambda error rate %`,
        period,
      }),
      threshold: a.lambdaErrorRateThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    }),
  };
}

/**
 * A metric of the per-version sets the callee publishes (METRICS.versionDimensions): all its requests,
 * and those answered with the success code.
 */
function meshMetricOf(props: MeshDeploymentProps, period: Duration) {
  const [workload, versionDim, reporter] = METRICS.versionDimensions[0];
  const perVersion = {
    [workload]: props.fn.service,
    [versionDim]: props.fn.version.version,
    [reporter]: 'destination',
  };
  return (metricName: string, statistic: string, extra: Record<string, string> = {}) =>
    new cloudwatch.Metric({
      // The mesh's own namespace: another mesh in the account may publish the same service and version.
      namespace: metricNamespace(props.fn.mesh.meshName),
      metricName,
      dimensionsMap: { ...perVersion, ...extra },
      statistic,
      period,
    });
}

/** Lambda's own metrics of the version's invocations through the alias (ExecutedVersion). */
function lambdaMetricOf(props: MeshDeploymentProps, period: Duration) {
  return (metricName: string, statistic = 'Sum') =>
    new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName,
      dimensionsMap: {
        FunctionName: props.functionName,
        Resource: `${props.functionName}:${LIVE_ALIAS}`,
        ExecutedVersion: props.fn.version.version,
      },
      statistic,
      period,
    });
}

/** Refuses out-of-range thresholds before anything is created; the message names the value and the fix. */
function checkOptions(path: string, props: MeshDeploymentOptions): void {
  const refuse = (message: string) =>
    new MeshValidationError(MeshErrorCode.INVALID_DEPLOYMENT, `MeshFunction ${path}: deployment.${message}`, path);
  const a = props.alarms ?? {};
  const literal = (v: number | undefined): v is number => v !== undefined && !Token.isUnresolved(v);
  if (literal(a.successRateThreshold) && !(a.successRateThreshold > 0 && a.successRateThreshold <= 100)) {
    throw refuse(
      `alarms.successRateThreshold must be a percentage above 0 and at most 100, got ${a.successRateThreshold}`,
    );
  }
  if (literal(a.p99ThresholdMs) && !(a.p99ThresholdMs > 0)) {
    throw refuse(`alarms.p99ThresholdMs must be a positive number of milliseconds, got ${a.p99ThresholdMs}`);
  }
  if (literal(a.lambdaErrorRateThreshold) && !(a.lambdaErrorRateThreshold >= 0 && a.lambdaErrorRateThreshold < 100)) {
    throw refuse(
      `alarms.lambdaErrorRateThreshold must be a percentage from 0 to below 100, got ${a.lambdaErrorRateThreshold}`,
    );
  }
  if (a.evaluationPeriods !== undefined && !(Number.isInteger(a.evaluationPeriods) && a.evaluationPeriods >= 1)) {
    throw refuse(`alarms.evaluationPeriods must be a whole number of at least 1, got ${a.evaluationPeriods}`);
  }
  const seconds = a.period?.toSeconds({ integral: false });
  if (seconds !== undefined && !Token.isUnresolved(seconds) && !(seconds >= 60 && seconds % 60 === 0)) {
    throw refuse(
      `alarms.period must be a whole number of minutes (CloudWatch alarms on these metrics), got ${seconds} s`,
    );
  }
  const request = props.preTraffic === false ? undefined : props.preTraffic?.request;
  if (request !== undefined) {
    let text: string | undefined;
    try {
      text = JSON.stringify(request);
    } catch {
      text = undefined;
    }
    if (text === undefined) throw refuse('preTraffic.request must be a JSON value (the payload the new version gets)');
  }
}
