/**
 * Breakers under overlapping calls (parallel calls of one invocation, concurrent invocations in one
 * process): an answer to a call let through before the breaker opened says nothing about the
 * half-open probe that is out now.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshCircuitOpenError, MeshRemoteError } from '../../functions/mesh/errors';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import type { InvokeRequest, InvokeResponse } from '../../functions/mesh/transport/lambda-invoke';

const T0 = 1_700_000_000_000;
const tick = () => new Promise<void>((r) => setImmediate(r));

test('a straggler from before the breaker opened neither closes it nor lets a second probe through', async () => {
  // Prepare: version 1 of payments, one failure opens its breaker for 1 s; held calls answer when told.
  let t = T0;
  const okAnswer = { statusCode: 200, executedVersion: '1', payload: Buffer.from('{}') };
  const held: ((r: InvokeResponse) => void)[] = [];
  const sent: InvokeRequest[] = [];
  const rt = new MeshRuntime({
    env: {},
    config: { meshName: 'shop', service: 'orders' },
    now: () => t,
    sink: () => undefined,
    identity: async () => undefined,
    policy: {
      snapshotPath: null,
      snapshot: {
        mesh: 'shop',
        generatedAt: '',
        items: [
          { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
          { pk: 'payments', sk: 'allow#orders', source: 'orders' },
          { pk: 'payments', sk: 'route', weights: { '1': 1 } },
          {
            pk: 'payments',
            sk: 'traffic',
            retries: { maxAttempts: 1 },
            breaker: { consecutiveFailures: 1, openMs: 1000 },
          },
        ],
      },
    },
    transport: {
      invoke: (req) => {
        sent.push(req);
        const body = JSON.parse(Buffer.from(req.payload).toString()) as { fail?: boolean; hold?: boolean };
        if (body.fail) {
          const payload = Buffer.from(JSON.stringify({ errorType: 'Boom', errorMessage: 'down' }));
          return Promise.resolve({ statusCode: 200, functionError: 'Unhandled', executedVersion: '1', payload });
        }
        return body.hold ? new Promise((resolve) => held.push(resolve)) : Promise.resolve(okAnswer);
      },
    },
  });

  // Act: A goes out while the breaker is closed and hangs; B fails and opens the breaker.
  const straggler = rt.call('payments', { hold: true });
  await tick();
  await assert.rejects(rt.call('payments', { fail: true }), MeshRemoteError);
  // The open time is up: C is the half-open probe, and hangs too.
  t = T0 + 1000;
  const probe = rt.call('payments', { hold: true });
  await tick();
  assert.equal(held.length, 2);
  // A answers now, from before the breaker opened.
  held[0]!(okAnswer);
  await straggler;

  // Assess: the probe is still out, so the breaker holds D.
  t = T0 + 1001;
  await assert.rejects(rt.call('payments', {}), MeshCircuitOpenError);
  assert.equal(sent.length, 3, 'D was not sent');
  held[1]!(okAnswer);
  await probe;
  // The probe's own answer closes it: the next call goes out again.
  await assert.rejects(rt.call('payments', { fail: true }), MeshRemoteError);
  assert.equal(sent.length, 4);
});
