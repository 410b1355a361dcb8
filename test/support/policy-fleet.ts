/**
 * Policy caches of several sandboxes on one shared clock, against one table (the policy version tests):
 * warmed at staggered moments over one TTL, then called on until TTL + 1 s after a change to see when
 * each decides as it should.
 */
import assert from 'node:assert/strict';
import { PolicyCache, type PolicyTableClient } from '../../functions/mesh/policy/policy-cache';

export interface FleetOptions {
  readonly table: string;
  readonly client: PolicyTableClient;
  readonly clock: { t: number };
  /** @default 5_000 */
  readonly ttlMs?: number;
  /** The service every cache reads. @default 'payments' */
  readonly service?: string;
}

export function policyFleet(opts: FleetOptions) {
  const ttl = opts.ttlMs ?? 5_000;
  const service = opts.service ?? 'payments';
  const { clock } = opts;
  return {
    ttl,
    /** `n` caches that read `service` from the table, each warmed TTL / n after the one before. */
    async warm(n: number): Promise<PolicyCache[]> {
      const caches: PolicyCache[] = [];
      for (let i = 0; i < n; i++) {
        const c = new PolicyCache({
          tableName: opts.table,
          snapshotPath: null,
          ttlMs: ttl,
          now: () => clock.t,
          client: opts.client,
          random: () => i / n,
          log: () => undefined,
        });
        assert.equal((await c.get(service)).origin, 'table');
        caches.push(c);
        clock.t += Math.floor(ttl / n);
      }
      return caches;
    },
    /**
     * Calls on every cache every 250 ms for TTL + 1 s from now; each cache's ms until it first decided as
     * `expect` says (NaN: never). A cache that goes back fails the test.
     */
    async seenWithin(caches: PolicyCache[], source: string, expect: boolean): Promise<number[]> {
      const changedAt = clock.t;
      const seen = caches.map(() => Number.NaN);
      for (let step = 0; step <= (ttl + 1_000) / 250; step++) {
        for (const [i, c] of caches.entries()) {
          const at = c.now();
          const allowed = c.authorize(await c.get(service), source, at).allowed;
          if (Number.isNaN(seen[i]) && allowed === expect) seen[i] = at - changedAt;
          if (!Number.isNaN(seen[i])) assert.equal(allowed, expect, `cache ${i} went back`);
        }
        await Promise.all(caches.map((c) => c.settled()));
        clock.t += 250;
      }
      return seen;
    },
    /** Every time within TTL + 1 s. */
    within: (ms: readonly number[]) => ms.every((m) => m <= ttl + 1_000),
  };
}
