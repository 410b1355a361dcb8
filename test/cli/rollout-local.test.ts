/**
 * `mesh rollout` end to end on the local mesh with the example app (releases 1 then 2) under demo
 * traffic. Release 2 is synthesized with payments as a pinned split (`-c paymentsCanary=pinned`, the
 * advanced `canary` prop: rollout is for operators who step a canary by hand; a gated deploy's canary
 * is CodeDeploy's, and rollout refuses it). Its canary fails a share of calls (PAYMENTS_FAILURE_RATE),
 * so the rollout rolls back on the success gate; Ctrl-C rolls back too; with a failure rate of 0 it
 * passes every gate and is promoted.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Traffic } from '../../local/traffic';
import { flowingCheckouts } from '../support/demo-traffic';
import {
  clientConfig,
  exampleAssemblies,
  exampleRelease2,
  startTestMesh,
  type TestMesh,
} from '../support/example-assembly';
import { meshArgs, type Run, run } from '../support/mesh-cli';
import { warmEnvironments } from '../support/warm-environments';
import { WITHOUT_COVERAGE } from '../support/without-coverage';

const ROOT = join(__dirname, '..', '..');
const FN = 'shop-payments';
/** The traffic's loops: at most this many checkouts, so as many charges, run at once. */
const LOOPS = 3;
/**
 * Checkouts a second while the failing canary's gates count: a gate over n of its calls sees none of
 * them fail with odds 0.8^n, so each 10 s step must bring 30 calls, even when crowded cores slow the
 * traffic to a tenth of this.
 */
const FAILING_RPS = 30;
/**
 * Checkouts a second while the healthy canary's gates count (`--min-requests 5` over 3 s steps): at 50%
 * about 15 canary calls a step, still 5 at a third of this rate, and a step short of them waits one
 * more interval (twice the calls) before it fails. Every checkout costs CPU time in the mesh and its
 * workers; more of them prove nothing more here.
 */
const HEALTHY_RPS = 10;
/** `mesh`'s environment, without V8 coverage (its bundle counts for no source file: test/support/mesh-cli.ts). */
const env = {
  ...WITHOUT_COVERAGE,
  PATH: process.env.PATH,
  HOME: '/nonexistent-home-for-cli-tests',
  AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
};

async function mesh(url: string, args: string[]): Promise<Run> {
  return run(process.execPath, await meshArgs([...args, '--endpoint-url', url]), env);
}

