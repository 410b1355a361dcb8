/**
 * Gated deployments (`MeshFunction` prop `deployment`): the CodeDeploy group on `live`, its config, the
 * alarms on the new version's mesh metrics (the per-version dimension sets the runtime publishes) and
 * Lambda's errors, the mesh's pre-traffic hook with its least-privilege role, and the synth errors.
 * GIVEN a stack, WHEN it synthesizes, THEN the template holds what CodeDeploy needs.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration, Errors } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { MeshErrorCode, MeshValidationError } from '../../infra/mesh-validation-error';
import { DEPLOYMENT, METRICS, metricNamespace, SORT_KEY } from '../../shared/names';
import { type IamStatement, logicalId, logicalIdOf, meshStack, roleStatements } from './infra-fixture';

const asList = (v: unknown) => (Array.isArray(v) ? v : [v]);

function gated(options: Parameters<ReturnType<typeof meshStack>['fn']>[2] = {}) {
  const m = meshStack();
  const orders = m.fn('Orders', 'orders');
  const payments = m.fn('Payments', 'payments', { deployment: {}, ...options });
  orders.allowCallsTo(payments);
  const template = Template.fromStack(m.stack);
  // The version's logical id carries a hash of the function's configuration (CDK's currentVersion).
  const versionId = logicalId(template, 'AWS::Lambda::Version', 'Payments/CurrentVersion/Resource');
  return { ...m, orders, payments, template, versionId };
}

describe('gated deployments: the CodeDeploy group', () => {
  it('shifts live through a deployment group named after the service, in the mesh application, canary 10% for 5 minutes', () => {
    const { template, payments, versionId } = gated();
    template.hasResourceProperties('AWS::CodeDeploy::Application', {
      ApplicationName: DEPLOYMENT.applicationName('shop'),
      ComputePlatform: 'Lambda',
    });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentGroupName: 'payments',
      DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
      },
      AlarmConfiguration: {
        Enabled: true,
        Alarms: [
          { Name: { Ref: logicalIdOf(payments.deployment!.alarms.successRate) } },
          { Name: { Ref: logicalIdOf(payments.deployment!.alarms.p99Latency) } },
          { Name: { Ref: logicalIdOf(payments.deployment!.alarms.lambdaErrors) } },
        ],
      },
    });
    // No version number in the user's code: live points at this deploy's version, CodeDeploy moves it.
    const alias = Object.values(template.findResources('AWS::Lambda::Alias'))
      .map(
        (a) =>
          a as { Properties: Record<string, unknown>; UpdatePolicy?: Record<string, unknown>; DependsOn?: string[] },
      )
      .find((a) => a.UpdatePolicy);
    assert.ok(alias, 'the gated alias has an update policy');
    assert.deepEqual(alias.Properties.FunctionVersion, {
      'Fn::GetAtt': [versionId, 'Version'],
    });
    assert.equal(alias.Properties.RoutingConfig, undefined);
    const update = alias.UpdatePolicy!.CodeDeployLambdaAliasUpdate as Record<string, unknown>;
    assert.deepEqual(update.BeforeAllowTrafficHook, { Ref: logicalIdOf(payments.deployment!.preTrafficHook!) });
    // The alias update starts the deployment: the group (its alarms on this version), the hook (this
    // version in its environment) and the policy (allow#mesh-deploy-check) come first.
    for (const dep of [
      logicalIdOf(payments.deployment!.deploymentGroup),
      logicalIdOf(payments.deployment!.preTrafficHook!),
      logicalIdOf(payments.mesh.policy),
    ]) {
      assert.ok(alias.DependsOn?.includes(dep), `the alias waits for ${dep}`);
    }
  });

  it('takes a predefined or a custom config', () => {
    const linear = gated({ deployment: { config: codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE } });
    linear.template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute',
    });
    const m = meshStack();
    const config = new codedeploy.LambdaDeploymentConfig(m.stack, 'Quick', {
      trafficRouting: codedeploy.TrafficRouting.timeBasedCanary({ interval: Duration.minutes(2), percentage: 20 }),
    });
    m.fn('Payments', 'payments', { deployment: { config } });
    const t = Template.fromStack(m.stack);
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryInterval: 2, CanaryPercentage: 20 } },
    });
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: { Ref: logicalIdOf(config) },
    });
  });

  it('one application and one hook serve every gated function of the mesh; ungated functions get none', () => {
    const m = meshStack();
    m.fn('Payments', 'payments', { deployment: {} });
    m.fn('Ledger', 'ledger', { deployment: {} });
    m.fn('Audit', 'audit');
    const t = Template.fromStack(m.stack);
    t.resourceCountIs('AWS::CodeDeploy::Application', 1);
    t.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 2);
    // Three per gated function (success rate, p99, Lambda errors); the services' own alarms aside.
    const alarmIds = Object.keys(t.findResources('AWS::CloudWatch::Alarm'));
    assert.equal(alarmIds.filter((id) => /Deployment/.test(id)).length, 6, alarmIds.join(', '));
    const hooks = Object.values(t.findResources('AWS::Lambda::Function')).filter(
      (f) => f.Properties.Environment?.Variables?.[DEPLOYMENT.checksEnv] !== undefined,
    );
    assert.equal(hooks.length, 1);
  });
});

describe('gated deployments: alarms on the new version', () => {
  it('success rate reads the per-version sets the runtime publishes; no SEARCH, no Metrics Insights', () => {
    const { template, versionId } = gated();
    const version = { 'Fn::GetAtt': [versionId, 'Version'] };
    const dims = (names: readonly string[], extra: Record<string, unknown> = {}) =>
      names
        .map((n) => ({
          Name: n,
          Value:
            n === 'destination_workload'
              ? 'payments'
              : n === 'destination_version'
                ? version
                : n === 'reporter'
                  ? 'destination'
                  : extra[n],
        }))
        .sort((a, b) => a.Name.localeCompare(b.Name));
    const [requestsSet, byCodeSet] = METRICS.versionDimensions;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 99,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({
          Expression: Match.stringLikeRegexp('^IF\\(FILL\\(requests, 0\\) > 0, 100 \\* FILL\\(ok, 0\\)'),
        }),
        {
          Id: 'requests',
          MetricStat: {
            Metric: {
              Namespace: metricNamespace('shop'),
              MetricName: METRICS.requestsTotal,
              Dimensions: dims(requestsSet),
            },
            Period: 60,
            Stat: 'Sum',
          },
          ReturnData: false,
        },
        {
          Id: 'ok',
          MetricStat: {
            Metric: {
              Namespace: metricNamespace('shop'),
              MetricName: METRICS.requestsTotal,
              Dimensions: dims(byCodeSet, { response_code: '200' }),
            },
            Period: 60,
            Stat: 'Sum',
          },
          ReturnData: false,
        },
      ]),
    });
    const text = JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'));
    assert.doesNotMatch(text, /SEARCH|SELECT /);
  });

  it("p99 reads Lambda's own Duration of the version that ran behind live, which no log line can print", () => {
    const { template, versionId } = gated();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Dimensions: [
        { Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [versionId, 'Version'] } },
        { Name: 'FunctionName', Value: 'shop-payments' },
        { Name: 'Resource', Value: 'shop-payments:live' },
      ],
      Threshold: 1000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const emfLatency = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      JSON.stringify(a).includes(METRICS.requestDurationMs),
    );
    assert.deepEqual(emfLatency, [], 'no alarm reads the latency functions print');
  });

  it("Lambda's own Errors of the version that ran behind live is the second signal", () => {
    const { template, versionId } = gated();
    const version = { 'Fn::GetAtt': [versionId, 'Version'] };
    const lambdaDims = [
      { Name: 'ExecutedVersion', Value: version },
      { Name: 'FunctionName', Value: 'shop-payments' },
      { Name: 'Resource', Value: 'shop-payments:live' },
    ];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({
          Id: 'invocations',
          MetricStat: Match.objectLike({
            Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: lambdaDims },
          }),
        }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: lambdaDims },
          }),
        }),
      ]),
    });
  });

  it('thresholds, period and evaluation periods come from the props', () => {
    const { template } = gated({
      deployment: {
        alarms: {
          successRateThreshold: 95,
          p99ThresholdMs: 300,
          lambdaErrorRateThreshold: 5,
          period: Duration.minutes(2),
          evaluationPeriods: 3,
        },
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 95,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 300, Period: 120 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 5 });
  });
});

describe('gated deployments: the pre-traffic hook', () => {
  it('knows each gated service, its function and this deploy version (and the declared request)', () => {
    const { template, payments, versionId } = gated({ deployment: { preTraffic: { request: { amountCents: 1 } } } });
    const hook = template.findResources('AWS::Lambda::Function')[logicalIdOf(payments.deployment!.preTrafficHook!)];
    const env = hook!.Properties.Environment.Variables;
    assert.deepEqual(env[DEPLOYMENT.checksEnv], {
      'Fn::Join': [
        '',
        [
          '{"payments":{"functionName":"shop-payments","version":"',
          { 'Fn::GetAtt': [versionId, 'Version'] },
          '","request":{"amountCents":1}}}',
        ],
      ],
    });
    // It calls as its own mesh identity, and every gated service admits it.
    assert.ok(env.MESH_IDENTITY_SECRET, 'the hook has a mesh identity');
    assert.equal(env.MESH_NAME, undefined, 'the hook is not a mesh service the CLI would list');
    const items = payments.mesh.policyItems();
    assert.ok(items.some((i) => i.pk === 'payments' && i.sk === SORT_KEY.allow(DEPLOYMENT.checkSource)));
    assert.ok(!items.some((i) => i.pk === 'orders' && i.sk === SORT_KEY.allow(DEPLOYMENT.checkSource)));
  });

  it('least privilege: invoke this version only, read and report only the group it serves, read only its own identity', () => {
    const { template, payments, stack, versionId } = gated();
    const hook = payments.deployment!.preTrafficHook!;
    const role = (hook as unknown as { role: Parameters<typeof logicalIdOf>[0] }).role;
    const statements = roleStatements(template, logicalIdOf(role));
    const byAction = new Map<string, IamStatement[]>();
    for (const s of statements)
      for (const a of asList(s.Action)) byAction.set(a as string, [...(byAction.get(a as string) ?? []), s]);
    assert.deepEqual([...byAction.keys()].sort(), [
      'codedeploy:GetDeployment',
      'codedeploy:GetDeploymentTarget',
      'codedeploy:ListDeploymentTargets',
      'codedeploy:PutLifecycleEventHookExecutionStatus',
      'lambda:InvokeFunction',
      'logs:CreateLogGroup',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
    ]);
    assert.deepEqual(
      byAction.get('lambda:InvokeFunction')!.map((s) => s.Resource),
      [{ Ref: versionId }],
    );
    const group = stack.resolve(payments.deployment!.deploymentGroup.deploymentGroupArn);
    for (const a of [
      'codedeploy:GetDeployment',
      'codedeploy:ListDeploymentTargets',
      'codedeploy:GetDeploymentTarget',
      'codedeploy:PutLifecycleEventHookExecutionStatus',
    ]) {
      assert.deepEqual(
        byAction.get(a)!.flatMap((s) => asList(s.Resource)),
        [group],
        a,
      );
    }
    assert.doesNotMatch(JSON.stringify(statements), /"\*"|:\*"/, 'no wildcard resource');
  });

  it('preTraffic: false leaves the hook out', () => {
    const { template } = gated({ deployment: { preTraffic: false } });
    const aliases = Object.values(template.findResources('AWS::Lambda::Alias')) as {
      UpdatePolicy?: Record<string, Record<string, unknown>>;
    }[];
    const update = aliases.find((a) => a.UpdatePolicy)!.UpdatePolicy!.CodeDeployLambdaAliasUpdate!;
    assert.equal(update.BeforeAllowTrafficHook, undefined);
    assert.equal(
      Object.values(template.findResources('AWS::Lambda::Function')).filter(
        (f) => f.Properties.Environment?.Variables?.[DEPLOYMENT.checksEnv] !== undefined,
      ).length,
      0,
    );
  });
});

describe('gated deployments: synth errors', () => {
  const refused = (code: MeshErrorCode, message: RegExp) => (err: unknown) => {
    assert.ok(err instanceof MeshValidationError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    assert.ok(Errors.isValidationError(err));
    return true;
  };

  it('canary and deployment together: the error says why and what to drop', () => {
    const { fn } = meshStack();
    assert.throws(
      () => fn('Payments', 'payments', { deployment: {}, canary: { weight: 0.1, stableVersion: '1' } }),
      refused(
        MeshErrorCode.CANARY_WITH_DEPLOYMENT,
        /MeshFunction Test\/Payments: set canary or deployment, not both: .*would fight over the alias. Drop canary .* or drop deployment/,
      ),
    );
  });

  it('the pre-traffic check caller is a reserved service name', () => {
    const { fn } = meshStack();
    assert.throws(
      () => fn('Check', DEPLOYMENT.checkSource),
      refused(MeshErrorCode.RESERVED_SERVICE_NAME, /service "mesh-deploy-check" is reserved/),
    );
  });

  it('thresholds out of range name the value', () => {
    const { fn } = meshStack();
    const cases: [object, RegExp][] = [
      [
        { successRateThreshold: 0 },
        /deployment.alarms.successRateThreshold must be a percentage above 0 and at most 100, got 0/,
      ],
      [{ successRateThreshold: 101 }, /got 101/],
      [{ p99ThresholdMs: -1 }, /deployment.alarms.p99ThresholdMs must be a positive number of milliseconds, got -1/],
      [{ lambdaErrorRateThreshold: 100 }, /lambdaErrorRateThreshold must be a percentage from 0 to below 100, got 100/],
      [{ evaluationPeriods: 1.5 }, /evaluationPeriods must be a whole number of at least 1, got 1.5/],
      [{ period: Duration.seconds(30) }, /alarms.period must be a whole number of minutes .* got 30 s/],
    ];
    cases.forEach(([alarms, message], i) => {
      assert.throws(
        () => fn(`P${i}`, `p${i}`, { deployment: { alarms } }),
        refused(MeshErrorCode.INVALID_DEPLOYMENT, message),
      );
    });
  });

  it("a log level above INFO (JSON format) is refused for a gated deployment, whose gate reads the mesh's lines, and warned of elsewhere", () => {
    const { fn, stack } = meshStack();
    const quiet = { loggingFormat: lambda.LoggingFormat.JSON, applicationLogLevelV2: lambda.ApplicationLogLevel.WARN };
    assert.throws(
      () => fn('Payments', 'payments', { deployment: {}, ...quiet }),
      refused(
        MeshErrorCode.INVALID_DEPLOYMENT,
        /Test\/Payments: applicationLogLevel WARN with the JSON log format drops the mesh's metrics .* SuccessRate gate would see no calls; set applicationLogLevelV2 to ApplicationLogLevel.INFO/,
      ),
    );
    fn('Orders', 'orders', quiet);
    fn('Inventory', 'inventory', {
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
    });
    fn('Audit', 'audit', { deployment: {}, loggingFormat: lambda.LoggingFormat.TEXT });
    const warned = Annotations.fromStack(stack)
      .findWarning('*', Match.stringLikeRegexp('drops the mesh'))
      .map((w) => w.id);
    assert.deepEqual(warned, ['/Test/Orders']);
  });

  it('a pre-traffic request that is not JSON, and requests over the hook environment, are refused', () => {
    const { fn, app } = meshStack();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.throws(
      () => fn('Payments', 'payments', { deployment: { preTraffic: { request: circular } } }),
      refused(MeshErrorCode.INVALID_DEPLOYMENT, /preTraffic.request must be a JSON value/),
    );
    fn('Big', 'big', { deployment: { preTraffic: { request: { blob: 'x'.repeat(5000) } } } });
    assert.throws(() => app.synth(), /over the 3800 .*shorten the declared requests \(largest: big's, 5011 bytes\)/);
  });
});
