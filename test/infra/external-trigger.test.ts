/**
 * A trigger from outside the mesh (an event source mapping, a service's permission to invoke, a
 * function URL) on a MeshFunction whose policy admits no external caller: every event it brings would
 * be refused at run time. Synth warns (`lambda-mesh:externalTrigger`), naming the trigger and
 * `allowExternal()`; the mesh's own channels (`receiveFrom`) and HTTP endpoint are no such trigger.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Annotations as CoreAnnotations, NestedStack, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { MeshFunction } from '../../infra/mesh-function';
import { externalTriggerMessage, isServicePrincipal, namesFunction } from '../../infra/private/external-trigger';
import { ShopStack } from '../../infra/shop-stack';
import { DEMO, ENV, meshStack, newApp } from './infra-fixture';

const ID = 'lambda-mesh:externalTrigger';

/** The externalTrigger warnings of `stack`, as their texts. */
function warnings(stack: Stack): string[] {
  return Annotations.fromStack(stack)
    .findWarning('*', Match.stringLikeRegexp(ID))
    .map((w) => String(w.entry.data));
}

/** Each way a user wires a trigger from outside the mesh to a function's `live` alias. */
const TRIGGERS: Record<string, { wire: (stack: Stack, fn: MeshFunction) => void; names: RegExp }> = {
  'an SQS event source': {
    wire: (stack, fn) => fn.liveAlias.addEventSource(new SqsEventSource(new sqs.Queue(stack, 'Jobs'))),
    names: /Test\/Orders\/LiveAlias\/SqsEventSource:TestJobs[^ ]*.*event source mapping/,
  },
  'an API Gateway REST API': {
    wire: (stack, fn) => new apigw.LambdaRestApi(stack, 'Api', { handler: fn.liveAlias }),
    names: /Test\/Api\/Default\/[^ ]*ApiPermission[^ ]*.*apigateway\.amazonaws\.com/,
  },
  'a function URL': {
    wire: (_stack, fn) => fn.liveAlias.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM }),
    names: /Test\/Orders\/LiveAlias\/FunctionUrl\/Resource.*function URL/,
  },
  'an S3 notification': {
    wire: (stack, fn) =>
      new s3.Bucket(stack, 'Uploads').addEventNotification(
        s3.EventType.OBJECT_CREATED,
        new s3n.LambdaDestination(fn.liveAlias),
      ),
    names: /s3\.amazonaws\.com/,
  },
  "an EventBridge rule of the app's own": {
    wire: (stack, fn) =>
      new events.Rule(stack, 'Nightly', {
        schedule: events.Schedule.cron({ hour: '3', minute: '0' }),
        targets: [new eventTargets.LambdaFunction(fn.liveAlias)],
      }),
    names: /Test\/Nightly\/[^ ]*.*events\.amazonaws\.com/,
  },
};

