/**
 * The deploy-time policy snapshot carries the time it was generated (the runtime trusts it for
 * authorization only while it is younger than the policy cache's bound), and that time does not
 * change the layer's asset: the same items synthesize the same asset hash.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { MeshFunction } from '../../infra/mesh-function';
import { PolicyRegistry } from '../../infra/private/policy-registry';
import { DEMO, meshStack, snapshotFromAssembly } from './infra-fixture';

function synth(extraEdge: boolean) {
  const { app, stack, mesh } = meshStack();
  const orders = new MeshFunction(stack, 'Orders', { mesh, service: 'orders', entry: join(DEMO, 'orders.ts') });
  const payments = new MeshFunction(stack, 'Payments', { mesh, service: 'payments', entry: join(DEMO, 'payments.ts') });
  orders.allowCallsTo(payments);
  if (extraEdge) orders.allowExternal();
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackByName(stack.stackName).template);
  const layer = Object.values(template.findResources('AWS::Lambda::LayerVersion')).find((l) =>
    String(l.Metadata?.['aws:cdk:path']).endsWith('/SnapshotLayer/Resource'),
  )!;
  return { snapshot: snapshotFromAssembly(template, assembly.directory), assetPath: layer.Metadata['aws:asset:path'] };
}

describe('policy snapshot', () => {
  it('carries the time it was generated', () => {
    // GIVEN / WHEN
    const before = Date.now();
    const { snapshot } = synth(false);
    const after = Date.now();
    // THEN
    const at = Date.parse(snapshot.generatedAt);
    assert.ok(at >= before - 1_000 && at <= after, `generatedAt ${snapshot.generatedAt} is not the synth time`);
  });

  it('keeps its asset hash while the items stay the same, and changes it when they change', () => {
    const first = synth(false);
    const second = synth(false);
    const other = synth(true);
    assert.equal(second.assetPath, first.assetPath, 'a new generation time alone publishes no new layer');
    assert.notEqual(other.assetPath, first.assetPath);
  });

  it('uses SOURCE_DATE_EPOCH when set (reproducible builds: an earlier time only makes it older)', () => {
    const saved = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    try {
      assert.equal(
        new PolicyRegistry(new Construct(undefined as never, 't'), 't').snapshot('shop').generatedAt,
        '2023-11-14T22:13:20.000Z',
      );
    } finally {
      if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = saved;
    }
    assert.equal(
      new PolicyRegistry(new Construct(undefined as never, 't'), 't').snapshot('shop', 1_800_000_000_000).generatedAt,
      '2027-01-15T08:00:00.000Z',
    );
  });
});
