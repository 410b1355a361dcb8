/**
 * `mesh local` runs the local mesh from cloud assemblies, and the rest of the CLI drives it through
 * one AWS_ENDPOINT_URL (Lambda and DynamoDB on the same port): the operator's local loop, end to end.
 * The assemblies are the observability fixture app (payments runs a 50/50 canary in release 2).
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetAliasCommand, GetFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { App, Stack, Stage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { regionsAssembly } from '../support/example-assembly';
import { meshArgs, type Run, run } from '../support/mesh-cli';
import { MESH_LOCAL_ENV, serveMeshLocal } from '../support/mesh-local-process';
import { observAssemblies } from '../support/observ-app/assemblies';

const baseEnv = MESH_LOCAL_ENV;

async function mesh(url: string, args: string[]): Promise<Run> {
  return run(process.execPath, await meshArgs(args), { ...baseEnv, AWS_ENDPOINT_URL: url });
}

describe('mesh local', () => {
  let child: ChildProcess;
  let url: string;
  let exited: Promise<number | null>;

  before(async () => {
    const { release1, release2 } = observAssemblies();
    const args = ['--assembly', release1, '--assembly', release2, '--port', '0', '--quiet'];
    ({ child, url, exited } = await serveMeshLocal(args));
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGINT');
      await exited;
    }
  });

  test('status through the one endpoint shows the deployed canary', async () => {
    const r = await mesh(url, ['status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    const pay = s.services.find((x: { service: string }) => x.service === 'payments');
    assert.equal(pay.alias.functionVersion, '1');
    assert.deepEqual(pay.alias.weights, { '2': 0.5 });
    assert.deepEqual(pay.alias.traffic, { '1': 50, '2': 50 });
    assert.equal(s.endpoint, url);
  });

  test('shift and policy deny land in the local mesh', async () => {
    const r = await mesh(url, ['shift', 'payments', '20']);
    assert.equal(r.code, 0, r.stderr);
    const lambda = new LambdaClient({
      region: 'us-east-1',
      endpoint: url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const a = await lambda.send(new GetAliasCommand({ FunctionName: 'observ-payments', Name: 'live' }));
    lambda.destroy();
    assert.deepEqual(a.RoutingConfig?.AdditionalVersionWeights, { '2': 0.2 });
    const d = await mesh(url, ['policy', 'deny', 'orders', 'payments']);
    assert.equal(d.code, 0, d.stderr);
    const l = await mesh(url, ['policy', 'list', '--service', 'payments', '--json']);
    const items = JSON.parse(l.stdout) as { sk: string; managedBy?: string }[];
    assert.equal(items.find((i) => i.sk === 'deny#orders')?.managedBy, 'operator');
  });

  test('Ctrl-C stops the local mesh cleanly (exit 0)', async () => {
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  });
});

describe('mesh local on a port another process holds', () => {
  test('says so in one line and names the way out, before it synthesizes the app', async () => {
    // GIVEN a port held by another server (a local mesh or LocalStack already running)
    const holder = createServer();
    await new Promise<void>((ready) => holder.listen(0, '127.0.0.1', ready));
    const port = (holder.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'mesh-local-port-'));
    try {
      // WHEN mesh local is asked for that port, with an app that leaves a mark when it runs
      const mark = join(dir, 'synthesized');
      const app = `${JSON.stringify(process.execPath)} -e "require('fs').writeFileSync('${mark}', '')"`;
      const r = await run(
        process.execPath,
        await meshArgs(['local', '--app', app, '--port', String(port), '--output', join(dir, 'cdk.out')]),
        {
          ...baseEnv,
        },
      );
      // THEN exit 1 with the port and the fix, no stack trace, and the app (seconds of synth) never ran
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(r.stderr.trim().split('\n'), [
        `mesh local: port ${port} is held by another process (a local mesh or LocalStack already running?); stop it, or pass --port <another port> (--port 0 takes a free one)`,
      ]);
      assert.equal(existsSync(mark), false, 'the app ran');
    } finally {
      holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mesh local with no cloud assembly to serve', () => {
  test('an --assembly folder without a manifest, or an app that wrote none, is named with the fix, without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesh-local-none-'));
    try {
      // GIVEN a folder that holds no cloud assembly, and an app command that exits 0 without writing one
      const local = async (args: string[]) =>
        run(process.execPath, await meshArgs(['local', '--port', '0', ...args]), baseEnv);
      // WHEN mesh local is to serve the folder
      const folder = await local(['--assembly', dir]);
      // THEN exit 2, nothing started
      assert.equal(folder.code, 2, folder.stderr);
      assert.deepEqual(folder.stderr.trim().split('\n'), [
        `mesh local: --assembly ${dir} holds no cloud assembly (no manifest.json); synthesize one into it first (npx cdk synth -o ${dir})`,
      ]);
      // WHEN the app runs and writes nothing
      const out = join(dir, 'cdk.out');
      const quiet = await local(['--app', `${JSON.stringify(process.execPath)} -e 0`, '--output', out]);
      // THEN exit 1, naming the command and the folder it should have written
      assert.equal(quiet.code, 1, quiet.stderr);
      assert.deepEqual(quiet.stderr.trim().split('\n'), [
        `mesh local: synthesizing the app into ${out}`,
        `mesh local: the app (${JSON.stringify(process.execPath)} -e 0) exited without writing a cloud assembly to ${out}; its command must run the CDK app (cdk.json's "app", or --app), whose App writes the assembly where CDK_OUTDIR names`,
        'fix the app and run again',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mesh local on an app with a stage per account', () => {
  test('names the stages and --stage instead of failing on two accounts, and serves the one stage it is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesh-local-stages-'));
    let served: ChildProcess | undefined;
    try {
      // GIVEN an app as CDK Pipelines declares it: a Dev and a Prod stage in two accounts, the same function in each
      const out = stagedApp(dir);
      const local = async (args: string[]) =>
        run(process.execPath, await meshArgs(['local', '--assembly', out, '--port', '0', '--quiet', ...args]), baseEnv);
      // WHEN mesh local serves it whole
      const whole = await local([]);
      // THEN exit 1, one line naming each account's stage and the way to serve one, no stack trace
      assert.equal(whole.code, 1, whole.stderr);
      assert.deepEqual(whole.stderr.trim().split('\n'), [
        'mesh local: the stacks name 2 accounts: 111111111111 (stage Dev: Dev-Shop), 222222222222 (stage Prod: Prod-Shop); the local mesh serves one account: serve one stage with --stage <Dev|Prod>, or give every stack the same env.account',
      ]);
      // WHEN it is asked for a stage the app does not have
      const typo = await local(['--stage', 'Prd']);
      // THEN exit 2, naming the app's stages
      assert.equal(typo.code, 2, typo.stderr);
      assert.deepEqual(typo.stderr.trim().split('\n'), [
        'mesh local: --stage "Prd": the app has no such stage (did you mean "Prod"?); its stages: Dev, Prod',
      ]);
      // WHEN it is asked for Prod
      served = spawn(
        process.execPath,
        await meshArgs(['local', '--assembly', out, '--stage', 'Prod', '--port', '0', '--quiet']),
        {
          env: baseEnv,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const { url, exports } = await serving(served);
      // THEN it says which region to point clients at: Prod's, where its function answers, in Prod's account
      // The line is pasted as it is: with no credentials configured, the AWS CLI and SDKs it names refuse to
      // sign without some ("Unable to locate credentials"), and the local mesh takes any.
      assert.equal(
        exports,
        `export AWS_ENDPOINT_URL=${url} AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test`,
      );
      const lambda = new LambdaClient({
        region: 'eu-west-1',
        endpoint: url,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      try {
        const answer = await lambda.send(new InvokeCommand({ FunctionName: 'shop-orders' }));
        assert.equal(Buffer.from(answer.Payload!).toString(), '"Prod"');
        const fn = await lambda.send(new GetFunctionCommand({ FunctionName: 'shop-orders' }));
        assert.match(fn.Configuration!.FunctionArn!, /:222222222222:function:shop-orders$/);
      } finally {
        lambda.destroy();
      }
    } finally {
      if (served && served.exitCode === null) {
        const exited = new Promise((r) => served!.once('exit', r));
        served.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mesh local on an app whose stacks are in two regions', () => {
  test('names each region with its stacks, and a client of the second region finds its function', async () => {
    // GIVEN an app with a stack in us-east-1 and one in eu-west-1, each with a function `where`
    const served = spawn(
      process.execPath,
      await meshArgs(['local', '--assembly', regionsAssembly(), '--port', '0', '--quiet']),
      { env: baseEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      // WHEN it serves
      const lines = printed(served, /eu-west-1 .*\n/);
      const { url, exports } = await serving(served);
      const out = await lines;
      // THEN the exports name the first region, and every region is listed with its stacks
      // The line is pasted as it is: with no credentials configured, the AWS CLI and SDKs it names refuse to
      // sign without some ("Unable to locate credentials"), and the local mesh takes any.
      assert.equal(
        exports,
        `export AWS_ENDPOINT_URL=${url} AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test`,
      );
      assert.match(out, /^ {2}the stacks are in 2 regions; a client finds a stack's functions in its region only:$/m);
      assert.match(out, /^ {4}us-east-1 {2}Regions-us-east-1 {2}\(the exports above\)$/m);
      assert.match(out, /^ {4}eu-west-1 {2}Regions-eu-west-1 {2}\(AWS_REGION=eu-west-1, or --region eu-west-1\)$/m);
      // AND the second region's hint is right: a client signing for it reaches its stack's function
      const lambda = new LambdaClient({
        region: 'eu-west-1',
        endpoint: url,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      try {
        const answer = await lambda.send(new InvokeCommand({ FunctionName: 'where' }));
        assert.match(Buffer.from(answer.Payload!).toString(), /"region":"eu-west-1"/);
      } finally {
        lambda.destroy();
      }
    } finally {
      if (served.exitCode === null) {
        const exited = new Promise((r) => served.once('exit', r));
        served.kill('SIGINT');
        await exited;
      }
    }
  });
});

/**
 * What a child has printed on stdout once it matches `until`; a failure naming what it printed if it
 * exits first, or has not printed it within a minute (it prints it with its URL, or never).
 */
