/**
 * Wire tests of the runtime: call() through the REAL @aws-sdk/client-lambda against a loopback
 * server speaking the Lambda Invoke API, which runs the callees' wrapped handlers in-process.
 */

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { startEndpoint } from '../../functions/mesh/endpoint';
import {
  MeshCircuitOpenError,
  MeshDeniedError,
  MeshOutcomeUnknownError,
  MeshRemoteError,
  MeshThrottledError,
} from '../../functions/mesh/errors';
import { loadHandler } from '../../functions/mesh/handler-loader';
import { MeshRuntime, type MeshRuntimeOptions } from '../../functions/mesh/mesh-runtime';
import { RETRY_BUDGET_WINDOW_MS } from '../../functions/mesh/resilience/retry-budget';
import type { SegmentDoc } from '../../functions/mesh/telemetry/xray-emitter';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { wrapHandler } from '../../functions/mesh/wrapper';
import type { MeshMetadata } from '../../shared/names';
import {
  type ClientContextDoc,
  type LambdaInvokeServer,
  lambdaClientConfig,
  startLambdaInvokeServer,
  type TestHandler,
} from '../support/lambda-invoke-server';

const FIXTURES = join(__dirname, '../fixtures/runtime');
const MESH = 'shop';

function snapshot(extra: unknown[] = []) {
  return {
    mesh: MESH,
    generatedAt: new Date(0).toISOString(),
    items: [
      { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
      {
        pk: 'payments',
        sk: 'allow#orders',
        source: 'orders',
        retries: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
      },
      { pk: 'orders', sk: 'service', functionName: 'shop-orders' },
      { pk: 'orders', sk: 'allow#external', source: 'external' },
      { pk: 'audit', sk: 'service', functionName: 'shop-audit' },
      ...extra,
    ],
  };
}

interface Env {
  server: LambdaInvokeServer;
  lines: string[];
  segments: SegmentDoc[];
  orders: MeshRuntime;
  runtimeFor(service: string): MeshRuntime;
}

async function setup(
  functions: Record<
    string,
    {
      versions: Record<string, TestHandler>;
      aliases?: Record<string, { version: string; weights?: Record<string, number> }>;
      timeoutMs?: number;
    }
  >,
  extraItems: unknown[] = [],
  runtimeOptions: Pick<MeshRuntimeOptions, 'now' | 'sleep'> = {},
): Promise<Env> {
  const lines: string[] = [];
  const segments: SegmentDoc[] = [];
  let server: LambdaInvokeServer | undefined;
  const runtimeFor = (service: string) =>
    new MeshRuntime({
      env: {},
      config: { meshName: MESH, service, functionVersion: '1' },
      policy: { snapshot: snapshot(extraItems), snapshotPath: null },
      transport: new LambdaInvokeTransport({ client: new LambdaClient(lambdaClientConfig(server!.url)) }),
      sink: (l) => lines.push(...l.split('\n')),
      onSegment: (d) => segments.push(d),
      identity: async () => undefined,
      sleep: async () => undefined,
      ...runtimeOptions,
    });
  server = await startLambdaInvokeServer(functions);
  return { server, lines, segments, orders: runtimeFor('orders'), runtimeFor };
}

const ccMeta = (cc: ClientContextDoc | undefined): Partial<MeshMetadata> => cc?.custom?.mesh ?? {};

describe('runtime wire: call() over the real Lambda SDK', () => {
  let env: Env | undefined;
  afterEach(async () => {
    await env?.server.close();
    env = undefined;
  });

  test('success: the callee sees the exact payload, metadata arrives in ClientContext, EMF + access log on both sides', async () => {
    // Prepare
    let seen: unknown;
    env = await setup({
      'shop-payments': {
        versions: {
          '1': (e, c) => wrapped(e, c),
        },
        aliases: { live: { version: '1' } },
      },
    });
    const paymentsRt = env.runtimeFor('payments');
    const wrapped = wrapHandler(paymentsRt, async (event: unknown) => {
      seen = event;
      return { paid: true };
    });
    const body = { order: 'o-1', amount: 12.5, nested: { list: [1, 'two'] } };
    // Act
    const result = await env.orders.call('payments', body, { idempotencyKey: 'idem-1' });
    // Assess
    assert.deepEqual(result, { paid: true });
    assert.deepEqual(seen, body);
    const inv = env.server.invocations[0]!;
    assert.equal(inv.functionName, 'shop-payments');
    assert.equal(inv.qualifier, 'live');
    assert.equal(ccMeta(inv.clientContext).src, 'orders');
    assert.equal(ccMeta(inv.clientContext).idk, 'idem-1');
    assert.equal(ccMeta(inv.clientContext).att, 1);
    assert.equal(typeof ccMeta(inv.clientContext).dl, 'number');
    const emf = env.lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
    const reporters = emf.map((m) => m.reporter).sort();
    assert.deepEqual(reporters, ['destination', 'source']);
    for (const m of emf) {
      assert.equal(m.source_workload, 'orders');
      assert.equal(m.destination_workload, 'payments');
      assert.equal(m.response_code, '200');
      assert.equal(m.requests_total, 1);
      assert.equal(m._aws.CloudWatchMetrics[0].Namespace, `LambdaMesh/${MESH}`, "the mesh's own namespace");
    }
    const logs = env.lines.filter((l) => l.includes('"mesh-access"')).map((l) => JSON.parse(l));
    assert.equal(logs.length, 2);
    assert.ok(logs.every((l) => l.idempotencyKey === 'idem-1'));
  });

  test('remote function error arrives typed with its errorType and errorMessage', async () => {
    env = await setup({
      'shop-payments': {
        versions: {
          '1': () => {
            const e = new Error('card declined');
            e.name = 'CardDeclined';
            throw e;
          },
        },
        aliases: { live: { version: '1' } },
      },
    });
    await assert.rejects(env.orders.call('payments', { a: 1 }), (err: unknown) => {
      assert.ok(err instanceof MeshRemoteError);
      assert.equal(err.errorType, 'CardDeclined');
      assert.equal(err.errorMessage, 'card declined');
      assert.equal(err.code, 'MeshRemoteError');
      return true;
    });
    // Function errors are not retried on a non-idempotent edge.
    assert.equal(env.server.invocations.length, 1);
  });

  test('throttled (429) then retried within the budget; every attempt carries the same idempotency key', async () => {
    env = await setup({
      'shop-payments': { versions: { '1': () => ({ ok: 1 }) }, aliases: { live: { version: '1' } } },
    });
    env.server.throttleNext('shop-payments', 2);
    const result = await env.orders.call('payments', { a: 1 });
    assert.deepEqual(result, { ok: 1 });
    const invs = env.server.invocations;
    assert.deepEqual(
      invs.map((i) => i.status),
      [429, 429, 200],
    );
    assert.deepEqual(
      invs.map((i) => ccMeta(i.clientContext).att),
      [1, 2, 3],
    );
    const keys = new Set(invs.map((i) => ccMeta(i.clientContext).idk));
    assert.equal(keys.size, 1);
    const emf = env.lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
    assert.equal(emf.find((m) => m.reporter === 'source').retries_total, 2);
  });

  test('a target that always fails exhausts the retry budget: retries_total <= ratio x requests + floor', async () => {
    // Prepare: every attempt fails with a function error, retried on this idempotent edge up to 10
    // attempts; the breaker never opens (1000 consecutive failures) and the clock stands still, so
    // one budget window sees every call. Without a budget 50 calls would send 450 retries.
    const ratio = 0.2;
    const minPerSecond = 1;
    const calls = 50;
    const allowance = ratio * calls + minPerSecond * (RETRY_BUDGET_WINDOW_MS / 1000); // 20
    env = await setup(
      {
        'shop-payments': {
          versions: {
            '1': () => {
              throw Object.assign(new Error('card processor down'), { name: 'Down' });
            },
          },
          aliases: { live: { version: '1' } },
        },
      },
      [
        {
          pk: 'payments',
          sk: 'allow#orders',
          source: 'orders',
          idempotent: true,
          retries: { maxAttempts: 10, retryOn: ['function-error'] },
          budget: { ratio, minPerSecond },
          breaker: { consecutiveFailures: 1000, failureRateThreshold: 1, windowSize: 10_000 },
        },
      ],
      { now: () => 1_800_000_000_000 },
    );
    // Act
    for (let i = 0; i < calls; i++) await assert.rejects(env.orders.call('payments', { i }), MeshRemoteError);
    // Assess: the caller's metrics and the wire agree, and the budget held retries to its allowance.
    const emf = env.lines
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as { reporter: string; requests_total?: number; retries_total?: number })
      .filter((m) => m.reporter === 'source');
    const requests = emf.reduce((n, m) => n + (m.requests_total ?? 0), 0);
    const retries = emf.reduce((n, m) => n + (m.retries_total ?? 0), 0);
    assert.equal(requests, calls);
    assert.ok(
      retries <= ratio * requests + minPerSecond * (RETRY_BUDGET_WINDOW_MS / 1000),
      `retries_total ${retries} for ${requests} requests`,
    );
    assert.equal(retries, Math.floor(allowance), 'the budget is spent, not left unused');
    assert.equal(env.server.invocations.length, calls + retries);
    // The first call uses all its 10 attempts (the floor allows 10 retries, it needs 9); from then on
    // each 5 further requests (ratio 0.2) buy one more retry, so no later call retries more than once.
    const idks = [...new Set(env.server.invocations.map((inv) => ccMeta(inv.clientContext).idk))];
    assert.equal(idks.length, calls);
    const attempts = idks.map(
      (k) => env!.server.invocations.filter((inv) => ccMeta(inv.clientContext).idk === k).length,
    );
    assert.equal(attempts[0], 10, 'the first call may use all its attempts');
    assert.ok(
      attempts.slice(1).every((a) => a <= 2),
      `later calls retry at most once: ${attempts.join(',')}`,
    );
  });

  test('throttled past the attempts: MeshThrottledError', async () => {
    env = await setup({
      'shop-payments': { versions: { '1': () => ({ ok: 1 }) }, aliases: { live: { version: '1' } } },
    });
    env.server.throttleNext('shop-payments', 10);
    await assert.rejects(env.orders.call('payments', {}), MeshThrottledError);
    assert.equal(env.server.invocations.length, 3);
  });

  test('timeout: the per-try timeout aborts the attempt; not idempotent, the call ends outcome unknown', async () => {
    env = await setup(
      {
        'shop-payments': {
          versions: { '1': () => new Promise((r) => setTimeout(() => r('late'), 400)) },
          aliases: { live: { version: '1' } },
        },
      },
      [{ pk: 'payments', sk: 'traffic', perTryTimeoutMs: 50, timeoutMs: 120, retries: { maxAttempts: 1 } }],
    );
    await assert.rejects(
      env.orders.call('payments', {}),
      (err: unknown) => err instanceof MeshOutcomeUnknownError && /per-try|overall/.test(err.message),
    );
  });

  test('denied locally: no Invoke leaves the process (no allow#orders on audit)', async () => {
    env = await setup({ 'shop-audit': { versions: { '1': () => 1 } } });
    await assert.rejects(env.orders.call('audit', {}), MeshDeniedError);
    assert.equal(env.server.invocations.length, 0);
    const emf = env.lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
    assert.equal(emf[0].denied_total, 1);
    assert.equal(emf[0].response_code, '403');
  });

  test('the callee refuses a caller its policy does not allow: MeshDeniedError on the caller', async () => {
    // payments' snapshot allows orders, but the callee wrapper runs as "payments" and sees "audit" as source.
    let wrapped!: ReturnType<typeof wrapHandler>;
    env = await setup(
      { 'shop-payments': { versions: { '1': (e, c) => wrapped(e, c) }, aliases: { live: { version: '1' } } } },
      [
        { pk: 'payments', sk: 'allow#audit', source: 'audit' },
        { pk: 'payments', sk: 'deny#audit', source: 'audit', reason: 'fraud review' },
      ],
    );
    wrapped = wrapHandler(env.runtimeFor('payments'), async () => 'should not run');
    // The caller's local check passes only if it does not know the deny: use a caller whose cache lacks it.
    const audit = new MeshRuntime({
      env: {},
      config: { meshName: MESH, service: 'audit' },
      policy: {
        snapshot: {
          mesh: MESH,
          generatedAt: '',
          items: [
            { pk: 'payments', sk: 'allow#audit', source: 'audit' },
            { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
          ],
        },
        snapshotPath: null,
      },
      transport: new LambdaInvokeTransport({ client: new LambdaClient(lambdaClientConfig(env.server.url)) }),
      sink: (l) => env!.lines.push(...l.split('\n')),
      identity: async () => undefined,
    });
    await assert.rejects(audit.call('payments', {}), MeshDeniedError);
    assert.equal(env.server.invocations.length, 1, 'a refusal is not retried');
    assert.equal(env.server.invocations[0]!.functionError, 'Unhandled');
  });

  test('deadline propagation: the callee refuses work whose deadline passed', async () => {
    let ran = false;
    let wrapped!: ReturnType<typeof wrapHandler>;
    let calleeDone!: () => void;
    const calleeFinished = new Promise<void>((r) => (calleeDone = r));
    env = await setup(
      {
        'shop-payments': {
          versions: {
            '1': async (e, c) => {
              // The request waits "queued" until the deadline it carries has passed, however long
              // the caller took to send it (a busy machine cannot make it arrive early).
              const dl = c.clientContext?.custom?.mesh?.dl ?? Date.now();
              await new Promise((r) => setTimeout(r, Math.max(0, dl - Date.now()) + 500));
              try {
                return await wrapped(e, c);
              } finally {
                setImmediate(calleeDone);
              }
            },
          },
          aliases: { live: { version: '1' } },
        },
      },
      [{ pk: 'payments', sk: 'traffic', perTryTimeoutMs: 5000, retries: { maxAttempts: 1 } }],
    );
    wrapped = wrapHandler(env.runtimeFor('payments'), async () => {
      ran = true;
      return 'x';
    });
    // orders runs inside an invocation whose caller gave it 1 s.
    env.orders.scope = { deadline: Date.now() + 1000 };
    // The caller gives up at its deadline before the refusal arrives: for all it knows the handler ran.
    await assert.rejects(env.orders.call('payments', {}), MeshOutcomeUnknownError);
    env.orders.scope = undefined;
    // Bounded: should the attempt never have been sent, this fails instead of waiting for ever.
    const reached = await Promise.race([
      calleeFinished.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 30_000).unref()),
    ]);
    assert.ok(reached, 'the attempt was sent before the deadline and reached payments');
    const inv = env.server.invocations[0]!;
    assert.ok((ccMeta(inv.clientContext).dl ?? Number.POSITIVE_INFINITY) <= Date.now());
    assert.equal(ran, false);
    assert.ok(env.lines.some((l) => l.includes('MeshDeadlineExceededError')));
  });

  test('breaker opens on a failing canary and its share goes to the stable version (SWRR route)', async () => {
    env = await setup(
      {
        'shop-payments': {
          versions: {
            '1': () => ({ v: 1 }),
            '2': () => {
              throw Object.assign(new Error('boom'), { name: 'CanaryBug' });
            },
          },
        },
      },
      [
        { pk: 'payments', sk: 'route', weights: { '1': 0.5, '2': 0.5 } },
        { pk: 'payments', sk: 'traffic', retries: { maxAttempts: 1 } },
      ],
    );
    let failures = 0;
    for (let i = 0; i < 40; i++) {
      try {
        await env.orders.call('payments', { i });
      } catch (err) {
        assert.ok(err instanceof MeshRemoteError);
        failures++;
      }
    }
    const toV2 = env.server.invocations.filter((i) => i.qualifier === '2').length;
    assert.equal(failures, 5, 'the canary stops receiving traffic after 5 failed calls');
    assert.equal(toV2, 5);
    const emf = env.lines.filter((l) => l.includes('breaker_open_total')).map((l) => JSON.parse(l));
    assert.equal(emf.length, 1);
    assert.equal(emf[0].destination_version, '2');
  });

  test('breaker open on a pinned alias: MeshCircuitOpenError without an Invoke', async () => {
    env = await setup(
      {
        'shop-payments': {
          versions: {
            '1': () => {
              throw new Error('down');
            },
          },
          aliases: { live: { version: '1' } },
        },
      },
      [{ pk: 'payments', sk: 'traffic', retries: { maxAttempts: 1 } }],
    );
    for (let i = 0; i < 5; i++) await assert.rejects(env.orders.call('payments', {}), MeshRemoteError);
    await assert.rejects(env.orders.call('payments', {}), MeshCircuitOpenError);
    assert.equal(env.server.invocations.length, 5);
  });

  test('trace: one subsegment per attempt, the header passed on with Parent = the subsegment', async () => {
    env = await setup({ 'shop-payments': { versions: { '1': () => 1 }, aliases: { live: { version: '1' } } } });
    env.server.throttleNext('shop-payments', 1);
    env.orders.scope = {
      trace: { root: '1-5759e988-bd862e3fe1be46a994272793', parent: '53995c3f42cd8ad8', sampled: true },
    };
    await env.orders.call('payments', {});
    env.orders.scope = undefined;
    assert.equal(env.segments.length, 2);
    assert.deepEqual(
      env.segments.map((s) => s.annotations!.attempt),
      [1, 2],
    );
    assert.equal(env.segments[0]!.annotations!.outcome, 'throttled');
    const inv = env.server.invocations[1]!;
    assert.equal(
      ccMeta(inv.clientContext).trc,
      `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${env.segments[1]!.id};Sampled=1`,
    );
    assert.equal(inv.traceHeader, ccMeta(inv.clientContext).trc);
    assert.ok(env.segments.every((s) => s.parent_id === '53995c3f42cd8ad8' && s.type === 'subsegment'));
  });

  test('Sampled=0: no segments', async () => {
    env = await setup({ 'shop-payments': { versions: { '1': () => 1 }, aliases: { live: { version: '1' } } } });
    env.orders.scope = {
      trace: { root: '1-5759e988-bd862e3fe1be46a994272793', parent: '53995c3f42cd8ad8', sampled: false },
    };
    await env.orders.call('payments', {});
    env.orders.scope = undefined;
    assert.equal(env.segments.length, 0);
  });

  test('the local HTTP endpoint with a plain fetch: result, and errors as JSON with a status', async () => {
    env = await setup({
      'shop-payments': {
        versions: {
          '1': (e: { fail?: boolean }) => {
            if (e.fail) throw Object.assign(new Error('nope'), { name: 'Declined' });
            return { got: e };
          },
        },
        aliases: { live: { version: '1' } },
      },
    });
    const ep = startEndpoint(env.orders, { port: 0, env: {} as NodeJS.ProcessEnv });
    try {
      await ep.ready;
      const ok = await fetch(`${ep.url}/payments`, { method: 'POST', body: JSON.stringify({ x: 1 }) });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { got: { x: 1 } });
      const bad = await fetch(`${ep.url}/payments`, { method: 'POST', body: JSON.stringify({ fail: true }) });
      assert.equal(bad.status, 502);
      const b = (await bad.json()) as { errorType?: string; errorMessage?: string };
      assert.equal(b.errorType, 'Declined');
      assert.equal(b.errorMessage, 'nope');
      const denied = await fetch(`${ep.url}/audit`, { method: 'POST', body: '{}' });
      assert.equal(denied.status, 403);
    } finally {
      await ep.close();
    }
  });

  test('the local HTTP endpoint serves only its own processes (the secret path) on loopback names', async () => {
    const e = await setup({
      'shop-payments': { versions: { '1': () => 'paid' }, aliases: { live: { version: '1' } } },
    });
    env = e;
    const before = e.server.invocations.length;
    let runtimeUsed = 0;
    const processEnv = {} as NodeJS.ProcessEnv;
    const ep = startEndpoint(
      () => {
        runtimeUsed++;
        return e.orders;
      },
      { port: 0, env: processEnv },
    );
    try {
      await ep.ready;
      const base = new URL(ep.url);
      assert.equal(processEnv.MESH_ENDPOINT, ep.url, 'the handler reads the same URL from its environment');
      const post = (path: string, headers: Record<string, string> = {}) =>
        rawPost(Number(base.port), path, { host: `127.0.0.1:${base.port}`, ...headers });
      // Another local process knows the port, not the secret.
      assert.equal((await post('/payments')).status, 401);
      assert.equal((await post(`${base.pathname.slice(0, -2)}/payments`)).status, 401);
      // A page that rebinds its own name to 127.0.0.1, even one that guessed the secret.
      assert.equal(
        (await post(`${base.pathname}/payments`, { host: `rebind.attacker.example:${base.port}` })).status,
        403,
      );
      assert.equal((await post(`${base.pathname}/payments`, { origin: 'https://attacker.example' })).status, 403);
      assert.equal(runtimeUsed, 0, 'a refused request never reaches the runtime');
      assert.equal(e.server.invocations.length, before);
      // The handler's own client: MESH_ENDPOINT as it is, and by the localhost name too.
      const own = await fetch(`${processEnv.MESH_ENDPOINT}/payments`, { method: 'POST', body: '{}' });
      assert.equal(own.status, 200);
      assert.equal(await own.json(), 'paid');
      const byName = await fetch(`http://localhost:${base.port}${base.pathname}/payments`, {
        method: 'POST',
        body: '{}',
      });
      assert.equal(byName.status, 200);
    } finally {
      await ep.close();
    }
  });

  test('handlers in both module formats behind the wrapper (CJS and ESM fixtures)', async () => {
    let cjs!: ReturnType<typeof wrapHandler>;
    let esm!: ReturnType<typeof wrapHandler>;
    env = await setup({ 'shop-payments': { versions: { '1': (e, c) => cjs(e, c), '2': (e, c) => esm(e, c) } } }, [
      { pk: 'payments', sk: 'route', weights: { '1': 0.5, '2': 0.5 } },
    ]);
    const pay = env.runtimeFor('payments');
    cjs = wrapHandler(pay, loadHandler('cjs-handler.handler', FIXTURES));
    esm = wrapHandler(pay, loadHandler('esm-handler.handler', FIXTURES));
    type Echo = { format: string; event: { n: number } };
    const a = (await env.orders.call('payments', { n: 1 })) as Echo;
    const b = (await env.orders.call('payments', { n: 2 })) as Echo;
    assert.deepEqual([a.format, b.format].sort(), ['cjs', 'esm']);
    assert.deepEqual([a.event.n, b.event.n].sort(), [1, 2]);
  });

  test('fault item: the callee injects the abort, so both sides record it on the edge, and its handler never runs', async () => {
    let ran = 0;
    env = await setup(
      { 'shop-payments': { versions: { '1': (e, c) => wrapped(e, c) }, aliases: { live: { version: '1' } } } },
      [{ pk: 'payments', sk: 'fault', abort: { percent: 100, errorType: 'Chaos' } }],
    );
    const wrapped = wrapHandler(env.runtimeFor('payments'), async () => {
      ran++;
      return 1;
    });
    await assert.rejects(
      env.orders.call('payments', {}),
      (e: unknown) => e instanceof MeshRemoteError && e.errorType === 'Chaos',
    );
    assert.equal(env.server.invocations.length, 1, 'the call reached payments');
    assert.equal(ran, 0, 'the abort replaced the handler');
    const emf = env.lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
    const callee = emf.find((m) => m.reporter === 'destination');
    assert.equal(callee.response_code, '500');
    assert.equal(callee.destination_version, '1');
    assert.equal(emf.find((m) => m.reporter === 'source').response_code, '502');
    const log = env.lines
      .map((l) => JSON.parse(l))
      .find((l) => l.type === 'mesh-access' && l.reporter === 'destination');
    assert.equal(log.reason, 'fault injected: abort (Chaos)');
  });

  test('fault item: an injected delay is in the callee’s own duration of the edge', async () => {
    env = await setup(
      { 'shop-payments': { versions: { '1': (e, c) => wrapped(e, c) }, aliases: { live: { version: '1' } } } },
      [{ pk: 'payments', sk: 'fault', delay: { percent: 100, ms: 60 } }],
      { sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
    );
    const wrapped = wrapHandler(env.runtimeFor('payments'), async () => 'ok');
    assert.equal(await env.orders.call('payments', {}), 'ok');
    const callee = env.lines
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l))
      .find((m) => m.reporter === 'destination');
    assert.equal(callee.response_code, '200');
    // Timers may fire a little early against performance.now(): a margin, not the exact 60 ms.
    assert.ok(callee.request_duration_ms >= 50, `the callee measured ${callee.request_duration_ms} ms`);
  });

  test('mirror: a copy goes to the shadow version and its failure does not touch the call', async () => {
    let shadowSaw: unknown;
    let shadowDone!: () => void;
    const shadowRan = new Promise<void>((r) => (shadowDone = r));
    env = await setup(
      {
        'shop-payments': {
          versions: {
            '1': () => ({ v: 1 }),
            '3': (e: unknown) => {
              shadowSaw = e;
              setImmediate(shadowDone);
              throw new Error('shadow broke');
            },
          },
          aliases: { live: { version: '1' } },
        },
      },
      [{ pk: 'payments', sk: 'route', mirror: { version: '3', percent: 100 } }],
    );
    assert.deepEqual(await env.orders.call('payments', { m: 1 }), { v: 1 });
    await shadowRan;
    assert.deepEqual(shadowSaw, { m: 1 });
  });
});

