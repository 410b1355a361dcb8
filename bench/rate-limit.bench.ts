/**
 * The mesh-wide rate limit's figure: 8 caller sandboxes (each its own runtime) against a 50 req/s
 * limit for 30 s of wall time, slices leased from the policy table on the local endpoint's DynamoDB:
 * what a fleet gets with the table writes' latency and the scheduling of real time included (the
 * integration test checks the same bounds on a simulated clock, where neither counts). Rows, each
 * next to a baseline so the ratio column reads as the other rows do:
 * - the admitted rate against the limit itself (ratio 1.00x is exact; budget 50/s ± 10%);
 * - table writes per 100 admitted calls against a limiter that writes the table once per call (100):
 *   the ratio is the share of those writes leasing still makes (budget: 10, one write per 10 admitted calls).
 * Run: npx tsx bench/rate-limit.bench.ts [--json]
 */
import { drive, startRateLimitStand } from '../test/support/rate-limit-run';
import { type BenchResult, one, runBenchScript } from './support/bench-rows';

const SECONDS = 30;
const LIMIT = 50;

export async function runRateLimitBench(): Promise<BenchResult[]> {
  const stand = await startRateLimitStand();
  try {
    await stand.put([
      { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
      { pk: 'payments', sk: 'allow#orders', source: 'orders' },
      { pk: 'payments', sk: 'traffic', rateLimit: { perSecond: LIMIT, burst: LIMIT } },
    ]);
    const r = await drive(stand.sandboxes(8), SECONDS * 1000);
    const rate = r.admitted / SECONDS;
    return [
      {
        name: 'rate limit: admitted/s, 8 sandboxes',
        unit: 'req/s',
        n: r.admitted,
        mesh: one(rate),
        baseline: one(LIMIT),
        budget: { of: 'p50', min: (LIMIT * 9) / 10, max: (LIMIT * 11) / 10 },
        note: `limit ${LIMIT}/s for ${SECONDS} s (baseline: the limit); refused ${r.refused}`,
      },
      {
        name: 'rate limit: table writes per 100 admitted',
        unit: 'writes',
        n: r.writes,
        mesh: one((100 * r.writes) / r.admitted),
        // A mesh-wide limit without leases: one conditional write per admitted call.
        baseline: one(100),
        budget: { of: 'p50', max: 10 },
        note: `${r.writes} conditional writes (refused ones included) for ${r.admitted} admitted calls; baseline: a write per call`,
      },
    ];
  } finally {
    await stand.close();
  }
}

if (require.main === module) {
  runBenchScript(runRateLimitBench, (r) => `${r.name.padEnd(44)} ${r.mesh.p50.toFixed(2)} ${r.unit}  (${r.note})`);
}
