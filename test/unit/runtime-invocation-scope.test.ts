/** The invocation scopes: each invocation in its own async context, and which one an endpoint request belongs to. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type InvocationScope, InvocationScopes } from '../../functions/mesh/invocation-scope';
import { lambdaTraceHeader } from '../../functions/mesh/telemetry/invocation-trace';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('InvocationScopes', () => {
  test('each invocation sees its own scope across awaits; outside them, the outside scope', async () => {
    const scopes = new InvocationScopes();
    scopes.outside = { requestId: 'script' };
    const seen: (string | undefined)[] = [];
    const serve = (id: string) =>
      scopes.serve({ requestId: id }, async () => {
        await tick();
        seen.push(scopes.current()?.requestId);
        await tick();
        seen.push(scopes.current()?.requestId);
      });
    await Promise.all([serve('a'), serve('b')]);
    assert.deepEqual(seen, ['a', 'b', 'a', 'b']);
    assert.equal(scopes.current()?.requestId, 'script');
  });

  test('an endpoint request: the invocation it names, else the only one in flight, else none', async () => {
    const scopes = new InvocationScopes();
    const a: InvocationScope = { requestId: 'a' };
    const b: InvocationScope = { requestId: 'b' };
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = scopes.serve(a, () => held);
    assert.equal(scopes.named(undefined), a, 'one in flight: that one');
    const second = scopes.serve(b, () => held);
    assert.equal(scopes.named(undefined), undefined, 'several in flight: the request must say which');
    assert.equal(scopes.named('b'), b);
    assert.equal(scopes.named('c'), undefined);
    release();
    await Promise.all([first, second]);
    assert.equal(scopes.named('a'), undefined, 'an invocation that ended is no longer found');
    assert.equal(await scopes.within(b, async () => scopes.current()), b);
  });
});

describe('lambdaTraceHeader', () => {
  test("the runtime's invoke store first (one per invocation), else _X_AMZN_TRACE_ID", () => {
    const g = globalThis as { awslambda?: unknown };
    const env = { _X_AMZN_TRACE_ID: 'Root=1-00000000-000000000000000000000001;Sampled=1' };
    assert.equal(lambdaTraceHeader(env), env._X_AMZN_TRACE_ID);
    g.awslambda = { InvokeStore: { getXRayTraceId: () => 'Root=1-00000000-000000000000000000000002;Sampled=0' } };
    try {
      assert.equal(lambdaTraceHeader(env), 'Root=1-00000000-000000000000000000000002;Sampled=0');
      g.awslambda = { InvokeStore: { getXRayTraceId: () => undefined } };
      assert.equal(lambdaTraceHeader(env), env._X_AMZN_TRACE_ID, 'no trace in the store: the variable');
    } finally {
      delete g.awslambda;
    }
  });
});
