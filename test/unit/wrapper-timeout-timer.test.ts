/**
 * The timeout race's timer: none for a handler that settles within the microtask queue's next turns;
 * for one still waiting then, armed in the same turn of the event loop, from the time left then.
 */

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
  test('a handler that settles without waiting on I/O or a timer arms no timer and defers nothing', async (t) => {
    const armed = t.mock.method(globalThis, 'setTimeout');
    const deferred = t.mock.method(globalThis, 'setImmediate');
    const quick = wrapHandler(runtime(), async () => 'quick');
    assert.equal(await quick({}, { awsRequestId: 'r1', getRemainingTimeInMillis: () => 3000 }), 'quick');
    // Awaits of values that are there: a few turns of the microtask queue.
    const chained = wrapHandler(runtime(), async () => {
      const a = await Promise.resolve('chained');
      const b = await (async () => a)();
      return await b;
    });
    assert.equal(await chained({}, { awsRequestId: 'r2', getRemainingTimeInMillis: () => 3000 }), 'chained');
    assert.equal(deferred.mock.callCount(), 0);
    await nextTurn();
    assert.equal(armed.mock.callCount(), 0);
  });

  test('a handler still waiting after the microtask queue ran gets a timer of the time left then, less the margin', async (t) => {
    const armed = t.mock.method(globalThis, 'setTimeout');
    let left = 3000;
    const h = wrapHandler(runtime(), async () => {
      left = 2000; // time passes before the handler waits
      await nextTurn();
      await nextTurn();
      return 'slow';
    });
    assert.equal(await h({}, { awsRequestId: 'r3', getRemainingTimeInMillis: () => left }), 'slow');
    assert.equal(armed.mock.callCount(), 1);
    assert.equal(armed.mock.calls[0]!.arguments[1], 2000 - 50);
  });

  test('a handler that rejects at once is reported as its own error, not as a timeout', async (t) => {
    t.mock.method(console, 'error', () => undefined);
    const armed = t.mock.method(globalThis, 'setTimeout');
    const h = wrapHandler(runtime(), async () => {
      throw new TypeError('bad input');
    });
    await assert.rejects(h({}, { awsRequestId: 'r4', getRemainingTimeInMillis: () => 3000 }), {
      name: 'TypeError',
      message: 'bad input',
    });
    assert.equal(armed.mock.callCount(), 0);
  });

  test('a handler that never settles is refused with a timeout the caller can tell apart', async (t) => {
    t.mock.method(console, 'error', () => undefined); // the wrapper logs the mesh error's stack
    const h = wrapHandler(runtime(), () => new Promise(() => undefined));
    await assert.rejects(
      h({}, { awsRequestId: 'r5', getRemainingTimeInMillis: () => 80 }),
      (e: unknown) => e instanceof MeshTimeoutError && /80 ms left at start/.test(e.message),
    );
  });
});
