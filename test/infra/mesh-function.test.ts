/**
 * The example app (infra/shop-stack.ts), synthesized with bundling exactly as `cdk synth` does, once
 * for this file: every mesh function is wrapped, reaches `live`, and may invoke only what it declared.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ENV, LAYER, LIVE_ALIAS, POLICY_VERSION } from '../../shared/names';
import { stringLike } from '../support/iam-string-like';
import { constructStatements, logicalId, shopApp } from './infra-fixture';
import { functionNamesOf, grantsInvoke, invokeGrants, resourceText } from './invoke-grants';

const SERVICES = ['frontend', 'orders', 'payments', 'inventory', 'notifications'];

describe('MeshFunction in the example app (release 2)', () => {
  let template: Template;
  let assemblyDir: string;
  let meshFunctions: ReturnType<Template['findResources']>;

  before(() => {
    ({ template, assemblyDir } = shopApp(2, { bundle: true }));
    meshFunctions = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { [ENV.meshName]: 'shop' } } },
    });
  });

  it('has one wrapped function per service', () => {
    const services = Object.values(meshFunctions)
      .map((f) => f.Properties.Environment.Variables[ENV.service])
      .sort();
    assert.deepEqual(services, [...SERVICES].sort());
  });

  it('points every mesh function at the layer wrapper, keeps the user handler in MESH_HANDLER and sets the mesh env', () => {
    const runtimeLayer = logicalId(template, 'AWS::Lambda::LayerVersion', '/Mesh/RuntimeLayer/Resource');
    const snapshotLayer = logicalId(template, 'AWS::Lambda::LayerVersion', '/Mesh/SnapshotLayer/Resource');
    for (const [id, fn] of Object.entries(meshFunctions)) {
      const p = fn.Properties;
      const service = p.Environment.Variables[ENV.service];
      assert.equal(p.Handler, LAYER.wrapperHandler, id);
      assert.equal(p.FunctionName, `shop-${service}`);
      assert.equal(p.Runtime, 'nodejs22.x');
      assert.deepEqual(p.TracingConfig, { Mode: 'Active' });
      assert.deepEqual(p.Layers, [{ Ref: runtimeLayer }, { Ref: snapshotLayer }]);
      assert.deepEqual(
        {
          [ENV.meshName]: p.Environment.Variables[ENV.meshName],
          [ENV.handler]: p.Environment.Variables[ENV.handler],
          [ENV.policyTable]: p.Environment.Variables[ENV.policyTable],
          [ENV.policySnapshot]: p.Environment.Variables[ENV.policySnapshot],
        },
        {
          [ENV.meshName]: 'shop',
          [ENV.handler]: 'index.handler',
          [ENV.policyTable]: 'shop-policy',
          [ENV.policySnapshot]: LAYER.snapshotPath,
        },
      );
    }
  });

  it('bundles the mesh layer in its documented layout and the app code without lambda-mesh/runtime', () => {
    const layer =
      template.findResources('AWS::Lambda::LayerVersion')[
        logicalId(template, 'AWS::Lambda::LayerVersion', '/Mesh/RuntimeLayer/Resource')
      ];
    const dir = join(assemblyDir, layer.Metadata['aws:asset:path']);
    for (const f of ['wrapper.js', 'runtime', 'package.json'])
      assert.ok(existsSync(join(dir, LAYER.packageDir, f)), `${f} missing in the layer`);
    // frontend and orders import lambda-mesh/runtime: their bundles require it from the layer at run time.
    for (const fn of Object.values(meshFunctions).filter((f) =>
      ['frontend', 'orders'].includes(f.Properties.Environment.Variables[ENV.service]),
    )) {
      const code = join(assemblyDir, fn.Metadata!['aws:asset:path'], 'index.js');
      assert.match(
        readFileSync(code, 'utf8'),
        /require\("lambda-mesh\/runtime"\)/,
        `${code} must leave lambda-mesh/runtime to the layer`,
      );
    }
  });

  it('publishes a version and a live alias for every function, never $LATEST', () => {
    const aliases = template.findResources('AWS::Lambda::Alias');
    assert.equal(Object.keys(aliases).length, SERVICES.length);
    for (const a of Object.values(aliases)) {
      assert.equal(a.Properties.Name, LIVE_ALIAS);
      assert.notEqual(a.Properties.FunctionVersion, '$LATEST');
    }
    assert.equal(Object.keys(template.findResources('AWS::Lambda::Version')).length, SERVICES.length);
  });

  it("gates payments' deploys: live names this deploy's version and CodeDeploy shifts it (no version number)", () => {
    const payments = logicalId(template, 'AWS::Lambda::Function', '/Payments/Resource');
    const version = logicalId(template, 'AWS::Lambda::Version', '/Payments/CurrentVersion/Resource');
    template.hasResource('AWS::Lambda::Alias', {
      Properties: {
        FunctionName: { Ref: payments },
        Name: LIVE_ALIAS,
        FunctionVersion: { 'Fn::GetAtt': [version, 'Version'] },
        RoutingConfig: Match.absent(),
      },
      UpdatePolicy: { CodeDeployLambdaAliasUpdate: Match.objectLike({ DeploymentGroupName: Match.anyValue() }) },
    });
    // The other services' live alias points at their own new version, with no split.
    const orders = logicalId(template, 'AWS::Lambda::Function', '/Orders/Resource');
    template.hasResourceProperties('AWS::Lambda::Alias', {
      FunctionName: { Ref: orders },
      FunctionVersion: {
        'Fn::GetAtt': [logicalId(template, 'AWS::Lambda::Version', '/Orders/CurrentVersion/Resource'), 'Version'],
      },
      RoutingConfig: Match.absent(),
    });
  });

  it('lets each role invoke only its declared targets, qualified, never * and never $LATEST', () => {
    const expected: Record<string, string[]> = {
      Frontend: ['orders'],
      Orders: ['inventory', 'payments'],
      Payments: [],
      Inventory: [],
      Notifications: [],
    };
    const names = functionNamesOf(template);
    for (const [construct, targets] of Object.entries(expected)) {
      const statements = constructStatements(template, `LambdaMeshShop/${construct}/`);
      const grants = invokeGrants(statements, names);
      assert.deepEqual(grants.problems, [], `${construct} may invoke only named functions`);
      assert.deepEqual(
        grants.functions,
        targets.map((t) => `shop-${t}`),
        `${construct}'s invoke grants`,
      );
      // Qualified: the grant is the target's versions and aliases (`:*`), never the bare function.
      const allowed = statements.filter(grantsInvoke).flatMap((s) => [s.Resource ?? []].flat().map(resourceText));
      assert.ok(
        allowed.every((r) => r.endsWith(':*')),
        `${construct} invokes ${allowed.join(', ')}`,
      );
      if (targets.length) {
        // One statement for all targets: many edges do not add statements to the role.
        assert.equal(statements.filter(grantsInvoke).length, 1);
        const denied = statements
          .filter((s) => s.Effect === 'Deny' && [s.Action ?? []].flat().includes('lambda:InvokeFunction'))
          .flatMap((s) => [s.Resource ?? []].flat().map(resourceText));
        assert.deepEqual(
          denied.filter((d) => d.endsWith(':$LATEST')).length,
          targets.length,
          `$LATEST denied: ${denied.join(', ')}`,
        );
      }
    }
  });

  it("restricts each function's table reads to the services it touches (dynamodb:LeadingKeys)", () => {
    const table = logicalId(template, 'AWS::DynamoDB::Table', '/Mesh/PolicyTable/Resource');
    const expected: Record<string, string[]> = {
      Frontend: ['frontend', 'orders', 'mesh#version#*'],
      // orders also reads the policy of the order-events queue, the channel it sends to.
      Orders: ['orders', 'inventory', 'payments', 'order-events', 'mesh#version#*'],
      Payments: ['payments', 'mesh#version#*'],
      // notifications consumes order-events, and asks the channel about each record's sender too.
      Notifications: ['notifications', 'order-events', 'mesh#version#*'],
    };
    for (const [construct, keys] of Object.entries(expected)) {
      const read = constructStatements(template, `LambdaMeshShop/${construct}/`).find((s) =>
        [s.Action ?? []].flat().includes('dynamodb:Query'),
      );
      assert.ok(read, `${construct} may query the table`);
      assert.deepEqual([read.Action ?? []].flat().sort(), ['dynamodb:GetItem', 'dynamodb:Query']);
      assert.deepEqual(read.Resource, { 'Fn::GetAtt': [table, 'Arn'] });
      assert.deepEqual(read.Condition, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } });
      // The version's change items are read under the grant of its shards.
      for (let shard = 0; shard < POLICY_VERSION.changeShards; shard++) {
        const pk = POLICY_VERSION.changesPartition(shard);
        assert.ok(
          keys.some((key) => stringLike(key, pk)),
          `${construct} may read ${pk}`,
        );
      }
    }
    assert.ok(!expected.Payments!.some((key) => stringLike(key, 'orders')), 'payments may not read orders');
  });
});

describe('MeshFunction in the example app (release 1)', () => {
  it("has no canary: payments' live alias points at its own version with no split", () => {
    const { template } = shopApp(1);
    const payments = logicalId(template, 'AWS::Lambda::Function', '/Payments/Resource');
    template.hasResourceProperties('AWS::Lambda::Alias', {
      FunctionName: { Ref: payments },
      FunctionVersion: {
        'Fn::GetAtt': [logicalId(template, 'AWS::Lambda::Version', '/Payments/CurrentVersion/Resource'), 'Version'],
      },
      RoutingConfig: Match.absent(),
    });
  });
});
