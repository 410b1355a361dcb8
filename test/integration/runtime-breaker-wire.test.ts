/**
 * Wire tests of the breakers in call(): the REAL @aws-sdk/client-lambda against the loopback Lambda
 * Invoke server (alias weights applied server-side, X-Amz-Executed-Version answered), with a clock
 * the test moves (openMs passes without waiting).
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { MeshCircuitOpenError, MeshRemoteError, MeshThrottledError } from '../../functions/mesh/errors';
import { startLambdaInvokeServer, lambdaClientConfig, type LambdaInvokeServer, type TestFunction } from '../support/lambda-invoke-server';

const MESH = 'shop';

interface Env {
  server: LambdaInvokeServer;
  orders: MeshRuntime;
  lines: string[];
  clock: { now: number };
}

async function setup(functions: Record<string, TestFunction>, extraItems: unknown[] = [], random?: () => number): Promise<Env> {
  const server = await startLambdaInvokeServer(functions, random ? { random } : {});
  const lines: string[] = [];
  const clock = { now: Date.now() };
  const orders = new MeshRuntime({
    env: {},
    config: { meshName: MESH, service: 'orders', functionVersion: '1' },
    policy: {
      snapshot: {
        mesh: MESH,
        generatedAt: new Date(0).toISOString(),
        items: [
          { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
          { pk: 'payments', sk: 'allow#orders', source: 'orders' },
          { pk: 'payments', sk: 'traffic', retries: { maxAttempts: 1 } },
          ...extraItems,
        ],
      },
      snapshotPath: null,
    },
    transport: new LambdaInvokeTransport({ client: new LambdaClient(lambdaClientConfig(server.url)) }),
    sink: (l) => lines.push(...l.split('\n')),
    identity: async () => undefined,
    sleep: async () => undefined,
    now: () => clock.now,
  });
  return { server, orders, lines, clock };
}

const fail = () => {
  throw Object.assign(new Error('down'), { name: 'Down' });
};

describe('runtime wire: breakers', () => {
  let env: Env | undefined;
  afterEach(async () => {
    await env?.server.close();
    env = undefined;
  });

  test('a throttled half-open probe frees the probe slot: the next call probes at once', async () => {
    env = await setup({ 'shop-payments': { versions: { '1': fail }, aliases: { live: { version: '1' } } } });
    for (let i = 0; i < 5; i++) await assert.rejects(env.orders.call('payments', {}), MeshRemoteError);
    await assert.rejects(env.orders.call('payments', {}), MeshCircuitOpenError);
    env.clock.now += 30_001; // the breaker's openMs (default 30 s) has passed: half-open
    env.server.throttleNext('shop-payments', 1);
    await assert.rejects(env.orders.call('payments', {}), MeshThrottledError);
    // The throttled probe said nothing about health; the next call is the probe (an Invoke, not a circuit-open).
    const before = env.server.invocations.length;
    await assert.rejects(env.orders.call('payments', {}), MeshRemoteError);
    assert.equal(env.server.invocations.length, before + 1);
  });
});
