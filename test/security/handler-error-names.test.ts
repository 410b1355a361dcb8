/**
 * Attack: a callee that did its work and then failed with an error named like one of AWS's refusals.
 * payments charges, then sends a receipt with its own AWS SDK client (a plain Lambda Invoke of
 * receipts, outside the mesh), and that Invoke is throttled, or refused by IAM: the SDK's
 * `TooManyRequestsException` or `AccessDeniedException` escapes the handler, and Lambda reports it as
 * the function error's `errorType`. The caller read that name as if Lambda had answered it for the
 * Invoke of payments itself: "never reached the handler". So on an edge that is not idempotent, with the
 * default `retryOn`, the throttle was retried and the card charged on every attempt; and the IAM refusal
 * told orders that payments had refused the call (`MeshDeniedError`), as if nothing had been charged.
 * A function error's `errorType` says whether the handler ran only when Lambda or the callee's mesh set
 * it (`Sandbox.`, `Runtime.`, the wrapper's `Mesh…` refusals, a fault item's abort): any other name is
 * the handler's own failure, after whatever it did. The same for the mesh's own names: a deeper hop's
 * refusal (`MeshDeniedError` of payments' own call to receipts) that escapes payments' handler after the
 * charge was read by orders as payments' wrapper refusing orders, and counted as a deny of orders ->
 * payments; a mesh error from the handler's own call leaves as `MeshDependency…`. The real runtime and
 * the real Lambda SDK on both sides, against the loopback Invoke server (test/support/lambda-invoke-server.ts).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { MeshRemoteError } from '../../functions/mesh/errors';
import type { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { type LambdaInvokeServer, lambdaClientConfig, startLambdaInvokeServer } from '../support/lambda-invoke-server';
import { snapshotRuntime } from '../support/snapshot-runtime';

/** The deployed default: three attempts, retried on throttles, service errors and timeouts. */
const EDGE = { idempotent: false, perTryTimeoutMs: 10_000, timeoutMs: 30_000 };

const failure = (p: Promise<unknown>): Promise<Error | undefined> =>
  p.then(
    () => undefined,
    (e: Error) => e,
  );