describe('mesh rollout on the local mesh', { skip: exampleAssemblies() === undefined && 'no example app' }, () => {
  let m: TestMesh;
  let traffic: Traffic;
  let lambda: LambdaClient;

  before(async () => {
    m = await startTestMesh([exampleAssemblies()!.release1, exampleRelease2({ paymentsCanary: 'pinned' })]);
    lambda = new LambdaClient(clientConfig(m.url));
  });

  after(async () => {
    await traffic?.stop();
    lambda?.destroy();
    await m?.stop();
  });

  const alias = async () => {
    const a = await lambda.send(new GetAliasCommand({ FunctionName: FN, Name: 'live' }));
    return { version: a.FunctionVersion, weights: a.RoutingConfig?.AdditionalVersionWeights ?? {} };
  };

  test('bad flags exit 2 naming the value, before anything is written', async () => {
    const before = await alias();
    const r = await mesh(m.url, ['rollout', 'payments', '--steps', '50,20']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^mesh rollout: --steps "50,20" is not .*increasing/);
    const noCanary = await mesh(m.url, ['rollout', 'orders', '--interval', '1s']);
    assert.equal(noCanary.code, 2, noCanary.stderr);
    assert.match(
      noCanary.stderr,
      /^mesh rollout: orders has no canary version: .*deploy a new version of orders first/,
    );
    assert.deepEqual(await alias(), before);
  });

  test('a canary that fails calls is rolled back on the success gate (exit 1, reason names metric, value, threshold)', async () => {
    // The traffic flows for this rollout only: the refusals before it and the Ctrl-C after it judge no
    // calls (an interrupted rollout rolls back whatever its gates saw).
    // Once calls succeed: the gates then see a steady rate, not cold starts.
    traffic = await flowingCheckouts(m.url, FAILING_RPS, LOOPS);
    // The canary fails a fifth of its calls: a gate over n of them sees none fail with odds 0.8^n (a
    // third at 5, one in 800 at 30). On busy cores a 3 s step saw 9 calls; 10 s steps bring 30 even
    // at 1.5 canary calls a second, counting the one more interval a step waits for too few.
    const r = await mesh(m.url, [
      'rollout',
      'payments',
      '--steps',
      '50,100',
      '--interval',
      '10s',
      '--min-success',
      '99',
      '--max-p99',
      '10s',
      '--min-requests',
      '30',
    ]);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /rollout of v2 over v1/);
    assert.match(r.stdout, /step 1\/2\s+50% v2\s+requests\s+\d+\s+success\s+[\d.]+%/);
    assert.match(
      r.stderr,
      /^mesh rollout: payments rolled back to 100% v1 at 50%: success rate of v2 = [\d.]+%, below --min-success 99%\n$/,
    );
    assert.deepEqual(await alias(), { version: '1', weights: {} });
    await traffic.stop();
  });

  test('Ctrl-C during a rollout rolls back and says so', async () => {
    const child = spawn(
      process.execPath,
      await meshArgs(['rollout', 'payments', '--steps', '50,100', '--interval', '60s', '--endpoint-url', m.url]),
      {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      // Wait for the first step's weight to land, then interrupt.
      for (let i = 0; i < 200 && (await alias()).weights['2'] !== 0.5; i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual((await alias()).weights, { '2': 0.5 });
      child.kill('SIGINT');
      assert.equal(await exited, 130, err);
      assert.match(err, /interrupted \(Ctrl-C\) at 50%: payments rolled back to 100% v1/);
      assert.deepEqual(await alias(), { version: '1', weights: {} });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('output whose reader has gone (`| head -1`) rolls back at the next line, as nobody sees the gates', async () => {
    // Too few requests for any gate: the first gate waits one more interval, and says so on stdout.
    const args = ['rollout', 'payments', '--steps', '50,100', '--interval', '2s', '--min-requests', '1000000'];
    const child = spawn(process.execPath, await meshArgs([...args, '--endpoint-url', m.url]), {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    // Like `head -1`: the first line (the rollout's plan) read, then the pipe closed.
    child.stdout.once('data', () => child.stdout.destroy());
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      assert.equal(await exited, 1, err);
      assert.match(
        err,
        /^mesh rollout: its output was closed \(the reader of stdout went away\) at 50%: payments rolled back to 100% v1\n$/,
      );
      assert.deepEqual(await alias(), { version: '1', weights: {} });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('mesh rollout of a healthy canary', { skip: exampleAssemblies() === undefined && 'no example app' }, () => {
  let m: TestMesh;
  let traffic: Traffic;
  let lambda: LambdaClient;
  before(async () => {
    // The same pinned canary, minus its defect.
    const healthy = exampleRelease2({ paymentsCanary: 'pinned', paymentsFailureRate: '0' });
    m = await startTestMesh([exampleAssemblies()!.release1, healthy]);
    lambda = new LambdaClient(clientConfig(m.url));
    // Once calls succeed: the gates then see a steady rate, not cold starts.
    traffic = await flowingCheckouts(m.url, HEALTHY_RPS, LOOPS);
    // The canary's environments start before the rollout does: one failed call in a step fails the
    // 99% gate, and a cold start slower than orders' 2 s per-try timeout is refused as past its
    // deadline. Twice the loops: an attempt a retry gave up on may still hold one.
    await warmEnvironments(lambda, m.local, { functionName: FN, version: '2' }, 2 * LOOPS);
  });

  after(async () => {
    await traffic?.stop();
    lambda?.destroy();
    await m?.stop();
  });

  test('passes every gate and is promoted (exit 0, live -> the canary)', async () => {
    const r = await mesh(m.url, [
      'rollout',
      'payments',
      '--steps',
      '50,100',
      '--interval',
      '3s',
      '--max-p99',
      '10s',
      '--min-requests',
      '5',
      '--json',
    ]);

    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const out = JSON.parse(r.stdout) as {
      result: string;
      canary: string;
      stable: string;
      steps: { percent: number; verdict: string; successRate: number }[];
    };
    assert.equal(out.result, 'promoted');
    assert.equal(out.canary, '2');
    assert.equal(out.stable, '1');
    assert.deepEqual(
      out.steps.filter((s) => s.verdict === 'pass').map((s) => s.percent),
      [50, 100],
    );
    assert.ok(out.steps.every((s) => s.verdict !== 'fail'));
    const a = await lambda.send(new GetAliasCommand({ FunctionName: FN, Name: 'live' }));
    assert.equal(a.FunctionVersion, '2');
    assert.deepEqual(a.RoutingConfig?.AdditionalVersionWeights ?? {}, {});
  });
});
