/**
 * Mesh: the policy table, the Custom::MeshPolicy items and the snapshot layer. Synthesized without
 * bundling (the resources are what is checked here; test/infra/mesh-function.test.ts bundles).
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { Mesh } from '../../infra/mesh';
import { ENV, TABLE, TAGS } from '../../shared/names';
import { type PolicyItem, parsePolicyItem } from '../../shared/policy';
import { snapshotDigest } from '../../shared/snapshot-seal';
import {
  ENV as ACCOUNT,
  constructStatements,
  logicalId,
  meshStack,
  NO_FUNCTION_LOG_GROUPS,
  newApp,
  shopApp,
  snapshotFromAssembly,
} from './infra-fixture';

const itemKeys = (items: { pk: string; sk: string }[]) => items.map((i) => `${i.pk}/${i.sk}`).sort();

describe('Mesh in the example app', () => {
  let template: Template;
  let assemblyDir: string;
  let items: PolicyItem[];

  before(() => {
    ({ template, assemblyDir } = shopApp(2));
    const [policy] = Object.values(template.findResources('Custom::MeshPolicy'));
    items = JSON.parse(policy.Properties.Items);
  });

  it('creates the policy table: pk/sk, on-demand, point-in-time recovery, TTL, encryption, retained by default', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'shop-policy',
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    // The example app chooses DESTROY; the default (RETAIN) is checked below.
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('seeds exactly the declared items: a service item per function and an allow item per edge', () => {
    template.hasResourceProperties('Custom::MeshPolicy', { TableName: 'shop-policy', Items: Match.anyValue() });
    assert.deepEqual(itemKeys(items), [
      'frontend/allow#external',
      'frontend/service',
      'inventory/allow#orders',
      'inventory/service',
      'notifications/allow#orders',
      'notifications/service',
      'order-events/allow#orders',
      'orders/allow#frontend',
      'orders/service',
      'payments/allow#mesh-deploy-check',
      'payments/allow#orders',
      'payments/service',
    ]);
    for (const item of items) {
      assert.equal(item.managedBy, 'deploy');
      assert.ok(parsePolicyItem(item).ok, JSON.stringify(item));
    }
    // No frontend -> payments edge: payments admits orders and the pre-traffic check only.
    assert.deepEqual(
      items.filter((i) => i.pk === 'payments' && i.sk.startsWith('allow#')).map((i) => i.sk),
      ['allow#mesh-deploy-check', 'allow#orders'],
    );
    assert.deepEqual(
      items.find((i) => i.pk === 'payments' && i.sk === 'allow#orders'),
      {
        pk: 'payments',
        sk: 'allow#orders',
        source: 'orders',
        managedBy: 'deploy',
        timeoutMs: 5000,
        perTryTimeoutMs: 2000,
        idempotent: true,
        retries: { maxAttempts: 3, retryOn: ['throttled', 'service-error', 'timeout', 'function-error'] },
        breaker: { consecutiveFailures: 5, openMs: 30000 },
        rateLimit: { perSecond: 50, burst: 100 },
      },
    );
    assert.deepEqual(
      items.find((i) => i.sk === 'service' && i.pk === 'payments'),
      {
        pk: 'payments',
        sk: 'service',
        functionName: 'shop-payments',
        alias: 'live',
        managedBy: 'deploy',
      },
    );
  });

  it('ships the same items as the snapshot at /opt/mesh/policy.json', () => {
    const snapshot = snapshotFromAssembly(template, assemblyDir);
    assert.equal(snapshot.mesh, 'shop');
    assert.deepEqual(snapshot.items, items);
    // Sealed over the items synth checked: the runtime uses them without checking them again.
    assert.equal(snapshot.itemsDigest, snapshotDigest(snapshot.items));
  });

  it('backs Custom::MeshPolicy with the policy seeder, which may write the table', () => {
    const seeder = logicalId(template, 'AWS::Lambda::Function', '/Mesh/PolicySeeder/Resource');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [seeder, 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['dynamodb:DeleteItem', 'dynamodb:PutItem']) }),
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('MeshPolicySeederServiceRole') }],
    });
  });

  it('tags mesh resources with the mesh name', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      Tags: Match.arrayWith([{ Key: TAGS.mesh, Value: 'shop' }]),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [ENV.service]: 'payments' } },
      Tags: Match.arrayWith([{ Key: TAGS.service, Value: 'payments' }]),
    });
  });
});

describe('Mesh options and late edges', () => {
  it('retains the table by default and takes a removalPolicy', () => {
    const app = newApp();
    const a = new Stack(app, 'A', { env: ACCOUNT });
    new Mesh(a, 'Mesh', { meshName: 'shop' });
    const b = new Stack(app, 'B', { env: ACCOUNT });
    new Mesh(b, 'Mesh', {
      meshName: 'billing',
      removalPolicy: RemovalPolicy.DESTROY,
      tableName: 'my-table',
      policyTtl: Duration.seconds(2),
    });
    Template.fromStack(a).hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    Template.fromStack(b).hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ TableName: 'my-table' }),
    });
  });

  it('puts edges declared after every function was constructed into the snapshot and the seeded items', () => {
    // GIVEN functions constructed first
    const { app, stack, mesh, fn } = meshStack();
    const a = fn('A', 'orders');
    const b = fn('B', 'payments');
    const hooked: string[] = [];
    mesh.onFunction((f) => hooked.push(f.service));
    // WHEN edges and a late function come afterwards
    const c = fn('C', 'inventory');
    a.allowCallsTo(b, { timeout: Duration.seconds(2) });
    a.allowCallsTo(c);
    c.allowExternal();
    const assembly = app.synth();
    const template = Template.fromJSON(assembly.getStackByName(stack.stackName).template);
    // THEN the snapshot the functions ship holds them, as does Custom::MeshPolicy
    const snapshot = snapshotFromAssembly(template, assembly.directory);
    const expected = [
      'inventory/allow#external',
      'inventory/allow#orders',
      'inventory/service',
      'orders/service',
      'payments/allow#orders',
      'payments/service',
    ];
    assert.deepEqual(itemKeys(snapshot.items as PolicyItem[]), expected);
    const [policy] = Object.values(template.findResources('Custom::MeshPolicy'));
    assert.deepEqual(itemKeys(JSON.parse(policy.Properties.Items)), expected);
    // AND every function (the late one too) carries the snapshot layer; hooks saw every function
    const snapLayer = logicalId(template, 'AWS::Lambda::LayerVersion', '/Mesh/SnapshotLayer/Resource');
    for (const f of Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { [ENV.meshName]: 'shop' } } },
      }),
    )) {
      assert.ok(f.Properties.Layers.some((l: { Ref?: string }) => l.Ref === snapLayer));
    }
    assert.deepEqual(hooked, ['orders', 'payments', 'inventory']);
  });

  /** The caller's policy documents with their references spelled out as ARNs of real length (the longest partition). */
  function callerPolicies(context: Record<string, unknown>) {
    // GIVEN one caller with 40 targets (service names of 30 characters, the long end)
    const { app, stack, fn } = meshStack('m', ACCOUNT, { context: { ...context, ...NO_FUNCTION_LOG_GROUPS } });
    const caller = fn('Caller', 'caller');
    for (let i = 0; i < 40; i++)
      caller.allowCallsTo(fn(`T${i}`, `target-${String(i).padStart(2, '0')}-${'x'.repeat(20)}`));
    app.synth();
    const template = Template.fromStack(stack);
    const render = (type: string) =>
      Object.values(template.findResources(type))
        .filter((p) => String(p.Metadata?.['aws:cdk:path']).startsWith('Test/Caller/'))
        .map((p) => ({
          statements: p.Properties.PolicyDocument.Statement.length as number,
          text: JSON.stringify(p.Properties.PolicyDocument, (_k, v) =>
            v && typeof v === 'object' && v['Fn::Join']
              ? v['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'aws-us-gov')).join('')
              : v && typeof v === 'object' && v['Fn::GetAtt']
                ? 'arn:aws-us-gov:dynamodb:us-east-1:123456789012:table/m-policy'
                : v,
          ).replace(/arn:aws:/g, 'arn:aws-us-gov:'),
        }));
    return { inline: render('AWS::IAM::Policy'), managed: render('AWS::IAM::ManagedPolicy') };
  }

  // cdk.json's flags write ARNs with the partition's token; cdk init's (enablePartitionLiterals) with
  // `aws`, which aws-cdk-lib measures exactly when it sizes the policy to split what does not fit.
  for (const [flags, context] of [
    ["cdk.json's flags", {}],
    ["cdk init's flags", CURRENTLY_RECOMMENDED_FLAGS],
  ] as const) {
    it(`keeps a role's invoke policy under IAM's caps with many edges (${flags})`, () => {
      const { inline, managed } = callerPolicies(context);
      // THEN the inline policy fits IAM's 10,240 characters and each managed one 6,144
      assert.equal(inline.length, 1);
      for (const p of inline) assert.ok(p.text.length < 10_240, `inline policy is ${p.text.length} characters`);
      for (const p of managed) assert.ok(p.text.length < 6_144, `managed policy is ${p.text.length} characters`);
      // AND the statement count does not grow with the edges (invoke, $LATEST deny, policy reads,
      // rate-limit leases, X-Ray, its own logs, its identity secret)
      assert.ok([...inline, ...managed].reduce((n, p) => n + p.statements, 0) <= 7);
    });
  }

  it('takes a literal functionName and any entry handler export', () => {
    const { stack, fn } = meshStack();
    fn('A', 'orders', { functionName: 'custom-orders', handler: 'main' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'custom-orders',
      Environment: { Variables: Match.objectLike({ [ENV.handler]: 'index.main' }) },
    });
    const [policy] = Object.values(template.findResources('Custom::MeshPolicy'));
    assert.equal(JSON.parse(policy.Properties.Items)[0].functionName, 'custom-orders');
  });

  it("writes a traffic item for a service's own traffic settings", () => {
    const { mesh, fn } = meshStack();
    fn('Payments', 'payments', {
      traffic: { timeout: Duration.seconds(4), retries: { maxAttempts: 2, baseDelay: Duration.millis(50) } },
    });
    assert.deepEqual(
      mesh.policyItems().find((i) => i.sk === 'traffic'),
      {
        pk: 'payments',
        sk: 'traffic',
        managedBy: 'deploy',
        timeoutMs: 4000,
        retries: { maxAttempts: 2, baseDelayMs: 50 },
      },
    );
  });

  it('returns the same grant for a repeated edge and adds no resource twice', () => {
    const { stack, fn } = meshStack();
    const a = fn('A', 'orders');
    const b = fn('B', 'payments');
    const g1 = a.allowCallsTo(b);
    const g2 = a.allowCallsTo(b);
    assert.equal(g1, g2);
    assert.ok(g1.success);
    const allow = constructStatements(Template.fromStack(stack), 'Test/A/').find(
      (s) => s.Action === 'lambda:InvokeFunction' && s.Effect === 'Allow',
    );
    assert.equal([allow?.Resource].flat().length, 1);
  });
});
