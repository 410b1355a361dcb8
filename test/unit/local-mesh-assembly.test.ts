/** Pure parts of the local mesh: intrinsic resolution, the deployment registry, the live view's rows. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AssemblyStack } from '../../local/assembly/cloud-assembly';
import { Resolver, versionKey } from '../../local/assembly/intrinsics';
import { liveRows, renderLiveView } from '../../local/live-view';
import { FunctionRegistry, type FunctionSpec } from '../../local/registry/function-registry';
import type { InvocationRecord } from '../../local/runtime/invoker';

const stack: AssemblyStack = {
  id: 'App',
  stackName: 'App',
  dir: '/tmp',
  assets: new Map(),
  template: {
    Parameters: { Stage: { Type: 'String', Default: 'dev' } },
    Resources: {
      Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'shop-orders' } },
      Anon: { Type: 'AWS::Lambda::Function', Properties: {} },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'shop-policy' } },
      Ver: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Fn' } } },
      Secret: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'shop/orders' } },
      Layer: { Type: 'AWS::Lambda::LayerVersion', Properties: {} },
    },
    Outputs: { T: { Value: { Ref: 'Table' }, Export: { Name: 'PolicyTable' } } },
  },
};

describe('Resolver', () => {
  const r = new Resolver([stack], {
    region: 'us-east-1',
    accountId: '000000000000',
    versionNumber: (k) => (k === versionKey(stack, 'Ver') ? '3' : undefined),
  });

  it('resolves Ref and GetAtt to local names and ARNs', () => {
    assert.equal(r.resolve(stack, { Ref: 'Fn' }), 'shop-orders');
    assert.equal(r.resolve(stack, { Ref: 'Anon' }), 'App-Anon');
    assert.equal(
      r.resolve(stack, { 'Fn::GetAtt': ['Fn', 'Arn'] }),
      'arn:aws:lambda:us-east-1:000000000000:function:shop-orders',
    );
    assert.equal(
      r.resolve(stack, { 'Fn::GetAtt': ['Table', 'Arn'] }),
      'arn:aws:dynamodb:us-east-1:000000000000:table/shop-policy',
    );
    assert.equal(r.resolve(stack, { 'Fn::GetAtt': ['Ver', 'Version'] }), '3');
    assert.equal(r.resolve(stack, { Ref: 'Ver' }), 'arn:aws:lambda:us-east-1:000000000000:function:shop-orders:3');
    assert.equal(r.resolve(stack, { Ref: 'Layer' }), 'arn:aws:lambda:us-east-1:000000000000:layer:App-Layer:1');
    assert.equal(r.resolve(stack, { Ref: 'Stage' }), 'dev');
    assert.equal(r.resolve(stack, { 'Fn::ImportValue': 'PolicyTable' }), 'shop-policy');
  });

  it('resolves Join, Sub, Select and Split as CDK emits them', () => {
    assert.equal(r.resolve(stack, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':x']] }), 'arn:aws:x');
    assert.equal(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JS template
      r.resolve(stack, { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Fn}-${!Literal}' }),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JS template
      'arn:aws:s3:::shop-orders-${Literal}',
    );
    assert.equal(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JS template
      r.resolve(stack, { 'Fn::Sub': ['${A}/${Table.Arn}', { A: 'x' }] }),
      'x/arn:aws:dynamodb:us-east-1:000000000000:table/shop-policy',
    );
    const secretName = { 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: 'Secret' }] }] };
    assert.equal(r.resolve(stack, secretName), 'shop/orders-000000');
  });

  it("resolves Fn::GetStackOutput, CDK's weak cross-stack reference, to the producing stack's output", () => {
    // GIVEN a stack that publishes its TableV2's name and ARN as plain outputs (no Export), as CDK does
    // under `@aws-cdk/core:defaultCrossStackReferences: weak`, the default of a new app
    const data: AssemblyStack = {
      id: 'Dev/Data',
      stackName: 'Dev-Data',
      region: 'eu-west-1',
      dir: '/tmp',
      assets: new Map(),
      template: {
        Resources: { Orders: { Type: 'AWS::DynamoDB::GlobalTable', Properties: {} } },
        Outputs: {
          PublishOutputRefOrders: { Value: { Ref: 'Orders' } },
          PublishOutputArnOrders: { Value: { 'Fn::GetAtt': ['Orders', 'Arn'] } },
        },
      },
    };
    const api: AssemblyStack = { ...stack, id: 'Dev/Api', stackName: 'Dev-Api', region: 'eu-west-1' };
    const weak = new Resolver([data, api], { region: 'us-east-1', accountId: '000000000000' });
    const output = (OutputName: string, Region?: string) => ({
      'Fn::GetStackOutput': { StackName: 'Dev-Data', OutputName, ...(Region ? { Region } : {}) },
    });
    // THEN the consumer reads the values the producer's resources have locally
    assert.equal(weak.resolve(api, output('PublishOutputRefOrders', 'eu-west-1')), 'Dev-Data-Orders');
    assert.equal(
      weak.resolve(api, output('PublishOutputArnOrders')),
      'arn:aws:dynamodb:eu-west-1:000000000000:table/Dev-Data-Orders',
    );
    // and nothing for an output, stack or region that is not there
    assert.equal(weak.resolve(api, output('Missing')), undefined);
    assert.equal(weak.resolve(api, output('PublishOutputRefOrders', 'us-west-2')), undefined);
  });

  it('gives undefined for what has no local value', () => {
    assert.equal(r.resolve(stack, { 'Fn::GetAtt': ['Fn', 'SnapStartResponse'] }), undefined);
    assert.equal(r.resolve(stack, { Ref: 'Missing' }), undefined);
    assert.equal(r.resolve(stack, { 'Fn::Cidr': ['10.0.0.0/16', 2, 8] }), undefined);
  });
});

const spec = (over: Partial<FunctionSpec> = {}): FunctionSpec => ({
  name: 'payments',
  codeDir: '/a',
  handler: 'index.handler',
  runtime: 'nodejs20.x',
  timeout: 3,
  memorySize: 128,
  environment: { A: '1' },
  layerDirs: ['/l1'],
  layerSha256s: ['h1'],
  codeSha256: 'c1',
  ...over,
});

describe('FunctionRegistry', () => {
  it('publishes a new version only when code or configuration changed, not when only staging dirs moved', () => {
    const reg = new FunctionRegistry();
    reg.putFunction(spec());
    assert.equal(reg.publishVersion('payments').Version, '1');
    assert.equal(reg.putFunction(spec({ codeDir: '/b', layerDirs: ['/l2'] })).changed, false);
    assert.equal(reg.publishVersion('payments').Version, '1');
    assert.equal(reg.putFunction(spec({ environment: { A: '2' } })).changed, true);
    assert.equal(reg.publishVersion('payments').Version, '2');
    assert.equal(reg.getSpec('payments', '1')?.environment.A, '1');
  });

  it('draws alias versions per request by weight', () => {
    const draws = [0.05, 0.5, 0.19, 0.2];
    const reg = new FunctionRegistry({ random: () => draws.shift()! });
    reg.putFunction(spec());
    reg.publishVersion('payments');
    reg.putFunction(spec({ codeSha256: 'c2' }));
    reg.publishVersion('payments');
    reg.putAlias('payments', 'live', { FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 2: 0.2 } } });
    assert.deepEqual(
      [1, 2, 3, 4].map(() => reg.resolveVersion('payments', 'live')),
      ['2', '1', '2', '1'],
    );
    assert.equal(reg.resolveVersion('payments', '7'), undefined);
    assert.equal(reg.resolveVersion('payments'), '$LATEST');
    assert.equal(reg.getFunction('payments', 'live')?.Version, '1');
  });
});

describe('liveRows', () => {
  it('falls back to invocation records per edge and version, with the split', () => {
    const rec = (version: string, outcome: InvocationRecord['outcome'], durationMs: number): InvocationRecord => ({
      requestId: 'r',
      functionName: 'payments',
      version,
      source: 'orders',
      start: 9_000,
      durationMs,
      outcome,
      cold: false,
    });
    const rows = liveRows(
      undefined,
      [
        rec('1', 'ok', 10),
        rec('1', 'error', 30),
        rec('2', 'ok', 5),
        rec('1', 'ok', 20),
        { ...rec('1', 'ok', 1), start: 0 },
      ],
      10_000,
      5_000,
    );
    assert.equal(rows.from, 'invoker');
    const v1 = rows.edges.find((e) => e.version === '1')!;
    assert.equal(v1.requests, 3);
    assert.equal(v1.successRate, 2 / 3);
    assert.equal(v1.p50, 20);
    assert.deepEqual(rows.splits, [
      {
        service: 'payments',
        shares: [
          { version: '1', share: 0.75 },
          { version: '2', share: 0.25 },
        ],
      },
    ]);
    const text = renderLiveView(rows, ['HEADER']);
    assert.match(text, /orders -> payments\s+1\s+0\.6\s+66\.7%\s+20\s+30\s+3/);
    assert.match(text, /split payments: v1 75\.0% {2}v2 25\.0%/);
  });
});
