/**
 * The local CodeDeploy: a deployment's lifecycle (pre-traffic hook, each traffic step, post-traffic
 * hook), its stop by an alarm or by StopDeployment with the rollback, a failed hook before any traffic
 * moved, and the API's shapes and errors. Time is a virtual clock: no test waits on real time.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AlarmRegistry } from '../../local/cloudwatch/alarms';
import { MetricStore } from '../../local/cloudwatch/metric-store';
import { handleCodeDeploy } from '../../local/codedeploy/codedeploy-api';
import { type CodeDeployDeps, CodeDeployEngine, parseAppSpec } from '../../local/codedeploy/codedeploy-engine';
import { deploymentLines, deploymentViews, shortName } from '../../local/codedeploy/deployment-view';

const MIN = 60_000;

/** A virtual clock: `sleep` resolves when `advance` passes its time (or its signal aborts). */
function virtualClock() {
  let now = 1_000_000;
  let timers: { at: number; resolve: () => void }[] = [];
  const flush = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  return {
    now: () => now,
    sleep: (ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        const t = { at: now + ms, resolve };
        timers.push(t);
        signal.addEventListener('abort', () => {
          timers = timers.filter((x) => x !== t);
          resolve();
        });
      }),
    async advance(ms: number) {
      const end = now + ms;
      for (;;) {
        await flush();
        const next = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        timers = timers.filter((t) => t !== next);
        now = next.at;
        next.resolve();
      }
      now = end;
      await flush();
    },
    flush,
  };
}

type HookAnswer = 'Succeeded' | 'Failed' | 'throw' | 'silent';

function setup(opts: { hook?: HookAnswer; speed?: number; rollbackEvents?: string[] } = {}) {
  const clock = virtualClock();
  const aliasWrites: { version: string; weights: Record<string, number> }[] = [];
  const alarmStates = new Map<string, 'OK' | 'ALARM'>([['rate', 'OK']]);
  let engine: CodeDeployEngine;
  const deps: CodeDeployDeps = {
    speed: opts.speed,
    now: clock.now,
    sleep: clock.sleep,
    setAlias: (_fn, _alias, version, weights) => void aliasWrites.push({ version, weights }),
    invokeHook: async (_fn, event) => {
      const answer = opts.hook ?? 'Succeeded';
      if (answer === 'throw') throw new Error('Unhandled: the hook crashed');
      if (answer === 'silent') return undefined;
      engine.putHookStatus(event.DeploymentId, event.LifecycleEventHookExecutionId, answer);
      return {
        status: answer,
        message: `mesh deploy check of payments v2 ${answer === 'Failed' ? 'failed: policy: refused' : 'passed'}`,
      };
    },
    alarmState: (name) => alarmStates.get(name),
  };
  engine = new CodeDeployEngine(deps);
  engine.putApplication('shop-mesh');
  engine.putDeploymentGroup({
    applicationName: 'shop-mesh',
    name: 'payments',
    configName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    alarms: ['rate'],
    alarmsEnabled: true,
    ignorePollAlarmFailure: false,
    autoRollbackEvents: opts.rollbackEvents ?? [
      'DEPLOYMENT_FAILURE',
      'DEPLOYMENT_STOP_ON_REQUEST',
      'DEPLOYMENT_STOP_ON_ALARM',
    ],
  });
  const create = () =>
    engine.create({
      applicationName: 'shop-mesh',
      groupName: 'payments',
      appSpec: {
        functionName: 'shop-payments',
        alias: 'live',
        currentVersion: '1',
        targetVersion: '2',
        hooks: { BeforeAllowTraffic: 'shop-hook' },
      },
    });
  return { engine, clock, aliasWrites, alarmStates, create };
}

