/**
 * The local mesh's IAM decisions ("Policy evaluation logic", IAM User Guide), each a compliant and a
 * non-compliant case, on statements as the constructs write them (the example shop's roles).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePolicies, type IamRequest } from '../../local/endpoint/iam-evaluation';

const FN = 'arn:aws:lambda:us-east-1:000000000000:function';
const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/shop-policy';
const doc = (...Statement: object[]) => ({ Version: '2012-10-17', Statement });
const req = (action: string, resource: string, context: IamRequest['context'] = {}): IamRequest => ({
  action,
  resource,
  context,
});
const effect = (docs: unknown[], r: IamRequest) => evaluatePolicies(docs, r).effect;

/** orders' role: the edges to inventory and payments, never their $LATEST. */
const ORDERS = doc(
  { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: [`${FN}:shop-inventory:*`, `${FN}:shop-payments:*`] },
  { Action: 'lambda:InvokeFunction', Effect: 'Deny', Resource: [`${FN}:shop-payments:$LATEST`] },
  {
    Action: ['dynamodb:GetItem', 'dynamodb:Query'],
    Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['orders', 'payments', 'mesh#version#*'] } },
    Effect: 'Allow',
    Resource: TABLE,
  },
  {
    Action: 'dynamodb:UpdateItem',
    Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['ratelimit#payments'] } },
    Effect: 'Allow',
    Resource: TABLE,
  },
);

