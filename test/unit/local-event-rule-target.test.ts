/**
 * What a local EventBridge rule hands its target (local/events/rule-input.ts) and whether the target's
 * policy lets the rule invoke it (local/events/rule-permission.ts), each with a passing and a failing case.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ruleInputError, targetPayload } from '../../local/events/rule-input';
import { ruleInvokeRefusal } from '../../local/events/rule-permission';

const event = { source: 'shop', detail: { id: 'o-1', total: 150, tags: ['a', 'b'] } };
const FN = 'arn:aws:lambda:us-east-1:000000000000:function:audit';
const RULE = 'arn:aws:events:us-east-1:000000000000:rule/orders/big';

describe('rule targets', () => {
  it('the event, Input as is, InputPath, InputTransformer', () => {
    assert.deepEqual(JSON.parse(targetPayload({}, event)), event);
    assert.equal(targetPayload({ input: '{"fixed":1}' }, event), '{"fixed":1}');
    assert.deepEqual(JSON.parse(targetPayload({ inputPath: '$.detail.tags[1]' }, event)), 'b');
    const transformer = {
      pathsMap: { id: '$.detail.id', total: '$.detail.total' },
      template: '{"order":"<id>","n":<total>,"x":"<x>"}',
    };
    assert.deepEqual(JSON.parse(targetPayload({ inputTransformer: transformer }, event)), {
      order: 'o-1',
      n: 150,
      x: '<x>',
    });
    assert.match(ruleInputError({ inputPath: '$..id' }) ?? '', /"\$\.\.id" is not of the form/);
    assert.equal(ruleInputError({ inputTransformer: transformer }), undefined);
  });

  it("the function's policy must let events.amazonaws.com invoke it for this rule", () => {
    const statement = {
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: FN,
      Condition: { ArnLike: { 'AWS:SourceArn': RULE } },
    };
    const invoke = { functionArn: FN, ruleArn: RULE, accountId: '000000000000' };
    assert.equal(ruleInvokeRefusal([statement], invoke), undefined);
    assert.match(ruleInvokeRefusal([statement], { ...invoke, ruleArn: `${RULE}-other` }) ?? '', /does not let events/);
    assert.match(
      ruleInvokeRefusal([{ ...statement, Principal: { Service: 'sns.amazonaws.com' } }], invoke) ?? '',
      /targets.LambdaFunction/,
    );
    assert.match(ruleInvokeRefusal([], invoke) ?? '', /does not let/);
  });
});
