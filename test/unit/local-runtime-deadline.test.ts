/**
 * The local invoker's deadline, as Lambda judges a function's timeout: an environment's answer that
 * arrived before the deadline wins even when this process's event loop was busy past it, and no answer
 * by the deadline is a timeout. The answer travels over a real loopback socket, as a worker's does.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { untilDeadline } from '../../local/runtime/deadline-race';
import { busyUntil } from '../support/busy-loop';
import { SocketPairs } from '../support/socket-pair';

describe('an invocation against its deadline', () => {
  const sockets = new SocketPairs();
  before(() => sockets.listen());
  // A connection of its own per case: the worker's end (`client`) and this process's (`accepted`).
  after(() => sockets.close());

  it('takes an answer sent before the deadline that this process reads after it', async () => {
    const { client, accepted } = await sockets.pair();
    const answer = once(accepted, 'data').then(([chunk]) => String(chunk));
    const deadline = Date.now() + 30;
    const raced = untilDeadline(answer, deadline);
    client.write('done');
    // The answer is on the socket; the loop only gets to it once the deadline's timer is due too.
    busyUntil(deadline + 40);
    assert.equal(await raced, 'done');
  });

  it('is a timeout when no answer came by the deadline', async () => {
    const { client, accepted } = await sockets.pair();
    const late = once(accepted, 'data').then(([chunk]) => String(chunk));
    assert.equal(await untilDeadline(late, Date.now() + 20), 'timeout');
    // The answer that comes later is not taken: the race is over.
    client.write('late');
    assert.equal(await late, 'late');
  });
});
