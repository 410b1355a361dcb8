/**
 * A local queue's PurgeQueue window ("PurgeQueue", Amazon SQS API Reference): one purge a queue every 60
 * seconds, on the clock the queue is given; a purge refused deletes nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalQueue, PURGE_INTERVAL_MS } from '../../local/sqs/queue-store';

describe('local SQS purge', () => {
  const queue = () => new LocalQueue('q', 'arn:aws:sqs:us-east-1:000000000000:q', 'http://x', {}, 0);

  it('a second purge within 60 seconds is refused and keeps what was sent since; one 60 seconds on purges', () => {
    // Prepare
    const q = queue();
    const t0 = 1_000_000;
    q.send('before', {}, t0);

    // Act
    const first = q.purge(t0);
    q.send('between', {}, t0 + 1);
    const tooSoon = q.purge(t0 + PURGE_INTERVAL_MS - 1);
    const kept = q.messages.map((m) => m.body);
    const later = q.purge(t0 + PURGE_INTERVAL_MS);

    // Assess
    assert.equal(PURGE_INTERVAL_MS, 60_000);
    assert.deepEqual([first, tooSoon, later], [true, false, true]);
    assert.deepEqual(kept, ['between']);
    assert.deepEqual(q.messages, []);
  });
});