describe('local CodeDeploy: a canary deployment', () => {
  test('after the pre-traffic hook, 10% to the new version, then all of it five minutes later', async () => {
    const { clock, aliasWrites, create, engine } = setup();
    const d = create();
    await clock.flush();
    assert.deepEqual(aliasWrites, [{ version: '1', weights: { '2': 0.1 } }]);
    assert.equal(d.status, 'InProgress');
    assert.equal(d.events[0]!.status, 'Succeeded', 'BeforeAllowTraffic');
    await clock.advance(5 * MIN - 1_000);
    assert.equal(aliasWrites.length, 1, 'still baking');
    await clock.advance(1_000);
    assert.deepEqual(aliasWrites[1], { version: '2', weights: {} });
    assert.equal(d.status, 'Succeeded');
    assert.equal(d.completeTime! - d.startTime!, 5 * MIN);
    assert.deepEqual(
      d.notes.map((n) => n.text),
      [
        'created: shop-payments:live v1 -> v2 (CodeDeployDefault.LambdaCanary10Percent5Minutes)',
        'BeforeAllowTraffic hook succeeded: mesh deploy check of payments v2 passed',
        '10% to v2, the rest on v1',
        'all traffic to v2',
        'succeeded in 300.0 s: v2 takes all traffic',
      ],
    );
    assert.equal((await engine.untilDone(d.id)).status, 'Succeeded');
  });

  test('speed shortens the schedule: ten times faster bakes 30 s', async () => {
    const { clock, aliasWrites, create } = setup({ speed: 10 });
    const d = create();
    await clock.advance(30_000);
    assert.equal(d.status, 'Succeeded');
    assert.equal(aliasWrites.length, 2);
  });

  test('an alarm in ALARM stops it and rolls live back; a rollback deployment records it', async () => {
    const { clock, aliasWrites, alarmStates, create, engine } = setup();
    const d = create();
    await clock.advance(60_000);
    alarmStates.set('rate', 'ALARM');
    await clock.advance(10_000);
    assert.equal(d.status, 'Stopped');
    assert.equal(d.errorInformation!.code, 'ALARM_ACTIVE');
    assert.match(d.errorInformation!.message, /Activated alarms: <rate>/);
    assert.deepEqual(aliasWrites, [
      { version: '1', weights: { '2': 0.1 } },
      { version: '1', weights: {} },
    ]);
    const back = engine.deployment(d.rollbackInfo!.rollbackDeploymentId!);
    assert.equal(back.creator, 'codeDeployRollback');
    assert.equal(back.status, 'Succeeded');
    assert.equal(back.rollbackInfo!.rollbackTriggeringDeploymentId, d.id);
    // Within the bake time, as soon as the next poll saw the alarm (5 s at speed 1).
    assert.ok(d.completeTime! - d.startTime! <= 65_000, String(d.completeTime! - d.startTime!));
  });

  test('without auto-rollback on alarms, a stopped deployment leaves the alias where it was', async () => {
    const { clock, aliasWrites, alarmStates, create } = setup({ rollbackEvents: [] });
    const d = create();
    await clock.flush();
    alarmStates.set('rate', 'ALARM');
    await clock.advance(10_000);
    assert.equal(d.status, 'Stopped');
    assert.equal(aliasWrites.length, 1);
    assert.equal(d.rollbackInfo, undefined);
  });

  test('a failed pre-traffic hook fails it before any traffic moved, with the hook message', async () => {
    const { clock, aliasWrites, create } = setup({ hook: 'Failed' });
    const d = create();
    await clock.advance(60_000);
    assert.equal(d.status, 'Failed');
    assert.equal(d.errorInformation!.code, 'HOOK_EXECUTION_FAILURE');
    assert.match(
      d.errorInformation!.message,
      /BeforeAllowTraffic hook failed: mesh deploy check of payments v2 failed: policy: refused/,
    );
    assert.equal(d.events[0]!.diagnostics!.errorCode, 'ScriptFailed');
    assert.equal(d.events[1]!.status, 'Skipped', 'AllowTraffic never ran');
    assert.ok(
      aliasWrites.every((w) => Object.keys(w.weights).length === 0 && w.version === '1'),
      JSON.stringify(aliasWrites),
    );
  });

  test('a hook that crashes fails it; one that never reports waits for the hook time-out', async () => {
    const crashed = setup({ hook: 'throw' });
    const d = crashed.create();
    await crashed.clock.advance(1_000);
    assert.equal(d.status, 'Failed');
    assert.match(d.errorInformation!.message, /the hook shop-hook failed: Unhandled: the hook crashed/);
    const silent = setup({ hook: 'silent', speed: 60 });
    const s = silent.create();
    await silent.clock.advance(59_000);
    assert.equal(s.status, 'InProgress', 'an hour is a minute at 60x');
    await silent.clock.advance(2_000);
    assert.equal(s.status, 'Failed');
    assert.equal(s.events[0]!.diagnostics!.errorCode, 'ScriptTimedOut');
  });

  test('StopDeployment stops it and rolls back; stopping a finished one is refused', async () => {
    const { clock, aliasWrites, create, engine } = setup();
    const d = create();
    await clock.advance(30_000);
    assert.deepEqual(engine.stop(d.id, true), {
      status: 'Pending',
      statusMessage: `Stopping deployment ${d.id} and rolling back`,
    });
    await clock.flush();
    assert.equal(d.status, 'Stopped');
    assert.equal(d.errorInformation!.code, 'MANUAL_STOP');
    assert.deepEqual(aliasWrites[aliasWrites.length - 1], { version: '1', weights: {} });
    assert.throws(() => engine.stop(d.id, true), { name: 'DeploymentAlreadyCompletedException' });
  });

  test('one deployment at a time per group; hook status only for the running hook, once', async () => {
    const { clock, create, engine } = setup({ hook: 'silent' });
    const d = create();
    await clock.flush();
    assert.throws(() => create(), { name: 'DeploymentLimitExceededException', message: new RegExp(d.id) });
    assert.throws(() => engine.putHookStatus(d.id, 'nope', 'Succeeded'), {
      name: 'InvalidLifecycleEventHookExecutionIdException',
    });
    assert.throws(() => engine.putHookStatus('d-NOPE', 'x', 'Succeeded'), { name: 'DeploymentDoesNotExistException' });
    assert.throws(() => engine.deployment(''), { name: 'DeploymentIdRequiredException' });
    await engine.close();
    assert.equal(d.status, 'Stopped');
  });
});

