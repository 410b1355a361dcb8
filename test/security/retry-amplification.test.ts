/**
 * Attack: retries multiplied across hops. frontend -> orders -> payments, both edges idempotent with 3
 * attempts, and payments timing out on every attempt. orders retries payments 3 times and its handler
 * ends on the call's MeshTimeoutError; if frontend took that for orders timing out, it would retry
 * orders, each retry another 3 attempts on payments: 3 x 3 = 9 calls to the struggling service for one
 * request (in one sandbox the breaker stopped it at its 5th failure in a row; across a fleet every
 * sandbox has its own). Retrying at one layer only ("Timeouts, retries, and backoff with jitter", the
 * Amazon Builders' Library): the hop next to the failure retries it, the hops above do not.
 * Real runtimes and wrapper; Invoke is a function call from one to the next.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import type { InvokeRequest, InvokeResponse } from '../../functions/mesh/transport/invoke-transport';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { snapshotRuntime } from '../support/snapshot-runtime';

const ITEMS = (idempotent: boolean) => [
  { pk: 'orders', sk: 'service', functionName: 'shop-orders' },
  { pk: 'orders', sk: 'allow#frontend', source: 'frontend', idempotent, perTryTimeoutMs: 2_000, timeoutMs: 6_000 },
  { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders', idempotent: true, perTryTimeoutMs: 200 },
];

const failure = (errorType: string): InvokeResponse => ({
  statusCode: 200,
  functionError: 'Unhandled',
  payload: Buffer.from(JSON.stringify({ errorType, errorMessage: 'stopped' })),
});

/** Lambda's answer when `handler` ran for `req`: its result, or its error as the Node.js runtime reports it. */
async function invokeOf(handler: ReturnType<typeof wrapHandler>, req: InvokeRequest, remainingMs: number) {
  const clientContext = JSON.parse(Buffer.from(req.clientContext, 'base64').toString('utf8'));
  const started = Date.now();
  const context = {
    awsRequestId: 'r-1',
    clientContext,
    getRemainingTimeInMillis: () => remainingMs - (Date.now() - started),
  };
  try {
    const out = await handler(JSON.parse(Buffer.from(req.payload).toString('utf8')), context);
    return { statusCode: 200, payload: Buffer.from(JSON.stringify(out)) };
  } catch (err) {
    return failure((err as Error).name);
  }
}

/** frontend -> orders -> payments; `orders` is the handler orders runs; payments times out on every call. */
function chain(
  idempotent: boolean,
  orders: (rt: MeshRuntime) => () => Promise<unknown>,
  ordersRemainingMs = 5_000,
  payments: () => InvokeResponse = () => failure('Sandbox.Timedout'),
) {
  const items = ITEMS(idempotent);
  const seen = { payments: 0, orders: 0 };
  const ordersRt = snapshotRuntime({
    service: 'orders',
    items,
    transport: {
      invoke: async () => {
        seen.payments++;
        return payments();
      },
    },
  });
  const ordersHandler = wrapHandler(ordersRt, orders(ordersRt));
  const lines: string[] = [];
  const frontend = snapshotRuntime({
    service: 'frontend',
    items,
    lines,
    transport: {
      invoke: (req) => {
        seen.orders++;
        return invokeOf(ordersHandler, req, ordersRemainingMs);
      },
    },
  });
  const access = () =>
    lines.filter((l) => l.includes('"mesh-access"')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { frontend, seen, access };
}

const chargeThroughPayments = (rt: MeshRuntime) => () => rt.call('payments', { amountCents: 100 });

describe('attack: a failure retried at every hop', () => {
  test('payments timing out: only orders retries it (3 calls, not 3 x 3); frontend learns that a call of orders timed out', async () => {
    const { frontend, seen, access } = chain(true, chargeThroughPayments);
    const err = (await frontend.call('orders', {}).then(
      () => assert.fail('orders answered'),
      (e: unknown) => e,
    )) as Error & {
      errorType?: string;
    };
    assert.deepEqual(seen, { payments: 3, orders: 1 });
    assert.equal(err.name, 'MeshRemoteError');
    assert.equal(err.errorType, 'MeshDependencyTimeoutError');
    // What frontend's metrics show: one attempt, a failure of orders (not orders timing out).
    assert.deepEqual(
      access().map((a) => [a.destination, a.outcome, a.attempts]),
      [['orders', 'function-error', 1]],
    );
  });

  test('on an edge that is not idempotent the outcome stays unknown: orders ran and may have charged', async () => {
    const { frontend, seen } = chain(false, chargeThroughPayments);
    await assert.rejects(frontend.call('orders', {}), { name: 'MeshOutcomeUnknownError' });
    assert.deepEqual(seen, { payments: 3, orders: 1 });
  });

  test('orders itself out of time (its wrapper at the function timeout): frontend still retries it', async () => {
    const slow = () => () => new Promise((resolve) => setTimeout(resolve, 2_000));
    const { frontend, seen } = chain(true, slow, 120);
    await assert.rejects(frontend.call('orders', {}), { name: 'MeshTimeoutError' });
    assert.deepEqual(seen, { payments: 0, orders: 3 });
  });

  test('payments throttled: orders retries it, and frontend reads what orders ends on as its failure (3 calls)', async () => {
    const throttled = () => {
      throw Object.assign(new Error('Rate exceeded'), {
        name: 'TooManyRequestsException',
        $metadata: { httpStatusCode: 429 },
      });
    };
    const { frontend, seen } = chain(true, chargeThroughPayments, 5_000, throttled);
    await assert.rejects(frontend.call('orders', {}), {
      name: 'MeshRemoteError',
      errorType: 'MeshDependencyThrottledError',
    });
    assert.deepEqual(seen, { payments: 3, orders: 1 });
  });
});
