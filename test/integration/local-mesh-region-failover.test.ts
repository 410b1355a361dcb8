/**
 * Region failover on the local mesh: the example app deployed to two regions (`-c secondRegion`, a
 * stack per region in one app, each with its own functions, secrets, policy table and mesh CA). With
 * payments unavailable in us-east-1 (reserved concurrency 0, which the local mesh enforces as Lambda
 * does: every Invoke throttled), every checkout in us-east-1 is still served, by payments in
 * eu-west-1: orders signs those calls with its own eu-west-1 identity, which eu-west-1's payments
 * verifies against its own CA. orders' handler learns it (withMeta), its metrics count the fallback
 * under the other region's version, its trace marks the span. Once payments is restored, checkouts
 * return to us-east-1 (failover is decided per call; a breaker that opened lets its probe through
 * after its open time, so the wait allows for it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteFunctionConcurrencyCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { LIVE_ALIAS, METRICS } from '../../shared/names';
import type { Trace, TraceSpan } from '../../shared/telemetry/trace-assembler';
import { exampleRelease1 } from '../support/example-assembly';
import { eventually } from '../support/mesh-cli';

const PRIMARY = 'us-east-1';
const SECOND = 'eu-west-1';

interface Order {
  readonly order: { readonly paidBy: { readonly region: string; readonly version: string; readonly fallback?: true } };
}

describe('local mesh: the example in two regions, failing over to the other region', () => {
  let mesh: LocalMesh;
  const clients = new Map<string, LambdaClient>();
  /** orders' EMF lines (as the local mesh's collector got them) and access-log lines. */
  const emf: Record<string, unknown>[] = [];
  const access: Record<string, unknown>[] = [];
  const lambda = (region: string) => {
    if (!clients.has(region)) {
      clients.set(
        region,
        new LambdaClient({
          endpoint: mesh.url,
          region,
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
          maxAttempts: 1,
        }),
      );
    }
    return clients.get(region)!;
  };
  const checkout = async (): Promise<Order> => {
    const out = await lambda(PRIMARY).send(
      new InvokeCommand({ FunctionName: 'shop-frontend', Qualifier: LIVE_ALIAS, Payload: '{"action":"checkout"}' }),
    );
    const body = Buffer.from(out.Payload ?? []).toString('utf8');
    assert.equal(out.FunctionError, undefined, `checkout failed: ${body}`);
    return JSON.parse(body) as Order;
  };

  before(async () => {
    mesh = await startLocalMesh({
      assemblies: [exampleRelease1({ secondRegion: SECOND })],
      port: 0,
      quiet: true,
      onLog: (fn, _version, line) => {
        if (fn !== 'shop-orders' || !line.startsWith('{')) return;
        const o = JSON.parse(line) as Record<string, unknown>;
        if (o._aws) emf.push(o);
        else if (o.type === 'mesh-access') access.push(o);
      },
    });
  });
  after(async () => {
    for (const c of clients.values()) c.destroy();
    await mesh?.stop();
  });

  it('deploys the shop to both regions', () => {
    assert.deepEqual(mesh.regions.regions(), [PRIMARY, SECOND]);
    for (const region of [PRIMARY, SECOND]) {
      assert.ok(mesh.regions.registry(region).functionNames().includes('shop-payments'), region);
    }
  });

  it('serves checkouts in the primary region while its payments is up', async () => {
    const { order } = await checkout();
    assert.equal(order.paidBy.region, PRIMARY);
    assert.equal(order.paidBy.fallback, undefined);
  });

  it('with the primary’s payments down, every checkout is paid in the other region, and says so', async () => {
    await lambda(PRIMARY).send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'shop-payments', ReservedConcurrentExecutions: 0 }),
    );
    const from = { emf: emf.length, access: access.length };
    const orders: Order[] = [];
    for (let i = 0; i < 12; i++) orders.push(await checkout());
    // The handler: every checkout paid, each by eu-west-1's payments as a fallback.
    assert.deepEqual(
      [...new Set(orders.map((o) => `${o.order.paidBy.region} fallback=${o.order.paidBy.fallback}`))],
      [`${SECOND} fallback=true`],
    );
    // The metrics: fallback_total on orders -> payments under eu-west-1's version.
    await eventually('the fallbacks in orders’ metrics', () =>
      emf.slice(from.emf).some((l) => l[METRICS.fallbackTotal] === 1),
    );
    const counted = emf.slice(from.emf).filter((l) => l[METRICS.fallbackTotal] === 1);
    assert.ok(
      counted.every(
        (l) => l.destination_workload === 'payments' && String(l.destination_version).endsWith(`@${SECOND}`),
      ),
      JSON.stringify(counted[0]),
    );
    assert.equal(counted.length, 12);
    // The primary's failure is recorded as it ended (throttled past the retries), once per checkout.
    const primary = access
      .slice(from.access)
      .filter((l) => l.reporter === 'source' && l.destination === 'payments' && !l.fallbackFor);
    assert.deepEqual(
      primary.map((l) => l.outcome),
      Array(12).fill('throttled'),
    );
    // The stats: the edge into eu-west-1's payments counts the fallbacks.
    const edge = mesh.store
      .stats({ windowMs: 600_000 })
      .edges.find((e) => e.source === 'orders' && e.version.endsWith(`@${SECOND}`));
    assert.equal(edge?.fallbacks, 12);
    // The trace: the fallback's span names the target it stood in for and the region.
    await eventually('a complete trace of a checkout paid in the other region', () => fallbackSpan() !== undefined);
    const span = fallbackSpan()!;
    assert.equal(span.annotations.fallback_for, 'payments');
    assert.equal(span.annotations.region, SECOND);
  });

  it('once the primary’s payments is back, checkouts return to it', async () => {
    await lambda(PRIMARY).send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'shop-payments' }));
    // The breaker lets its probe through after its open time (30 s in the example).
    await eventually(
      'a checkout paid in the primary region again',
      async () => (await checkout()).order.paidBy.region === PRIMARY,
      90_000,
    );
    const { order } = await checkout();
    assert.equal(order.paidBy.region, PRIMARY);
    assert.equal(order.paidBy.fallback, undefined);
  });

  /** A span of orders' newest complete traces annotated as a fallback. */
  function fallbackSpan(): TraceSpan | undefined {
    for (const summary of mesh.store.traces(50, { complete: true })) {
      const trace = mesh.store.trace(summary.id) as Trace;
      const found = find(trace.roots, (s) => s.annotations.fallback_for !== undefined);
      if (found) return found;
    }
    return undefined;
  }
});

function find(spans: readonly TraceSpan[], test: (s: TraceSpan) => boolean): TraceSpan | undefined {
  for (const s of spans) {
    if (test(s)) return s;
    const inner = find(s.children, test);
    if (inner) return inner;
  }
  return undefined;
}
