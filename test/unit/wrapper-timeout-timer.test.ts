/** The timeout race's timer: armed once the event loop turns, from the time left then. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MeshTimeoutError } from '../../functions/mesh/errors';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { wrapHandler } from '../../functions/mesh/wrapper';

function runtime(): MeshRuntime {
  return new MeshRuntime({
    env: {},
    config: { meshName: 'shop', service: 'payments', functionVersion: '4' },
    policy: {
      snapshot: {
        mesh: 'shop',
        generatedAt: '',
        items: [{ pk: 'payments', sk: 'allow#external', source: 'external' }],
      },
      snapshotPath: null,
    },
    sink: () => undefined,
  });
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe('the timeout race', () => {
  test('a handler that settles before the event loop turns arms no timer', async (t) => {
    const armed = t.mock.method(globalThis, 'setTimeout');
    const h = wrapHandler(runtime(), async () => 'quick');
    assert.equal(await h({}, { awsRequestId: 'r1', getRemainingTimeInMillis: () => 3000 }), 'quick');
    await nextTurn();
    assert.equal(armed.mock.callCount(), 0);
  });

  test('a handler still running when the loop turns gets a timer of the time left then, less the margin', async (t) => {
    const armed = t.mock.method(globalThis, 'setTimeout');
    let left = 3000;
    const h = wrapHandler(runtime(), async () => {
      left = 2000; // time passes before the loop turns
      await nextTurn();
      await nextTurn();
      return 'slow';
    });
    assert.equal(await h({}, { awsRequestId: 'r2', getRemainingTimeInMillis: () => left }), 'slow');
    assert.equal(armed.mock.callCount(), 1);
    assert.equal(armed.mock.calls[0]!.arguments[1], 2000 - 50);
  });

  test('a handler that never settles is refused with a timeout the caller can tell apart', async (t) => {
    t.mock.method(console, 'error', () => undefined); // the wrapper logs the mesh error's stack
    const h = wrapHandler(runtime(), () => new Promise(() => undefined));
    await assert.rejects(
      h({}, { awsRequestId: 'r3', getRemainingTimeInMillis: () => 80 }),
      (e: unknown) => e instanceof MeshTimeoutError && /80 ms left at start/.test(e.message),
    );
  });
});
