/**
 * A policy change deploys without new function versions: the policy table is the truth, the snapshot
 * layer only its deploy-time fallback, so a version's identity follows its code and configuration.
 * With aws-cdk-lib's `@aws-cdk/aws-lambda:recognizeLayerVersion` on, the hash behind `currentVersion`
 * takes in the content of every layer the function was given with `addLayers`: a snapshot layer
 * attached that way gave every function a new version, moved every `live` alias and started a canary
 * on every gated function for one edge's retries. GIVEN two synths of one app, WHEN only the policy
 * differs, THEN every version, alias, deployment group, alarm and hook stays as it was.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Mesh } from '../../infra/mesh';
import { MeshFunction } from '../../infra/mesh-function';
import { MeshErrorCode, MeshValidationError } from '../../infra/mesh-validation-error';
import { SORT_KEY } from '../../shared/names';
import { DEMO, ENV, logicalId, logicalIdOf, meshStack, newApp } from './infra-fixture';

const LAYER_FLAG = '@aws-cdk/aws-lambda:recognizeLayerVersion';

/** What may differ between two synths of the app below. */
interface Change {
  readonly maxAttempts?: number;
  readonly deny?: boolean;
  readonly edge?: boolean;
  readonly paymentsEntry?: string;
  readonly runtimeLayerKey?: string;
}

/** Orders calls gated payments and inventory; `change` says what this synth does otherwise. */
function synth(change: Change = {}, flag = true): Template {
  const stack = new Stack(newApp({ context: { [LAYER_FLAG]: flag } }), 'Test', { env: ENV });
  const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop' });
  if (change.runtimeLayerKey) {
    // Another runtime: its asset under another key, as a new package's layer would be.
    (mesh.layer.node.defaultChild as lambda.CfnLayerVersion).addPropertyOverride(
      'Content.S3Key',
      change.runtimeLayerKey,
    );
  }
  const fn = (id: string, service: string, entry = 'inventory.ts', gated = false) =>
    new MeshFunction(stack, id, { mesh, service, entry: join(DEMO, entry), ...(gated ? { deployment: {} } : {}) });
  const orders = fn('Orders', 'orders', 'orders.ts');
  const payments = fn('Payments', 'payments', change.paymentsEntry ?? 'payments.ts', true);
  const inventory = fn('Inventory', 'inventory', 'inventory.ts', true);
  orders.allowCallsTo(payments, { retries: { maxAttempts: change.maxAttempts ?? 3 } });
  orders.allowCallsTo(inventory);
  if (change.edge) payments.allowCallsTo(inventory);
  if (change.deny) mesh.addPolicyItem({ pk: 'inventory', sk: SORT_KEY.deny('orders'), source: 'orders' });
  return Template.fromStack(stack);
}

/** Versions, aliases, deployment groups, alarms and the pre-traffic hook, by logical id. */
function versionBound(template: Template): Record<string, unknown> {
  const types = [
    'AWS::Lambda::Version',
    'AWS::Lambda::Alias',
    'AWS::CodeDeploy::DeploymentGroup',
    'AWS::CloudWatch::Alarm',
  ];
  const out: Record<string, unknown> = {};
  for (const type of types) Object.assign(out, template.findResources(type));
  for (const [id, r] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
    if (String(r.Metadata?.['aws:cdk:path']).includes('/PreTrafficHook/')) out[id] = r;
  }
  return out;
}

/** The logical ids of the mesh functions' current versions, by service. */
function versionIds(template: Template): Record<string, string> {
  return Object.fromEntries(
    ['Orders', 'Payments', 'Inventory'].map((id) => [
      id,
      logicalId(template, 'AWS::Lambda::Version', `/${id}/CurrentVersion/Resource`),
    ]),
  );
}

function snapshotContent(template: Template): unknown {
  const id = logicalId(template, 'AWS::Lambda::LayerVersion', '/Mesh/SnapshotLayer/Resource');
  return template.findResources('AWS::Lambda::LayerVersion')[id].Properties.Content;
}

function policyItems(template: Template): string {
  return Object.values(template.findResources('Custom::MeshPolicy'))[0].Properties.Items;
}

