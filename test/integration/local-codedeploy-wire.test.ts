/**
 * The local CodeDeploy and CloudWatch answer through the real SDK as AWS's API references shape them:
 * a Lambda deployment's overview counts its one target, the target's status is one LambdaTarget knows,
 * a second deployment of a busy group gets CodeDeploy's own message, and DescribeAlarms carries the
 * reason's data and leaves out the settings an alarm did not set, and DescribeAlarmHistory records each
 * state change.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { AlarmRegistry, parseAlarm } from '../../local/cloudwatch/alarms';
import { handleCloudWatch } from '../../local/cloudwatch/cloudwatch-api';
import { MetricStore } from '../../local/cloudwatch/metric-store';
import { handleCodeDeploy } from '../../local/codedeploy/codedeploy-api';
import { CodeDeployEngine } from '../../local/codedeploy/codedeploy-engine';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import type { JsonService } from '../../local/endpoint/server';
import { LOCAL_ACCOUNT } from '../../local/registry/function-registry';
import { loopbackClientConfig } from '../support/loopback-client';
import { rejection } from '../support/rejection';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

const WHERE = { region: 'us-east-1', accountId: '000000000000' };
const NOW = Date.UTC(2026, 1, 3, 4, 10);

describe('local CodeDeploy and CloudWatch through the SDK', () => {
  let endpoint: Endpoint;
  let codeDeploy: CodeDeployClient;
  let cloudWatch: CloudWatchClient;
  const metrics = new MetricStore();
  const alarms = new AlarmRegistry({ metrics, now: () => NOW });
  // A 30-minute canary at CodeDeploy's pace: the deployment stays at 10% until it is stopped.
  const engine = new CodeDeployEngine({
    setAlias: () => {},
    invokeHook: async (_fn, event) => {
      await codeDeploy.send(
        new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId: event.DeploymentId,
          lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
          status: 'Succeeded',
        }),
      );
      return {};
    },
    alarmState: (name) => alarms.evaluate(name)?.value,
  });

  before(async () => {
    engine.putApplication('shop-mesh');
    engine.putDeploymentGroup({
      applicationName: 'shop-mesh',
      name: 'payments',
      configName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
      alarms: [],
      alarmsEnabled: true,
      ignorePollAlarmFailure: false,
      autoRollbackEvents: [],
    });
    const cd: JsonService = {
      protocol: 'awsJson1_1',
      handle: (op, input, region) => handleCodeDeploy(engine, op, input, { ...WHERE, region }),
    };
    const cw: JsonService = {
      protocol: 'awsJson1_0',
      handle: (op, input) => handleCloudWatch({ alarms, metrics, accountId: LOCAL_ACCOUNT }, op, input),
    };
    const registry = new TestRegistry();
    endpoint = await startEndpoint({
      port: 0,
      registry,
      invoker: new TestInvoker(registry),
      jsonServices: { codedeploy: cd, monitoring: cw },
    });
    const config = loopbackClientConfig(endpoint.url);
    codeDeploy = new CodeDeployClient(config);
    cloudWatch = new CloudWatchClient(config);
  });

  after(async () => {
    await engine.close();
    codeDeploy.destroy();
    cloudWatch.destroy();
    await endpoint.close();
  });

  const appSpec = JSON.stringify({
    version: 0.0,
    Resources: [
      {
        payments: {
          Type: 'AWS::Lambda::Function',
          Properties: { Name: 'shop-payments', Alias: 'live', CurrentVersion: '1', TargetVersion: '2' },
        },
      },
    ],
    Hooks: [{ BeforeAllowTraffic: 'shop-hook' }, { AfterAllowTraffic: 'shop-hook' }],
  });
  const create = () =>
    codeDeploy.send(
      new CreateDeploymentCommand({
        applicationName: 'shop-mesh',
        deploymentGroupName: 'payments',
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec } },
      }),
    );
  const none = { Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 };

  it('a deployment counts its one target in the overview; a second one of the group is refused by name', async () => {
    const { deploymentId } = await create();
    await engine.untilTraffic(deploymentId!);
    const running = await codeDeploy.send(new GetDeploymentCommand({ deploymentId }));
    assert.equal(running.deploymentInfo?.status, 'InProgress');
    assert.deepEqual(running.deploymentInfo?.deploymentOverview, { ...none, InProgress: 1 });

    const refused = await rejection(create);
    assert.equal(refused.name, 'DeploymentLimitExceededException');
    assert.equal(refused.message, `The Deployment Group 'payments' already has an active Deployment '${deploymentId}'`);

    await codeDeploy.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: false }));
    await engine.untilDone(deploymentId!);
    const stopped = await codeDeploy.send(new GetDeploymentCommand({ deploymentId }));
    assert.equal(stopped.deploymentInfo?.status, 'Stopped');
    assert.equal(stopped.deploymentInfo?.errorInformation?.code, 'MANUAL_STOP');
    assert.deepEqual(stopped.deploymentInfo?.deploymentOverview, { ...none, Failed: 1 });
    const target = await codeDeploy.send(
      new GetDeploymentTargetCommand({ deploymentId, targetId: 'shop-payments:live' }),
    );
    assert.equal(target.deploymentTarget?.lambdaTarget?.status, 'Failed', 'LambdaTarget has no Stopped status');
  });

  it('DescribeAlarms: the reason with its data, and only the settings the alarm declared', async () => {
    const rule = { Namespace: 'N', MetricName: 'errors', Statistic: 'Sum', Period: 60, Threshold: 0 };
    const declared = { ...rule, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 };
    alarms.put(parseAlarm('plain', declared) as never);
    alarms.put(parseAlarm('full', { ...declared, DatapointsToAlarm: 1, TreatMissingData: 'notBreaching' }) as never);
    metrics.put('N', 'errors', {}, [2], NOW - 90_000);
    const { MetricAlarms } = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: ['plain', 'full'] }));
    const [plain, full] = MetricAlarms!;
    assert.equal(plain!.AlarmName, 'plain');
    assert.equal(plain!.DatapointsToAlarm, undefined, 'not declared, not returned');
    assert.equal(plain!.TreatMissingData, undefined);
    assert.equal(full!.DatapointsToAlarm, 1);
    assert.equal(full!.TreatMissingData, 'notBreaching');
    assert.equal(plain!.StateValue, 'ALARM');
    // Without DatapointsToAlarm the reason counts the datapoints alone; with it, M out of the last N.
    assert.equal(
      plain!.StateReason,
      'Threshold Crossed: 1 datapoint [2.0 (03/02/26 04:08:00)] was greater than the threshold (0.0).',
    );
    assert.equal(
      full!.StateReason,
      'Threshold Crossed: 1 out of the last 1 datapoints [2.0 (03/02/26 04:08:00)] was greater than the threshold ' +
        '(0.0) (minimum 1 datapoint for OK -> ALARM transition).',
    );
    assert.deepEqual(JSON.parse(plain!.StateReasonData!), {
      version: '1.0',
      queryDate: '2026-02-03T04:10:00.000+0000',
      startDate: '2026-02-03T04:08:00.000+0000',
      statistic: 'Sum',
      period: 60,
      recentDatapoints: [2],
      threshold: 0,
      evaluatedDatapoints: [{ timestamp: '2026-02-03T04:08:00.000+0000', sampleCount: 1, value: 2 }],
    });
    assert.equal(plain!.StateTransitionedTimestamp?.getTime(), NOW);
    assert.equal(plain!.AlarmConfigurationUpdatedTimestamp?.getTime(), NOW);
  });

  it('DescribeAlarmHistory: each state change, newest first, with both states and the reason data', async () => {
    const { AlarmHistoryItems } = await cloudWatch.send(new DescribeAlarmHistoryCommand({ AlarmName: 'plain' }));
    assert.equal(AlarmHistoryItems?.length, 1);
    const [item] = AlarmHistoryItems!;
    assert.equal(item!.HistoryItemType, 'StateUpdate');
    assert.equal(item!.AlarmType, 'MetricAlarm');
    assert.equal(item!.HistorySummary, 'Alarm updated from INSUFFICIENT_DATA to ALARM');
    assert.equal(item!.Timestamp?.getTime(), NOW);
    const data = JSON.parse(item!.HistoryData!);
    assert.deepEqual(data.oldState, {
      stateValue: 'INSUFFICIENT_DATA',
      stateReason: 'Unchecked: Initial alarm creation',
    });
    assert.equal(data.newState.stateValue, 'ALARM');
    assert.match(data.newState.stateReason, /^Threshold Crossed: 1 datapoint \[2\.0 /);
    assert.equal(data.newState.stateReasonData.threshold, 0);
    const none = await cloudWatch.send(
      new DescribeAlarmHistoryCommand({ AlarmName: 'plain', HistoryItemType: 'ConfigurationUpdate' }),
    );
    assert.deepEqual(none.AlarmHistoryItems, []);
    const all = await cloudWatch.send(new DescribeAlarmHistoryCommand({ ScanBy: 'TimestampAscending' }));
    assert.deepEqual(all.AlarmHistoryItems?.map((i) => i.AlarmName).sort(), ['full', 'plain']);
  });

  // test_cloudwatch.py::test_put_metric_alarm (recorded from CloudWatch): one period, no DatapointsToAlarm, a Unit.
  it('an alarm without DatapointsToAlarm: its reason counts the datapoints alone, and its Unit is kept', async () => {
    // Prepare
    const recorded = {
      Namespace: 'N',
      MetricName: 'my-metric1',
      Dimensions: [{ Name: 'InstanceId', Value: 'abc' }],
      Statistic: 'Average',
      Unit: 'Seconds',
      Period: 10,
      Threshold: 21,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'ignore',
    };
    alarms.put(parseAlarm('recorded', recorded) as never);
    metrics.put('N', 'my-metric1', { InstanceId: 'abc' }, [21, 22], NOW - 15_000);

    // Act
    const { MetricAlarms } = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: ['recorded'] }));
    const { AlarmHistoryItems } = await cloudWatch.send(
      new DescribeAlarmHistoryCommand({ AlarmName: 'recorded', HistoryItemType: 'StateUpdate' }),
    );

    // Assess
    const [alarm] = MetricAlarms!;
    assert.equal(alarm!.Unit, 'Seconds');
    assert.equal(alarm!.StateValue, 'ALARM');
    assert.equal(
      alarm!.StateReason,
      'Threshold Crossed: 1 datapoint [21.5 (03/02/26 04:09:40)] was greater than the threshold (21.0).',
    );
    const data = JSON.parse(alarm!.StateReasonData!);
    assert.deepEqual(Object.keys(data), [
      'version',
      'queryDate',
      'startDate',
      'unit',
      'statistic',
      'period',
      'recentDatapoints',
      'threshold',
      'evaluatedDatapoints',
    ]);
    assert.equal(data.unit, 'Seconds');
    assert.deepEqual(data.evaluatedDatapoints[0], {
      timestamp: '2026-02-03T04:09:40.000+0000',
      sampleCount: 2,
      value: 21.5,
    });
    const [item] = AlarmHistoryItems!;
    assert.deepEqual(Object.keys(item!).sort(), [
      'AlarmName',
      'AlarmType',
      'HistoryData',
      'HistoryItemType',
      'HistorySummary',
      'Timestamp',
    ]);
    assert.equal(JSON.parse(item!.HistoryData!).newState.stateReason, alarm!.StateReason);
  });
  // test_cloudwatch: test_put_metric_data_validation[json] and test_invalid_amount_of_datapoints[json]: CloudWatch's
  // JSON errors are query-compatible, the shape's name (`...Exception`) in the body and the query code and fault
  // in `x-amzn-query-error`, which botocore reports as the code and the JavaScript SDK as `Code` and `Type`.
  it('refuses a bad DescribeAlarms request with the shape and query code CloudWatch answers', async () => {
    const e = await rejection<
      Error & { Code?: string; Type?: string; $response?: { headers: Record<string, string> } }
    >(() => cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: ['a'], AlarmNamePrefix: 'a' })));
    assert.equal(e.name, 'InvalidParameterCombinationException');
    assert.equal(e.Code, 'InvalidParameterCombination');
    assert.equal(e.Type, 'Sender');
    assert.equal(e.$response?.headers['x-amzn-query-error'], 'InvalidParameterCombination;Sender');
    const history = await rejection<Error & { Code?: string }>(() =>
      cloudWatch.send(new DescribeAlarmHistoryCommand({ MaxRecords: 101 })),
    );
    assert.equal(history.name, 'InvalidParameterValueException');
    assert.equal(history.Code, 'InvalidParameterValue');
  });
});
