/**
 * Synthesized cloud assemblies for the local mesh's tests, made once and cached by a hash of their
 * sources (test/support/assembly-cache.ts: a test file that starts a mesh pays for synth only when the
 * app changed, and test files that start together synthesize each assembly once):
 * - `fixtureAssemblies()`: the local mesh's own fixture app (test/support/local-mesh-app), releases 1 and 2.
 * - `checkoutFixtureAssembly()`: a checkout charging through an idempotent and a non-idempotent edge.
 * - `scenarioFixtureAssemblies()`: a probe calling workers that answer, fail or outlast their timeout.
 * - `nestedFixtureAssembly()`: a mesh whose functions sit in its stack and in two nested stacks.
 * - `conditionsAssembly()`: a stack of conditions, mappings and a parameter, as CloudFormation deploys them.
 * - `exampleAssemblies()`: the example app (infra/app.ts, synthesized as `mesh local` does), releases 1 and 2;
 *   undefined while the example app is not in the tree.
 * And `startTestMesh()`: the local mesh on a free port, or — when MESH_TEST_ENDPOINT is set — an
 * already-running target such as LocalStack after `npm run deploy:local` (then nothing is started).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { synthProcess } from '../../local/watch/app-synth';
import { ENV } from '../../shared/names';
import { cached, hashTree, runFixtureApp, SYNTH_COVERAGE_OFF } from './assembly-cache';
import { loopbackClientConfig } from './loopback-client';

const ROOT = join(__dirname, '../..');

export interface Releases {
  /** Release 1 (no canary). */
  readonly release1: string;
  /** Release 2 (new versions of some services: in the example app, payments' gated canary). */
  readonly release2: string;
}

export function fixtureAssemblies(): Releases {
  const appDir = join(__dirname, 'local-mesh-app');
  const hash = hashTree([appDir]);
  const synth = (release: number) =>
    cached('fixture', hash, release, (outdir) => {
      runFixtureApp(join(appDir, 'app.ts'), [outdir, String(release)]);
    });
  return { release1: synth(1), release2: synth(2) };
}

/** Releases 1 and 2 of a fixture app (`tsx app.ts <outdir> <release>`) on the real constructs and runtime. */
function constructsFixture(name: string, appDir: string, alsoHash: readonly string[] = []): Releases {
  const hash = hashTree([appDir, ...alsoHash, ...['infra', 'functions', 'shared'].map((p) => join(ROOT, p))]);
  const synth = (release: number) =>
    cached(name, hash, release, (outdir) => {
      runFixtureApp(join(appDir, 'app.ts'), [outdir, String(release)]);
    });
  return { release1: synth(1), release2: synth(2) };
}

/**
 * The resilience fixture (test/support/local-mesh-app/mesh): a small mesh on the real constructs and
 * the real runtime layer, so it is rebuilt when infra/, functions/ or shared/ change too.
 */
export function meshFixtureAssemblies(): Releases {
  return constructsFixture('mesh-fixture', join(__dirname, 'local-mesh-app/mesh'));
}

/**
 * The identity bootstrap fixture (test/support/identity-app): `front` -> `back`, release 2 adds
 * `late` (its `front` runs the resilience fixture's caller).
 */
export function identityFixtureAssemblies(): Releases {
  return constructsFixture('identity-fixture', join(__dirname, 'identity-app'), [
    join(__dirname, 'local-mesh-app/mesh'),
  ]);
}

/** The regions fixture (test/support/regions-app): one stack per region, one assembly. */
export function regionsAssembly(): string {
  const appDir = join(__dirname, 'regions-app');
  return singleAssembly('regions', appDir, hashTree([appDir]));
}

/**
 * The checkout fixture (test/support/local-mesh-app/checkout): a checkout charging through an
 * idempotent and a non-idempotent edge, on the real constructs and runtime layer. One release.
 */
export function checkoutFixtureAssembly(): string {
  return constructsAssembly('checkout-fixture', join(__dirname, 'local-mesh-app/checkout'));
}

/**
 * The scenarios fixture (test/support/local-mesh-app/scenarios): a probe calling workers through edges
 * that are and are not idempotent, on the real constructs and runtime layer; release 2 publishes a
 * second version of one worker.
 */
export function scenarioFixtureAssemblies(): Releases {
  return constructsFixture('scenario-fixture', join(__dirname, 'local-mesh-app/scenarios'));
}

/** The asynchronous edges fixture (test/support/async-app): Event invokes and an SQS queue, one release. */
export function asyncFixtureAssembly(): string {
  return constructsAssembly('async-fixture', join(__dirname, 'async-app'));
}

/** The event bus fixture (test/support/bus-app): a mesh sending and receiving on an EventBridge bus. */
export function busFixtureAssembly(): string {
  return constructsAssembly('bus-fixture', join(__dirname, 'bus-app'));
}

/** The topic fixture (test/support/topic-app): an SNS topic a meshed function sends to and two functions subscribe to. */
export function topicFixtureAssembly(): string {
  return constructsAssembly('topic-fixture', join(__dirname, 'topic-app'));
}

/** The nested stacks fixture (test/support/nested-app): functions in the mesh's stack and two nested stacks. */
export function nestedFixtureAssembly(): string {
  return constructsAssembly('nested-fixture', join(__dirname, 'nested-app'));
}

/**
 * The conditions fixture (test/support/conditions-app): a region-agnostic stack with a parameter,
 * conditions, mappings and conditioned resources, on aws-cdk-lib alone.
 */
export function conditionsAssembly(): string {
  const appDir = join(__dirname, 'conditions-app');
  return singleAssembly('conditions', appDir, hashTree([appDir]));
}

