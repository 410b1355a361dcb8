/**
 * An attempt's answer that came before its per-try timeout, read after it because the event loop was
 * busy (a handler's synchronous work, a crowded sandbox): the call succeeds with it instead of ending
 * as a timeout. On an edge that is not idempotent, a timeout is a call the caller cannot safely repeat
 * and does not know the outcome of, though the callee had answered. The loopback Lambda answers at once
 * and then keeps this process's event loop busy past the timeout, so the answer waits on the socket
 * while the attempt's timer comes due.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { LateAnswerLambda } from '../support/late-answer-lambda';
import { snapshotRuntime } from '../support/snapshot-runtime';

/** Long enough that a crowded machine still delivers the request and writes the answer before it. */
const PER_TRY_MS = 500;

describe('an answer read after the per-try timeout it beat', () => {
  const lambda = new LateAnswerLambda({ charged: 1250 });
  let url: string;
  before(async () => {
    url = await lambda.start();
  });
  after(() => lambda.close());

  test('is the call’s result on an edge that is not idempotent, in one attempt', async () => {
    const lines: string[] = [];
    const rt = snapshotRuntime({
      service: 'orders',
      items: [
        { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
        {
          pk: 'payments',
          sk: 'allow#orders',
          source: 'orders',
          perTryTimeoutMs: PER_TRY_MS,
          timeoutMs: 10_000,
          retries: { maxAttempts: 1 },
        },
      ],
      transport: new LambdaInvokeTransport({
        env: { AWS_ENDPOINT_URL: url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's' },
      }),
      lines,
    });
    // The answer is on its way; the caller's loop is held past its timeout before it reads it.
    lambda.holdUntil = Date.now() + PER_TRY_MS + 200;
    assert.deepEqual(await rt.call('payments', { amountCents: 1250 }), { charged: 1250 });
    const [access] = lines.filter((l) => l.includes('"mesh-access"')).map((l) => JSON.parse(l));
    assert.deepEqual([access.outcome, access.attempts], ['success', 1]);
  });
});
