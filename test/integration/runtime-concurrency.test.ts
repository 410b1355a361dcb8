/**
 * Many invocations at once in one process, as Lambda Managed Instances run them: 64 invocations of
 * one wrapped handler, each with its own deadline, trace, idempotency key and caller, each making
 * outbound calls (one after another, two in parallel, one through the local HTTP endpoint) over the
 * real Lambda client to a loopback Invoke server, with random delays on both sides. Every outbound
 * call must carry its own invocation's values, and the handler must read its own scope throughout.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { after, before, describe, test } from 'node:test';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { type MeshEndpoint, startEndpoint } from '../../functions/mesh/endpoint';
import { REQUEST_ID_HEADER } from '../../functions/mesh/endpoint-request';
import { derivedKey } from '../../functions/mesh/idempotency-key';
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import type { SegmentDoc } from '../../functions/mesh/telemetry/xray-emitter';
import { LambdaInvokeTransport } from '../../functions/mesh/transport/lambda-invoke';
import { wrapHandler } from '../../functions/mesh/wrapper';
import type { MeshMetadata } from '../../shared/names';
import { parseTraceHeader } from '../../shared/trace-header';
import { type LambdaInvokeServer, lambdaClientConfig, startLambdaInvokeServer } from '../support/lambda-invoke-server';
import { seeded } from '../support/seeded-random';

const N = 64;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What invocation `i` of orders is given: its own values everywhere. */
function invocation(i: number, now: number) {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  const root = `1-${hex(Math.floor(now / 1000), 8)}-${hex(i + 1, 24)}`;
  return {
    i,
    requestId: `req-${i}`,
    caller: `caller-${i}`,
    key: `key-${i}`,
    // A minute away (256 calls on a machine whose cores are busy can take seconds), and 13 ms apart:
    // the caller's deadline bounds every attempt, so `dl` equals it.
    deadline: now + 60_000 + 13 * i,
    attempt: 1 + (i % 3),
    root,
    parent: hex(0xabc000 + i, 16),
    // Half the invocations get their trace from the Lambda runtime's invoke store (Managed
    // Instances), half from the caller's metadata.
    fromInvokeStore: i % 2 === 0,
  };
}
type Invocation = ReturnType<typeof invocation>;

/** One outbound call as payments received it. */
interface Received {
  readonly event: { i: number; n: number; source?: string; requestId?: string; idempotencyKey?: string };
  readonly meta: MeshMetadata;
}

