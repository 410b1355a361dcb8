/**
 * The checkout under injected faults on the local mesh (test/support/local-mesh-app/checkout), with
 * side effects counted where they happen: the leaf's ledger (DynamoDB on the local endpoint).
 * - A timed-out charge on an edge that is not idempotent is not repeated: the checkout says unknown.
 * - An idempotent edge with 30% timeouts, deduplicated with Powertools on the mesh's idempotency key:
 *   no order charged twice, every checkout answered or reported unknown.
 * - Timeouts, function errors and throttles on 30% of calls, on both edges: no duplicate where the
 *   leaf deduplicates, and never more completed charges than checkouts where it cannot.
 * Faults: the leaf makes a share of calls slow (after charging) or fail (before); `fault` items in the
 * policy table abort a share of calls as throttled; reserved concurrency throttles bursts for real.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { MANAGED_BY, SORT_KEY, TABLE } from '../../shared/names';
import { checkoutFixtureAssembly, clientConfig } from '../support/example-assembly';

interface Result {
  readonly orderId: string;
  readonly status: 'charged' | 'failed' | 'unknown';
  readonly error?: string;
  readonly errorType?: string;
}
type Faults = { timeout?: number; error?: number; seed?: string };

const skip = process.env.MESH_TEST_ENDPOINT ? 'counts inside the local mesh' : false;
/** The fixture's policy TTL (1 s) plus the grace past which every call reads the table first. */
const POLICY_BOUND_MS = 2_000;

