/**
 * A FIFO queue's batch with a refused record in the middle of a message group. Someone who may send to
 * the queue puts an unsigned record claiming the mesh's metadata into a group, between real messages;
 * the consumer refuses it, as it must. The group's later messages must wait with it: handled now, they
 * would run before it (and, where the mapping keeps a failed record's group behind it, run again when
 * it comes back). Other groups, and every record of a standard queue, go on.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Identity } from '../../functions/mesh/identity/identity';
import type { InvokeRequest } from '../../functions/mesh/transport/invoke-transport';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { ENV, META } from '../../shared/names';
import { channelRuntime } from '../support/channel-runtime';
import { identityOf, identityWorld } from '../support/identity-fixture';

const FIFO_ARN = 'arn:aws:sqs:eu-west-1:123456789012:order-events.fifo';
const STANDARD_ARN = 'arn:aws:sqs:eu-west-1:123456789012:order-events';
const items = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders' },
  { pk: 'order-events', sk: 'allow#orders', source: 'orders' },
];

function runtime(service: string, identity: Identity, queueArn: string) {
  const env = {
    [ENV.channels]: JSON.stringify({
      'order-events': { kind: 'sqs', arn: STANDARD_ARN, url: 'http://127.0.0.1:1/123456789012/order-events' },
    }),
    [ENV.inboundChannels]: JSON.stringify({ 'order-events': queueArn }),
  };
  return channelRuntime({ service, identity, env, items });
}

/** A record as Lambda's poller delivers it from `arn`, in message group `group`. */
function record(id: string, group: string, sent: InvokeRequest, arn: string, metadata = sent.metadata) {
  return {
    messageId: id,
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    body: Buffer.from(sent.payload).toString('utf8'),
    attributes: { MessageGroupId: group },
    messageAttributes: { [META.messageAttribute]: { stringValue: JSON.stringify(metadata), dataType: 'String' } },
  };
}

describe('a refused record in a FIFO message group', () => {
  let orders: ReturnType<typeof runtime>;
  let payments: Identity;
  before(async () => {
    const world = await identityWorld('shop');
    orders = runtime('orders', await identityOf(world.orders), STANDARD_ARN);
    payments = await identityOf(world.payments);
    for (const n of ['a-1', 'a-2', 'a-3', 'b-1']) await orders.rt.send('order-events', { n });
  });

  /** a-1, a forged a-2 (a-2's message without its token), a-3 in group a; b-1 in group b. */
  function batch(arn: string) {
    const [a1, a2, a3, b1] = orders.transport.sent as [InvokeRequest, InvokeRequest, InvokeRequest, InvokeRequest];
    return {
      Records: [
        record('m-a1', 'a', a1, arn),
        record('m-a2', 'a', a2, arn, { ...a2.metadata!, tok: undefined }),
        record('m-a3', 'a', a3, arn),
        record('m-b1', 'b', b1, arn),
      ],
    };
  }

  async function consume(arn: string) {
    const consumer = runtime('payments', payments, arn);
    const handled: string[] = [];
    const wrapped = wrapHandler(consumer.rt, async (e: unknown) => {
      for (const r of (e as { Records: { body: string }[] }).Records) handled.push(JSON.parse(r.body).n);
      return undefined;
    });
    const out = await wrapped(batch(arn), { awsRequestId: 'batch-1', getRemainingTimeInMillis: () => 3000 });
    const access = consumer.lines.filter((l) => l.startsWith('{"type":"mesh-access"')).map((l) => JSON.parse(l));
    return { handled, out, access };
  }

  test("the group's later records wait with it; another group goes on", async () => {
    const { handled, out, access } = await consume(FIFO_ARN);
    assert.deepEqual(handled, ['a-1', 'b-1']);
    assert.deepEqual(out, { batchItemFailures: [{ itemIdentifier: 'm-a2' }, { itemIdentifier: 'm-a3' }] });
    assert.deepEqual(
      access.map((r) => [r.outcome, r.reason]),
      [
        ['success', undefined],
        ['unauthenticated', 'token-missing'],
        ['success', undefined],
      ],
      'a held record is judged and counted when it comes back, not now',
    );
  });

  test('on a standard queue (message groups in no order) only the refused record goes back', async () => {
    const { handled, out } = await consume(STANDARD_ARN);
    assert.deepEqual(handled, ['a-1', 'a-3', 'b-1']);
    assert.deepEqual(out, { batchItemFailures: [{ itemIdentifier: 'm-a2' }] });
  });
});
