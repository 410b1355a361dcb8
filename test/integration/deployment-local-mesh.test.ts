/**
 * Gated deployments on the local mesh with the example app, end to end: CodeDeploy, CloudWatch and
 * Lambda through the real AWS SDK on the wire, the operator's side through the real `mesh` CLI.
 * - At CodeDeploy's own pace, without traffic: a deploy freeze (`mesh policy deny mesh-deploy-check`)
 *   fails the pre-traffic check before any traffic moves; once lifted, the next release shifts 10%,
 *   `mesh status` shows it, `mesh shift`, `promote` and `rollout` refuse, and `mesh rollback` stops it
 *   through CodeDeploy.
 * - Five times CodeDeploy's pace, under demo traffic: a healthy release is promoted to 100% with no
 *   command; the failing canary (a fifth of its calls fail) is rolled back by its alarms within the
 *   canary's bake time. (The canary's 10% of the traffic must fill the alarms' periods: at 5x a period
 *   lasts 12 s, enough even when a busy machine slows the traffic down.) The traffic runs at the rate
 *   each test's reasoning needs (HEALTHY_RPS, FAILING_RPS): every request costs CPU time in the mesh
 *   and its workers, and the healthy canary's minute of bake is the file's longest wait.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CodeDeployClient,
  type DeploymentInfo,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  GetDeploymentTargetCommand,
  type LambdaTarget,
  ListDeploymentsCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import type { Traffic } from '../../local/traffic';
import { DEPLOYMENT, LIVE_ALIAS } from '../../shared/names';
import type { TraceSummary } from '../../shared/telemetry/trace-assembler';
import { awsClis, NO_AWS_CLI } from '../support/aws-cli';
import { flowingCheckouts } from '../support/demo-traffic';
import { clientConfig, exampleRelease2, localExampleAssemblies } from '../support/example-assembly';
import { meshArgs } from '../support/mesh-cli';
import { WITHOUT_COVERAGE } from '../support/without-coverage';

const ROOT = join(__dirname, '..', '..');
const FN = 'shop-payments';
const APP = DEPLOYMENT.applicationName('shop');
const GROUP = DEPLOYMENT.groupName('payments');
const { assemblies, skip } = localExampleAssemblies();
/** `mesh`'s environment, without V8 coverage (its bundle counts for no source file: test/support/mesh-cli.ts). */
const env = {
  ...WITHOUT_COVERAGE,
  PATH: process.env.PATH,
  HOME: '/nonexistent-home-for-cli-tests',
  AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
};