/** A loopback Lambda API that refuses every request as IAM does: 403 AccessDeniedException. */
async function iamRefusing(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({
        Message:
          'User: arn:aws:sts::000000000000:assumed-role/payments/x is not authorized to perform: lambda:InvokeFunction',
      });
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-ErrorType': 'AccessDeniedException' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

describe("attack: a callee's own AWS error after its side effect, read as Lambda's answer", () => {
  let server: LambdaInvokeServer | undefined;
  const closing: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
    await server?.close();
    server = undefined;
  });

  /** A client closed after the test. */
  const client = (url: string, more: { maxAttempts?: number } = {}) => {
    const c = new LambdaClient({ ...lambdaClientConfig(url), ...more });
    closing.push(() => c.destroy());
    return c;
  };

  /**
   * payments charges, then invokes receipts with its own SDK client at `receiptsUrl` (the loopback
   * Invoke server when undefined), one attempt: the SDK's error escapes the handler.
   */
  async function payments(receiptsUrl?: string) {
    const charges: string[] = [];
    let sdk: LambdaClient | undefined;
    server = await startLambdaInvokeServer({
      'shop-payments': {
        versions: {
          '1': async (_event: never, context) => {
            charges.push(context.clientContext?.custom?.mesh?.idk ?? 'no key');
            await sdk!.send(new InvokeCommand({ FunctionName: 'shop-receipts', Payload: Buffer.from('{}') }));
            return { charged: true };
          },
        },
        aliases: { live: { version: '1' } },
      },
      'shop-receipts': { versions: { $LATEST: () => ({ sent: true }) } },
    });
    sdk = client(receiptsUrl ?? server.url, { maxAttempts: 1 });
    const orders: MeshRuntime = snapshotRuntime({
      service: 'orders',
      items: [
        { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
        { pk: 'payments', sk: 'allow#orders', source: 'orders', ...EDGE },
      ],
      transport: new LambdaInvokeTransport({ client: client(server.url) }),
    });
    return { orders, charges, server };
  }

  test('a throttle of its own call after the charge is not retried: one charge, a function error of payments', async () => {
    const { orders, charges, server } = await payments();
    server.throttleNext('shop-receipts', 100);
    const err = await failure(orders.call('payments', { amountCents: 100 }, { idempotencyKey: 'order-1' }));
    assert.deepEqual(charges, ['order-1'], 'the card is charged once');
    assert.ok(err instanceof MeshRemoteError, `${err?.name}: ${err?.message}`);
    assert.equal(err.errorType, 'TooManyRequestsException');
  });

  test('an IAM refusal of its own call after the charge is a function error, not a refusal of the call', async () => {
    const iam = await iamRefusing();
    closing.push(() => iam.close());
    const { orders, charges } = await payments(iam.url);
    const err = await failure(orders.call('payments', { amountCents: 100 }, { idempotencyKey: 'order-2' }));
    assert.deepEqual(charges, ['order-2']);
    assert.ok(err instanceof MeshRemoteError, `${err?.name}: ${err?.message}`);
    assert.equal(err.errorType, 'AccessDeniedException');
  });

  test("held: a fault item's abort named as Lambda's throttle is the mesh's word, and retried as one", async () => {
    // payments' own wrapper aborts every call before its handler, as its fault item says.
    const items = [
      { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
      { pk: 'payments', sk: 'allow#orders', source: 'orders', ...EDGE },
      { pk: 'payments', sk: 'fault', abort: { percent: 100, errorType: 'TooManyRequestsException' } },
    ];
    const callee = snapshotRuntime({
      service: 'payments',
      items,
      transport: { invoke: () => Promise.reject(new Error('payments calls nothing')) },
    });
    const charges: string[] = [];
    const wrapped = wrapHandler(callee, async (_event: unknown) => {
      charges.push('charged');
      return { charged: true };
    });
    server = await startLambdaInvokeServer({
      'shop-payments': {
        versions: { '1': (event: never, context) => wrapped(event, context as never) },
        aliases: { live: { version: '1' } },
      },
    });
    const orders = snapshotRuntime({
      service: 'orders',
      items,
      transport: new LambdaInvokeTransport({ client: client(server.url) }),
    });
    await assert.rejects(orders.call('payments', {}), { name: 'MeshThrottledError' });
    assert.deepEqual(charges, []);
    assert.equal(server.invocations.length, 3, 'each of the three attempts was sent');
  });

  test("a deeper hop's refusal escaping payments' handler is payments' function error, not a refusal of orders", async () => {
    // payments may not call receipts: its own mesh refuses that call, after the charge.
    const items = [
      { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
      { pk: 'payments', sk: 'allow#orders', source: 'orders', ...EDGE },
      { pk: 'receipts', sk: 'service', functionName: 'shop-receipts' },
    ];
    const callee = snapshotRuntime({
      service: 'payments',
      items,
      transport: { invoke: () => Promise.reject(new Error('the refused call is never sent')) },
    });
    const charges: string[] = [];
    const wrapped = wrapHandler(callee, async (_event: unknown) => {
      charges.push('charged');
      return callee.call('receipts', {});
    });
    server = await startLambdaInvokeServer({
      'shop-payments': {
        versions: { '1': (event: never, context) => wrapped(event, context as never) },
        aliases: { live: { version: '1' } },
      },
    });
    const lines: string[] = [];
    const orders = snapshotRuntime({
      service: 'orders',
      items,
      lines,
      transport: new LambdaInvokeTransport({ client: client(server.url) }),
    });
    const err = await failure(orders.call('payments', {}, { idempotencyKey: 'order-4' }));
    assert.deepEqual(charges, ['charged']);
    assert.ok(err instanceof MeshRemoteError, `${err?.name}: ${err?.message}`);
    assert.equal(err.errorType, 'MeshDependencyDeniedError');
    const access = lines.filter((l) => l.includes('"destination":"payments"') && l.includes('"outcome"'));
    assert.ok(access.length > 0, 'orders logged the call');
    for (const l of access) assert.equal(JSON.parse(l).outcome, 'function-error', l);
  });

  test("held: Lambda's own throttle of payments is retried, the card charged once", async () => {
    const { orders, charges, server } = await payments();
    server.throttleNext('shop-payments', 2);
    assert.deepEqual(await orders.call('payments', {}, { idempotencyKey: 'order-3' }), { charged: true });
    assert.deepEqual(charges, ['order-3']);
  });
});
