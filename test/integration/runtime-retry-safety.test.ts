/**
 * Retries never repeat a side effect the caller did not ask to repeat: call() through each Invoke
 * transport (the wire, and the real @aws-sdk/client-lambda) against the loopback Invoke server, with a
 * callee that counts what it completed. On an edge that is not idempotent only attempts that never reached the handler are
 * repeated; a per-try timeout or a dropped connection ends the call "outcome unknown".
 */

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { MeshOutcomeUnknownError, MeshRemoteError, MeshTimeoutError } from '../../functions/mesh/errors';
import type { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { type LambdaInvokeServer, lambdaClientConfig, startLambdaInvokeServer } from '../support/lambda-invoke-server';
import { snapshotRuntime } from '../support/snapshot-runtime';

/** Loads the SDK client and opens the connection; a busy machine may need more than one try. */
async function warm(rt: MeshRuntime): Promise<void> {
  for (let i = 0; i < 10; i++) if ((await failure(rt.call('payments', { warm: true }))) === undefined) return;
  assert.fail('the warm-up call never went through');
}

/** The error a call failed with (undefined when it succeeded). */
const failure = (p: Promise<unknown>): Promise<Error | undefined> =>
  p.then(
    () => undefined,
    (e: Error) => e,
  );

type Path = 'wire' | 'sdk';

function transportTo(path: Path, url: string): LambdaInvokeTransport {
  if (path === 'sdk') return new LambdaInvokeTransport({ client: new LambdaClient(lambdaClientConfig(url)) });
  const env = {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
  return new LambdaInvokeTransport({ env });
}

function callerOver(path: Path, url: string, edge: Record<string, unknown>, lines: string[] = []): MeshRuntime {
  return snapshotRuntime({
    service: 'orders',
    items: [
      { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
      { pk: 'payments', sk: 'allow#orders', source: 'orders', ...edge },
    ],
    transport: transportTo(path, url),
    lines,
  });
}

/**
 * A payments callee slower than the per-try timeout: `arrived` lists the idempotency key of every
 * attempt that reached it, `charges` those it completed. `{ warm: true }` answers at once (loads the SDK
 * client and opens the connection before the call under test, so its first attempt surely arrives).
 */
async function slowPayments(delayMs: number) {
  const arrived: string[] = [];
  const charges: string[] = [];
  let running = 0;
  const server = await startLambdaInvokeServer({
    'shop-payments': {
      versions: {
        '1': async (event: { warm?: boolean }, context) => {
          if (event.warm) return { warm: true };
          const key = context.clientContext?.custom?.mesh?.idk ?? 'no key';
          arrived.push(key);
          running++;
          await new Promise((r) => setTimeout(r, delayMs));
          charges.push(key);
          running--;
          return { charged: true };
        },
      },
      aliases: { live: { version: '1' } },
      timeoutMs: 30_000,
    },
  });
  /** Waits until no charge is in flight: the callee keeps running after the caller gave up. */
  const settled = async () => {
    while (running > 0) await new Promise((r) => setTimeout(r, 10));
  };
  return { server, arrived, charges, settled };
}

/**
 * Three attempts, retried on what the tests provoke; tries long enough that only a callee meant to be
 * slow reaches them, however long a crowded machine holds this process between two steps of a call.
 */
const retryEdge = {
  perTryTimeoutMs: 10_000,
  timeoutMs: 30_000,
  retries: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, retryOn: ['timeout', 'service-error', 'throttled'] },
};
/** A try shorter than the slow callee takes (after a warm-up, so the request itself goes at once). */
const timeoutEdge = { ...retryEdge, perTryTimeoutMs: 500, timeoutMs: 10_000 };

for (const path of ['wire', 'sdk'] as const)
  describe(`retry safety on the wire (Invoke through the ${path} path)`, () => {
    const caller = (url: string, edge: Record<string, unknown>, lines: string[] = []) =>
      callerOver(path, url, edge, lines);
    let server: LambdaInvokeServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    test('not idempotent: a per-try timeout is not repeated and the call says the outcome is unknown', async () => {
      // Prepare
      const p = await slowPayments(2_500);
      server = p.server;
      const orders = caller(server.url, { ...timeoutEdge, idempotent: false });
      await warm(orders);
      // Act
      const err = await failure(orders.call('payments', { amountCents: 100 }, { idempotencyKey: 'k-1' }));
      await p.settled();
      // Assess
      assert.ok(err instanceof MeshOutcomeUnknownError, `got ${err?.name}: ${err?.message}`);
      assert.equal(err.idempotencyKey, 'k-1');
      assert.equal(err.target, 'payments');
      assert.match(err.message, /unknown after 1 attempt/);
      assert.deepEqual(p.arrived, ['k-1'], 'one attempt only');
      assert.deepEqual(p.charges, ['k-1'], 'the callee completed the one charge after the caller gave up');
    });

    test('idempotent: the same timeout is retried with the same idempotency key (today’s behaviour)', async () => {
      const p = await slowPayments(2_500);
      server = p.server;
      const orders = caller(server.url, { ...timeoutEdge, idempotent: true });
      await warm(orders);
      const err = await failure(orders.call('payments', {}, { idempotencyKey: 'k-2' }));
      await p.settled();
      assert.ok(err instanceof MeshTimeoutError && !(err instanceof MeshOutcomeUnknownError), String(err));
      assert.deepEqual(p.arrived, ['k-2', 'k-2', 'k-2'], 'every attempt carries one key for the callee to dedupe');
    });

    test('idempotent: throttled after an attempt that may have run is "outcome unknown", not "throttled"', async () => {
      // Prepare: the first attempt reaches a slow handler; every later one is throttled
      let seen = 0;
      server = await startLambdaInvokeServer({
        'shop-payments': {
          versions: {
            '1': async (event: { warm?: boolean }) => {
              if (event.warm) return { warm: true };
              seen++;
              server!.throttleNext('shop-payments', 10);
              await new Promise((r) => setTimeout(r, 1_500));
              return { charged: true };
            },
          },
          aliases: { live: { version: '1' } },
        },
      });
      const orders = caller(server.url, { ...timeoutEdge, idempotent: true });
      await warm(orders);
      // Act
      const err = await failure(orders.call('payments', {}, { idempotencyKey: 'k-3' }));
      // Assess
      assert.ok(err instanceof MeshOutcomeUnknownError, `${err?.name}: ${err?.message}`);
      assert.match(err.message, /throttled/);
      assert.equal(seen, 1);
    });

    test('not idempotent: throttled attempts never reached the handler and are retried', async () => {
      const p = await slowPayments(1);
      server = p.server;
      server.throttleNext('shop-payments', 2);
      const orders = caller(server.url, { ...retryEdge, idempotent: false });
      assert.deepEqual(await orders.call('payments', {}), { charged: true });
      assert.deepEqual(
        server.invocations.map((i) => i.status),
        [429, 429, 200],
      );
      assert.equal(p.charges.length, 1);
    });

    test('not idempotent: a connection refused before the request was written is retried', async () => {
      // A port that refuses connections (bound, then closed).
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
      const port = (closed.address() as { port: number }).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const lines: string[] = [];
      const orders = caller(`http://127.0.0.1:${port}`, { ...retryEdge, idempotent: false }, lines);
      const err = await failure(orders.call('payments', {}));
      assert.ok(!(err instanceof MeshOutcomeUnknownError), `${err?.name}: ${err?.message}`);
      const log = lines.filter((l) => l.includes('"mesh-access"')).map((l) => JSON.parse(l));
      assert.equal(log[0].attempts, 3, 'every attempt was refused at connect, so all three were made');
    });

    test('not idempotent: a function error is not retried and stays a remote error', async () => {
      server = await startLambdaInvokeServer({
        'shop-payments': {
          versions: {
            '1': () => {
              throw Object.assign(new Error('card declined'), { name: 'CardDeclined' });
            },
          },
          aliases: { live: { version: '1' } },
        },
      });
      const orders = caller(server.url, {
        ...retryEdge,
        idempotent: false,
        retries: { ...retryEdge.retries, retryOn: ['function-error'] },
      });
      await assert.rejects(orders.call('payments', {}), MeshRemoteError);
      assert.equal(server.invocations.length, 1);
    });
  });
