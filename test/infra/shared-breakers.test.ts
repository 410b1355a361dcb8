/**
 * `Mesh({ sharedBreakers })`: off by default (no write access to the table at all); on, each function
 * may PutItem only in its targets' partitions, where the shared `breaker#<version>` items live.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Mesh } from '../../infra/mesh';
import { MeshFunction } from '../../infra/mesh-function';
import { ENV as NAMES } from '../../shared/names';
import { constructStatements, DEMO, ENV, type IamStatement, newApp } from './infra-fixture';

function synth(sharedBreakers: boolean | undefined) {
  const app = newApp();
  const stack = new Stack(app, 'Test', { env: ENV });
  const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop', sharedBreakers });
  const fn = (id: string, service: string) =>
    new MeshFunction(stack, id, { mesh, service, entry: join(DEMO, 'inventory.ts') });
  const orders = fn('Orders', 'orders');
  orders.allowCallsTo(fn('Payments', 'payments'));
  orders.allowCallsTo(fn('Inventory', 'inventory'));
  return Template.fromStack(stack);
}

function statementsOf(template: Template, construct: string): IamStatement[] {
  return constructStatements(template, `Test/${construct}/`);
}

function envOf(template: Template, service: string): Record<string, string> {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Environment?.Variables?.[NAMES.service] === service,
  )!;
  return fn.Properties.Environment.Variables;
}

describe('shared breakers', () => {
  it('are off by default: no PutItem on the table and no MESH_SHARED_BREAKERS', () => {
    // GIVEN a mesh without the prop / WHEN synthesized
    const template = synth(undefined);
    // THEN orders may not write the table
    const writes = statementsOf(template, 'Orders').filter((s) => [s.Action].flat().includes('dynamodb:PutItem'));
    assert.equal(writes.length, 0);
    assert.equal(envOf(template, 'orders')[NAMES.sharedBreakers], undefined);
  });

  it("grant PutItem only in the targets' partitions when turned on", () => {
    // GIVEN sharedBreakers: true / WHEN synthesized
    const template = synth(true);
    // THEN orders writes only under payments and inventory, and its runtime is told to share
    const [write] = statementsOf(template, 'Orders').filter((s) => [s.Action].flat().includes('dynamodb:PutItem'));
    assert.ok(write, 'orders may write breaker items');
    assert.deepEqual([write.Action].flat(), ['dynamodb:PutItem']);
    assert.deepEqual(write.Condition, {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['payments', 'inventory'] },
    });
    assert.equal(envOf(template, 'orders')[NAMES.sharedBreakers], 'true');
  });
});

describe('shared breakers on a function without edges', () => {
  it('add no write statement (no empty LeadingKeys condition)', () => {
    const template = synth(true);
    const writes = statementsOf(template, 'Payments').filter((s) => [s.Action].flat().includes('dynamodb:PutItem'));
    assert.equal(writes.length, 0);
  });
});
