/**
 * What the local SNS is held to: a delivery needs the function's resource policy to let
 * sns.amazonaws.com invoke it from that topic (what LambdaSubscription's permission grants), and a
 * sandbox's Publish is evaluated as sns:Publish on the topic's ARN.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { iamRequestOf } from '../../local/endpoint/iam-request';
import { permissionStatement } from '../../local/endpoint/resource-policy';
import { snsMayNotInvoke } from '../../local/sns/topic-delivery';

const TOPIC = 'arn:aws:sns:us-east-1:000000000000:notices';
const ALIAS = 'arn:aws:lambda:us-east-1:000000000000:function:listener:live';
const SUBSCRIPTION = { key: 'S/Sub', arn: `${TOPIC}:1`, topicArn: TOPIC, endpoint: ALIAS };
const grant = (principal: string, sourceArn: string) =>
  permissionStatement(ALIAS, { statementId: 'p', action: 'lambda:InvokeFunction', principal, sourceArn });

describe('local SNS: deliveries and IAM', () => {
  it('a delivery goes when the policy lets sns.amazonaws.com invoke from this topic, and not otherwise', () => {
    assert.equal(snsMayNotInvoke([grant('sns.amazonaws.com', TOPIC)], SUBSCRIPTION), undefined);
    const other = snsMayNotInvoke([grant('sns.amazonaws.com', `${TOPIC}-other`)], SUBSCRIPTION);
    assert.match(other ?? '', /does not let sns\.amazonaws\.com invoke it from this topic.*SourceArn arn:aws:sns:/);
    assert.ok(snsMayNotInvoke([grant('events.amazonaws.com', TOPIC)], SUBSCRIPTION), 'another service is no grant');
    assert.ok(snsMayNotInvoke([], SUBSCRIPTION), 'no policy: no delivery');
  });

  it('a Publish is sns:Publish on the topic ARN; another SNS action is not evaluated', async () => {
    const facts = (form: string) => ({
      decision: { service: 'other' as const, name: 'sns', operation: 'POST /', protocol: 'query' as const },
      method: 'POST',
      url: '/',
      target: undefined,
      body: Buffer.from(form),
      region: 'us-east-1',
      accountId: '000000000000',
    });
    const lookups = { secretArn: () => undefined, partitionKey: async () => undefined, functionPolicy: () => [] };
    const asked = await iamRequestOf(facts(`Action=Publish&TopicArn=${encodeURIComponent(TOPIC)}&Message=x`), lookups);
    assert.equal(asked?.action, 'sns:Publish');
    assert.equal(asked?.resource, TOPIC);
    assert.equal(await iamRequestOf(facts('Action=ListTopics'), lookups), undefined);
  });
});