/** The one assembly of a fixture app on the real constructs and runtime: rebuilt when either changes. */
function constructsAssembly(name: string, appDir: string): string {
  return singleAssembly(
    name,
    appDir,
    hashTree([appDir, ...['infra', 'functions', 'shared'].map((p) => join(ROOT, p))]),
  );
}

/** The one assembly of a fixture app (`tsx app.ts <outdir>`). */
function singleAssembly(name: string, appDir: string, hash: string): string {
  return cached(name, hash, 1, (outdir) => {
    runFixtureApp(join(appDir, 'app.ts'), [outdir]);
  });
}

/** The example app's two releases, or undefined while infra/app.ts does not exist yet. */
export function exampleAssemblies(): Releases | undefined {
  if (!existsSync(join(ROOT, 'infra/app.ts'))) return undefined;
  return { release1: exampleSynth('example', 1, {}), release2: exampleSynth('example', 2, {}) };
}

/**
 * Release 2 of the example app with test-only context (infra/app.ts), cached like the releases:
 * `{ paymentsFailureRate: '0' }` (a healthy canary), `{ paymentsCanary: 'pinned' }` (a pinned split).
 */
export function exampleRelease2(context: Readonly<Record<string, string>>): string {
  const keys = Object.keys(context).sort();
  const name = `example.${keys.map((k) => `${k}=${context[k]}`).join('.')}`;
  return exampleSynth(name, 2, context);
}

/** Release 1 of the example app with context: `{ secondRegion: 'eu-west-1' }` (a stack per region). */
export function exampleRelease1(context: Readonly<Record<string, string>>): string {
  const keys = Object.keys(context).sort();
  return exampleSynth(`example.r1.${keys.map((k) => `${k}=${context[k]}`).join('.')}`, 1, context);
}

/**
 * Synthesizes the example app with `-c release=<n>` and `context`, as `mesh local` and `npm start` do
 * (local/watch/app-synth.ts: the app run directly with the context the CDK CLI would hand it, esbuild
 * called directly): about a third of the CPU time of `cdk synth`, whose own start and bundling through
 * CDK's esbuild wrapper cost the rest. The package test synthesizes through the CLI itself.
 */
function exampleSynth(name: string, release: number, context: Readonly<Record<string, string>>): string {
  const hash = hashTree(['infra', 'functions', 'shared', 'cdk.json', 'local/watch'].map((p) => join(ROOT, p)));
  return cached(name, hash, release, (outdir) => {
    const env = { ...SYNTH_COVERAGE_OFF, AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1' };
    const p = synthProcess({ root: ROOT, context: { release: String(release), ...context }, env }, outdir);
    execFileSync(p.command, p.args, { cwd: p.cwd, shell: p.shell, env: p.env, stdio: ['ignore', 'ignore', 'pipe'] });
  });
}

/**
 * The example app's releases for a test that looks inside the local mesh it starts (workers, recent
 * invocations), and why such a test skips: against MESH_TEST_ENDPOINT, or without the example app.
 */
export function localExampleAssemblies(): { assemblies?: Releases; skip: string | false } {
  const assemblies = process.env.MESH_TEST_ENDPOINT ? undefined : exampleAssemblies();
  return { assemblies, skip: assemblies ? false : 'needs the local mesh running the example app (infra/app.ts)' };
}

export interface TestMesh {
  readonly url: string;
  /** The local mesh, when this process started one (undefined against MESH_TEST_ENDPOINT). */
  readonly local?: LocalMesh;
  /** The mesh's log lines about IAM: its refusals of sandboxes' calls and what it could not judge. */
  readonly iamLines: readonly string[];
  stop(): Promise<void>;
}

/** Starts the local mesh on a free port with these assemblies, or uses MESH_TEST_ENDPOINT when set. */
export async function startTestMesh(assemblies: readonly string[]): Promise<TestMesh> {
  const external = process.env.MESH_TEST_ENDPOINT;
  if (external) return { url: external.replace(/\/+$/, ''), iamLines: [], stop: async () => undefined };
  const iamLines: string[] = [];
  const log = (line: string) => {
    if (/^(IAM refused|warning: IAM)/.test(line)) iamLines.push(line);
  };
  const local = await startLocalMesh({ assemblies, port: 0, quiet: true, log });
  return { url: local.url, local, iamLines, stop: () => local.stop() };
}

/**
 * SDK client settings for the test mesh: real wire, dummy credentials. A call the mesh never answers
 * fails the test after `requestTimeoutMs`, naming the call, instead of holding it to the runner's
 * timeout. The longest call a test makes (a checkout through three cold services, 10 s function
 * timeouts) stays well under two minutes on crowded cores.
 */
export function clientConfig(url: string, requestTimeoutMs = 120_000) {
  return {
    ...loopbackClientConfig(url),
    // Without throwOnRequestTimeout the Node handler only logs a warning when requestTimeout passes,
    // and the call goes on waiting (@smithy/types, NodeHttpHandlerOptions).
    requestHandler: { requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true },
  };
}

/** The mesh's functions by service and its policy table, found through the MESH_* environment. */
export async function discoverMesh(lambda: LambdaClient): Promise<{ fn: Map<string, string>; table: string }> {
  const fn = new Map<string, string>();
  let table = '';
  const { Functions = [] } = await lambda.send(new ListFunctionsCommand({}));
  for (const f of Functions) {
    const vars = f.Environment?.Variables ?? {};
    if (vars[ENV.service]) fn.set(vars[ENV.service], f.FunctionName!);
    if (vars[ENV.policyTable]) table = vars[ENV.policyTable];
  }
  return { fn, table };
}
