/**
 * Idempotency keys of outbound calls: a new one per call outside an invocation; inside one, derived
 * from the invocation's key, so a repeated invocation repeats every key downstream.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { derivedKey, outboundKey } from '../../functions/mesh/idempotency-key';
import type { InvokeRequest } from '../../functions/mesh/transport/lambda-invoke';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { snapshotRuntime } from '../support/snapshot-runtime';

describe('outbound idempotency keys', () => {
  test('without an invocation key every call gets a new one', () => {
    assert.notEqual(outboundKey(undefined, 'payments'), outboundKey(undefined, 'payments'));
    assert.notEqual(outboundKey({}, 'payments'), outboundKey({}, 'payments'));
  });

  test('with one, the n-th call to a target gets the same key every time the invocation repeats', () => {
    const first = { idempotencyKey: 'order-1', calls: new Map<string, number>() };
    const again = { idempotencyKey: 'order-1', calls: new Map<string, number>() };
    const a = [outboundKey(first, 'payments'), outboundKey(first, 'payments'), outboundKey(first, 'inventory')];
    const b = [outboundKey(again, 'payments'), outboundKey(again, 'payments'), outboundKey(again, 'inventory')];
    assert.deepEqual(a, b);
    assert.equal(new Set(a).size, 3, 'two charges in one invocation are two calls, not one');
    assert.notEqual(derivedKey('order-1', 'payments', 1), derivedKey('order-2', 'payments', 1));
  });

  test('calls made by a handler carry keys derived from the key it was called with', async () => {
    const sent: string[] = [];
    const rt = snapshotRuntime({
      service: 'orders',
      items: [
        { pk: 'orders', sk: 'service', functionName: 'shop-orders' },
        { pk: 'orders', sk: 'allow#frontend', source: 'frontend' },
        { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
        { pk: 'payments', sk: 'allow#orders', source: 'orders' },
      ],
      transport: {
        invoke: async (req: InvokeRequest) => {
          const cc = JSON.parse(Buffer.from(req.clientContext, 'base64').toString());
          sent.push(cc.custom.mesh.idk);
          return { statusCode: 200, payload: new TextEncoder().encode('{}') };
        },
      },
    });
    const orders = wrapHandler(rt, async () => rt.call('payments', { amountCents: 100 }));
    const invoke = () =>
      orders({}, { awsRequestId: 'r', clientContext: { custom: { mesh: { v: 1, src: 'frontend', idk: 'k-1' } } } });
    await invoke();
    await invoke(); // frontend repeats the call with the same key
    assert.equal(sent.length, 2);
    assert.equal(sent[0], sent[1]);
    assert.equal(sent[0], derivedKey('k-1', 'payments', 1));
  });
});