function printed(child: ChildProcess, until: RegExp): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mesh local printed no ${until} but:\n${out}`)), 60_000);
    const read = (d: Buffer | string) => {
      out += d;
      if (!until.test(out)) return;
      clearTimeout(timer);
      resolve(out);
    };
    child.stdout!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mesh local exited ${code}:\n${out}`));
    });
  });
}

/** A CDK app with stages Dev and Prod in two accounts, each a stack with function `shop-orders` answering its stage's name. */
function stagedApp(dir: string): string {
  const code = join(dir, 'handler');
  mkdirSync(code);
  writeFileSync(join(code, 'index.js'), 'exports.handler = async () => process.env.STAGE;\n');
  const app = new App({ outdir: join(dir, 'cdk.out') });
  for (const [stage, account] of [
    ['Dev', '111111111111'],
    ['Prod', '222222222222'],
  ] as const) {
    const stack = new Stack(new Stage(app, stage, { env: { account, region: 'eu-west-1' } }), 'Shop');
    new lambda.Function(stack, 'Orders', {
      functionName: 'shop-orders',
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(code),
      environment: { STAGE: stage },
    });
  }
  return app.synth().directory;
}

/** The URL a `mesh local` child prints once it serves, and its line of exports for clients (comment aside). */
function serving(child: ChildProcess): Promise<{ url: string; exports: string }> {
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /local mesh running at (http:\/\/127\.0\.0\.1:\d+)\n\s*(export [^#\n]*?)\s*(#.*)?\n/.exec(out);
      if (m) resolve({ url: m[1]!, exports: m[2]! });
    });
    child.once('exit', (code) => reject(new Error(`mesh local exited ${code} before serving:\n${out}\n${err}`)));
  });
}