describe('a trigger from outside the mesh', () => {
  for (const [name, { wire, names }] of Object.entries(TRIGGERS)) {
    it(`${name} on a function without allowExternal() warns: the trigger, no-edge, and the fix`, () => {
      // GIVEN a function that admits no caller outside the mesh
      const { stack, fn } = meshStack();
      const orders = fn('Orders', 'orders');
      // WHEN the app wires the trigger to its live alias
      wire(stack, orders);
      // THEN one warning names the trigger, the run-time refusal and both ways out
      const found = warnings(stack);
      assert.equal(found.length, 1, JSON.stringify(found));
      const text = found[0]!;
      assert.match(text, names);
      assert.match(text, /no-edge/);
      assert.match(text, /service "orders"/);
      assert.match(text, /fn\.allowExternal\(\)/);
      assert.doesNotMatch(text, /Test\/Orders\/LiveAlias\/AllowInvoke|Receive-/, 'names no trigger of the mesh');
      assert.match(text, /acknowledgeWarning\('lambda-mesh:externalTrigger'/);
    });

    it(`${name} on a function with allowExternal() is quiet`, () => {
      const { stack, fn } = meshStack();
      const orders = fn('Orders', 'orders');
      orders.allowExternal();
      wire(stack, orders);
      assert.deepEqual(warnings(stack), []);
    });
  }

  it('on a published version warns too', () => {
    const { stack, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    orders.version.addPermission('Alb', { principal: new iam.ServicePrincipal('elasticloadbalancing.amazonaws.com') });
    const found = warnings(stack);
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.match(found[0]!, /elasticloadbalancing\.amazonaws\.com/);
  });

  it('written with the literal function name warns; one for another function is quiet', () => {
    const { stack, fn } = meshStack();
    fn('Orders', 'orders');
    const permit = (id: string, functionName: string) =>
      new lambda.CfnPermission(stack, id, {
        action: 'lambda:InvokeFunction',
        principal: 'sns.amazonaws.com',
        functionName,
      });
    permit('ByName', 'shop-orders:live');
    permit('Other', 'shop-ordersx');
    const found = warnings(stack);
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.match(found[0]!, /Test\/ByName \(a permission for sns\.amazonaws\.com\)/);
    assert.doesNotMatch(found[0]!, /Test\/Other/);
  });

  it('an account principal is no trigger (a caller with a role may be a mesh of another account)', () => {
    const { stack, fn } = meshStack();
    fn('Orders', 'orders').liveAlias.addPermission('Partner', { principal: new iam.AccountPrincipal('210987654321') });
    assert.deepEqual(warnings(stack), []);
  });

  it('in another stack of the app warns on the function', () => {
    // GIVEN an API in a stack of its own, on the live alias of a function in the mesh's stack
    const { app, stack, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    const apiStack = new Stack(app, 'Api', { env: ENV });
    new apigw.LambdaRestApi(apiStack, 'Api', { handler: orders.liveAlias });
    // THEN the warning is on the function, naming the API's permissions in their stack
    const found = warnings(stack);
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.match(found[0]!, /Api\/Api\/Default\//);
    assert.deepEqual(warnings(apiStack), []);
  });

  it('on a function in a nested stack, from the parent stack, warns on the function', () => {
    const { stack, mesh } = meshStack();
    const services = new NestedStack(stack, 'Services');
    const orders = new MeshFunction(services, 'Orders', { mesh, service: 'orders', entry: join(DEMO, 'inventory.ts') });
    new apigw.LambdaRestApi(stack, 'Api', { handler: orders.liveAlias });
    // A nested stack's annotations are in its parent's artifact.
    const found = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(ID));
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0]?.id, '/Test/Services/Orders');
    assert.match(String(found[0]?.entry.data), /Test\/Api\/Default\//);
  });

  it('only warns on the function it invokes', () => {
    const { stack, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    fn('Payments', 'payments');
    orders.liveAlias.addFunctionUrl();
    const found = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(ID));
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0]?.id, '/Test/Orders');
  });

  it('is quiet once acknowledged', () => {
    const { stack, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    orders.liveAlias.addFunctionUrl();
    CoreAnnotations.of(orders).acknowledgeWarning(ID, 'refused on purpose until launch');
    assert.deepEqual(warnings(stack), []);
  });
});

describe("the mesh's own channels and endpoints", () => {
  it('receiveFrom a queue, a topic and a bus is quiet', () => {
    // GIVEN a consumer of three channels and their sender, and no allowExternal()
    const { stack, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    const notifications = fn('Notifications', 'notifications');
    const dead = new sqs.Queue(stack, 'Dead');
    const queue = new sqs.Queue(stack, 'OrderEvents', { deadLetterQueue: { queue: dead, maxReceiveCount: 3 } });
    const topic = new sns.Topic(stack, 'OrderTopic');
    const bus = new events.EventBus(stack, 'OrderBus');
    // WHEN the mesh wires the channels
    for (const channel of [queue, topic, bus]) {
      orders.allowSendTo(channel);
      notifications.receiveFrom(channel, { from: [orders] });
    }
    // THEN no trigger from outside the mesh
    assert.deepEqual(warnings(stack), []);
  });

  it("a function URL that is the service's own HTTP endpoint is quiet", () => {
    const { stack, fn } = meshStack();
    const payments = fn('Payments', 'payments');
    fn('Orders', 'orders').allowCallsTo(payments);
    const url = payments.liveAlias.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    payments.addHttpEndpoint({ url: url.url });
    assert.deepEqual(warnings(stack), []);
  });

  it('the example app synthesizes with no such warning', () => {
    const stack = new ShopStack(newApp(), 'LambdaMeshShop', { release: 2, env: ENV });
    assert.deepEqual(warnings(stack), []);
  });
});

describe('the decisions', () => {
  it('a service principal is an AWS service name, nothing else', () => {
    for (const p of ['apigateway.amazonaws.com', 'elasticloadbalancing.amazonaws.com', 's3.amazonaws.com.cn'])
      assert.equal(isServicePrincipal(p), true, p);
    for (const p of ['*', '123456789012', 'arn:aws:iam::123456789012:root', { 'Fn::Join': [] }, undefined])
      assert.equal(isServicePrincipal(p), false, JSON.stringify(p));
  });

  it('a literal names the function alone, qualified, or by its ARN; never another function', () => {
    for (const v of [
      'shop-orders',
      'shop-orders:live',
      'arn:aws:lambda:us-east-1:123456789012:function:shop-orders',
      'arn:aws-cn:lambda:cn-north-1:123456789012:function:shop-orders:3',
      '123456789012:function:shop-orders',
    ])
      assert.equal(namesFunction(v, 'shop-orders'), true, v);
    for (const v of [
      'shop-orders-v2',
      'my-shop-orders',
      'arn:aws:lambda:us-east-1:1:function:x:shop-orders',
      { Ref: 'X' },
    ])
      assert.equal(namesFunction(v, 'shop-orders'), false, JSON.stringify(v));
  });

  it('the message names three triggers and counts the rest', () => {
    const triggers = ['A', 'B', 'C', 'D', 'E'].map((p) => ({ path: `Test/${p}`, what: 'a function URL' }));
    const text = externalTriggerMessage('orders', triggers);
    assert.match(text, /Test\/C \(a function URL\) and 2 more invoke service "orders"/);
    assert.doesNotMatch(text, /Test\/D/);
    assert.match(externalTriggerMessage('orders', triggers.slice(0, 1)), /^Test\/A \(a function URL\) invokes service/);
  });
});