describe('runtime wire: mirror traffic and routing headers', () => {
  let env: Env | undefined;
  afterEach(async () => {
    await env?.server.close();
    env = undefined;
  });

  test('a mirror copy is counted apart by the callee (mirror_requests_total), never as a request', async () => {
    let shadowDone!: () => void;
    const shadowRan = new Promise<void>((r) => (shadowDone = r));
    env = await setup(
      {
        'shop-payments': {
          versions: { '1': (e, c) => live(e, c), '3': (e, c) => shadow(e, c) },
          aliases: { live: { version: '1' } },
        },
      },
      [{ pk: 'payments', sk: 'route', mirror: { version: '3', percent: 100 } }],
    );
    const pay = env.runtimeFor('payments');
    const live = wrapHandler(pay, async () => ({ v: 1 }));
    const shadow = wrapHandler(pay, async () => {
      setImmediate(shadowDone);
      return { v: 3 };
    });
    assert.deepEqual(await env.orders.call('payments', { m: 1 }), { v: 1 });
    await shadowRan;
    await new Promise((r) => setImmediate(r));
    const callee = env.lines
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l))
      .filter((m) => m.reporter === 'destination');
    assert.equal(callee.length, 2);
    const real = callee.find((m) => m.requests_total === 1)!;
    const copy = callee.find((m) => m.mirror_requests_total === 1)!;
    assert.ok(real && copy, JSON.stringify(callee));
    assert.equal(copy.requests_total, undefined, 'a mirror copy is not a request');
    assert.equal(typeof copy.mirror_request_duration_ms, 'number');
    assert.deepEqual(
      copy._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name),
      ['mirror_requests_total', 'mirror_request_duration_ms'],
    );
    const shadowCc = env.server.invocations.find((i) => i.qualifier === '3')!.clientContext;
    assert.equal(ccMeta(shadowCc).mir, 1);
  });

  test('a mirror copy’s call to a writer is not sent: the real call’s is, once', async () => {
    let shadowDone!: (e: unknown) => void;
    const shadowEnded = new Promise<unknown>((r) => (shadowDone = r));
    env = await setup(
      {
        'shop-payments': {
          versions: { '1': (e, c) => live(e, c), '3': (e, c) => shadow(e, c) },
          aliases: { live: { version: '1' } },
        },
        'shop-audit': { versions: { '1': () => 'written' }, aliases: { live: { version: '1' } } },
      },
      [
        { pk: 'payments', sk: 'route', mirror: { version: '3', percent: 100 } },
        // Not idempotent (the default): a write that must happen once.
        { pk: 'audit', sk: 'allow#payments', source: 'payments' },
      ],
    );
    const pay = env.runtimeFor('payments');
    const writeAudit = async () => pay.call('audit', { order: 7 });
    const live = wrapHandler(pay, writeAudit);
    const shadow = wrapHandler(pay, () =>
      writeAudit().then(
        (r) => shadowDone(r),
        (err: Error) => {
          // As the handler saw it: the wrapper renames a mesh error that leaves the handler.
          shadowDone({ name: err.name, message: err.message });
          throw err;
        },
      ),
    );
    assert.equal(await env.orders.call('payments', { m: 1 }), 'written');
    const refused = (await shadowEnded) as { name: string; message: string };
    assert.equal(refused.name, 'MeshCallError');
    assert.equal(refused.message, 'mesh: a mirror copy makes no call to audit (not idempotent)');
    const writes = env.server.invocations.filter((i) => i.functionName === 'shop-audit');
    assert.equal(writes.length, 1, 'audit was written once, by the real call');
    assert.equal(ccMeta(writes[0]!.clientContext).mir, undefined);
  });

  test('an inbound HTTP request’s routing header routes the calls it makes, across hops', async () => {
    const route = (service: string) => ({
      pk: service,
      sk: 'route',
      weights: { '1': 1 },
      matches: [{ header: 'x-route-beta', exact: 'yes', version: '2' }],
    });
    env = await setup(
      {
        'shop-payments': {
          versions: { '1': (e, c) => pay(e, c), '2': (e, c) => pay(e, c) },
          aliases: { live: { version: '1' } },
        },
        'shop-audit': {
          versions: { '1': () => 'audit v1', '2': () => 'audit v2' },
          aliases: { live: { version: '1' } },
        },
      },
      [route('payments'), route('audit'), { pk: 'audit', sk: 'allow#payments', source: 'payments' }],
    );
    const payRt = env.runtimeFor('payments');
    const pay = wrapHandler(payRt, async () => payRt.call('audit', {}));
    const orders = wrapHandler(env.orders, async () => env!.orders.call('payments', {}));
    // A Function URL request (payload format 2.0) into orders, with and without the header.
    const http = (headers: Record<string, string>) => ({
      version: '2.0',
      rawPath: '/checkout',
      headers: { 'content-type': 'application/json', ...headers },
      requestContext: { http: { method: 'POST' } },
      body: '{}',
      isBase64Encoded: false,
    });
    const ctx = { awsRequestId: 'r-1', getRemainingTimeInMillis: () => 5000 };
    assert.equal(await orders(http({ 'X-Route-Beta': 'yes', authorization: 'secret' }), ctx), 'audit v2');
    const beta = env.server.invocations.map((i) => `${i.functionName}:${i.qualifier}`).sort();
    assert.deepEqual(beta, ['shop-audit:2', 'shop-payments:2']);
    // Only routing headers travel: never the request's Authorization.
    const toPayments = env.server.invocations.find((i) => i.functionName === 'shop-payments')!;
    const carried = ccMeta(toPayments.clientContext).rh;
    assert.deepEqual(carried, { 'x-route-beta': 'yes' });
    assert.equal(await orders(http({}), ctx), 'audit v1');
  });
});

/** A POST with exactly these headers (fetch would set Host and Origin itself). */
function rawPost(port: number, path: string, headers: Record<string, string>): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers, setHost: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}
