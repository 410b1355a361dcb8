/**
 * `mesh.send` and the records it becomes: an Event invoke carries the metadata in an envelope the
 * callee's wrapper opens (the handler gets the payload byte for byte), a channel message carries it as
 * an attribute, and each record of a batch is verified and authorized on its own; refused records are
 * dropped, reported and named in the SQS partial batch response. Real identities (one mesh CA, one
 * foreign CA); the transport is a recorder that hands the bytes on as the queue or Lambda would.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { EVENT_INVOKE_MAX_BYTES } from '../../functions/mesh/async/event-envelope';
import {
  MeshCallError,
  MeshDeniedError,
  MeshOutcomeUnknownError,
  MeshUnauthenticatedError,
} from '../../functions/mesh/errors';
import type { IdentityLike } from '../../functions/mesh/mesh-runtime';
import type { SegmentDoc } from '../../functions/mesh/telemetry/xray-emitter';
import type { InvokeRequest } from '../../functions/mesh/transport/invoke-transport';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { ENV, META } from '../../shared/names';
import { channelRuntime, Recorder } from '../support/channel-runtime';
import { type IdentityWorld, identityOf, identityWorld } from '../support/identity-fixture';

const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:order-events';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:order-news';
const BUS_ARN = 'arn:aws:events:eu-west-1:123456789012:event-bus/shop';
const items = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders' },
  {
    pk: 'payments',
    sk: 'allow#billing',
    source: 'billing',
    idempotent: true,
    retries: { baseDelayMs: 1, maxDelayMs: 1 },
  },
  { pk: 'order-events', sk: 'allow#orders', source: 'orders' },
  { pk: 'order-news', sk: 'allow#orders', source: 'orders' },
  { pk: 'order-news', sk: 'allow#payments', source: 'payments' },
  { pk: 'shop-bus', sk: 'allow#orders', source: 'orders' },
  // ledger reads a queue that senders outside the mesh write to, and tells order-news.
  { pk: 'ledger', sk: 'allow#external', source: 'external' },
  { pk: 'order-news', sk: 'allow#ledger', source: 'ledger' },
];
const env = {
  [ENV.channels]: JSON.stringify({
    'order-events': { kind: 'sqs', arn: QUEUE_ARN, url: 'http://127.0.0.1:1/123456789012/order-events' },
    'order-news': { kind: 'sns', arn: TOPIC_ARN },
    'shop-bus': { kind: 'events', arn: BUS_ARN },
  }),
  [ENV.inboundChannels]: JSON.stringify({ 'order-events': QUEUE_ARN, 'order-news': TOPIC_ARN, 'shop-bus': BUS_ARN }),
};

function runtime(
  service: string,
  identity: IdentityLike | undefined,
  transport = new Recorder(),
  onSegment?: (doc: SegmentDoc) => void,
) {
  return channelRuntime({ service, identity, env, items, transport, onSegment });
}

const records = (lines: string[]) =>
  lines.filter((l) => l.startsWith('{"type":"mesh-access"')).map((l) => JSON.parse(l));
const deniedCount = (lines: string[]) => lines.filter((l) => l.includes('"denied_total":1')).length;

/** The SQS event Lambda's poller would deliver for the messages the recorder saw. */
function sqsEvent(sent: readonly InvokeRequest[], arn = QUEUE_ARN) {
  return {
    Records: sent.map((r, i) => ({
      messageId: `m-${i + 1}`,
      eventSource: 'aws:sqs',
      eventSourceARN: arn,
      body: Buffer.from(r.payload).toString('utf8'),
      messageAttributes: {
        [META.messageAttribute]: { stringValue: JSON.stringify(r.metadata), dataType: 'String' },
        note: { stringValue: 'kept', dataType: 'String' },
      },
    })),
  };
}

/** The SNS delivery of a sent message: its envelope in the message attribute the SNS transport sets. */
function snsEvent(sent: InvokeRequest) {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        Sns: {
          MessageId: 'n-1',
          TopicArn: TOPIC_ARN,
          Message: Buffer.from(sent.payload).toString('utf8'),
          MessageAttributes: { [META.messageAttribute]: { Type: 'String', Value: JSON.stringify(sent.metadata) } },
        },
      },
    ],
  };
}

