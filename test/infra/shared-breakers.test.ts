/**
 * `Mesh({ sharedBreakers })`: off by default (no write access to the table at all); on, each function
 * may PutItem only in its targets' breaker partitions (`breaker#<target>`), where the shared
 * `breaker#<version>` items live, and never in a target's own partition (its policy).
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Mesh } from '../../infra/mesh';
import { MeshFunction } from '../../infra/mesh-function';
import { ENV as NAMES } from '../../shared/names';
import { addNagPacks, nagFindings } from '../support/nag-findings';
import { constructStatements, DEMO, ENV, type IamStatement, newApp } from './infra-fixture';

function synth(sharedBreakers: boolean | undefined, opts: { nag?: boolean } = {}) {
  const app = newApp();
  const stack = new Stack(app, 'Test', { env: ENV });
  const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop', sharedBreakers });
  const fn = (id: string, service: string) =>
    new MeshFunction(stack, id, { mesh, service, entry: join(DEMO, 'inventory.ts') });
  const orders = fn('Orders', 'orders');
  orders.allowCallsTo(fn('Payments', 'payments'));
  orders.allowCallsTo(fn('Inventory', 'inventory'));
  if (opts.nag) addNagPacks(app);
  const template = Template.fromStack(stack);
  return { template, app, stack };
}

function statementsOf(template: Template, construct: string): IamStatement[] {
  return constructStatements(template, `Test/${construct}/`);
}

function withAction(template: Template, construct: string, action: string): any[] {
  return statementsOf(template, construct).filter((s) => [s.Action].flat().includes(action));
}

function envOf(template: Template, service: string): Record<string, string> {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Environment?.Variables?.[NAMES.service] === service,
  )!;
  return fn.Properties.Environment.Variables;
}

describe('shared breakers', () => {
  it('are off by default: no PutItem on the table, no breaker partition read, no MESH_SHARED_BREAKERS', () => {
    // GIVEN a mesh without the prop / WHEN synthesized
    const { template } = synth(undefined);
    // THEN orders may not write the table, and reads only its own and its targets' policy
    assert.equal(withAction(template, 'Orders', 'dynamodb:PutItem').length, 0);
    const [read] = withAction(template, 'Orders', 'dynamodb:Query');
    assert.deepEqual(read.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys'].sort(), [
      'inventory',
      'mesh#version#*',
      'orders',
      'payments',
    ]);
    assert.equal(envOf(template, 'orders')[NAMES.sharedBreakers], undefined);
  });

  it("grant PutItem only in the targets' breaker partitions when turned on, never in their policy", () => {
    // GIVEN sharedBreakers: true / WHEN synthesized
    const { template } = synth(true);
    // THEN orders writes only breaker#payments and breaker#inventory, and its runtime is told to share
    const writes = withAction(template, 'Orders', 'dynamodb:PutItem');
    assert.equal(writes.length, 1);
    const [write] = writes;
    assert.equal(write.Effect, 'Allow');
    assert.deepEqual([write.Action].flat(), ['dynamodb:PutItem']);
    assert.deepEqual(Object.keys(write.Condition), ['ForAllValues:StringEquals']);
    assert.deepEqual(write.Condition['ForAllValues:StringEquals']['dynamodb:LeadingKeys'].sort(), [
      'breaker#inventory',
      'breaker#payments',
    ]);
    // No other statement lets orders write the table (BatchWriteItem, DeleteItem, ...) but the lease of
    // rate-limit slices, only in its targets' rate-limit partitions.
    const writeActions = statementsOf(template, 'Orders')
      .flatMap((s) => [s.Action].flat())
      .filter((a) => a !== undefined && /^dynamodb:(Put|Update|Delete|BatchWrite|TransactWrite)/.test(a));
    assert.deepEqual(writeActions.sort(), ['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    const [lease] = withAction(template, 'Orders', 'dynamodb:UpdateItem');
    assert.deepEqual(lease.Condition['ForAllValues:StringEquals']['dynamodb:LeadingKeys'].sort(), [
      'ratelimit#inventory',
      'ratelimit#payments',
    ]);
    // ... and reads the breaker partition of each service whose policy it reads, its own too: the
    // runtime reads one with every policy, and IAM refused its own (every call was denied).
    const [read] = withAction(template, 'Orders', 'dynamodb:Query');
    assert.deepEqual(read.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys'].sort(), [
      'breaker#inventory',
      'breaker#orders',
      'breaker#payments',
      'inventory',
      'mesh#version#*',
      'orders',
      'payments',
    ]);
    assert.equal(envOf(template, 'orders')[NAMES.sharedBreakers], 'true');
  });

  it('stay cdk-nag (AwsSolutions) clean, in cdk-nag 3 and 2', () => {
    const { app, stack } = synth(true, { nag: true });
    const { open, acknowledged, open2, suppressed2 } = nagFindings(app, stack);
    assert.ok(acknowledged.length > 0 && suppressed2.length > 0, 'the packs ran (the test can fail)');
    assert.deepEqual([...open, ...open2], []);
  });
});

describe('shared breakers on a function without edges', () => {
  it('add no write statement (no empty LeadingKeys condition)', () => {
    const { template } = synth(true);
    assert.equal(withAction(template, 'Payments', 'dynamodb:PutItem').length, 0);
  });
});