/** The `mesh` CLI against the local mesh; async, since the mesh serves from this very process. */
async function cli(url: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = await meshArgs([...args, '--endpoint-url', url]);
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** SDK clients on the local mesh's one endpoint. */
function clients(url: string) {
  const config = clientConfig(url);
  const c = {
    lambda: new LambdaClient(config),
    codeDeploy: new CodeDeployClient(config),
    cloudWatch: new CloudWatchClient(config),
    alias: async () => {
      const a = await c.lambda.send(new GetAliasCommand({ FunctionName: FN, Name: LIVE_ALIAS }));
      return { version: a.FunctionVersion, weights: a.RoutingConfig?.AdditionalVersionWeights ?? {} };
    },
    deployment: async (id: string): Promise<DeploymentInfo> =>
      (await c.codeDeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!,
    target: async (id: string): Promise<LambdaTarget> =>
      (await c.codeDeploy.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId: `${FN}:${LIVE_ALIAS}` })))
        .deploymentTarget!.lambdaTarget!,
    /** Polls GetDeployment on the wire until the deployment ends. */
    ended: async (id: string, withinMs: number): Promise<DeploymentInfo> => {
      const until = Date.now() + withinMs;
      for (;;) {
        const d = await c.deployment(id);
        if (d.status === 'Succeeded' || d.status === 'Failed' || d.status === 'Stopped') return d;
        if (Date.now() > until) assert.fail(`deployment ${id} still ${d.status} after ${withinMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    destroy: () => {
      c.lambda.destroy();
      c.codeDeploy.destroy();
      c.cloudWatch.destroy();
    },
  };
  return c;
}

describe('gated deployments at CodeDeploy pace: the deploy freeze, mesh status, refusals and mesh rollback', {
  skip,
}, () => {
  let mesh: LocalMesh;
  let sdk: ReturnType<typeof clients>;
  let release2: string;

  before(async () => {
    release2 = assemblies!.release2;
    mesh = await startLocalMesh({ assemblies: [assemblies!.release1], port: 0, quiet: true });
    sdk = clients(mesh.url);
  });

  after(async () => {
    sdk?.destroy();
    await mesh?.stop();
  });

  test('a deploy freeze fails the pre-traffic check, naming it, before any traffic moves', async () => {
    const freeze = await cli(mesh.url, 'policy', 'deny', 'mesh-deploy-check', 'payments', '--reason', 'freeze');
    assert.equal(freeze.code, 0, freeze.stderr);

    const report = await mesh.apply(release2);
    const [gated] = report.deployments;
    assert.ok(gated, 'release 2 moves payments through a CodeDeploy deployment');
    assert.deepEqual([gated.functionName, gated.from, gated.to], [FN, '1', '2']);

    const d = await sdk.ended(gated.deploymentId, 30_000);
    assert.equal(d.status, 'Failed');
    assert.equal(d.errorInformation?.code, 'HOOK_EXECUTION_FAILURE');
    assert.match(d.errorInformation?.message ?? '', /mesh deploy check of payments v2 failed: policy: /);
    assert.ok(d.rollbackInfo?.rollbackDeploymentId, 'auto-rollback on a failed deployment');
    const target = await sdk.target(gated.deploymentId);
    assert.deepEqual(
      target.lifecycleEvents?.map((e) => `${e.lifecycleEventName} ${e.status}`),
      ['BeforeAllowTraffic Failed', 'AllowTraffic Skipped'],
    );
    assert.equal(target.lambdaFunctionInfo?.targetVersionWeight, 0);
    assert.deepEqual(await sdk.alias(), { version: '1', weights: {} });
    // Only the check itself reached the new version: no caller's traffic did.
    const callersOfV2 = mesh
      .recentInvocations()
      .filter((r) => r.functionName === FN && r.version === '2')
      .map((r) => r.source);
    assert.ok(callersOfV2.length > 0);
    assert.deepEqual([...new Set(callersOfV2)], [DEPLOYMENT.checkSource]);
    // The check's invocations are in the hook's traces, which the app's list of traces leaves out.
    const hook = mesh.registry.listFunctions().find((f) => f.Environment?.Variables?.[DEPLOYMENT.checksEnv]);
    const traces = async (query: string) =>
      ((await (await fetch(`${mesh.url}/_mesh/traces?limit=50${query}`)).json()) as { traces: TraceSummary[] }).traces
        .filter((t) => t.services.includes(FN))
        .map((t) => t.root);
    let roots: string[] = [];
    for (let end = Date.now() + 15_000; roots.length === 0 && Date.now() < end; await sleep(200)) {
      roots = await traces('');
    }
    assert.ok(hook?.FunctionName && roots.length > 0, 'the check left traces');
    assert.deepEqual([...new Set(roots)], [hook.FunctionName]);
    assert.deepEqual(await traces('&control=hide'), []);
  });

  test('lifted, the next deployment shifts 10%; mesh status shows its step, next shift and alarms', async () => {
    const thaw = await cli(mesh.url, 'policy', 'allow', 'mesh-deploy-check', 'payments');
    assert.equal(thaw.code, 0, thaw.stderr);
    // The team's next change (payments' release 2 without its defect, version 3) goes out.
    const [gated] = (await mesh.apply(exampleRelease2({ paymentsFailureRate: '0' }))).deployments;
    assert.ok(gated);
    assert.deepEqual([gated.from, gated.to], ['1', '3']);
    assert.equal(
      gated.status,
      'InProgress',
      JSON.stringify((await sdk.deployment(gated.deploymentId)).errorInformation),
    );
    assert.deepEqual(await sdk.alias(), { version: '1', weights: { '3': 0.1 } });

    const text = await cli(mesh.url, 'status');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /DEPLOYMENTS IN PROGRESS/);
    assert.match(
      text.stdout,
      new RegExp(
        `payments {2}${gated.deploymentId} {2}v1 -> v3 {2}CodeDeployDefault\\.LambdaCanary10Percent5Minutes \\(canary 10% for 5 min, then all\\)`,
      ),
    );
    assert.match(text.stdout, /step 1\/2: 10% on v3, next shift to 100% in [45]m\d\ds/);
    assert.match(text.stdout, /alarms: \S+SuccessRate\S* OK, \S+P99Latency\S* OK, \S+LambdaErrors\S* OK/);

    const json = await cli(mesh.url, 'status', '--json');
    const [d] = JSON.parse(json.stdout).deployments as Record<string, unknown>[];
    assert.equal(d?.id, gated.deploymentId);
    assert.deepEqual([d?.service, d?.from, d?.to, d?.weight, d?.stage], ['payments', '1', '3', 0.1, 'AllowTraffic']);
    // The alarms `mesh status` read are the group's, in DescribeAlarms' shape.
    const group = await sdk.codeDeploy.send(
      new GetDeploymentGroupCommand({ applicationName: APP, deploymentGroupName: GROUP }),
    );
    const names = group.deploymentGroupInfo?.alarmConfiguration?.alarms?.map((a) => a.name!) ?? [];
    assert.equal(names.length, 3);
    const alarms = await sdk.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: names }));
    assert.deepEqual(
      alarms.MetricAlarms?.map((a) => [a.AlarmName, a.StateValue]),
      names.map((n) => [n, 'OK']),
    );
  });

  test('mesh shift, promote and rollout refuse while CodeDeploy owns live, and write nothing', async () => {
    for (const args of [
      ['shift', 'payments', '50'],
      ['promote', 'payments'],
      ['rollout', 'payments', '--steps', '50,100', '--interval', '3s'],
    ]) {
      const r = await cli(mesh.url, ...args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(
          `^mesh ${args[0]}: payments: CodeDeploy deployment d-[A-Z0-9]+ \\(v1 -> v3\\) owns the live alias; \`mesh ${args[0]}\` would fight it`,
        ),
      );
    }
    assert.deepEqual(await sdk.alias(), { version: '1', weights: { '3': 0.1 } });
  });

  test('mesh rollback stops the deployment through CodeDeploy, which moves live back', async () => {
    const [id] =
      (
        await sdk.codeDeploy.send(
          new ListDeploymentsCommand({
            applicationName: APP,
            deploymentGroupName: GROUP,
            includeOnlyStatuses: ['InProgress'],
          }),
        )
      ).deployments ?? [];
    assert.ok(id);
    const r = await cli(mesh.url, 'rollback', 'payments');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `payments: stopped CodeDeploy deployment ${id} (v1 -> v3); Stopped, live back on v1\n`);
    const d = await sdk.deployment(id);
    assert.equal(d.status, 'Stopped');
    assert.equal(d.errorInformation?.code, 'MANUAL_STOP');
    assert.ok(d.rollbackInfo?.rollbackDeploymentId);
    assert.deepEqual(await sdk.alias(), { version: '1', weights: {} });
    const status = await cli(mesh.url, 'status');
    assert.doesNotMatch(status.stdout, /DEPLOYMENTS IN PROGRESS/);
    // With nothing in progress, rollback is the plain alias rollback again.
    const again = await cli(mesh.url, 'rollback', 'payments');
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /CodeDeploy/);
  });

  test('the aws CLI reads the same deployments (and, over JSON, the alarms)', {
    skip: awsClis().length === 0 && NO_AWS_CLI,
  }, async () => {
    const [id] =
      (await sdk.codeDeploy.send(new ListDeploymentsCommand({ applicationName: APP, deploymentGroupName: GROUP })))
        .deployments ?? [];
    assert.ok(id);
    for (const aws of awsClis()) {
      const run = async (...args: string[]) =>
        JSON.parse(
          (
            await promisify(execFile)(aws.path, ['--endpoint-url', mesh.url, '--output', 'json', ...args], {
              env: {
                PATH: process.env.PATH,
                AWS_ACCESS_KEY_ID: 'test',
                AWS_SECRET_ACCESS_KEY: 'test',
                AWS_DEFAULT_REGION: 'us-east-1',
              },
              encoding: 'utf8',
            })
          ).stdout,
        );
      const d = await run('deploy', 'get-deployment', '--deployment-id', id);
      assert.equal(d.deploymentInfo.status, (await sdk.deployment(id)).status, `aws ${aws.version}`);
      // CloudWatch over JSON (what the SDK speaks, and the pip CLI's botocore); Debian's v2.9 speaks the
      // query protocol to CloudWatch, which the local endpoint does not serve.
      if (!aws.version.startsWith('1.')) continue;
      const alarms = await run(
        'cloudwatch',
        'describe-alarms',
        '--alarm-name-prefix',
        'LambdaMeshShop-PaymentsDeployment',
      );
      assert.equal(alarms.MetricAlarms.length, 3, `aws ${aws.version}`);
    }
  });
});

