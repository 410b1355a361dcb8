/**
 * The wrapper's timeout against an answer that came in time but was read late: the handler's awaited
 * answer (a socket's data, an outbound call's answer) reached this process before the function's
 * timeout, less the wrapper's margin, and the event loop, busy past it (a handler's synchronous work, a
 * crowded sandbox), read it after the wrapper's timer came due. The invocation returns the handler's
 * value: reported as a timeout, a call that did its side effect would be retried by its caller. A
 * handler still waiting with no answer by then times out as before.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { MeshTimeoutError } from '../../functions/mesh/errors';
import { INBOUND_TIMEOUT_MARGIN_MS } from '../../functions/mesh/resilience/deadline';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { busyUntil } from '../support/busy-loop';
import { LateAnswerLambda } from '../support/late-answer-lambda';
import { snapshotRuntime } from '../support/snapshot-runtime';
import { SocketPairs } from '../support/socket-pair';

/**
 * The function's time left when an invocation starts: the wrapper's timer comes due this much less its
 * margin later, long enough that a crowded machine writes the answer before it.
 */
const TIME_LEFT_MS = INBOUND_TIMEOUT_MARGIN_MS + 300;

/** A Lambda context whose time runs out `TIME_LEFT_MS` from now; `timerDue`: when the wrapper's timer is due. */
function invocation(requestId: string) {
  const deadline = Date.now() + TIME_LEFT_MS;
  return {
    context: { awsRequestId: requestId, getRemainingTimeInMillis: () => deadline - Date.now() },
    timerDue: deadline - INBOUND_TIMEOUT_MARGIN_MS,
  };
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe("the wrapper's timeout, against an answer read after it", () => {
  const sockets = new SocketPairs();
  const payments = new LateAnswerLambda({ charged: 1250 });
  const lines: string[] = [];
  let rt: ReturnType<typeof snapshotRuntime>;
  before(async () => {
    await sockets.listen();
    const url = await payments.start();
    rt = snapshotRuntime({
      service: 'orders',
      items: [
        { pk: 'orders', sk: 'allow#external', source: 'external' },
        { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
        { pk: 'payments', sk: 'allow#orders', source: 'orders', retries: { maxAttempts: 1 } },
      ],
      transport: new LambdaInvokeTransport({
        env: { AWS_ENDPOINT_URL: url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's' },
      }),
      lines,
    });
    // The pipeline's first call loads its modules: not in the measured window.
    await rt.call('payments', {});
  });
  after(() => {
    sockets.close();
    payments.close();
  });

  test('a handler whose socket had its answer before the timeout returns it', async () => {
    const { client, accepted } = await sockets.pair();
    const { context, timerDue } = invocation('late-read-1');
    const handler = wrapHandler(rt, async () => {
      const answer = once(accepted, 'data').then(([chunk]) => String(chunk));
      await nextTurn(); // the wrapper's timer is armed by now
      client.write('charged');
      // The answer is on the socket; the loop gets to it only once the wrapper's timer is due too.
      busyUntil(timerDue + 100);
      return answer;
    });
    assert.equal(await handler({}, context), 'charged');
  });

  test("a handler whose outbound call was answered before the timeout returns the call's result", async () => {
    const { context, timerDue } = invocation('late-read-2');
    // payments answers, then holds this process's loop past the wrapper's timer.
    payments.holdUntil = timerDue + 100;
    const handler = wrapHandler(rt, () => rt.call('payments', { amountCents: 1250 }));
    assert.deepEqual(await handler({}, context), { charged: 1250 });
    // The call's line (this function as its source), then the invocation's.
    const access = lines.filter((l) => l.includes('"mesh-access"')).map((l) => JSON.parse(l));
    assert.deepEqual(
      access.slice(-2).map((a) => [a.reporter, a.destination, a.outcome]),
      [
        ['source', 'payments', 'success'],
        ['destination', 'orders', 'success'],
      ],
    );
  });

  test('a handler still waiting for its answer at the timeout times out', async (t) => {
    t.mock.method(console, 'error', () => undefined); // the wrapper logs the mesh error's stack
    const { client, accepted } = await sockets.pair();
    const { context } = invocation('late-read-3');
    const answer = once(accepted, 'data').then(([chunk]) => String(chunk));
    const handler = wrapHandler(rt, () => answer);
    await assert.rejects(handler({}, context), MeshTimeoutError);
    // The answer that comes later is not taken: the invocation is over.
    client.write('too late');
    assert.equal(await answer, 'too late');
  });
});