describe('local CodeDeploy API shapes', () => {
  const where = { region: 'us-east-1', accountId: '000000000000' };

  test('CreateDeployment with an AppSpec, then what GetDeployment, the target and ListDeployments report', async () => {
    const { engine, clock } = setup();
    const appSpec = {
      version: 0.0,
      Resources: [
        {
          'shop-payments': {
            Type: 'AWS::Lambda::Function',
            Properties: { Name: 'shop-payments', Alias: 'live', CurrentVersion: '1', TargetVersion: '2' },
          },
        },
      ],
      Hooks: [{ BeforeAllowTraffic: 'shop-hook' }],
    };
    const { deploymentId } = handleCodeDeploy(
      engine,
      'CreateDeployment',
      {
        applicationName: 'shop-mesh',
        deploymentGroupName: 'payments',
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: JSON.stringify(appSpec) } },
      },
      where,
    ) as { deploymentId: string };
    assert.match(deploymentId, /^d-[A-Z0-9]{9}$/);
    await clock.advance(1_000);
    const info = (
      handleCodeDeploy(engine, 'GetDeployment', { deploymentId }, where) as { deploymentInfo: Record<string, unknown> }
    ).deploymentInfo;
    assert.equal(info.status, 'InProgress');
    assert.equal(info.deploymentConfigName, 'CodeDeployDefault.LambdaCanary10Percent5Minutes');
    assert.equal(info.computePlatform, 'Lambda');
    assert.equal(typeof info.createTime, 'number');
    const { targetIds } = handleCodeDeploy(engine, 'ListDeploymentTargets', { deploymentId }, where) as {
      targetIds: string[];
    };
    const target = (
      handleCodeDeploy(engine, 'GetDeploymentTarget', { deploymentId, targetId: targetIds[0] }, where) as {
        deploymentTarget: { deploymentTargetType: string; lambdaTarget: Record<string, unknown> };
      }
    ).deploymentTarget;
    assert.equal(target.deploymentTargetType, 'LambdaTarget');
    assert.deepEqual(target.lambdaTarget.lambdaFunctionInfo, {
      functionName: 'shop-payments',
      functionAlias: 'live',
      currentVersion: '1',
      targetVersion: '2',
      targetVersionWeight: 0.1,
    });
    assert.equal(target.lambdaTarget.targetArn, 'arn:aws:lambda:us-east-1:000000000000:function:shop-payments:live');
    assert.deepEqual(
      handleCodeDeploy(
        engine,
        'ListDeployments',
        { applicationName: 'shop-mesh', deploymentGroupName: 'payments', includeOnlyStatuses: ['InProgress'] },
        where,
      ),
      { deployments: [deploymentId] },
    );
    const group = (
      handleCodeDeploy(
        engine,
        'GetDeploymentGroup',
        { applicationName: 'shop-mesh', deploymentGroupName: 'payments' },
        where,
      ) as {
        deploymentGroupInfo: { alarmConfiguration: unknown; deploymentConfigName: string };
      }
    ).deploymentGroupInfo;
    assert.deepEqual(group.alarmConfiguration, {
      enabled: true,
      ignorePollAlarmFailure: false,
      alarms: [{ name: 'rate' }],
    });
    const config = (
      handleCodeDeploy(engine, 'GetDeploymentConfig', { deploymentConfigName: group.deploymentConfigName }, where) as {
        deploymentConfigInfo: { trafficRoutingConfig: unknown };
      }
    ).deploymentConfigInfo;
    assert.deepEqual(config.trafficRoutingConfig, {
      type: 'TimeBasedCanary',
      timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 },
    });
    const stopped = handleCodeDeploy(engine, 'StopDeployment', { deploymentId, autoRollbackEnabled: true }, where);
    assert.equal((stopped as { status: string }).status, 'Pending');
    await engine.close();
  });

  test('ListApplications and ListDeploymentGroups name what a deployment of the template put in place', () => {
    const { engine } = setup();
    engine.putApplication('other-mesh');
    engine.putDeploymentGroup({
      applicationName: 'shop-mesh',
      name: 'orders',
      configName: 'CodeDeployDefault.LambdaAllAtOnce',
      alarms: [],
      alarmsEnabled: false,
      ignorePollAlarmFailure: false,
      autoRollbackEvents: [],
    });
    assert.deepEqual(handleCodeDeploy(engine, 'ListApplications', {}, where), {
      applications: ['other-mesh', 'shop-mesh'],
    });
    assert.deepEqual(handleCodeDeploy(engine, 'ListDeploymentGroups', { applicationName: 'shop-mesh' }, where), {
      applicationName: 'shop-mesh',
      deploymentGroups: ['orders', 'payments'],
    });
    assert.deepEqual(handleCodeDeploy(engine, 'ListDeploymentGroups', { applicationName: 'other-mesh' }, where), {
      applicationName: 'other-mesh',
      deploymentGroups: [],
    });
  });

  test('errors name what is missing', () => {
    const { engine } = setup();
    const call = (op: string, input: Record<string, unknown>) => () => handleCodeDeploy(engine, op, input, where);
    assert.throws(call('ListDeployments', { applicationName: 'nope', deploymentGroupName: 'payments' }), {
      name: 'ApplicationDoesNotExistException',
    });
    assert.throws(call('ListDeployments', { applicationName: 'shop-mesh', deploymentGroupName: 'nope' }), {
      name: 'DeploymentGroupDoesNotExistException',
    });
    assert.throws(call('ListDeployments', { deploymentGroupName: 'payments' }), {
      name: 'ApplicationNameRequiredException',
    });
    assert.throws(call('GetDeploymentConfig', { deploymentConfigName: 'Mine' }), {
      name: 'DeploymentConfigDoesNotExistException',
    });
    assert.throws(
      call('CreateDeployment', {
        applicationName: 'shop-mesh',
        deploymentGroupName: 'payments',
        revision: { revisionType: 'S3' },
      }),
      {
        name: 'InvalidRevisionException',
      },
    );
    assert.throws(call('GetDeploymentTarget', { deploymentId: 'd-X' }), { name: 'DeploymentDoesNotExistException' });
    assert.throws(call('BatchGetApplications', {}), { name: 'UnknownOperationException' });
    assert.throws(call('constructor', {}), { name: 'UnknownOperationException' }, 'only operations, not properties');
    assert.throws(call('ListDeploymentGroups', {}), { name: 'ApplicationNameRequiredException' });
    assert.throws(call('ListDeploymentGroups', { applicationName: 'nope' }), {
      name: 'ApplicationDoesNotExistException',
    });
    assert.throws(() => parseAppSpec('version: 0.0'), /JSON AppSpec content only/);
    assert.throws(
      () => parseAppSpec('{"Resources":[{"f":{"Type":"AWS::Lambda::Function","Properties":{"Name":"f"}}}]}'),
      /Alias/,
    );
  });
});

