/** The inbound wrapper: deny by default, external callers, identity, deadline, timeout race, pass-through. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MeshDeadlineExceededError,
  MeshDeniedError,
  MeshTimeoutError,
  MeshUnauthenticatedError,
} from '../../functions/mesh/errors';
import { type IdentityLike, MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { wrapHandler } from '../../functions/mesh/wrapper';
import { DEPENDENCY_TIMEOUT, META_HEADER } from '../../shared/names';

const items = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders' },
];

function runtime(opts: { extra?: unknown[]; identity?: IdentityLike; disabled?: boolean } = {}) {
  const lines: string[] = [];
  const rt = new MeshRuntime({
    env: {},
    config: { meshName: 'shop', service: 'payments', functionVersion: '4', disabled: opts.disabled ?? false },
    policy: {
      snapshot: { mesh: 'shop', generatedAt: '', items: [...items, ...(opts.extra ?? [])] },
      snapshotPath: null,
    },
    transport: { invoke: () => Promise.reject(new Error('no transport in unit tests')) },
    sink: (l) => lines.push(...l.split('\n')),
    identity: async () => opts.identity,
  });
  return { rt, lines };
}
const ctx = (mesh?: object, remaining = 3000) => ({
  awsRequestId: 'req-1',
  clientContext: mesh ? { custom: { mesh } } : undefined,
  getRemainingTimeInMillis: () => remaining,
});

describe('runtime wrapper', () => {
  test('the handler gets the very same event object and its result goes back', async () => {
    const { rt, lines } = runtime();
    const event = { order: 1 };
    let seen: unknown;
    const h = wrapHandler(rt, async (e) => {
      seen = e;
      return 'ok';
    });
    assert.equal(await h(event, ctx({ v: 1, src: 'orders' })), 'ok');
    assert.equal(seen, event);
    const emf = JSON.parse(lines[0]!);
    assert.equal(emf.reporter, 'destination');
    assert.equal(emf.destination_version, '4');
  });

  test('deny by default: a caller without an allow item, and external callers without allow#external', async () => {
    const { rt, lines } = runtime();
    const h = wrapHandler(rt, async () => 'ran');
    await assert.rejects(
      h({}, ctx({ v: 1, src: 'audit' })),
      (e: unknown) => e instanceof MeshDeniedError && e.name === 'MeshDeniedError',
    );
    await assert.rejects(h({}, ctx()), MeshDeniedError);
    assert.ok(lines.some((l) => l.includes('"denied_total":1')));
  });

  test('external callers are allowed where policy says so; an HTTP refusal answers a status', async () => {
    const { rt } = runtime({ extra: [{ pk: 'payments', sk: 'allow#external', source: 'external' }] });
    const h = wrapHandler(rt, async () => 'ran');
    assert.equal(await h({ plain: true }, ctx()), 'ran');
    const { rt: closed } = runtime();
    const r = (await wrapHandler(closed, async () => 'ran')(
      { rawPath: '/', requestContext: {}, headers: {} },
      ctx(),
    )) as { statusCode: number };
    assert.equal(r.statusCode, 403);
  });

  test('identity off: x-mesh-source on an HTTP event proves nothing, the caller stays external', async () => {
    const { rt } = runtime();
    const h = wrapHandler(rt, async () => 'ran');
    const r = (await h({ rawPath: '/', requestContext: {}, headers: { 'x-mesh-source': 'orders' } }, ctx())) as {
      statusCode: number;
    };
    assert.equal(r.statusCode, 403);
  });

  test('a passed deadline is refused before the handler runs', async () => {
    const { rt } = runtime();
    let ran = false;
    const h = wrapHandler(rt, async () => {
      ran = true;
      return 'x';
    });
    await assert.rejects(h({}, ctx({ v: 1, src: 'orders', dl: Date.now() - 1 })), MeshDeadlineExceededError);
    assert.equal(ran, false);
  });

  test('identity on: a failed verify is MeshUnauthenticated, the reason stays out of the token-free logs', async () => {
    const identity: IdentityLike = {
      sign: () => 'tok',
      verify: ({ token }) => (token === 'good' ? { ok: true } : { ok: false, reason: 'bad-signature' }),
    };
    const { rt, lines } = runtime({ identity });
    const h = wrapHandler(rt, async () => 'ran');
    assert.equal(await h({}, ctx({ v: 1, src: 'orders', tok: 'good' })), 'ran');
    await assert.rejects(h({}, ctx({ v: 1, src: 'orders', tok: 'secret-token-value' })), MeshUnauthenticatedError);
    await assert.rejects(h({}, ctx({ v: 1, src: 'orders' })), MeshUnauthenticatedError);
    assert.ok(!lines.some((l) => l.includes('secret-token-value') || l.includes('"good"')), 'no token in any log line');
  });

  test('identity on: the refused caller learns only "unauthenticated"; the reason is in the callee\'s access log and denied_total', async () => {
    const identity: IdentityLike = { sign: () => 'tok', verify: () => ({ ok: false, reason: 'token-missing' }) };
    const { rt, lines } = runtime({ identity });
    const h = wrapHandler(rt, async () => 'ran');
    await assert.rejects(h({}, ctx({ v: 1, src: 'orders' })), (e: unknown) => {
      assert.ok(e instanceof MeshUnauthenticatedError);
      assert.doesNotMatch(e.message, /token-missing/);
      assert.match(e.message, /unauthenticated/);
      return true;
    });
    const log = lines.map((l) => JSON.parse(l)).find((l) => l.type === 'mesh-access');
    assert.equal(log.reason, 'token-missing');
    assert.equal(log.outcome, 'unauthenticated');
    const emf = lines.map((l) => JSON.parse(l)).find((l) => l._aws);
    assert.equal(emf.denied_total, 1);
    // HTTP events answer with a body: bare too.
    const res = (await h({ headers: { [META_HEADER.source]: 'orders' }, requestContext: {}, body: '{}' }, ctx())) as {
      statusCode: number;
      body: string;
    };
    assert.equal(res.statusCode, 401);
    assert.doesNotMatch(res.body, /token-missing/);
  });

  test('the timeout race fires before Lambda would kill the sandbox', async () => {
    const { rt } = runtime();
    const h = wrapHandler(rt, () => new Promise(() => undefined));
    await assert.rejects(h({}, ctx({ v: 1, src: 'orders' }, 80)), MeshTimeoutError);
  });

  test('the invocation scope (deadline) is visible to outbound calls and cleared after', async () => {
    const { rt } = runtime();
    let during: unknown;
    const dl = Date.now() + 60_000;
    const h = wrapHandler(rt, async () => {
      during = rt.scope?.deadline;
      return 1;
    });
    await h({}, ctx({ v: 1, src: 'orders', dl }));
    assert.equal(during, dl);
    assert.equal(rt.scope, undefined);
  });

  test('trace: the callee continues the header it received (metadata trc)', async () => {
    const { rt, lines } = runtime();
    let root: string | undefined;
    const trc = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const h = wrapHandler(rt, async () => {
      root = rt.scope?.trace?.root;
      return 1;
    });
    await h({}, ctx({ v: 1, src: 'orders', trc }));
    assert.equal(root, '1-5759e988-bd862e3fe1be46a994272793');
    assert.ok(lines.some((l) => l.includes('"traceId":"1-5759e988-bd862e3fe1be46a994272793"')));
  });

  test("trace: in Lambda (_X_AMZN_TRACE_ID set) outgoing calls hang under this function's segment, not the caller's call", async () => {
    const { rt } = runtime();
    const root = '1-5759e988-bd862e3fe1be46a994272793';
    const callerCall = '53995c3f42cd8ad8'; // the caller's call subsegment (metadata trc)
    const fnSegment = '1f2e3d4c5b6a7988'; // the function segment the Lambda service wrote
    const saved = process.env._X_AMZN_TRACE_ID;
    const seen: (string | undefined)[] = [];
    const h = wrapHandler(rt, async () => {
      seen.push(rt.scope?.trace?.parent);
      return 1;
    });
    try {
      process.env._X_AMZN_TRACE_ID = `Root=${root};Parent=${fnSegment};Sampled=1`;
      await h({}, ctx({ v: 1, src: 'orders', trc: `Root=${root};Parent=${callerCall};Sampled=1` }));
      // Lambda started a new root (the Invoke carried no header): still its segment, which it wrote.
      process.env._X_AMZN_TRACE_ID = `Root=1-00000000-000000000000000000000001;Parent=${fnSegment};Sampled=1`;
      await h({}, ctx({ v: 1, src: 'orders', trc: `Root=${root};Parent=${callerCall};Sampled=1` }));
      delete process.env._X_AMZN_TRACE_ID;
      await h({}, ctx({ v: 1, src: 'orders', trc: `Root=${root};Parent=${callerCall};Sampled=1` }));
    } finally {
      if (saved === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = saved;
    }
    assert.deepEqual(
      seen,
      [fnSegment, fnSegment, callerCall],
      "Lambda's header when present, the metadata only without it",
    );
  });

  test('MESH_DISABLED: the handler runs directly, no policy, no telemetry', async () => {
    const { rt, lines } = runtime({ disabled: true });
    assert.equal(await wrapHandler(rt, async () => 'direct')({}, ctx({ v: 1, src: 'audit' })), 'direct');
    assert.equal(lines.length, 0);
  });

  test('identity first: a forger with a passed deadline is refused unauthenticated, and recorded as unknown', async () => {
    const identity: IdentityLike = { sign: () => 'tok', verify: () => ({ ok: false, reason: 'signature-invalid' }) };
    const { rt, lines } = runtime({ identity });
    const h = wrapHandler(rt, async () => 'ran');
    await assert.rejects(
      h({}, ctx({ v: 1, src: 'inventory', tok: 'forged', dl: Date.now() - 1_000 })),
      MeshUnauthenticatedError,
    );
    const emf = lines.map((l) => JSON.parse(l)).find((l) => l._aws);
    assert.equal(emf.source_workload, 'unknown', 'no phantom inventory -> payments edge');
    const log = lines.map((l) => JSON.parse(l)).find((l) => l.type === 'mesh-access');
    assert.equal(log.source, 'unknown');
    assert.equal(log.claimedSource, 'inventory', 'the claim stays in the callee log');
    assert.equal(log.outcome, 'unauthenticated');
  });

  test('identity off: a caller the policy refuses is recorded as unknown, an allowed one by its name', async () => {
    const { rt, lines } = runtime();
    const h = wrapHandler(rt, async () => 'ran');
    await assert.rejects(h({}, ctx({ v: 1, src: 'inventory' })), MeshDeniedError);
    await assert.rejects(h({}, ctx({ v: 1, src: 'orders', dl: Date.now() - 1 })), MeshDeadlineExceededError);
    assert.equal(await h({}, ctx({ v: 1, src: 'orders' })), 'ran');
    const sources = lines
      .map((l) => JSON.parse(l))
      .filter((l) => l._aws)
      .map((l) => l.source_workload);
    assert.deepEqual(sources, ['unknown', 'unknown', 'orders']);
  });

  test('a refusal says only "denied" and a request id: no deny note, no hint, no stack', async () => {
    const { rt, lines } = runtime({
      extra: [{ pk: 'payments', sk: 'deny#orders', source: 'orders', reason: 'incident 42: card testing' }],
    });
    const h = wrapHandler(rt, async () => 'ran');
    const refused = [
      await h({}, ctx({ v: 1, src: 'orders' })).catch((e: Error) => e),
      await h({}, ctx()).catch((e: Error) => e),
    ];
    for (const e of refused) {
      assert.ok(e instanceof MeshDeniedError);
      assert.equal(e.message, 'mesh: payments refused the call: denied (request req-1)');
      assert.equal(e.stack, `MeshDeniedError: ${e.message}`, 'no stack frames, no file paths');
    }
    const logs = lines.map((l) => JSON.parse(l)).filter((l) => l.type === 'mesh-access');
    assert.match(logs[0].reason, /incident 42: card testing/, "the deny's note is in the callee's log");
    assert.match(logs[1].reason, /add allow#external to payments/, 'the hint is in the callee log');
    assert.equal(logs[0].requestId, 'req-1');
    // An HTTP refusal's body: the same, plus the request id as a field.
    const res = (await h({ rawPath: '/', requestContext: {}, headers: {} }, ctx())) as { body: string };
    assert.deepEqual(JSON.parse(res.body), {
      errorType: 'MeshDeniedError',
      message: 'mesh: payments refused the call: denied (request req-1)',
      requestId: 'req-1',
    });
  });

  test('a mesh error escaping the handler leaves without its stack; other errors are the handler’s own', async () => {
    const { rt } = runtime();
    const timeout = new MeshTimeoutError('mesh: call to ledger timed out');
    const err = await wrapHandler(rt, async () => {
      throw timeout;
    })({}, ctx({ v: 1, src: 'orders' })).catch((e: Error) => e);
    assert.equal(err, timeout);
    // The handler's own call ran out of time: it leaves as that, not as this function's timeout.
    assert.equal(timeout.name, DEPENDENCY_TIMEOUT);
    assert.equal(timeout.stack, `${DEPENDENCY_TIMEOUT}: mesh: call to ledger timed out`);
    // A deeper hop's refusal is no refusal by this function's wrapper: its caller must not read it as one.
    for (const name of ['MeshDeniedError', 'MeshDependencyDeniedError']) {
      const deeper = Object.assign(new Error('mesh: ledger refused the call: denied'), { name });
      await wrapHandler(rt, async () => {
        throw deeper;
      })({}, ctx({ v: 1, src: 'orders' })).catch(() => undefined);
      assert.equal(deeper.name, 'MeshDependencyDeniedError', name);
    }
    const own = new TypeError('bad');
    const stack = own.stack;
    await wrapHandler(rt, async () => {
      throw own;
    })({}, ctx({ v: 1, src: 'orders' })).catch(() => undefined);
    assert.equal(own.stack, stack);
  });

  test('the handler reads the verified caller and the idempotency key of the call', async () => {
    const { rt } = runtime({ extra: [{ pk: 'payments', sk: 'allow#external', source: 'external' }] });
    const seen: unknown[] = [];
    const h = wrapHandler(rt, async () => {
      const s = rt.scope!;
      seen.push({ source: s.source, idempotencyKey: s.idempotencyKey, attempt: s.attempt, requestId: s.requestId });
      return 1;
    });
    await h({}, ctx({ v: 1, src: 'orders', idk: 'charge-7', att: 2 }));
    await h({}, ctx());
    assert.deepEqual(seen, [
      { source: 'orders', idempotencyKey: 'charge-7', attempt: 2, requestId: 'req-1' },
      { source: 'external', idempotencyKey: 'req-1', attempt: undefined, requestId: 'req-1' },
    ]);
  });

  test('a handler error is rethrown as is and recorded as 500', async () => {
    const { rt, lines } = runtime();
    const boom = new TypeError('bad');
    await assert.rejects(
      wrapHandler(rt, async () => {
        throw boom;
      })({}, ctx({ v: 1, src: 'orders' })),
      (e) => e === boom,
    );
    assert.equal(JSON.parse(lines[0]!).response_code, '500');
  });
});