describe('security: the checkout under chaos, side effects counted at the leaf', { skip }, () => {
  let mesh: LocalMesh;
  let lambda: LambdaClient;
  let db: DynamoDBClient;
  let ledger = '';
  let policy = '';
  /** The checkout's refusals as its access log gives them (for failure messages). */
  const refusals: string[] = [];

  const checkout = async (orderId: string, target: string, faults?: Faults): Promise<Result> => {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'chk-checkout',
        Qualifier: 'live',
        Payload: Buffer.from(JSON.stringify({ orderId, target, amountCents: 100, faults })),
      }),
    );
    const text = Buffer.from(out.Payload ?? new Uint8Array()).toString();
    // The checkout itself never fails: every order gets an answer.
    assert.equal(out.FunctionError, undefined, `checkout ${orderId} got no answer: ${text} ${refusals.slice(-3)}`);
    return JSON.parse(text) as Result;
  };
  /** `n` checkouts, `parallel` at a time (bursts past the leaves' reserved concurrency of 4). */
  const run = async (prefix: string, target: string, n: number, parallel: number, faults?: Faults) => {
    const results: Result[] = [];
    for (let i = 0; i < n; i += parallel) {
      const batch = Array.from({ length: Math.min(parallel, n - i) }, (_, j) =>
        checkout(`${prefix}-${i + j}`, target, faults),
      );
      results.push(...(await Promise.all(batch)));
    }
    return results;
  };
  /** Completed charges per order id, from the ledger, once every charge in flight has finished. */
  const charges = async (prefix: string): Promise<Map<string, number>> => {
    await quiet();
    const count = new Map<string, number>();
    let start: Record<string, never> | undefined;
    do {
      const page = await db.send(new ScanCommand({ TableName: ledger, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const key = item.pk!.S!;
        if (key.startsWith(`${prefix}-`)) count.set(key, (count.get(key) ?? 0) + 1);
      }
      start = page.LastEvaluatedKey as typeof start;
    } while (start);
    return count;
  };
  /** Waits until no leaf is running: a timed-out charge completes after its caller gave up. */
  const quiet = async () => {
    const busy = () => mesh.invoker.workers().some((w) => w.busy && w.functionName !== 'chk-checkout');
    for (let i = 0; i < 200 && busy(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(busy(), false, 'leaves still running after 10 s');
  };
  const faultItem = (service: string) => ({
    [TABLE.partitionKey]: { S: service },
    [TABLE.sortKey]: { S: SORT_KEY.fault },
  });
  const attemptsTo = (fn: string, from: number) =>
    mesh
      .recentInvocations()
      .slice(from)
      .filter((r) => r.functionName === fn).length;

  before(async () => {
    // Room for bursts: the leaves' reserved concurrency is what throttles, not the account's.
    mesh = await startLocalMesh({
      assemblies: [checkoutFixtureAssembly()],
      port: 0,
      quiet: true,
      concurrencyLimit: 100,
    });
    lambda = new LambdaClient(clientConfig(mesh.url));
    db = new DynamoDBClient(clientConfig(mesh.url));
    const env = mesh.registry.getFunction('chk-charge')!.Environment!.Variables!;
    ledger = env.LEDGER_TABLE!;
    policy = env.MESH_POLICY_TABLE!;
    // Warm every function (cold starts are not the faults under test): four sandboxes per leaf, each
    // started by a direct call the leaf's policy refuses (refused after init, so the sandbox stays).
    await Promise.all(
      ['chk-charge', 'chk-charge-once'].flatMap((name) =>
        Array.from({ length: 4 }, () =>
          lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: 'live', Payload: Buffer.from('{}') })),
        ),
      ),
    );
    // The first real charges load the leaves' SDK clients; on a busy machine they may outlast the
    // per-try timeout (that ends unknown, safely): charge until each leaf has answered in time.
    for (const target of ['charge', 'charge-once']) {
      let warm: Result[] = [];
      for (let round = 0; round < 10 && !warm.some((r) => r.status === 'charged'); round++) {
        warm = await run(`warm-${target}-${round}`, target, 4, 4);
      }
      assert.ok(
        warm.some((r) => r.status === 'charged'),
        JSON.stringify(warm),
      );
    }
  });

  after(async () => {
    lambda?.destroy();
    db?.destroy();
    await mesh?.stop();
  });

  it('finding 1: a timed-out charge on an edge that is not idempotent is not repeated; the checkout says unknown', async () => {
    // Act: every first attempt charges, then answers after the per-try timeout (one checkout at a
    // time: the slow charges keep fewer sandboxes busy than the leaf's reserved concurrency)
    const from = mesh.recentInvocations().length;
    const results = await run('slow', 'charge', 6, 1, { timeout: 1, seed: 'slow' });
    const ledgerCount = await charges('slow');
    // Assess: every checkout says unknown, and no order was charged twice
    assert.deepEqual(
      results.map((r) => `${r.status}:${r.error}`),
      results.map(() => 'unknown:MeshOutcomeUnknownError'),
    );
    assert.deepEqual(
      [...ledgerCount].filter(([, n]) => n > 1),
      [],
      'orders charged more than once',
    );
    assert.ok(ledgerCount.size > 0, 'the slow charges ran');
    const completed = mesh
      .recentInvocations()
      .slice(from)
      .filter((r) => r.functionName === 'chk-charge' && r.outcome === 'ok').length;
    assert.equal(
      completed,
      [...ledgerCount.values()].reduce((a, b) => a + b, 0),
      'no second attempt completed',
    );
  });

  it('idempotent edge, 30% injected timeouts: no order charged twice, every checkout answered or reported unknown', async (t) => {
    // Act
    const from = mesh.recentInvocations().length;
    const results = await run('idem', 'charge-once', 40, 4, { timeout: 0.3, seed: 'idem' });
    const ledgerCount = await charges('idem');
    // Assess
    const byStatus = (s: Result['status']) => results.filter((r) => r.status === s);
    const retried = attemptsTo('chk-charge-once', from) - results.length;
    assert.ok(retried > 0, 'timeouts were injected and retried');
    t.diagnostic(
      `40 checkouts: ${byStatus('charged').length} charged, ${byStatus('unknown').length} unknown, ` +
        `${byStatus('failed').length} failed; ${retried} retries; ` +
        `${[...ledgerCount.values()].reduce((a, b) => a + b, 0)} charges in the ledger`,
    );
    const twice = [...ledgerCount].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'orders charged more than once');
    for (const r of byStatus('charged')) assert.equal(ledgerCount.get(r.orderId), 1, `${r.orderId} answered charged`);
    for (const r of byStatus('failed'))
      assert.equal(ledgerCount.get(r.orderId) ?? 0, 0, `${r.orderId} answered failed`);
    assert.ok(byStatus('charged').length >= 30, `only ${byStatus('charged').length} of 40 charged`);
  });

  it('chaos on both edges (timeouts, function errors, throttles on 30% of calls): no duplicate where the leaf dedupes, never more charges than checkouts where it cannot', async (t) => {
    // Prepare: a tenth of the calls to each leaf aborted as throttled (client-side, never delivered)
    for (const service of ['charge', 'charge-once']) {
      await db.send(
        new PutItemCommand({
          TableName: policy,
          Item: {
            ...faultItem(service),
            managedBy: { S: MANAGED_BY.operator },
            abort: { M: { percent: { N: '10' }, errorType: { S: 'TooManyRequestsException' } } },
          },
        }),
      );
    }
    try {
      await new Promise((r) => setTimeout(r, POLICY_BOUND_MS + 200));
      // Act: a tenth slow, a tenth failing, bursts of 6 past the leaves' reserved concurrency of 4
      // (seed chosen so that each kind of fault shows up among these 40 orders: the draw is per key and
      // attempt, and a handful of orders is a small sample of 10%)
      const faults = { timeout: 0.1, error: 0.1, seed: 'chaos-8' };
      const throttlesBefore = mesh.invoker.counters.throttles;
      const plain = await run('chaos-plain', 'charge', 40, 6, faults);
      const once = await run('chaos-once', 'charge-once', 40, 6, faults);
      const plainCharges = await charges('chaos-plain');
      const onceCharges = await charges('chaos-once');
      const tally = (rs: Result[], c: Map<string, number>) =>
        `${rs.filter((r) => r.status === 'charged').length} charged, ${rs.filter((r) => r.status === 'unknown').length} ` +
        `unknown, ${rs.filter((r) => r.status === 'failed').length} failed, ` +
        `${[...c.values()].reduce((a, b) => a + b, 0)} charges`;
      t.diagnostic(
        `not idempotent: ${tally(plain, plainCharges)}; idempotent: ${tally(once, onceCharges)}; ` +
          `${mesh.invoker.counters.throttles - throttlesBefore} throttles`,
      );
      // Assess, not idempotent: never more completed charges than checkouts, none for a definite failure
      const total = [...plainCharges.values()].reduce((a, b) => a + b, 0);
      assert.ok(total <= plain.length, `${total} charges for ${plain.length} checkouts`);
      const consistent = (r: Result, n: number) =>
        (r.status === 'charged' ? [1] : r.status === 'failed' ? [0] : [0, 1]).includes(n);
      for (const r of plain) {
        const n = plainCharges.get(r.orderId) ?? 0;
        assert.ok(consistent(r, n), `${r.orderId} ${r.status} (${r.error}) with ${n} charges`);
      }
      // Idempotent with dedupe: no order charged twice
      assert.deepEqual(
        [...onceCharges].filter(([, n]) => n > 1),
        [],
        'orders charged more than once',
      );
      for (const r of once) {
        const n = onceCharges.get(r.orderId) ?? 0;
        assert.ok(consistent(r, n), `${r.orderId} ${r.status} (${r.error}) with ${n} charges`);
      }
      // The faults did happen: slow charges ended unknown, errors failed, bursts were throttled for real
      const statuses = new Set(plain.map((r) => r.status));
      assert.ok(statuses.has('unknown') && statuses.has('failed') && statuses.has('charged'), [...statuses].join());
      assert.ok(mesh.invoker.counters.throttles > throttlesBefore, 'bursts were throttled by reserved concurrency');
    } finally {
      for (const service of ['charge', 'charge-once']) {
        await db.send(new DeleteItemCommand({ TableName: policy, Key: faultItem(service) }));
      }
    }
  });
});
