/**
 * Wire tests of the breakers in call(): the REAL @aws-sdk/client-lambda against the loopback Lambda
 * Invoke server (alias weights applied server-side, X-Amz-Executed-Version answered), with a clock
 * the test moves (openMs passes without waiting).
 */

import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { MeshCircuitOpenError, MeshRemoteError, MeshThrottledError } from '../../functions/mesh/errors';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import {
  type LambdaInvokeServer,
  lambdaClientConfig,
  startLambdaInvokeServer,
  type TestFunction,
} from '../support/lambda-invoke-server';

const MESH = 'shop';

interface Env {
  server: LambdaInvokeServer;
  orders: MeshRuntime;
  lines: string[];
  clock: { now: number };
}

async function setup(
  functions: Record<string, TestFunction>,
  extraItems: unknown[] = [],
  random?: () => number,
): Promise<Env> {
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

  /** Lambda's alias draw, made deterministic: stable, canary, stable, canary… (weight 0.5 on "2"). */
  const alternate = () => {
    let i = 0;
    return () => (i++ % 2 === 0 ? 0.75 : 0.25);
  };
  const canaryAlias = (): Record<string, TestFunction> => ({
    'shop-payments': {
      versions: {
        '1': () => ({ v: 1 }),
        '2': () => {
          throw Object.assign(new Error('boom'), { name: 'CanaryBug' });
        },
      },
      aliases: { live: { version: '1', weights: { '2': 0.5 } } },
    },
  });

  test('alias routing: a failing canary is ejected by its executed version within 5 failed calls; calls pin to the stable version', async () => {
    env = await setup(canaryAlias(), [], alternate());
    let failures = 0;
    for (let i = 0; i < 40; i++) {
      try {
        assert.deepEqual(await env.orders.call('payments', { i }), { v: 1 });
      } catch (err) {
        assert.ok(err instanceof MeshRemoteError, String(err));
        failures++;
      }
    }
    const invs = env.server.invocations;
    assert.equal(failures, 5, 'the canary stops receiving traffic after 5 failed calls');
    assert.equal(invs.filter((i) => i.executedVersion === '2').length, 5);
    assert.equal(invs.length, 40, 'no call failed fast: the alias is not open');
    // After the 5th canary failure (the 10th call) every call names the stable version.
    assert.deepEqual(new Set(invs.slice(10).map((i) => i.qualifier)), new Set(['1']));
    const opened = env.lines.filter((l) => l.includes('breaker_open_total')).map((l) => JSON.parse(l));
    assert.deepEqual(
      opened.map((m) => m.destination_version),
      ['2'],
      'the breaker of version 2 opened, not the alias',
    );
  });

  test('alias routing: after openMs a probe goes back through the alias; a healed canary is taken back', async () => {
    let healed = false;
    const fns = canaryAlias();
    fns['shop-payments']!.versions['2'] = () => {
      if (!healed) throw Object.assign(new Error('boom'), { name: 'CanaryBug' });
      return { v: 2 };
    };
    env = await setup(fns, [], alternate());
    for (let i = 0; i < 10; i++) await env.orders.call('payments', {}).catch(() => undefined);
    const pinned = env.server.invocations.length;
    await env.orders.call('payments', {});
    assert.equal(env.server.invocations[pinned]!.qualifier, '1', 'pinned while the canary is ejected');
    env.clock.now += 30_001;
    healed = true;
    for (let i = 0; i < 4; i++) await env.orders.call('payments', {});
    const after = env.server.invocations.slice(pinned + 1);
    assert.deepEqual(
      after.map((i) => i.qualifier),
      ['live', 'live', 'live', 'live'],
      'the alias again: probe, then closed',
    );
    assert.ok(after.some((i) => i.executedVersion === '2'));
  });

  test('alias routing: a probe that fails re-ejects the canary; traffic pins again', async () => {
    env = await setup(canaryAlias(), [], alternate());
    for (let i = 0; i < 10; i++) await env.orders.call('payments', {}).catch(() => undefined);
    env.clock.now += 30_001;
    const start = env.server.invocations.length;
    let failures = 0;
    for (let i = 0; i < 10; i++) await env.orders.call('payments', {}).catch(() => failures++);
    assert.equal(failures, 1, 'one failed probe, then ejected again');
    const later = env.server.invocations.slice(start);
    assert.ok(later.slice(-5).every((i) => i.qualifier === '1'));
  });

  test('alias routing, no healthy version seen: the alias is kept, and its own breaker opens a lone failing version', async () => {
    env = await setup({ 'shop-payments': { versions: { '1': fail }, aliases: { live: { version: '1' } } } });
    for (let i = 0; i < 5; i++) await assert.rejects(env.orders.call('payments', {}), MeshRemoteError);
    await assert.rejects(env.orders.call('payments', {}), MeshCircuitOpenError);
    assert.equal(env.server.invocations.length, 5);
    assert.ok(env.server.invocations.every((i) => i.qualifier === 'live'));
  });

  test('route item: every weighted version ejected falls back to the live alias', async () => {
    env = await setup(
      {
        'shop-payments': {
          versions: { '1': fail, '2': fail, '3': () => ({ v: 3 }) },
          aliases: { live: { version: '3' } },
        },
      },
      [{ pk: 'payments', sk: 'route', weights: { '1': 0.5, '2': 0.5 } }],
    );
    for (let i = 0; i < 10; i++) await assert.rejects(env.orders.call('payments', {}), MeshRemoteError);
    assert.deepEqual(await env.orders.call('payments', {}), { v: 3 });
    assert.equal(env.server.invocations.at(-1)!.qualifier, 'live');
  });

  test("route item, all ejected: the alias's own breaker still guards the fallback", async () => {
    env = await setup(
      { 'shop-payments': { versions: { '1': fail, '2': fail }, aliases: { live: { version: '1' } } } },
      [{ pk: 'payments', sk: 'route', weights: { '1': 0.5, '2': 0.5 } }],
    );
    for (let i = 0; i < 10; i++) await assert.rejects(env.orders.call('payments', {}), MeshRemoteError);
    // Through the alias now: its failures count on the alias's breaker (no healthy version seen behind it).
    for (let i = 0; i < 5; i++) await assert.rejects(env.orders.call('payments', {}), MeshRemoteError);
    assert.ok(env.server.invocations.slice(10).every((i) => i.qualifier === 'live'));
    await assert.rejects(
      env.orders.call('payments', {}),
      (e: unknown) => e instanceof MeshCircuitOpenError && e.version === 'live',
    );
    assert.equal(env.server.invocations.length, 15);
  });

  test('circuit-open says why the breaker opened: a failure rate is not "N failures in a row"', async () => {
    let n = 0;
    env = await setup(
      {
        'shop-payments': { versions: { '1': () => (n++ === 1 ? 'ok' : fail()) }, aliases: { live: { version: '1' } } },
      },
      [
        {
          pk: 'payments',
          sk: 'traffic',
          retries: { maxAttempts: 1 },
          breaker: { consecutiveFailures: 100, windowSize: 4, failureRateThreshold: 0.5 },
        },
      ],
    );
    for (let i = 0; i < 4; i++) await env.orders.call('payments', {}).catch(() => undefined);
    await assert.rejects(env.orders.call('payments', {}), (e: unknown) => {
      assert.ok(e instanceof MeshCircuitOpenError);
      assert.match(e.message, /failure rate above 50% of the last 4 calls/);
      assert.doesNotMatch(e.message, /in a row/);
      return true;
    });
  });
});
