/**
 * A local FIFO queue's deduplication window ("Exactly-once processing in Amazon SQS", Amazon SQS
 * Developer Guide): a deduplication id is remembered for 5 minutes from its message's send, on the
 * clock the queue is given.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEDUPLICATION_WINDOW_MS, LocalQueue } from '../../local/sqs/queue-store';

describe('local SQS FIFO queue', () => {
  const queue = () =>
    new LocalQueue('q.fifo', 'arn:aws:sqs:us-east-1:000000000000:q.fifo', 'http://x', { fifo: true }, 0);

  it('a deduplication id is remembered for 5 minutes, then a send with it is a new message', () => {
    // Prepare
    const q = queue();
    const t0 = 1_000_000;
    const first = q.send('one', { groupId: 'g', deduplicationId: 'd' }, t0);

    // Act
    const within = q.send('two', { groupId: 'g', deduplicationId: 'd' }, t0 + DEDUPLICATION_WINDOW_MS - 1);
    const after = q.send('three', { groupId: 'g', deduplicationId: 'd' }, t0 + DEDUPLICATION_WINDOW_MS);

    // Assess
    assert.equal(DEDUPLICATION_WINDOW_MS, 300_000);
    assert.equal(within.id, first.id);
    assert.notEqual(after.id, first.id);
    assert.deepEqual(
      q.messages.map((m) => m.body),
      ['one', 'three'],
    );
  });

  it('sequence numbers grow with every message, even within one millisecond', () => {
    const q = queue();
    const numbers = ['a', 'b', 'c'].map((body) => BigInt(q.send(body, { groupId: 'g' }, 5).fifo!.sequenceNumber));
    assert.ok(numbers[0]! < numbers[1]! && numbers[1]! < numbers[2]!, numbers.join(' '));
  });
});
