/**
 * An attempt's answer that came before its per-try timeout, read after it because the event loop was
 * busy (a handler's synchronous work, a crowded sandbox): the call succeeds with it instead of ending
 * as a timeout. On an edge that is not idempotent, a timeout is a call the caller cannot safely repeat
 * and does not know the outcome of, though the callee had answered. The loopback Lambda answers at once
 * and then keeps this process's event loop busy past the timeout, so the answer waits on the socket
 * while the attempt's timer comes due.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { busyUntil } from '../support/busy-loop';
import { snapshotRuntime } from '../support/snapshot-runtime';

/** Long enough that a crowded machine still delivers the request and writes the answer before it. */
const PER_TRY_MS = 500;
/** When the call started: the loopback Lambda holds the loop until past its per-try timeout. */
let callStarted = 0;

describe('an answer read after the per-try timeout it beat', () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '1' });
        res.end(JSON.stringify({ charged: 1250 }));
        // The answer is on its way; the caller's loop is held past its timeout before it reads it.
        busyUntil(callStarted + PER_TRY_MS + 200);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

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
    callStarted = Date.now();
    assert.deepEqual(await rt.call('payments', { amountCents: 1250 }), { charged: 1250 });
    const [access] = lines.filter((l) => l.includes('"mesh-access"')).map((l) => JSON.parse(l));
    assert.deepEqual([access.outcome, access.attempts], ['success', 1]);
  });
});