describe('gated deployments under traffic, five times CodeDeploy pace', { skip }, () => {
  const SPEED = 5;
  /**
   * Checkouts a second while the healthy canary bakes. Its alarms must judge calls, not a quiet period
   * (missing data is not breaching, so no traffic would pass too): at 5 a second the canary's 10% is
   * about 6 calls in each 12 s period, still 2 at a third of that rate on crowded cores, so a period
   * with none has odds of about e^-2 (1 in 7) there and the bake's five periods all quiet about 1 in
   * 20,000. More calls would not make a false rollback less likely: the success rate alarm fires on one
   * failed call in a period of 6 as in one of 12, and the p99 of so few calls is their slowest either
   * way. The bake is the file's longest wait, and each checkout costs CPU time in the mesh and its four
   * workers.
   */
  const HEALTHY_RPS = 5;
  /**
   * Checkouts a second while the failing canary bakes. Its alarms fire on two periods in a row below
   * 99% success; a period of n calls on a canary failing a fifth of them has none failed with odds
   * 0.8^n: at 30 a second about 36 calls a period (odds 1 in 3,000), and still 12 (1 in 15) when
   * crowded cores slow the traffic to a third, with the bake's five periods to find two in a row.
   */
  const FAILING_RPS = 30;
  let mesh: LocalMesh;
  let sdk: ReturnType<typeof clients>;
  let traffic: Traffic;

  before(async () => {
    mesh = await startLocalMesh({ assemblies: [assemblies!.release1], port: 0, quiet: true, deploymentSpeed: SPEED });
    sdk = clients(mesh.url);
    traffic = await flowingCheckouts(mesh.url, HEALTHY_RPS);
  });

  after(async () => {
    await traffic?.stop();
    sdk?.destroy();
    await mesh?.stop();
  });

  test('a healthy release is promoted to 100% with no command', async () => {
    const [gated] = (await mesh.apply(exampleRelease2({ paymentsFailureRate: '0' }))).deployments;
    assert.ok(gated);
    assert.deepEqual([gated.from, gated.to], ['1', '2']);
    // CANARY_10PERCENT_5MINUTES at 5x: 60 s of canary, then all.
    const d = await sdk.ended(gated.deploymentId, 180_000);
    assert.equal(d.status, 'Succeeded', JSON.stringify(d.errorInformation));
    assert.deepEqual(await sdk.alias(), { version: '2', weights: {} });
    const target = await sdk.target(gated.deploymentId);
    assert.deepEqual(
      target.lifecycleEvents?.map((e) => `${e.lifecycleEventName} ${e.status}`),
      ['BeforeAllowTraffic Succeeded', 'AllowTraffic Succeeded'],
    );
    const view = mesh.codeDeploy.deployment(gated.deploymentId).notes.map((n) => n.text);
    assert.ok(view.includes('10% to v2, the rest on v1'), view.join('\n'));
    assert.ok(view.includes('all traffic to v2'), view.join('\n'));
    assert.ok(traffic.counters.checkout!.ok > 0);
  });

  test("the failing canary is rolled back by its alarms within the canary's bake time", async (t) => {
    await traffic.stop();
    traffic = await flowingCheckouts(mesh.url, FAILING_RPS);
    const [gated] = (await mesh.apply(assemblies!.release2)).deployments;
    assert.ok(gated);
    assert.deepEqual([gated.from, gated.to], ['2', '3']);
    const d = await sdk.ended(gated.deploymentId, 180_000);
    assert.equal(d.status, 'Stopped');
    assert.equal(d.errorInformation?.code, 'ALARM_ACTIVE');
    assert.match(d.errorInformation?.message ?? '', /Activated alarms: <LambdaMeshShop-PaymentsDeployment/);
    assert.ok(d.rollbackInfo?.rollbackDeploymentId);
    assert.deepEqual(await sdk.alias(), { version: '2', weights: {} });

    // From the first shift to the rollback, against the 5 minutes the canary would bake (60 s here).
    const target = await sdk.target(gated.deploymentId);
    const allow = target.lifecycleEvents?.find((e) => e.lifecycleEventName === 'AllowTraffic');
    const tookMs = d.completeTime!.getTime() - allow!.startTime!.getTime();
    const bakeMs = (5 * 60_000) / SPEED;
    const onCanary = mesh
      .recentInvocations()
      .filter((r) => r.functionName === FN && r.version === '3' && r.source === 'orders').length;
    t.diagnostic(
      `rolled back ${(tookMs / 1000).toFixed(1)} s after the first shift (${((tookMs * SPEED) / 1000).toFixed(0)} s at CodeDeploy's pace), bake time ${bakeMs / 1000} s (300 s); ${onCanary} calls reached the canary`,
    );
    assert.ok(tookMs < bakeMs, `rolled back after ${tookMs} ms, over the ${bakeMs} ms bake time`);
    // The alarms that fired are the group's, on the new version (v3) as the mesh and Lambda measure it.
    const firing = /Activated alarms: <([^>]*)>/.exec(d.errorInformation!.message!)![1]!.split(', ');
    const group = await sdk.codeDeploy.send(
      new GetDeploymentGroupCommand({ applicationName: APP, deploymentGroupName: GROUP }),
    );
    const names = group.deploymentGroupInfo!.alarmConfiguration!.alarms!.map((a) => a.name);
    for (const name of firing) assert.ok(names.includes(name), `${name} is one of ${names.join(', ')}`);
    const alarms = await sdk.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: firing }));
    for (const a of alarms.MetricAlarms ?? []) {
      const versions = [a.Dimensions ?? [], ...(a.Metrics ?? []).map((m) => m.MetricStat?.Metric?.Dimensions ?? [])]
        .flat()
        .filter((x) => x.Name === 'destination_version' || x.Name === 'ExecutedVersion')
        .map((x) => x.Value);
      assert.ok(versions.length > 0 && versions.every((v) => v === '3'), `${a.AlarmName}: ${versions.join(',')}`);
    }
    assert.equal(alarms.MetricAlarms?.length, firing.length);
  });
});