describe('IAM evaluation', () => {
  it('allows an edge the role holds, on an alias or a version', () => {
    assert.equal(effect([ORDERS], req('lambda:InvokeFunction', `${FN}:shop-payments:live`)), 'allow');
    assert.equal(effect([ORDERS], req('lambda:InvokeFunction', `${FN}:shop-inventory:3`)), 'allow');
  });

  it('denies implicitly what no statement allows: another function, or the unqualified one', () => {
    assert.equal(effect([ORDERS], req('lambda:InvokeFunction', `${FN}:shop-frontend:live`)), 'implicit-deny');
    assert.equal(effect([ORDERS], req('lambda:InvokeFunction', `${FN}:shop-payments`)), 'implicit-deny');
    assert.equal(effect([], req('lambda:InvokeFunction', `${FN}:shop-payments:live`)), 'implicit-deny');
  });

  it('an explicit Deny wins over an Allow', () => {
    assert.equal(effect([ORDERS], req('lambda:InvokeFunction', `${FN}:shop-payments:$LATEST`)), 'explicit-deny');
  });

  it('matches actions case-insensitively with wildcards, resources with wildcards per ARN part', () => {
    const d = doc({ Action: 'dynamodb:Get*', Effect: 'Allow', Resource: 'arn:aws:dynamodb:*:*:table/shop-*' });
    assert.equal(effect([d], req('DynamoDB:getitem', TABLE)), 'allow');
    assert.equal(effect([d], req('dynamodb:PutItem', TABLE)), 'implicit-deny');
    assert.equal(
      effect([d], req('dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:000000000000:table/other')),
      'implicit-deny',
    );
    // A part's wildcard stays in its part: `*` for the region does not swallow the account.
    const strict = doc({ Action: '*', Effect: 'Allow', Resource: 'arn:aws:dynamodb:*:111111111111:table/*' });
    assert.equal(effect([strict], req('dynamodb:GetItem', TABLE)), 'implicit-deny');
  });

  it('NotAction and NotResource allow everything but what they name', () => {
    const d = doc({ NotAction: 'dynamodb:PutItem', Effect: 'Allow', NotResource: `${TABLE}-secret` });
    assert.equal(effect([d], req('dynamodb:GetItem', TABLE)), 'allow');
    assert.equal(effect([d], req('dynamodb:PutItem', TABLE)), 'implicit-deny');
    assert.equal(effect([d], req('dynamodb:GetItem', `${TABLE}-secret`)), 'implicit-deny');
  });

  it('holds reads of the policy table to the partitions the role names (ForAllValues:StringLike)', () => {
    const leading = (...keys: string[]) => ({ 'dynamodb:leadingkeys': keys });
    assert.equal(effect([ORDERS], req('dynamodb:Query', TABLE, leading('payments'))), 'allow');
    assert.equal(effect([ORDERS], req('dynamodb:GetItem', TABLE, leading('mesh#version#shop'))), 'allow');
    assert.equal(effect([ORDERS], req('dynamodb:Query', TABLE, leading('frontend'))), 'implicit-deny');
    assert.equal(effect([ORDERS], req('dynamodb:Query', TABLE, leading('payments', 'frontend'))), 'implicit-deny');
  });

  it('holds rate-limit writes to the exact partitions (ForAllValues:StringEquals): no wildcard there', () => {
    const leading = (k: string) => ({ 'dynamodb:leadingkeys': [k] });
    assert.equal(effect([ORDERS], req('dynamodb:UpdateItem', TABLE, leading('ratelimit#payments'))), 'allow');
    assert.equal(effect([ORDERS], req('dynamodb:UpdateItem', TABLE, leading('ratelimit#*'))), 'implicit-deny');
    assert.equal(effect([ORDERS], req('dynamodb:UpdateItem', TABLE, leading('payments'))), 'implicit-deny');
  });

  it('ForAllValues holds for a key the request lacks; ForAnyValue and a plain operator do not', () => {
    const on = (operator: string) =>
      doc({ Action: '*', Effect: 'Allow', Resource: '*', Condition: { [operator]: { 'aws:RequestedRegion': 'x' } } });
    assert.equal(effect([on('ForAllValues:StringEquals')], req('dynamodb:GetItem', TABLE)), 'allow');
    assert.equal(effect([on('ForAnyValue:StringEquals')], req('dynamodb:GetItem', TABLE)), 'implicit-deny');
    assert.equal(effect([on('StringEquals')], req('dynamodb:GetItem', TABLE)), 'implicit-deny');
    assert.equal(effect([on('StringNotEquals')], req('dynamodb:GetItem', TABLE)), 'allow');
    assert.equal(effect([on('StringEqualsIfExists')], req('dynamodb:GetItem', TABLE)), 'allow');
    const inRegion = req('dynamodb:GetItem', TABLE, { 'aws:requestedregion': ['x'] });
    assert.equal(effect([on('StringEquals')], inRegion), 'allow');
    assert.equal(effect([on('StringNotEquals')], inRegion), 'implicit-deny');
  });

  it('the Null operator tells a present key from an absent one', () => {
    const d = doc({
      Action: '*',
      Effect: 'Allow',
      Resource: '*',
      Condition: { Null: { 'dynamodb:LeadingKeys': 'false' } },
    });
    assert.equal(effect([d], req('dynamodb:Query', TABLE, { 'dynamodb:leadingkeys': ['a'] })), 'allow');
    assert.equal(effect([d], req('dynamodb:Query', TABLE)), 'implicit-deny');
  });

  it('an operator or key it does not know leaves the request undecided, naming it, rather than guessing', () => {
    const numeric = doc({
      Action: '*',
      Effect: 'Allow',
      Resource: '*',
      Condition: { NumericLessThan: { 'x:y': '3' } },
    });
    assert.deepEqual(evaluatePolicies([numeric], req('dynamodb:GetItem', TABLE)), {
      effect: 'undecided',
      reason: 'the condition operator NumericLessThan',
    });
    const vpc = doc({
      Action: '*',
      Effect: 'Allow',
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceVpce': 'v' } },
    });
    assert.deepEqual(evaluatePolicies([vpc], req('dynamodb:GetItem', TABLE)), {
      effect: 'undecided',
      reason: 'the condition key aws:SourceVpce',
    });
    // An Allow that applies in full decides beside an Allow that cannot be judged; a Deny that cannot
    // be judged keeps it from deciding.
    const allow = doc({ Action: '*', Effect: 'Allow', Resource: TABLE });
    assert.equal(effect([vpc, allow], req('dynamodb:GetItem', TABLE)), 'allow');
    const maybeDeny = doc({ Action: '*', Effect: 'Deny', Resource: `\${Fn::GetAtt}` });
    assert.equal(effect([allow, maybeDeny], req('dynamodb:GetItem', TABLE)), 'undecided');
    // A Deny that applies in full still wins over what cannot be judged.
    const deny = doc({ Action: '*', Effect: 'Deny', Resource: TABLE });
    assert.equal(effect([vpc, deny], req('dynamodb:GetItem', TABLE)), 'explicit-deny');
  });

  it('a set-valued key under a plain operator is not judged (IAM asks for a set operator)', () => {
    const d = doc({
      Action: '*',
      Effect: 'Allow',
      Resource: '*',
      Condition: { StringEquals: { 'dynamodb:LeadingKeys': 'a' } },
    });
    assert.equal(effect([d], req('dynamodb:Query', TABLE, { 'dynamodb:leadingkeys': ['a'] })), 'undecided');
  });

  it('reads documents as IAM keeps them: JSON text, one statement or a list', () => {
    const text = JSON.stringify({ Statement: { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: '*' } });
    assert.equal(effect([text], req('sqs:SendMessage', 'arn:aws:sqs:us-east-1:000000000000:q')), 'allow');
  });
});