describe('deployment view', () => {
  test('the live view shows the step and the alarms, then the rollback and the alarm that caused it', async () => {
    const { engine, clock, alarmStates, create } = setup({ speed: 10 });
    const alarms = new AlarmRegistry({ metrics: new MetricStore(), now: clock.now });
    const d = create();
    await clock.advance(5_000);
    let lines = deploymentLines(deploymentViews(engine, alarms, clock.now()), clock.now());
    assert.match(
      lines[0]!,
      /deployment d-\w+ payments v1 -> v2 \(canary 10% for 5 min, then all\): step 1\/2: 10% on v2, 100% in 25 s/,
    );
    alarmStates.set('rate', 'ALARM');
    await clock.advance(1_000);
    const views = deploymentViews(engine, alarms, clock.now());
    // The dashboard names the alarm that stopped it, as the live view does.
    assert.deepEqual(views[0]!.stoppedBy, ['rate']);
    lines = deploymentLines(views, clock.now());
    assert.match(
      lines[0]!,
      new RegExp(
        `deployment ${d.id} payments v1 -> v2 .*: STOPPED after 5\\.5 s: ALARM_ACTIVE \\(rate\\), rolled back to v1`,
      ),
    );
    assert.equal(shortName('LambdaMeshShop-PaymentsDeploymentSuccessRate24908696'), 'SuccessRate');
    assert.equal(shortName('plain'), 'plain');
  });

  test('times each note from the creation: the first, "created", is at 0.0 s, never before it', async () => {
    const { engine, clock, create } = setup();
    const alarms = new AlarmRegistry({ metrics: new MetricStore(), now: clock.now });
    const d = create();
    // On a real clock the run starts a few ms after the deployment was created.
    d.startTime = d.createTime + 3;
    await clock.advance(1_000);
    const [view] = deploymentViews(engine, alarms, clock.now());
    assert.match(view!.notes[0]!.text, /^created: /);
    assert.equal(view!.notes[0]!.afterMs, 0);
    assert.deepEqual(
      view!.notes.filter((n) => !(n.afterMs >= 0)),
      [],
      'notes timed before the deployment existed',
    );
  });
});