/** The EventBridge transport puts the envelope in the detail (what PutEvents would deliver). */
function busEvent(sent: InvokeRequest) {
  return {
    version: '0',
    id: 'e-1',
    'detail-type': 'shop-bus',
    source: 'lambda-mesh',
    detail: {
      [META.envelopeKey]: sent.metadata,
      [META.envelopePayloadKey]: JSON.parse(Buffer.from(sent.payload).toString()),
    },
  };
}

describe('mesh.send', () => {
  let world: IdentityWorld;
  before(async () => {
    world = await identityWorld('shop');
  });

  test('an Event invoke: the envelope carries a long-lived token, the handler gets the payload as sent', async () => {
    const orders = runtime('orders', await identityOf(world.orders));
    const payload = { orderId: 'o-1', lines: [{ sku: 'a', n: 2 }], note: 'é \u2028' };
    const receipt = await orders.rt.send('payments', payload);
    const [req] = orders.transport.sent;
    assert.equal(req!.invocationType, 'Event');
    assert.equal(req!.clientContext, '', 'no ClientContext on an Event invoke');
    const envelope = JSON.parse(Buffer.from(req!.payload).toString('utf8'));
    assert.deepEqual(Object.keys(envelope), [META.envelopeKey, META.envelopePayloadKey]);
    assert.equal(envelope[META.envelopeKey].idk, receipt.idempotencyKey);
    assert.equal(envelope[META.envelopeKey].dl, undefined, 'a queued message has no caller deadline');

    const payments = runtime('payments', await identityOf(world.payments));
    const seen: unknown[] = [];
    const wrapped = wrapHandler(payments.rt, async (event: unknown) => {
      seen.push(event);
      return 'ok';
    });
    const ctx = { awsRequestId: 'r-1', getRemainingTimeInMillis: () => 3000 };
    assert.equal(await wrapped(envelope, ctx), 'ok');
    // Lambda delivers the same event again on a retry: the same token is good again (no replay refusal).
    assert.equal(await wrapped(envelope, ctx), 'ok');
    assert.deepEqual(seen, [payload, payload]);
    assert.equal(JSON.stringify(seen[0]), JSON.stringify(payload));
    const inbound = records(payments.lines);
    assert.deepEqual(
      inbound.map((r) => [r.source, r.outcome]),
      [
        ['orders', 'success'],
        ['orders', 'success'],
      ],
    );
    const outbound = records(orders.lines);
    assert.deepEqual(
      outbound.map((r) => [r.reporter, r.destination, r.outcome]),
      [['source', 'payments', 'success']],
    );
  });

  test('an Event invoke with a forged envelope is refused as unauthenticated; a deny is denied', async () => {
    const impostor = runtime('orders', await identityOf(world.foreignOrders));
    await impostor.rt.send('payments', { x: 1 });
    const forged = JSON.parse(Buffer.from(impostor.transport.sent[0]!.payload).toString('utf8'));
    const payments = runtime('payments', await identityOf(world.payments));
    const wrapped = wrapHandler(payments.rt, async () => 'ran');
    await assert.rejects(wrapped(forged, { awsRequestId: 'r-2' }), MeshUnauthenticatedError);
    // The payload changed on the way: the token binds the bytes.
    const orders = runtime('orders', await identityOf(world.orders));
    await orders.rt.send('payments', { amount: 1 });
    const tampered = JSON.parse(Buffer.from(orders.transport.sent[0]!.payload).toString('utf8'));
    tampered.payload.amount = 1000;
    await assert.rejects(wrapped(tampered, { awsRequestId: 'r-3' }), MeshUnauthenticatedError);
    // The sender's own policy refuses a target that never allowed it: nothing is sent.
    const frontend = runtime('frontend', undefined);
    await assert.rejects(frontend.rt.send('payments', {}), MeshDeniedError);
    assert.equal(frontend.transport.sent.length, 0);
  });

  test('an Event invoke whose acceptance is unknown (a 5xx after it went out) is sent again only on an idempotent edge', async () => {
    /** Answers Lambda's 500 (ServiceException) to the first Invoke, as after a request that may have been queued. */
    class FailsFirst extends Recorder {
      override async invoke(req: InvokeRequest) {
        if (this.sent.length === 0) {
          this.sent.push(req);
          return { statusCode: 500, payload: Buffer.from('{"Type":"Service","message":"internal"}') };
        }
        return super.invoke(req);
      }
    }
    // orders -> payments is not idempotent (the default): one attempt, and the caller learns "unknown".
    const orders = runtime('orders', undefined, new FailsFirst());
    await assert.rejects(orders.rt.send('payments', { charge: 1 }), MeshOutcomeUnknownError);
    assert.equal(orders.transport.sent.length, 1, 'an event that may be queued is not sent again');
    // billing -> payments is idempotent: the same event, with the same key, once more.
    const billing = runtime('billing', undefined, new FailsFirst());
    const receipt = await billing.rt.send('payments', { charge: 1 });
    assert.equal(billing.transport.sent.length, 2);
    const keys = billing.transport.sent.map(
      (r) => JSON.parse(Buffer.from(r.payload).toString('utf8'))[META.envelopeKey].idk,
    );
    assert.deepEqual(keys, [receipt.idempotencyKey, receipt.idempotencyKey]);
  });

  test('over the 1 MB asynchronous limit: refused before sending, naming the size', async () => {
    const orders = runtime('orders', undefined);
    const big = { blob: 'x'.repeat(EVENT_INVOKE_MAX_BYTES) };
    await assert.rejects(orders.rt.send('payments', big), (e: Error) => {
      assert.ok(e instanceof MeshCallError);
      assert.match(e.message, /is \d+ bytes with the mesh metadata, over the 1048576-byte limit/);
      return true;
    });
    assert.equal(orders.transport.sent.length, 0);
  });

  test('an SQS batch: verified records reach the handler, forged ones are dropped and named', async () => {
    const orders = runtime('orders', await identityOf(world.orders));
    const impostor = runtime('orders', await identityOf(world.foreignOrders));
    await orders.rt.send('order-events', { type: 'order-placed', orderId: 'o-1' });
    await impostor.rt.send('order-events', { type: 'order-placed', orderId: 'forged' });
    await orders.rt.send('order-events', { type: 'order-placed', orderId: 'o-2' });
    const sent = [orders.transport.sent[0]!, impostor.transport.sent[0]!, orders.transport.sent[1]!];
    assert.equal(sent[0]!.metadata?.ch, 'order-events');
    // Unsigned: a record with the mesh's attribute but no token.
    const unsigned = { ...sent[2]!, metadata: { ...sent[2]!.metadata!, tok: undefined } };
    const event = sqsEvent([...sent, unsigned]);

    // The consumer (payments allows orders) verifies tokens addressed to the channel, not to itself.
    const consumer = runtime('payments', await identityOf(world.payments));
    const seen: unknown[] = [];
    const wrapped = wrapHandler(consumer.rt, async (e: unknown) => {
      seen.push(...(e as { Records: unknown[] }).Records);
      return undefined;
    });
    const out = await wrapped(event, { awsRequestId: 'batch-1', getRemainingTimeInMillis: () => 3000 });
    assert.deepEqual(out, { batchItemFailures: [{ itemIdentifier: 'm-2' }, { itemIdentifier: 'm-4' }] });
    const bodies = (seen as { body: string }[]).map((r) => JSON.parse(r.body).orderId);
    assert.deepEqual(bodies, ['o-1', 'o-2']);
    assert.deepEqual(Object.keys((seen[0] as { messageAttributes: object }).messageAttributes), ['note']);
    const inbound = records(consumer.lines);
    assert.deepEqual(
      inbound.map((r) => [r.source, r.outcome, r.claimedSource]),
      [
        ['orders', 'success', undefined],
        ['unknown', 'unauthenticated', 'orders'],
        ['orders', 'success', undefined],
        ['unknown', 'unauthenticated', 'orders'],
      ],
    );
    assert.equal(deniedCount(consumer.lines), 2, 'each refused record counts in denied_total');
    assert.deepEqual(
      inbound.filter((r) => r.reason).map((r) => r.reason),
      ['certificate-untrusted', 'token-missing'],
    );
  });

  test('a record whose trace Lambda did not continue: its segment joins the sender trace, with the calls under it', async (t) => {
    // Prepare: the message was sent from the sender's subsegment `sendSpan` in trace `root`.
    const orders = runtime('orders', await identityOf(world.orders));
    await orders.rt.send('order-events', { type: 'order-placed', orderId: 'o-7' });
    const root = '1-6a000000-0123456789abcdef01234567';
    const sendSpan = 'a1b2c3d4e5f60718';
    const message = orders.transport.sent[0]!;
    const traced = { ...message, metadata: { ...message.metadata!, trc: `Root=${root};Parent=${sendSpan};Sampled=1` } };
    const segments: SegmentDoc[] = [];
    const consumer = runtime('payments', await identityOf(world.payments), new Recorder(), (s) => segments.push(s));
    // In AWS the invocation of an SQS batch runs in a trace of Lambda's own, linked to the senders'.
    const saved = process.env._X_AMZN_TRACE_ID;
    process.env._X_AMZN_TRACE_ID = 'Root=1-6a000001-76543210fedcba9876543210;Parent=0123456789abcdef;Sampled=1';
    t.after(() => {
      if (saved === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = saved;
    });
    const wrapped = wrapHandler(consumer.rt, async () => {
      await consumer.rt.send('order-news', { told: 'o-7' });
      return undefined;
    });
    // Act
    await wrapped(sqsEvent([traced]), { awsRequestId: 'batch-7', getRemainingTimeInMillis: () => 3000 });
    // Assess: the record's segment sits under the send, and the handler's own send under that segment.
    const handled = segments.find((s) => s.trace_id === root && s.type !== 'subsegment');
    assert.ok(handled, `segments: ${JSON.stringify(segments)}`);
    assert.equal(handled.parent_id, sendSpan);
    const told = segments.find((s) => s.type === 'subsegment' && s.name === 'order-news');
    assert.equal(told?.trace_id, root);
    assert.equal(told?.parent_id, handled.id, 'the handler call hangs under the record segment');
  });

  test("a record sent from outside the mesh: the handler's calls hang under the invocation's segment", async (t) => {
    // Prepare: a plain message (no mesh attribute); Lambda gave the invocation its trace and segment.
    const root = '1-6a000002-0123456789abcdef76543210';
    const invocationSegment = 'fedcba9876543210';
    const saved = process.env._X_AMZN_TRACE_ID;
    process.env._X_AMZN_TRACE_ID = `Root=${root};Parent=${invocationSegment};Sampled=1`;
    t.after(() => {
      if (saved === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = saved;
    });
    const segments: SegmentDoc[] = [];
    const ledger = runtime('ledger', undefined, new Recorder(), (s) => segments.push(s));
    const wrapped = wrapHandler(ledger.rt, async () => {
      await ledger.rt.send('order-news', { booked: 'o-8' });
      return undefined;
    });
    const plain = { messageId: 'm-1', eventSource: 'aws:sqs', eventSourceARN: QUEUE_ARN, body: '{"order":"o-8"}' };
    // Act
    await wrapped({ Records: [plain] }, { awsRequestId: 'batch-8', getRemainingTimeInMillis: () => 3000 });
    // Assess: the send's subsegment is in Lambda's trace, under its segment; the mesh wrote no segment.
    assert.deepEqual(
      segments.map((s) => [s.type, s.name, s.trace_id, s.parent_id]),
      [['subsegment', 'order-news', root, invocationSegment]],
    );
    // The access log names the trace the record was handled in, as the send's line does.
    assert.deepEqual(
      records(ledger.lines).map((r) => [r.reporter, r.outcome, r.traceId]),
      [
        ['source', 'success', root],
        ['destination', 'success', root],
      ],
    );
  });

  test("a deny of the sender on a channel refuses its records at the consumer, not only the sender's next send", async () => {
    // Sent while the channels allowed orders (or past its runtime); the consumer's copy has the deny.
    const orders = runtime('orders', await identityOf(world.orders));
    await orders.rt.send('order-events', { n: 1 });
    await orders.rt.send('order-news', { n: 2 });
    await orders.rt.send('shop-bus', { n: 3 });
    const [queued, news, bus] = orders.transport.sent;
    const denies = ['order-events', 'order-news', 'shop-bus'].map((pk) => ({
      pk,
      sk: 'deny#orders',
      source: 'orders',
      reason: 'drill',
    }));
    const consumer = channelRuntime({
      service: 'payments',
      identity: await identityOf(world.payments),
      env,
      items: [...items, ...denies],
    });
    const wrapped = wrapHandler(consumer.rt, async () => assert.fail('the handler must not run'));
    // SQS: named in the partial batch response, back to the queue (and on to its dead-letter queue).
    assert.deepEqual(await wrapped(sqsEvent([queued!]), { awsRequestId: 'd-1' }), {
      batchItemFailures: [{ itemIdentifier: 'm-1' }],
    });
    // SNS and EventBridge: one delivery, refused, fails the invocation (Lambda retries it, then its destination).
    // The refusal says denied, as a refused call's does: nothing of the reason.
    await assert.rejects(wrapped(snsEvent(news!), { awsRequestId: 'd-2' }), {
      name: 'MeshDeniedError',
      message: 'mesh: payments refused the call: denied (request d-2)',
    });
    await assert.rejects(wrapped(busEvent(bus!), { awsRequestId: 'd-3' }), MeshDeniedError);
    const refused = records(consumer.lines);
    assert.deepEqual(
      refused.map((r) => [r.source, r.outcome]),
      [
        ['unknown', 'denied'],
        ['unknown', 'denied'],
        ['unknown', 'denied'],
      ],
    );
    assert.ok(
      refused.every((r) => /deny#orders|drill/.test(r.reason)),
      JSON.stringify(refused.map((r) => r.reason)),
    );
  });

  test('a record from outside the mesh, refused by policy, counts as external, not as an unverified caller', async () => {
    // payments has no allow#external: a message some other producer put on its queue is refused.
    const consumer = runtime('payments', await identityOf(world.payments));
    const wrapped = wrapHandler(consumer.rt, async () => assert.fail('the handler must not run'));
    const event = {
      Records: [{ messageId: 'm-1', eventSource: 'aws:sqs', eventSourceARN: QUEUE_ARN, body: '{"job":"outside"}' }],
    };
    assert.deepEqual(await wrapped(event, { awsRequestId: 'x-1' }), { batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    assert.deepEqual(
      records(consumer.lines).map((r) => [r.source, r.outcome, r.claimedSource]),
      [['external', 'denied', undefined]],
    );
    assert.match(records(consumer.lines)[0]!.reason, /^no-edge: external may not call payments/);
    assert.equal(deniedCount(consumer.lines), 1);
  });

  test('a record signed for one channel is refused when it arrives from another queue', async () => {
    const orders = runtime('orders', await identityOf(world.orders));
    await orders.rt.send('order-events', { n: 1 });
    const consumer = runtime('payments', await identityOf(world.payments));
    const wrapped = wrapHandler(consumer.rt, async () => assert.fail('the handler must not run'));
    const event = sqsEvent(orders.transport.sent, 'arn:aws:sqs:eu-west-1:123456789012:other');
    assert.deepEqual(await wrapped(event, { awsRequestId: 'b-2' }), {
      batchItemFailures: [{ itemIdentifier: 'm-1' }],
    });
    assert.match(consumer.lines.join('\n'), /channel-arn-mismatch/);
  });

  test('SNS and EventBridge: a verified delivery reaches the handler as sent; a forged one fails the invocation', async () => {
    const orders = runtime('orders', await identityOf(world.orders));
    const impostor = runtime('orders', await identityOf(world.foreignOrders));
    await orders.rt.send('order-news', { news: 1 });
    await orders.rt.send('shop-bus', { placed: 'o-9' });
    await impostor.rt.send('shop-bus', { placed: 'forged' });
    const [news, bus, forgedBus] = [orders.transport.sent[0]!, orders.transport.sent[1]!, impostor.transport.sent[0]!];
    const consumer = runtime('payments', await identityOf(world.payments));
    const seen: unknown[] = [];
    const wrapped = wrapHandler(consumer.rt, async (e: unknown) => {
      seen.push(e);
      return 'done';
    });
    assert.equal(await wrapped(snsEvent(news), { awsRequestId: 's-1' }), 'done');
    assert.deepEqual((seen[0] as ReturnType<typeof snsEvent>).Records[0]!.Sns.MessageAttributes, {});
    assert.equal(await wrapped(busEvent(bus), { awsRequestId: 'e-1' }), 'done');
    assert.deepEqual((seen[1] as { detail: unknown }).detail, { placed: 'o-9' });
    await assert.rejects(wrapped(busEvent(forgedBus), { awsRequestId: 'e-2' }), MeshUnauthenticatedError);
    assert.equal(seen.length, 2, 'the forged event never reached the handler');
  });

  test('a mesh call whose payload looks like an SQS batch is a call, not a batch', async () => {
    const consumer = runtime('payments', undefined);
    const seen: unknown[] = [];
    const wrapped = wrapHandler(consumer.rt, async (e: unknown) => {
      seen.push(e);
      return 'called';
    });
    const payload = { Records: [{ eventSource: 'aws:sqs', messageId: 'x', body: '{}' }] };
    const ctx = { awsRequestId: 'c-1', clientContext: { custom: { mesh: { v: 1, src: 'orders' } } } };
    assert.equal(await wrapped(payload, ctx), 'called');
    assert.deepEqual(seen, [payload]);
    assert.deepEqual(
      records(consumer.lines).map((r) => r.source),
      ['orders'],
    );
  });
});
