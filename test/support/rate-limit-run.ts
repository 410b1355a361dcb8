/**
 * Sandboxes of one caller under a mesh-wide rate limit, on the local endpoint's DynamoDB (dynalite,
 * the policy table, real conditional writes over the wire): each sandbox is a MeshRuntime of its
 * own (its own breakers, budgets and leased slices), reading its policy from the table and leasing
 * slices from it; the target answers in-process, since the limit decides before anything is sent.
 * The integration test drives them on a simulated clock (`driveInSteps`: what the bucket admits does
 * not depend on how fast this process runs); the bench row drives them on the wall clock for 30 s
 * (`drive`: lease latency and scheduling included, as a real fleet sees them).
 */

import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { TableLeaser } from '../../functions/mesh/resilience/rate-limit-table';
import { startEndpoint } from '../../local/endpoint';
import { TestInvoker, TestRegistry } from '../integration/local-endpoint-fixture';
import { seeded } from './seeded-random';

export const RATE_TABLE = 'shop-policy';
/** The sandboxes' policy TTL: a changed limit reaches them within it plus the authorization grace. */
export const POLICY_TTL_MS = 500;

/** payments, its caller orders, and a mesh-wide limit of 50 calls a second (a burst of 50) on the edge. */
export const LIMITED_EDGE = {
  service: { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  edge: { pk: 'payments', sk: 'allow#orders', source: 'orders' },
  limit: { pk: 'payments', sk: 'traffic', managedBy: 'operator', rateLimit: { perSecond: 50, burst: 50 } },
} as const;

export interface RateLimitStand {
  readonly env: Record<string, string>;
  /** Puts policy items (whole items, as `mesh policy set` writes them). */
  put(items: readonly Record<string, unknown>[]): Promise<void>;
  /**
   * `n` sandboxes of orders, each with its own runtime and leaser. On `clock` (simulated), everything
   * that reads time on a call's path reads it (runtime, policy cache, the leases and their conditional
   * writes), and each sandbox draws its refusal jitter from its own seeded sequence, so a run repeats.
   */
  sandboxes(n: number, clock?: SimulatedClock): Sandbox[];
  close(): Promise<void>;
}

export interface Sandbox {
  readonly runtime: MeshRuntime;
  readonly leaser: TableLeaser;
  /** Invokes sent (admitted calls). */
  sent: number;
}

export async function startRateLimitStand(): Promise<RateLimitStand> {
  const registry = new TestRegistry();
  const endpoint = await startEndpoint({ port: 0, registry, invoker: new TestInvoker(registry) });
  await endpoint.dynamo.createPolicyTable(RATE_TABLE);
  const env = {
    AWS_ENDPOINT_URL: endpoint.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
  const made: MeshRuntime[] = [];
  return {
    env,
    put: (items) => endpoint.dynamo.seedItems(RATE_TABLE, items as Record<string, unknown>[]),
    sandboxes(n, clock) {
      const now = clock && (() => clock.now);
      return Array.from({ length: n }, (_, i) => {
        const leaser = new TableLeaser(RATE_TABLE, env);
        const box: Sandbox = { leaser, sent: 0, runtime: undefined as unknown as MeshRuntime };
        Object.assign(box, {
          runtime: new MeshRuntime({
            env,
            config: { meshName: 'shop', service: 'orders', functionVersion: '1' },
            policy: { tableName: RATE_TABLE, snapshotPath: null, ttlMs: POLICY_TTL_MS, env, now },
            now,
            random: clock && seeded(i + 1),
            identity: async () => undefined,
            sharedBreakers: false,
            sink: () => undefined,
            rateLimitLeaser: () => leaser,
            transport: {
              invoke: async () => {
                box.sent++;
                return { statusCode: 200, executedVersion: '1', payload: Buffer.from('{}') };
              },
            },
          }),
        });
        made.push(box.runtime);
        return box;
      });
    },
    async close() {
      // A policy read the last calls started in the background ends before the table goes.
      await Promise.all(made.map((r) => r.policy.settled()));
      await endpoint.close();
    },
  };
}

/** What a run of calls came to: calls sent, calls refused by the limit, and table writes. */
export interface DriveResult {
  readonly admitted: number;
  readonly refused: number;
  readonly writes: number;
}

/**
 * Each sandbox calls payments back to back (a call, then the next once it has ended, with a pause
 * after each, as a handler retrying later would) until `ms` of wall time have passed.
 */
export async function drive(boxes: readonly Sandbox[], ms: number, pauseMs = 5): Promise<DriveResult> {
  const end = Date.now() + ms;
  const run = tally(boxes);
  await Promise.all(
    boxes.map(async (b) => {
      while (Date.now() < end) {
        await run.call(b);
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    }),
  );
  return run.result();
}

/** Simulated epoch ms: it moves only when the driver moves it. */
export interface SimulatedClock {
  now: number;
}

/**
 * `ms` of simulated time in steps of `stepMs`: at each step every sandbox makes one call (all at once,
 * so their lease writes race as they would), and time moves on once they have all ended. A starved
 * process takes longer over it, but every sandbox sees the same times and makes the same calls.
 */
export async function driveInSteps(
  boxes: readonly Sandbox[],
  clock: SimulatedClock,
  ms: number,
  stepMs = 10,
): Promise<DriveResult> {
  const run = tally(boxes);
  for (let t = 0; t < ms; t += stepMs) {
    await Promise.all(boxes.map((b) => run.call(b)));
    clock.now += stepMs;
  }
  return run.result();
}

/** Counts a run's calls from the sandboxes' counters as they stand now. */
function tally(boxes: readonly Sandbox[]) {
  const before = boxes.map((b) => [b.sent, b.leaser.writes] as const);
  let refused = 0;
  return {
    async call(b: Sandbox): Promise<void> {
      try {
        await b.runtime.call('payments', {});
      } catch (err) {
        if ((err as Error).name !== 'MeshRateLimitedError') throw err;
        refused++;
      }
    },
    result(): DriveResult {
      const admitted = boxes.reduce((s, b, i) => s + b.sent - before[i]![0], 0);
      const writes = boxes.reduce((s, b, i) => s + b.leaser.writes - before[i]![1], 0);
      return { admitted, refused, writes };
    },
  };
}
