/**
 * Identity over the wire: the caller's pipeline signs each attempt (Identity.sign, token in
 * ClientContext `tok`), the callee's wrapper verifies it before the policy check. A caller with a
 * certificate from a foreign CA is refused as MeshUnauthenticated; the token never reaches a log line.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { MeshUnauthenticatedError } from '../../functions/mesh/errors';
import { type IdentityLike, MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { type IdentityWorld, identityOf, identityWorld } from '../support/identity-fixture';
import { type LambdaInvokeServer, lambdaClientConfig, startLambdaInvokeServer } from '../support/lambda-invoke-server';

describe('runtime wire: identity sign and verify', () => {
  let world: IdentityWorld;
  let server: LambdaInvokeServer;
  let wrapped: ReturnType<typeof wrapHandler>;
  const lines: string[] = [];
  const snapshot = {
    mesh: 'shop',
    generatedAt: '',
    items: [
      { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
      { pk: 'payments', sk: 'allow#orders', source: 'orders' },
    ],
  };
  const runtime = (service: string, identity: IdentityLike) =>
    new MeshRuntime({
      env: {},
      config: { meshName: 'shop', service },
      policy: { snapshot, snapshotPath: null },
      transport: new LambdaInvokeTransport({ client: new LambdaClient(lambdaClientConfig(server.url)) }),
      sink: (l) => lines.push(...l.split('\n')),
      identity: async () => identity,
      sleep: async () => undefined,
    });

  before(async () => {
    world = await identityWorld('shop');
    server = await startLambdaInvokeServer({
      'shop-payments': { versions: { '1': (e, c) => wrapped(e, c) }, aliases: { live: { version: '1' } } },
    });
    wrapped = wrapHandler(runtime('payments', await identityOf(world.payments)), async (event: unknown) => ({
      paid: event,
    }));
  });
  after(() => server.close());

  test('a signed call from orders is verified and served; each attempt carries a token', async () => {
    const orders = runtime('orders', await identityOf(world.orders));
    server.throttleNext('shop-payments', 1);
    assert.deepEqual(await orders.call('payments', { amount: 3 }), { paid: { amount: 3 } });
    const toks = server.invocations.map((i) => i.clientContext?.custom?.mesh?.tok ?? '');
    assert.equal(toks.length, 2);
    assert.ok(toks.every((t) => typeof t === 'string' && t.length > 20));
    assert.notEqual(toks[0], toks[1], 'a fresh token (nonce) per attempt');
    assert.ok(!lines.some((l) => toks.some((t) => l.includes(t))), 'no token in any log or metric line');
  });

  test('a caller whose certificate comes from a foreign CA is refused: MeshUnauthenticatedError', async () => {
    const impostor = runtime('orders', await identityOf(world.foreignOrders));
    await assert.rejects(impostor.call('payments', { amount: 1 }), MeshUnauthenticatedError);
  });
});
