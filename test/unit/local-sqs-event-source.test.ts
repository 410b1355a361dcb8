/**
 * The local SQS event source mapping against what Lambda documents for it (AWS Lambda Developer Guide,
 * "Handling errors for an SQS event source in Lambda", "Using Lambda with Amazon SQS"): which answers
 * of the function delete the batch, which keep all of it, which keep only the records they name; and
 * how the batching window gathers a batch. The function is a stand-in that answers what each test gives.
 */

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { recordFilter } from '../../local/endpoint/event-filter';
import { concurrentBatches, type EventSourceMapping, EventSourcePoller } from '../../local/sqs/event-source-poller';
import { QueueStore } from '../../local/sqs/queue-store';

interface SqsEvent {
  Records: { messageId: string; body: string }[];
}

describe('local SQS event source mapping', () => {
  let poller: EventSourcePoller | undefined;
  afterEach(() => poller?.stop());

  /** A queue `jobs` with `bodies`, polled for a function that answers `answer(event)`. */
  const start = (
    bodies: string[],
    answer: (event: SqsEvent) => { functionError?: string; payload: string } | Promise<{ payload: string }>,
    mapping: Partial<EventSourceMapping> = {},
    queue: { visibilityTimeoutS?: number; fifo?: boolean } = {},
  ) => {
    const queues = new QueueStore({ region: 'us-east-1', accountId: '000000000000', endpointUrl: () => 'http://x' });
    const q = queues.put('jobs', { visibilityTimeoutS: 60, ...queue });
    // On a FIFO queue each body's first letter is its message group.
    for (const b of bodies) q.send(b, queue.fifo ? { groupId: b[0] } : {});
    const events: SqsEvent[] = [];
    poller = new EventSourcePoller({
      queues,
      log: () => undefined,
      pollWaitMs: 20,
      invoke: async (_fn, _q, payload) => {
        const event = JSON.parse(payload.toString('utf8')) as SqsEvent;
        events.push(event);
        const out = await answer(event);
        return { ...out, payload: Buffer.from(out.payload) };
      },
    });
    poller.put({
      key: 'S/Mapping',
      queueArn: queues.arnOf('jobs'),
      functionName: 'consumer',
      reportBatchItemFailures: true,
      region: 'us-east-1',
      ...mapping,
    });
    return { q, events };
  };
  const until = async (what: string, done: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!done()) {
      if (Date.now() > end) assert.fail(`${what} did not happen within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  /** Bodies still in the queue once the first batch has been answered. */
  const leftAfterFirstBatch = async (q: { messages: { body: string }[] }, events: SqsEvent[]) => {
    await until('a batch', () => events.length > 0);
    await new Promise((r) => setTimeout(r, 50));
    return q.messages.map((m) => m.body).sort();
  };

  it("a filter's unmatched messages are deleted unseen; a pattern on body fields matches JSON bodies", async () => {
    // Act
    const accepts = recordFilter(['{"body":{"kind":["order"]}}']);
    const bodies = ['{"kind":"order","n":1}', '{"kind":"refund"}', 'plain text', '{"kind":"order","n":2}'];
    const { q, events } = start(bodies, () => ({ payload: '' }), { accepts });

    // Assess
    assert.deepEqual(await leftAfterFirstBatch(q, events), []);
    assert.deepEqual(
      events.flatMap((e) => e.Records.map((r) => r.body)),
      ['{"kind":"order","n":1}', '{"kind":"order","n":2}'],
      'the function saw the matching messages only, their bodies as sent',
    );
  });

  it('a batch whose every message a filter refuses is not delivered at all', async () => {
    const { q, events } = start(['x', 'y'], () => ({ payload: '' }), { accepts: recordFilter(['{"body":["z"]}']) });
    await until('the queue to empty', () => q.messages.length === 0);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(events.length, 0);
  });

  it('a response that is not JSON fails the whole batch: every record stays', async () => {
    // Act
    const { q, events } = start(['a', 'b'], () => ({ payload: 'not json{' }));

    // Assess
    assert.deepEqual(await leftAfterFirstBatch(q, events), ['a', 'b']);
  });

  it('an empty or null batchItemFailures, or no response, deletes the whole batch', async () => {
    for (const payload of ['{"batchItemFailures":[]}', '{"batchItemFailures":null}', 'null', '{}']) {
      // Act
      const { q, events } = start(['a', 'b'], () => ({ payload }));

      // Assess
      assert.deepEqual(await leftAfterFirstBatch(q, events), [], payload);
      poller?.stop();
    }
  });

  it('an itemIdentifier that is empty, null or not in the batch fails the whole batch', async () => {
    for (const item of [{ itemIdentifier: '' }, { itemIdentifier: null }, { id: 'x' }, { itemIdentifier: 'nope' }]) {
      // Act
      const { q, events } = start(['a', 'b'], () => ({ payload: JSON.stringify({ batchItemFailures: [item] }) }));

      // Assess
      assert.deepEqual(await leftAfterFirstBatch(q, events), ['a', 'b'], JSON.stringify(item));
      poller?.stop();
    }
  });

  it('named records stay, the others are deleted', async () => {
    // Act
    const { q, events } = start(['a', 'b', 'c'], (event) => ({
      payload: JSON.stringify({
        batchItemFailures: event.Records.filter((r) => r.body === 'b').map((r) => ({ itemIdentifier: r.messageId })),
      }),
    }));

    // Assess
    assert.deepEqual(await leftAfterFirstBatch(q, events), ['b']);
  });

  it('with a batching window, records that arrive within it join the batch, up to BatchSize', async () => {
    // Prepare: one message now, two more 200 ms later, within the 1 s window.
    const { q, events } = start(['a'], () => ({ payload: 'null' }), { batchSize: 3, maximumBatchingWindowS: 1 });
    setTimeout(() => {
      q.send('b');
      q.send('c');
    }, 200).unref();

    // Act
    await until('a batch', () => events.length > 0);

    // Assess
    assert.deepEqual(events[0]!.Records.map((r) => r.body).sort(), ['a', 'b', 'c']);
  });

  it('without a batching window, what is there goes at once', async () => {
    // Prepare
    const { q, events } = start(['a'], () => ({ payload: 'null' }), { batchSize: 3 });
    setTimeout(() => q.send('b'), 200).unref();

    // Act
    await until('two batches', () => events.length > 1);

    // Assess
    assert.deepEqual(
      events.map((e) => e.Records.map((r) => r.body)),
      [['a'], ['b']],
    );
  });

  /** A function that holds every invocation until `release()`, counting those in flight. */
  const held = () => {
    const gates: (() => void)[] = [];
    const state = { inFlight: 0, most: 0 };
    const answer = () =>
      new Promise<{ payload: string }>((resolve) => {
        state.inFlight++;
        state.most = Math.max(state.most, state.inFlight);
        gates.push(() => {
          state.inFlight--;
          resolve({ payload: 'null' });
        });
      });
    const release = () => {
      for (const open of gates.splice(0)) open();
    };
    return { state, answer, release };
  };

  it("Lambda's scaling: five batches at first, 300 more a minute, capped by MaximumConcurrency and 1,000", () => {
    assert.equal(concurrentBatches(0), 5);
    assert.equal(concurrentBatches(199), 5);
    assert.equal(concurrentBatches(200), 6);
    assert.equal(concurrentBatches(60_000), 305);
    assert.equal(concurrentBatches(10 * 60_000), 1000);
    assert.equal(concurrentBatches(60_000, 40), 40);
    assert.equal(concurrentBatches(0, 2), 2);
  });

  it('batches run concurrently: five at once, more while messages keep waiting', async () => {
    // Prepare: one record a batch, every invocation held.
    const fn = held();
    const bodies = Array.from({ length: 40 }, (_, i) => `m${i}`);
    start(bodies, fn.answer, { batchSize: 1 });

    // Act
    await until('five batches in flight', () => fn.state.inFlight >= 5);
    await until('the mapping to scale past five while messages wait', () => fn.state.inFlight > 6);
    fn.release();
  });

  it('MaximumConcurrency caps the batches in flight however long messages wait', async () => {
    // Prepare
    const fn = held();
    const bodies = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const { events } = start(bodies, fn.answer, { batchSize: 1, maximumConcurrency: 3 });

    // Act: well past the time the allowance would have grown by several batches.
    await until('three batches in flight', () => fn.state.inFlight === 3);
    await new Promise((r) => setTimeout(r, 1000));
    const most = fn.state.most;
    fn.release();
    await until('the next batches once the first three are done', () => events.length > 3);

    // Assess
    assert.equal(most, 3);
  });

  it('a throttled batch is deleted by nothing: it comes back after its visibility timeout and is delivered', async () => {
    // Prepare: the first invoke is throttled, as Lambda throttles past the reserved concurrency.
    let calls = 0;
    const throttle = () => {
      calls++;
      if (calls === 1) {
        throw Object.assign(new Error('Rate Exceeded.'), { name: 'TooManyRequestsException' });
      }
      return { payload: 'null' };
    };

    // Act
    const { q, events } = start(['a'], throttle, {}, { visibilityTimeoutS: 1 });
    await until('the message delivered after its throttle', () => events.length === 2 && q.messages.length === 0, 8000);

    // Assess
    assert.deepEqual(
      events.map((e) => e.Records.map((r) => r.body)),
      [['a'], ['a']],
    );
  });

  it("FIFO: a failed record keeps the rest of its group's records in the batch; other groups' are deleted", async () => {
    // Act: a2 fails; a3 comes after it in group a, b1 is another group.
    const { q, events } = start(
      ['a1', 'a2', 'a3', 'b1'],
      (event) => ({
        payload: JSON.stringify({
          batchItemFailures: event.Records.filter((r) => r.body === 'a2').map((r) => ({ itemIdentifier: r.messageId })),
        }),
      }),
      {},
      { fifo: true },
    );

    // Assess
    assert.deepEqual(await leftAfterFirstBatch(q, events), ['a2', 'a3']);
    assert.deepEqual(
      events[0]!.Records.map((r) => r.body),
      ['a1', 'a2', 'a3', 'b1'],
    );
  });

  it('FIFO: the next batch waits for a group in flight, and carries the group, deduplication id and sequence number', async () => {
    // Prepare: group a's first batch is held; only group b may go meanwhile.
    const fn = held();
    const { q, events } = start(['a1'], fn.answer, {}, { fifo: true });
    await until('the first batch in flight', () => fn.state.inFlight === 1);
    q.send('a2', { groupId: 'a' });
    q.send('b1', { groupId: 'b' });

    // Act
    await until('a batch of group b', () => events.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    const whileHeld = events.map((e) => e.Records.map((r) => r.body));
    fn.release();
    await until('group a again once its batch is done', () => events.length === 3);
    fn.release();

    // Assess
    assert.deepEqual(whileHeld, [['a1'], ['b1']]);
    assert.deepEqual(
      events[2]!.Records.map((r) => r.body),
      ['a2'],
    );
    const attributes = (events[0]!.Records[0] as unknown as { attributes: Record<string, string> }).attributes;
    assert.equal(attributes.MessageGroupId, 'a');
    assert.match(attributes.SequenceNumber ?? '', /^\d{20}$/);
    assert.match(attributes.MessageDeduplicationId ?? '', /^[0-9a-f]{64}$/);
  });
});
