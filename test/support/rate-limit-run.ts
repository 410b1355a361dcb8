/**
 * Sandboxes of one caller under a mesh-wide rate limit, on the local endpoint's DynamoDB (dynalite,
 * the policy table, real conditional writes over the wire): each sandbox is a MeshRuntime of its
 * own (its own breakers, budgets and leased slices), reading its policy from the table and leasing
 * slices from it; the target answers in-process, since the limit decides before anything is sent.
 * Used by the integration test (a few seconds) and the bench row (30 s).
 */

import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import { TableLeaser } from '../../functions/mesh/resilience/rate-limit-table';
import { startEndpoint } from '../../local/endpoint';
import { TestInvoker, TestRegistry } from '../integration/local-endpoint-fixture';

export const RATE_TABLE = 'shop-policy';

export interface RateLimitStand {
  readonly env: Record<string, string>;
  /** Puts policy items (whole items, as `mesh policy set` writes them). */
  put(items: readonly Record<string, unknown>[]): Promise<void>;
  /** `n` sandboxes of orders, each with its own runtime and leaser. */
  sandboxes(n: number): Sandbox[];
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
  return {
    env,
    put: (items) => endpoint.dynamo.seedItems(RATE_TABLE, items as Record<string, unknown>[]),
    sandboxes(n) {
      return Array.from({ length: n }, () => {
        const leaser = new TableLeaser(RATE_TABLE, env);
        const box: Sandbox = { leaser, sent: 0, runtime: undefined as unknown as MeshRuntime };
        Object.assign(box, {
          runtime: new MeshRuntime({
            env,
            config: { meshName: 'shop', service: 'orders', functionVersion: '1' },
            policy: { tableName: RATE_TABLE, snapshotPath: null, ttlMs: 500, env },
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
        return box;
      });
    },
    close: () => endpoint.close(),
  };
}

/**
 * Each sandbox calls payments back to back (a call, then the next once it has ended, with a pause
 * after a refusal, as a handler retrying later would) until `ms` have passed.
 */
export async function drive(
  boxes: readonly Sandbox[],
  ms: number,
  pauseMs = 5,
): Promise<{ admitted: number; refused: number; writes: number }> {
  const end = Date.now() + ms;
  let refused = 0;
  const before = boxes.map((b) => [b.sent, b.leaser.writes] as const);
  await Promise.all(
    boxes.map(async (b) => {
      while (Date.now() < end) {
        try {
          await b.runtime.call('payments', {});
        } catch (err) {
          if ((err as Error).name !== 'MeshRateLimitedError') throw err;
          refused++;
        }
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    }),
  );
  const admitted = boxes.reduce((s, b, i) => s + b.sent - before[i]![0], 0);
  const writes = boxes.reduce((s, b, i) => s + b.leaser.writes - before[i]![1], 0);
  return { admitted, refused, writes };
}
