/**
 * A trigger wired to a MeshFunction itself (API Gateway's `handler: fn`, an S3 notification, an
 * SNS subscription of `fn`) invokes its unqualified ARN, which runs `$LATEST`: past `live`, its canary
 * and a gated deployment's alarms. Synth warns and names `fn.liveAlias`; a trigger on the alias is quiet.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { meshStack } from './infra-fixture';

const warnings = (stack: import('aws-cdk-lib').Stack) =>
  Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('lambda-mesh:unqualifiedInvoke'));

describe('a trigger of a MeshFunction', () => {
  it('on the function itself warns, naming the principal and fn.liveAlias', () => {
    // GIVEN a REST API whose handler is the function, as an existing app wires it
    const { stack, fn } = meshStack();
    const frontend = fn('Frontend', 'frontend');
    frontend.allowExternal();
    // WHEN
    new apigw.LambdaRestApi(stack, 'Api', { handler: frontend });
    // THEN one warning per function, naming who invokes $LATEST and the alias to wire instead
    const found = warnings(stack);
    assert.equal(found.length, 1, JSON.stringify(found));
    const text = String(found[0]?.entry.data);
    assert.match(text, /apigateway\.amazonaws\.com/);
    assert.match(text, /\$LATEST/);
    assert.match(text, /frontend\.liveAlias|liveAlias/);
  });

  it('on the live alias is quiet, and the integration names the alias', () => {
    const { stack, fn } = meshStack();
    const frontend = fn('Frontend', 'frontend');
    frontend.allowExternal();
    new apigw.LambdaRestApi(stack, 'Api', { handler: frontend.liveAlias });
    assert.deepEqual(warnings(stack), []);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { Ref: Match.stringLikeRegexp('FrontendLiveAlias') },
    });
  });

  it('an event source on the function itself (SQS) warns, naming liveAlias.addEventSource', () => {
    // GIVEN a queue wired to the function, as an existing app wires it
    const { stack, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    const queue = new sqs.Queue(stack, 'Queue');
    // WHEN
    orders.addEventSource(new SqsEventSource(queue));
    // THEN its mapping runs $LATEST, and the warning says how to bind it to the alias
    const found = warnings(stack);
    assert.equal(found.length, 1, JSON.stringify(found));
    const text = String(found[0]?.entry.data);
    assert.match(text, /event source mapping/);
    assert.match(text, /\$LATEST/);
    assert.match(text, /liveAlias\.addEventSource/);
  });

  it('an event source on the live alias is quiet, and the mapping names the alias', () => {
    const { stack, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    orders.liveAlias.addEventSource(new SqsEventSource(new sqs.Queue(stack, 'Queue')));
    assert.deepEqual(warnings(stack), []);
    const mappings = Template.fromStack(stack).findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Queue'), 'Arn'] } },
    });
    const [mapping] = Object.values(mappings);
    assert.match(JSON.stringify(mapping?.Properties.FunctionName), /:live"/, 'the qualified name, <function>:live');
  });
});
