/**
 * A subscription's filter policy as the local SNS runs it ("Amazon SNS message filtering"): each case a
 * message that matches and one that does not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageFilter } from '../../local/sns/filter-policy';
import type { PublishedMessage, SnsAttribute } from '../../local/sns/sns-event';

const message = (attributes: Record<string, SnsAttribute>, body = '{}'): PublishedMessage => ({
  messageId: 'm',
  topicArn: 'arn:aws:sns:us-east-1:000000000000:t',
  message: body,
  attributes,
  timestamp: '2026-01-01T00:00:00.000Z',
});

describe('local SNS filter policies', () => {
  it('a Number attribute is compared as a number, a String.Array by any of its elements', () => {
    const big = messageFilter({ price: [{ numeric: ['>=', 100] }] });
    assert.equal(big(message({ price: { DataType: 'Number', Value: '150.5' } })), true);
    assert.equal(big(message({ price: { DataType: 'Number', Value: '99' } })), false);
    assert.equal(big(message({ price: { DataType: 'String', Value: '150' } })), false, 'a String is not a number');
    const tagged = messageFilter({ tags: ['red'] });
    assert.equal(tagged(message({ tags: { DataType: 'String.Array', Value: '["blue","red"]' } })), true);
    assert.equal(tagged(message({ tags: { DataType: 'String.Array', Value: '["blue"]' } })), false);
  });

  it('a Binary attribute is never read, and an absent one matches only exists: false', () => {
    const absent = messageFilter({ blob: [{ exists: false }] });
    assert.equal(absent(message({ blob: { DataType: 'Binary', Value: 'AQI=' } })), true);
    assert.equal(absent(message({ other: { DataType: 'String', Value: 'x' } })), true);
    assert.equal(
      messageFilter({ blob: [{ exists: true }] })(message({ blob: { DataType: 'Binary', Value: 'AQI=' } })),
      false,
    );
  });

  it('MessageBody reads nested fields of the JSON body; a body that is not JSON matches no field', () => {
    const vip = messageFilter({ customer: { tier: ['gold'] } }, 'MessageBody');
    assert.equal(vip(message({}, '{"customer":{"tier":"gold"}}')), true);
    assert.equal(vip(message({}, '{"customer":{"tier":"silver"}}')), false);
    assert.equal(vip(message({}, 'gold')), false);
  });

  it('$or matches when one of its policies does', () => {
    const either = messageFilter({ $or: [{ a: ['x'] }, { b: ['y'] }] });
    assert.equal(either(message({ b: { DataType: 'String', Value: 'y' } })), true);
    assert.equal(either(message({ a: { DataType: 'String', Value: 'y' } })), false);
  });

  it('an operator the local mesh does not run, or a bad scope, is refused naming the policy', () => {
    assert.throws(
      () => messageFilter({ ip: [{ cidr: '10.0.0.0/24' }] }),
      /^Error: FilterPolicy \{"ip".*is not a Lambda filter operator.*the local mesh runs the operators SNS shares/,
    );
    assert.throws(
      () => messageFilter({ a: ['x'] }, 'Body' as never),
      /FilterPolicyScope must be MessageAttributes or MessageBody, got "Body"/,
    );
  });
});
