/**
 * Apps for the construct tests. `shopApp()` synthesizes the real example app with bundling (slow:
 * build it once per test file); `quickApp()` skips bundling (the `aws:cdk:bundling-stacks` context
 * CDK itself offers) for tests that only look at resources and errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { USE_CDK_MANAGED_LAMBDA_LOGGROUP } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { Mesh, type MeshProps } from '../../infra/mesh';
import type { MeshDeploymentOptions } from '../../infra/mesh-deployment';
import { MeshFunction, type MeshFunctionProps } from '../../infra/mesh-function';
import { ShopStack } from '../../infra/shop-stack';
import type { PolicySnapshot } from '../../shared/policy';
import { tempDir } from '../support/temp-dir';

export const ROOT = join(__dirname, '..', '..');
export const DEMO = join(ROOT, 'functions', 'demo');
export const ENV = { account: '123456789012', region: 'us-east-1' };

/**
 * Context for a test of 40 services in one stack: no log group resource per function. cdk init's flags
 * (useCdkManagedLogGroup) add one to each, 12 resources a service instead of 11, and 40 services pass
 * CloudFormation's 500 (the README's count: about 38 then). What such a test checks is not the logs.
 */
export const NO_FUNCTION_LOG_GROUPS = { [USE_CDK_MANAGED_LAMBDA_LOGGROUP]: false };

/** The feature flags of cdk.json, so tests synthesize what `cdk synth` does. */
export function cdkContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context ?? {};
}

/**
 * An app with cdk.json's flags. `context` is what the test itself sets: it wins over the flags a run
 * passes in CDK_CONTEXT_JSON (`LAMBDA_MESH_TEST_FLAGS=recommended`), which win over cdk.json's.
 */
export function newApp(opts: { bundle?: boolean; context?: Record<string, unknown> } = {}): App {
  return new App({
    outdir: tempDir('infra-test-'),
    context: cdkContext(),
    postCliContext: {
      ...opts.context,
      'aws:cdk:enable-asset-metadata': true,
      'aws:cdk:enable-path-metadata': true,
      ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
}

/** The example app as `cdk synth -c release=N` builds it. */
export function shopApp(release: 1 | 2, opts: { bundle?: boolean } = {}) {
  const app = newApp(opts);
  const stack = new ShopStack(app, 'LambdaMeshShop', { release, env: ENV });
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackByName(stack.stackName).template);
  return { app, stack, template, assemblyDir: assembly.directory };
}

/** A stack with a mesh, for small scenarios. */
export function meshStack(
  meshName = 'shop',
  env: { account?: string; region?: string } = ENV,
  opts: { context?: Record<string, unknown> } = {},
) {
  const app = newApp(opts);
  const stack = new Stack(app, 'Test', { env });
  const mesh = new Mesh(stack, 'Mesh', { meshName });
  const fn = (id: string, service: string, extra: Partial<MeshFunctionProps> = {}) =>
    new MeshFunction(stack, id, { mesh, service, entry: join(DEMO, 'inventory.ts'), ...extra });
  return { app, stack, mesh, fn };
}

/**
 * Two meshes of one app in one account and region, as the Beta and Gamma stages of a pipeline deploy
 * them: each its own meshName, both the same services (orders -> payments, payments gated with
 * `deployment`). Returns each stage's synthesized template, by meshName.
 */
export function sameAccountStages(
  meshNames: readonly [string, string],
  deployment: MeshDeploymentOptions = {},
): Map<string, Template> {
  const app = newApp();
  const env = { account: '111111111111', region: 'eu-west-1' };
  const stages = meshNames.map((meshName) => {
    const stage = new Stage(
      app,
      meshName.replace(/(^|-)(.)/g, (_m, _d, c: string) => c.toUpperCase()),
      { env },
    );
    const stack = new Stack(stage, 'Shop');
    const mesh = new Mesh(stack, 'Mesh', { meshName });
    const entry = join(DEMO, 'inventory.ts');
    const orders = new MeshFunction(stack, 'Orders', { mesh, service: 'orders', entry });
    const payments = new MeshFunction(stack, 'Payments', { mesh, service: 'payments', entry, deployment });
    orders.allowCallsTo(payments);
    return { meshName, stage, stack };
  });
  return new Map(
    stages.map(({ meshName, stage, stack }) => [
      meshName,
      Template.fromJSON(stage.synth().getStackByName(stack.stackName).template),
    ]),
  );
}

/** The snapshot file the mesh's snapshot layer ships, read from the synthesized assembly. */
export function snapshotFromAssembly(template: Template, assemblyDir: string): PolicySnapshot {
  return JSON.parse(readFileSync(join(assemblyDir, snapshotLayerPath(template), 'mesh', 'policy.json'), 'utf8'));
}

/** Where the snapshot layer's staged folder is, relative to the assembly's folder. */
export function snapshotLayerPath(template: Template): string {
  const layers = template.findResources('AWS::Lambda::LayerVersion');
  const snap = Object.values(layers).find((l) =>
    String(l.Metadata?.['aws:cdk:path'] ?? '').endsWith('/SnapshotLayer/Resource'),
  );
  if (!snap) throw new Error('no snapshot layer in the template');
  return snap.Metadata['aws:asset:path'];
}

/** Logical id of the resource whose construct path ends with `suffix`. */
export function logicalId(template: Template, type: string, suffix: string): string {
  const found = Object.entries(template.findResources(type)).find(([, r]) =>
    String(r.Metadata?.['aws:cdk:path'] ?? '').endsWith(suffix),
  );
  if (!found) throw new Error(`no ${type} at …${suffix}`);
  return found[0];
}

/** One statement of an IAM policy document as the template holds it (ARNs are unresolved tokens). */
export interface IamStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Condition?: Record<string, unknown>;
}

/** The statements of every AWS::IAM::Policy attached to the role with this logical id. */
export function roleStatements(template: Template, roleLogicalId: string): IamStatement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleLogicalId}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as IamStatement[]);
}

/** The statements of the AWS::IAM::Policy under the construct path `prefix` (e.g. `Test/Orders/`). */
export function constructStatements(template: Template, prefix: string): IamStatement[] {
  const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
    String(p.Metadata?.['aws:cdk:path']).startsWith(prefix),
  );
  return (policy?.Properties.PolicyDocument.Statement as IamStatement[] | undefined) ?? [];
}

/** A construct's logical id in its stack (roles, secrets: whatever `node.defaultChild` is). */
export function logicalIdOf(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

/**
 * The environment variables of the `orders` function of a new stack: a mesh with `meshProps` and one
 * MeshFunction with `fnProps` (what the runtime would read).
 */
export function ordersEnvironment(
  meshProps: Partial<MeshProps> = {},
  fnProps: Partial<MeshFunctionProps> = {},
): Record<string, string> {
  const stack = new Stack(newApp(), 'Test', { env: ENV });
  const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop', ...meshProps });
  new MeshFunction(stack, 'Orders', { mesh, service: 'orders', entry: join(DEMO, 'inventory.ts'), ...fnProps });
  const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Environment?.Variables?.MESH_SERVICE === 'orders',
  )!;
  return fn.Properties.Environment.Variables;
}