describe('concurrent invocations in one process', () => {
  const random = seeded(20261130);
  const received: Received[] = [];
  const segments: SegmentDoc[] = [];
  const runtimeStore = new AsyncLocalStorage<string>();
  let server: LambdaInvokeServer;
  let orders: MeshRuntime;
  let endpoint: MeshEndpoint;
  const savedTrace = process.env._X_AMZN_TRACE_ID;

  before(async () => {
    delete process.env._X_AMZN_TRACE_ID;
    // The Node.js runtime of Lambda Managed Instances keeps each invocation's trace header here.
    (globalThis as { awslambda?: unknown }).awslambda = {
      InvokeStore: { getXRayTraceId: () => runtimeStore.getStore() },
    };
    server = await startLambdaInvokeServer({
      'shop-payments': {
        versions: {
          '1': async (event: Received['event'], context) => {
            await sleep(random() * 15);
            received.push({ event, meta: context.clientContext!.custom!.mesh! });
            return { ok: event.i };
          },
        },
        aliases: { live: { version: '1' } },
      },
    });
    const items: unknown[] = [
      { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
      { pk: 'payments', sk: 'allow#orders', source: 'orders', timeoutMs: 300_000, perTryTimeoutMs: 240_000 },
      { pk: 'orders', sk: 'service', functionName: 'shop-orders' },
    ];
    for (let i = 0; i < N; i++) items.push({ pk: 'orders', sk: `allow#caller-${i}`, source: `caller-${i}` });
    orders = new MeshRuntime({
      env: {},
      config: { meshName: 'shop', service: 'orders' },
      policy: { snapshot: { mesh: 'shop', generatedAt: '', items }, snapshotPath: null },
      transport: new LambdaInvokeTransport({ client: new LambdaClient(lambdaClientConfig(server.url)) }),
      sink: () => undefined,
      onSegment: (doc) => segments.push(doc),
      identity: async () => undefined,
    });
    endpoint = startEndpoint(orders, { port: 0, env: {} });
    await endpoint.ready;
  });

  after(async () => {
    await endpoint.close();
    await server.close();
    delete (globalThis as { awslambda?: unknown }).awslambda;
    if (savedTrace !== undefined) process.env._X_AMZN_TRACE_ID = savedTrace;
  });

  test('64 invocations at once: every outbound call carries its own invocation’s deadline, trace, key and caller', async () => {
    // Prepare: the handler reads its scope before and after every wait and puts it in each call.
    let running = 0;
    let peak = 0;
    const view = () => ({
      source: orders.scope?.source,
      requestId: orders.scope?.requestId,
      idempotencyKey: orders.scope?.idempotencyKey,
    });
    const handler = async (event: { i: number }, context: { awsRequestId: string }) => {
      peak = Math.max(peak, ++running);
      const seen = [view()];
      await sleep(random() * 20);
      await orders.call('payments', { i: event.i, n: 1, ...view() });
      seen.push(view());
      await sleep(random() * 20);
      await Promise.all([
        orders.call('payments', { i: event.i, n: 2, ...view() }),
        sleep(random() * 5).then(() => orders.call('payments', { i: event.i, n: 3, ...view() })),
      ]);
      seen.push(view());
      const viaEndpoint = await fetch(`${endpoint.url}/payments`, {
        method: 'POST',
        headers: { [REQUEST_ID_HEADER]: context.awsRequestId },
        body: JSON.stringify({ i: event.i, n: 4, ...view() }),
      });
      assert.equal(viaEndpoint.status, 200, await viaEndpoint.clone().text());
      seen.push(view());
      running--;
      return seen;
    };
    const wrapped = wrapHandler(orders, handler as never);
    const now = Date.now();
    const all = Array.from({ length: N }, (_, i) => invocation(i, now));

    // Act: all 64 at once, each as Lambda would hand it over.
    const results = await Promise.all(
      all.map((inv) => {
        const header = `Root=${inv.root};Parent=${inv.parent};Sampled=1`;
        const mesh: MeshMetadata = {
          v: 1,
          src: inv.caller,
          dl: inv.deadline,
          att: inv.attempt,
          idk: inv.key,
          ...(inv.fromInvokeStore ? {} : { trc: header }),
        };
        const context = {
          awsRequestId: inv.requestId,
          functionVersion: '1',
          clientContext: { custom: { mesh } },
          getRemainingTimeInMillis: () => 600_000,
        };
        const invoke = () => wrapped({ i: inv.i }, context);
        return inv.fromInvokeStore ? runtimeStore.run(header, invoke) : invoke();
      }),
    );

    // Assess: they overlapped, each handler saw only its own scope, and so did every call it made.
    assert.equal(peak, N, 'all invocations were in flight at once');
    results.forEach((seen, i) => {
      const inv = all[i]!;
      for (const s of seen as ReturnType<typeof view>[]) {
        assert.deepEqual(s, { source: inv.caller, requestId: inv.requestId, idempotencyKey: inv.key });
      }
    });
    assert.equal(received.length, 4 * N);
    for (const { event, meta } of received) {
      const inv: Invocation = all[event.i]!;
      assert.equal(event.source, inv.caller);
      assert.equal(event.requestId, inv.requestId);
      assert.equal(meta.src, 'orders');
      assert.equal(meta.dl, inv.deadline, `call ${event.n} of invocation ${inv.i}: its deadline`);
      assert.equal(meta.idk, derivedKey(inv.key, 'payments', event.n), `call ${event.n} of ${inv.i}: its key`);
      const trace = parseTraceHeader(meta.trc);
      assert.equal(trace?.root, inv.root, `call ${event.n} of ${inv.i}: its trace`);
      assert.equal(trace?.sampled, true);
    }
    // One subsegment per call, each under its own invocation's parent.
    assert.equal(segments.length, 4 * N);
    const parentOf = new Map(all.map((inv) => [inv.root, inv.parent]));
    for (const s of segments) assert.equal(s.parent_id, parentOf.get(s.trace_id));
  });
});
