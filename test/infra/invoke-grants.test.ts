/**
 * The IAM reading behind "each role may invoke exactly its declared targets" (invoke-grants.ts), as a
 * rule with compliant and non-compliant cases: every way a statement can grant more than the named
 * functions must be seen, or the template tests would pass a role that may invoke anything.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IamStatement } from './infra-fixture';
import { actionMatches, grantsInvoke, invokeGrants, resourceText } from './invoke-grants';

const arn = (name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:lambda:us-east-1:123456789012:function:${name}`]],
});
const allow = (Action: string | string[], Resource: unknown): IamStatement => ({ Effect: 'Allow', Action, Resource });

describe('invoke grants as IAM reads them', () => {
  it('matches actions as IAM does: case-insensitive globs with * and ?', () => {
    for (const p of [
      'lambda:InvokeFunction',
      'lambda:invokefunction',
      'lambda:Invoke*',
      'lambda:*',
      '*',
      'lambda:?nvoke*',
    ])
      assert.ok(actionMatches(p, 'lambda:InvokeFunction'), p);
    for (const p of ['lambda:Get*', 'lambda:InvokeFunctionX', 's3:*', 'lambda:Invoke', 'lambda.InvokeFunction'])
      assert.ok(!actionMatches(p, 'lambda:InvokeFunction'), p);
  });

  it('sees an invoke grant by any spelling, by NotAction, and never in a Deny', () => {
    assert.ok(grantsInvoke(allow('lambda:Invoke*', '*')));
    assert.ok(grantsInvoke(allow(['s3:GetObject', 'lambda:*'], '*')));
    assert.ok(grantsInvoke(allow('lambda:InvokeFunctionUrl', '*')));
    assert.ok(grantsInvoke({ Effect: 'Allow', NotAction: 's3:*', Resource: '*' }));
    assert.ok(!grantsInvoke({ Effect: 'Allow', NotAction: 'lambda:*', Resource: '*' }));
    assert.ok(!grantsInvoke({ Effect: 'Deny', Action: 'lambda:InvokeFunction', Resource: '*' }));
    assert.ok(!grantsInvoke(allow(['dynamodb:Query', 'lambda:GetFunction'], '*')));
  });

  it('spells out Ref, GetAtt and Join', () => {
    assert.equal(
      resourceText(arn('shop-orders:*')),
      'arn:<AWS::Partition>:lambda:us-east-1:123456789012:function:shop-orders:*',
    );
    assert.equal(resourceText({ 'Fn::Join': [':', [{ 'Fn::GetAtt': ['Fn1', 'Arn'] }, '*']] }), '<Fn1.Arn>:*');
    // The literal partition of cdk init's flags (enablePartitionLiterals) reads as the token does
    assert.equal(
      resourceText('arn:aws:lambda:us-east-1:123456789012:function:shop-orders:*'),
      resourceText(arn('shop-orders:*')),
    );
  });

  it('compliant: exact function ARNs, any qualifier, by ARN or by GetAtt of a named function', () => {
    const g = invokeGrants(
      [
        allow('lambda:InvokeFunction', [arn('shop-orders:*'), arn('shop-payments')]),
        allow('lambda:InvokeFunction', { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Inv1', 'Arn'] }, ':*']] }),
        { Effect: 'Deny', Action: 'lambda:InvokeFunction', Resource: '*' },
        allow('dynamodb:Query', '*'),
      ],
      new Map([['Inv1', 'shop-inventory']]),
    );
    assert.deepEqual(g, { functions: ['shop-inventory', 'shop-orders', 'shop-payments'], problems: [] });
  });

  it('non-compliant: every wider grant is a problem, whatever its spelling', () => {
    const cases: [string, IamStatement][] = [
      ['Resource "*"', allow('lambda:InvokeFunction', '*')],
      ['function:*', allow('lambda:InvokeFunction', arn('*'))],
      ['a name pattern', allow('lambda:InvokeFunction', arn('shop-*:*'))],
      ['a one-character pattern', allow('lambda:InvokeFunction', arn('shop-order?'))],
      ['lambda:Invoke* on *', allow('lambda:Invoke*', '*')],
      ['lambda:* on *', allow('lambda:*', '*')],
      ['* on *', allow('*', '*')],
      ['any region', allow('lambda:InvokeFunction', 'arn:aws:lambda:*:123456789012:function:shop-orders')],
      ['NotAction', { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }],
      ['NotResource', { Effect: 'Allow', Action: 'lambda:InvokeFunction', NotResource: arn('shop-admin') }],
      ['a function with no known name', allow('lambda:InvokeFunction', { 'Fn::GetAtt': ['Unnamed', 'Arn'] })],
      ['an unresolved token', allow('lambda:InvokeFunction', { 'Fn::ImportValue': 'SomeArn' })],
    ];
    for (const [what, statement] of cases) {
      const g = invokeGrants([allow('lambda:InvokeFunction', arn('shop-orders:*')), statement]);
      assert.equal(g.problems.length, 1, `${what}: ${JSON.stringify(g)}`);
      assert.deepEqual(g.functions, ['shop-orders'], what);
    }
  });

  it('an extra function granted by lambda:Invoke* is counted, so "exactly the declared targets" fails', () => {
    const g = invokeGrants([
      allow('lambda:InvokeFunction', arn('shop-orders:*')),
      allow('lambda:Invoke*', arn('shop-payments:*')),
    ]);
    assert.deepEqual(g, { functions: ['shop-orders', 'shop-payments'], problems: [] });
  });
});
