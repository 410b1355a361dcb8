/**
 * When invocations get async contexts of their own: an invocation alone is served without one (no
 * promise hooks for a classic Lambda sandbox); from the first overlap, or from the start under Lambda
 * Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY), each has its own. What work left running after an
 * invocation returned sees in each case.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONCURRENCY_VARIABLE, InvocationScopes } from '../../functions/mesh/invocation-scope';

const tick = () => new Promise<void>((r) => setImmediate(r));

/**
 * Serves `first` to its end, leaving work that reads the scope while `next`, served after it, runs:
 * what that work read.
 */
async function readByLeftover(scopes: InvocationScopes, first: string, next: string) {
  let release!: () => void;
  const later = new Promise<void>((r) => (release = r));
  let read!: Promise<string | undefined>;
  await scopes.serve({ requestId: first }, async () => {
    read = later.then(() => scopes.current()?.requestId);
  });
  await scopes.serve({ requestId: next }, async () => {
    release();
    await tick();
  });
  return read;
}

describe('invocation scopes: alone, or each in its own async context', () => {
  test('one invocation at a time: each is the current one while it runs, none after it', async () => {
    const scopes = new InvocationScopes({});
    for (const id of ['a', 'b']) {
      const seen = await scopes.serve({ requestId: id }, async () => {
        await tick();
        return scopes.current()?.requestId;
      });
      assert.equal(seen, id);
      assert.equal(scopes.current(), undefined);
    }
  });

  test('classic Lambda: work left by one invocation reads the next one, as the runtime context does', async () => {
    assert.equal(await readByLeftover(new InvocationScopes({}), 'a', 'b'), 'b');
  });

  test('under Managed Instances, from the first invocation each has its own, for work it leaves too', async () => {
    assert.equal(await readByLeftover(new InvocationScopes({ [CONCURRENCY_VARIABLE]: '16' }), 'a', 'b'), 'a');
  });

  test('an invocation that arrives while one runs gets its own context; the first keeps its own', async () => {
    const scopes = new InvocationScopes({});
    const seen: [string, string | undefined][] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const look = (id: string) => seen.push([id, scopes.current()?.requestId]);
    const first = scopes.serve({ requestId: 'a' }, async () => {
      look('a');
      await held;
      look('a');
    });
    const second = scopes.serve({ requestId: 'b' }, async () => {
      look('b');
      release();
      await tick();
      look('b');
    });
    await Promise.all([first, second]);
    assert.deepEqual(seen, [
      ['a', 'a'],
      ['b', 'b'],
      ['a', 'a'],
      ['b', 'b'],
    ]);
    assert.equal(scopes.current(), undefined);
  });

  test('after an overlap every later invocation has its own context, for work it leaves too', async () => {
    const scopes = new InvocationScopes({});
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const a = scopes.serve({ requestId: 'a' }, () => held);
    await scopes.serve({ requestId: 'b' }, async () => release());
    await a;
    assert.equal(await readByLeftover(scopes, 'c', 'd'), 'c');
  });

  test('outside every invocation, the outside scope', async () => {
    const scopes = new InvocationScopes({});
    scopes.outside = { requestId: 'script' };
    assert.equal(await scopes.serve({ requestId: 'a' }, async () => scopes.current()?.requestId), 'a');
    assert.equal(scopes.current()?.requestId, 'script');
  });
});