describe('a policy change moves no function version', () => {
  const before = synth();

  for (const [what, change] of [
    ["an edge's retries", { maxAttempts: 4 }],
    ['a new deny', { deny: true }],
    ['a new edge between existing services', { edge: true }],
  ] as const) {
    it(`${what}: the same versions, aliases, deployment groups, alarms and hook; a new snapshot and items`, () => {
      // WHEN only the policy differs
      const after = synth(change);
      // THEN nothing bound to a version moved
      assert.deepEqual(versionBound(after), versionBound(before));
      // AND the snapshot layer and the seeder's items carry the change
      assert.notDeepEqual(snapshotContent(after), snapshotContent(before));
      assert.notEqual(policyItems(after), policyItems(before));
    });
  }

  it('holds with the layer flag off as well', () => {
    assert.deepEqual(versionBound(synth({ maxAttempts: 4 }, false)), versionBound(synth({}, false)));
  });

  it("a handler's code change moves that function's version only", () => {
    const after = versionIds(synth({ paymentsEntry: 'frontend.ts' }));
    const was = versionIds(before);
    assert.notEqual(after.Payments, was.Payments);
    assert.deepEqual({ ...after, Payments: undefined }, { ...was, Payments: undefined });
  });

  it("a change of the mesh's runtime layer moves every version", () => {
    const after = versionIds(synth({ runtimeLayerKey: 'another-runtime.zip' }));
    const was = versionIds(before);
    for (const id of Object.keys(was)) assert.notEqual(after[id], was[id], `${id}'s version moves`);
  });

  it("a change of the mesh's runtime layer moves every version with the layer flag off too", () => {
    // aws-cdk-lib hashes only the layer's Ref then: live would keep the old runtime.
    const after = versionIds(synth({ runtimeLayerKey: 'another-runtime.zip' }, false));
    const was = versionIds(synth({}, false));
    for (const id of Object.keys(was)) assert.notEqual(after[id], was[id], `${id}'s version moves`);
  });
});

describe("the snapshot layer in the function's Layers", () => {
  const userLayer = (stack: Stack, id: string) =>
    lambda.LayerVersion.fromLayerVersionArn(stack, id, `arn:aws:lambda:us-east-1:123456789012:layer:${id}:1`);

  it("comes last, after the function's own layers, those added after it joined included", () => {
    // GIVEN a function with a layer of its own, and one more added once the snapshot is attached
    const { stack, mesh, fn } = meshStack();
    const orders = fn('Orders', 'orders', { layers: [userLayer(stack, 'First')] });
    mesh._attachSnapshot(); // what synthesis does first
    orders.addLayers(userLayer(stack, 'Second'));
    // WHEN the template renders
    const template = Template.fromStack(stack);
    // THEN its Layers hold the runtime layer and both of its own (in aws-cdk-lib's order), then the snapshot
    const f = template.findResources('AWS::Lambda::Function')[logicalIdOf(orders)];
    const arn = (id: string) => `arn:aws:lambda:us-east-1:123456789012:layer:${id}:1`;
    const layers = f.Properties.Layers as unknown[];
    assert.deepEqual(layers.at(-1), { Ref: logicalIdOf(mesh.snapshotLayer!) });
    assert.deepEqual(
      new Set(layers.slice(0, -1).map((l) => JSON.stringify(l))),
      new Set([{ Ref: logicalIdOf(mesh.layer) }, arn('First'), arn('Second')].map((l) => JSON.stringify(l))),
    );
    assert.equal(layers.length, 4);
  });

  it('refuses more than 3 layers of its own, naming the function and the fix', () => {
    const { stack, fn } = meshStack();
    const layers = ['A', 'B', 'C', 'D'].map((id) => userLayer(stack, id));
    assert.throws(
      () => fn('Orders', 'orders', { layers }),
      (err: unknown) => {
        assert.ok(err instanceof MeshValidationError, String(err));
        assert.equal(err.code, MeshErrorCode.TOO_MANY_LAYERS);
        assert.match(
          err.message,
          /^MeshFunction Test\/Orders: 6 layers, over Lambda's limit of 5 per function \(the mesh adds 2: its runtime layer and its policy snapshot layer\); give the function at most 3 layers of its own/,
        );
        return true;
      },
    );
  });

  it('refuses at synth a fourth layer of its own added later', () => {
    const { app, stack, fn } = meshStack();
    const orders = fn('Orders', 'orders', { layers: ['A', 'B', 'C'].map((id) => userLayer(stack, id)) });
    orders.addLayers(userLayer(stack, 'D'));
    assert.throws(() => app.synth(), /MeshFunction Test\/Orders: 6 layers, over Lambda's limit of 5 per function/);
  });
});
