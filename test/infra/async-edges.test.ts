/**
 * `allowSendTo` and `receiveFrom`: a queue, topic or bus becomes a mesh channel with both walls (the
 * IAM grant to send, the channel's allow item), the sender learns it in MESH_CHANNELS and the consumer
 * its source ARN in MESH_INBOUND_CHANNELS; an SQS consumer reports partial batch failures (else a
 * refused record would be deleted with its batch); Event invoke settings land on `live`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Mesh } from '../../infra/mesh';
import { MeshFunction } from '../../infra/mesh-function';
import { MeshErrorCode, MeshValidationError } from '../../infra/mesh-validation-error';
import { parseChannels, parseInboundChannels } from '../../shared/channel';
import { ENV as NAMES } from '../../shared/names';
import { DEMO, ENV, newApp } from './infra-fixture';

function world() {
  const app = newApp();
  const stack = new Stack(app, 'Test', { env: ENV });
  const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop' });
  const fn = (id: string, service: string, extra = {}) =>
    new MeshFunction(stack, id, { mesh, service, entry: join(DEMO, 'inventory.ts'), ...extra });
  return { stack, mesh, fn };
}

function envOf(template: Template, service: string): Record<string, unknown> {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Environment?.Variables?.[NAMES.service] === service,
  )!;
  return fn.Properties.Environment.Variables;
}

/** A Fn::Join of literals and references, rendered with `<ref>` for each reference. */
function rendered(v: unknown): string {
  if (typeof v === 'string') return v;
  const join = (v as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  return join ? join[1].map((p) => (typeof p === 'string' ? p : '<ref>')).join(join[0]) : '<ref>';
}

describe('asynchronous edges: constructs', () => {
  it('a queue: send grant, the channel allow item, MESH_CHANNELS, and a consumer that reports partial failures', () => {
    // GIVEN
    const { stack, mesh, fn } = world();
    const orders = fn('Orders', 'orders');
    const notifications = fn('Notifications', 'notifications');
    const queue = new sqs.Queue(stack, 'OrderEvents');
    // WHEN
    orders.allowSendTo(queue, { description: 'order-placed' });
    notifications.receiveFrom(queue, { from: [orders], batchSize: 5 });
    // THEN
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FunctionName: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'sqs:SendMessage', Effect: 'Allow' })]),
      },
    });
    const items = mesh.policyItems();
    assert.ok(items.some((i) => i.pk === 'order-events' && i.sk === 'allow#orders'));
    assert.ok(items.some((i) => i.pk === 'notifications' && i.sk === 'allow#orders'));
    const channels = rendered(envOf(t, 'orders')[NAMES.channels]).replace(/<ref>/g, 'arn:aws:sqs:x');
    const parsed = parseChannels(channels.replace('"url":"arn:aws:sqs:x"', '"url":"https://sqs/q"'));
    assert.ok(parsed.ok && parsed.channels.get('order-events')?.kind === 'sqs', channels);
    const inbound = parseInboundChannels(
      rendered(envOf(t, 'notifications')[NAMES.inboundChannels]).replace('<ref>', 'arn:aws:sqs:x'),
    );
    assert.ok(typeof inbound !== 'string' && inbound.has('order-events'));
    assert.equal(
      envOf(t, 'notifications')[NAMES.channels],
      undefined,
      'a consumer that sends nothing gets no MESH_CHANNELS',
    );
  });

  it('a topic and a bus: publish and put-events grants, a subscription and a rule on the mesh messages', () => {
    const { stack, fn } = world();
    const orders = fn('Orders', 'orders');
    const audit = fn('Audit', 'audit');
    const topic = new sns.Topic(stack, 'OrderNews');
    const bus = new events.EventBus(stack, 'Shop');
    orders.allowSendTo(topic);
    orders.allowSendTo(bus, { channel: 'shop-bus' });
    audit.receiveFrom(topic, { from: [orders] });
    audit.receiveFrom(bus, { from: [orders], channel: 'shop-bus' });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda' });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['lambda-mesh'], 'detail-type': ['shop-bus'] },
    });
    const actions = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    assert.match(actions, /sns:Publish/);
    assert.match(actions, /events:PutEvents/);
  });

  it('refuses a channel named like a service, a second name for one queue, and a consumer without senders', () => {
    const { stack, fn } = world();
    const orders = fn('Orders', 'orders');
    const notifications = fn('Notifications', 'notifications');
    const queue = new sqs.Queue(stack, 'Notifications2');
    const code = (e: unknown) => e instanceof MeshValidationError && e.code === MeshErrorCode.INVALID_CHANNEL;
    assert.throws(() => orders.allowSendTo(queue, { channel: 'notifications' }), code);
    orders.allowSendTo(queue, { channel: 'jobs' });
    assert.throws(
      () => notifications.receiveFrom(queue, { from: [orders], channel: 'other' }),
      /already the channel "jobs"/,
    );
    assert.throws(() => notifications.receiveFrom(queue, { from: [] }), /receiveFrom needs from/);
  });

  it('refuses one channel name for two queues of a mesh, which one function would send to or consume only one of', () => {
    // GIVEN queue Jobs1 as channel "jobs"
    const { stack, fn } = world();
    const orders = fn('Orders', 'orders');
    const billing = fn('Billing', 'billing');
    const worker = fn('Worker', 'worker');
    const first = new sqs.Queue(stack, 'Jobs1');
    const second = new sqs.Queue(stack, 'Jobs2');
    orders.allowSendTo(first, { channel: 'jobs' });
    worker.receiveFrom(first, { from: [orders], channel: 'jobs' });
    const refused = (e: unknown) => {
      assert.ok(e instanceof MeshValidationError && e.code === MeshErrorCode.INVALID_CHANNEL, String(e));
      assert.match(
        e.message,
        /: channel "jobs" is already the name of Test\/Jobs1 in mesh "shop", so Test\/Jobs2 cannot have it: a channel name is one queue, topic or bus \(its policy partition\); pass \{ channel: '<another name>' \}$/,
      );
      return true;
    };
    // WHEN another queue takes the name, from the same function or from another one, as sender or consumer
    // THEN synth stops (the same function's second queue replaced its first in MESH_CHANNELS, and a second
    // receiveFrom under the name consumed nothing)
    assert.throws(() => orders.allowSendTo(second, { channel: 'jobs' }), refused);
    assert.throws(() => billing.allowSendTo(second, { channel: 'jobs' }), refused);
    assert.throws(() => worker.receiveFrom(second, { from: [billing], channel: 'jobs' }), refused);
    // The same queue under its name again is no clash.
    billing.allowSendTo(first, { channel: 'jobs' });
  });

  it('refuses at synth a sender in from that never declared allowSendTo on the channel, in either order', () => {
    const { stack, fn } = world();
    const orders = fn('Orders', 'orders');
    const billing = fn('Billing', 'billing');
    const notifications = fn('Notifications', 'notifications');
    const queue = new sqs.Queue(stack, 'OrderEvents');
    notifications.receiveFrom(queue, { from: [orders, billing] });
    // Declared after the consumer: still counted.
    orders.allowSendTo(queue);
    assert.throws(
      () => Template.fromStack(stack),
      (e: Error) =>
        e.message.includes(
          'MeshFunction Test/Notifications: receiveFrom("order-events") lists billing, which never declared ' +
            "allowSendTo on that channel, so it may not send there; add billing's allowSendTo(<the channel>) " +
            '(MeshFunction Test/Billing), or remove it from from',
        ) && !e.message.includes('lists orders'),
    );
    // A channel declared after the synth cannot reach the role's policy, frozen then: refused, by name
    assert.throws(
      () => billing.allowSendTo(queue),
      /Test\/Billing: allowSendTo after the app was synthesized.*declare edges and channels before synth/,
    );
    // Declared before the synth, in either order: accepted
    const fixed = world();
    const sender = fixed.fn('Billing', 'billing');
    const consumer = fixed.fn('Notifications', 'notifications');
    const events = new sqs.Queue(fixed.stack, 'OrderEvents');
    consumer.receiveFrom(events, { from: [sender] });
    sender.allowSendTo(events);
    Template.fromStack(fixed.stack);
  });

  it('warns at synth of a consumed queue without a dead-letter queue, where refused records would come back forever', () => {
    // GIVEN
    const { stack, fn } = world();
    const orders = fn('Orders', 'orders');
    const notifications = fn('Notifications', 'notifications');
    const audit = fn('Audit', 'audit');
    const bare = new sqs.Queue(stack, 'Bare');
    const kept = new sqs.Queue(stack, 'Kept', {
      deadLetterQueue: { queue: new sqs.Queue(stack, 'KeptDead'), maxReceiveCount: 3 },
    });
    const imported = sqs.Queue.fromQueueArn(stack, 'Imported', 'arn:aws:sqs:eu-west-1:123456789012:imported');
    // WHEN
    for (const q of [bare, kept, imported]) orders.allowSendTo(q);
    notifications.receiveFrom(bare, { from: [orders] });
    audit.receiveFrom(kept, { from: [orders] });
    audit.receiveFrom(imported, { from: [orders] });
    // THEN: only the queue known to have none (an imported one may have one the app cannot see)
    const warned = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('has no dead-letter queue'));
    assert.deepEqual(
      warned.map((w) => w.id),
      ['/Test/Notifications'],
    );
    assert.match(
      String(warned[0]!.entry.data),
      /Test\/Bare has no dead-letter queue: .* deadLetterQueue: \{ queue, maxReceiveCount \}/,
    );
  });

  it('onFailure and retryAttempts configure the live alias, the qualifier mesh.send invokes', () => {
    const { stack, fn } = world();
    const failures = new sqs.Queue(stack, 'Failures');
    fn('Worker', 'worker', { onFailure: new SqsDestination(failures), retryAttempts: 1 });
    const t = Template.fromStack(stack);
    const configs = Object.values(t.findResources('AWS::Lambda::EventInvokeConfig'));
    assert.equal(configs.length, 1);
    assert.notEqual(configs[0]!.Properties.Qualifier, '$LATEST');
    assert.equal(configs[0]!.Properties.MaximumRetryAttempts, 1);
  });
});
