/**
 * A mesh-wide rate limit on the wire: eight sandboxes of one caller (each its own runtime) lease
 * slices of one bucket from the policy table (the local endpoint's DynamoDB, conditional UpdateItem
 * signed on the wire) and together admit the limit, not eight times it, with few table writes; the
 * limit lifts when the item no longer carries it. The sandboxes run on a simulated clock, so what
 * the bucket admits does not depend on how fast this process is scheduled. The 30 s figure, on the
 * wall clock, is bench/rate-limit.bench.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUTHORIZATION_GRACE_MS } from '../../functions/mesh/policy/policy-cache';
import { limitedEdgeStand } from '../support/limited-edge-stand';
import { driveInSteps, LIMITED_EDGE, POLICY_TTL_MS } from '../support/rate-limit-run';

/** Each sandbox calls once per step: 8 sandboxes offer 800 calls a (simulated) second. */
const STEP_MS = 10;

describe('rate limit: eight sandboxes, one mesh-wide bucket in the policy table', () => {
  const fixture = limitedEdgeStand();
  const { clock } = fixture;

  test('admits 50/s across the sandboxes (burst once), with few table writes', async () => {
    const boxes = fixture.stand.sandboxes(8, clock);
    const seconds = 5;
    const r = await driveInSteps(boxes, clock, seconds * 1000, STEP_MS);
    const rate = r.admitted / seconds;
    process.stdout.write(
      `# 8 sandboxes, 50/s limit, ${seconds} s simulated: admitted ${r.admitted} (${rate.toFixed(1)}/s), refused ${r.refused}, ` +
        `table writes ${r.writes} (${(r.writes / r.admitted).toFixed(3)} per admitted call)\n`,
    );
    assert.equal(r.admitted + r.refused, 8 * ((seconds * 1000) / STEP_MS), 'every call was admitted or refused');
    // GCRA: the burst at the first step, then one token per 20 ms up to the last step (t = 4990 ms).
    const granted = 50 + Math.floor((seconds * 1000 - STEP_MS) / 20);
    assert.ok(r.admitted <= granted, `admitted ${r.admitted}: over the limit (${granted})`);
    // Tokens are lost only to the slice still being spent when the run ends (half the burst at most):
    // slices are reserved in turn, so the bucket is never idle long enough to fill up.
    assert.ok(r.admitted >= granted - 25, `admitted ${r.admitted}: under the limit (${granted} less one slice)`);
    // Each sandbox's first leases are small while it learns its demand: over 5 s that start weighs
    // more than over the bench's 30 s (where the figure is one write per 10 admitted calls or fewer).
    assert.ok(r.writes * 5 <= r.admitted, `${r.writes} writes for ${r.admitted} admitted calls`);
  });

  test('lifts when the item no longer carries the limit', async () => {
    const [box] = fixture.stand.sandboxes(1, clock);
    const limited = await driveInSteps([box!], clock, 300, STEP_MS);
    assert.ok(limited.refused > 0, 'the limit applied before it was lifted');
    const { rateLimit: _, ...unlimited } = LIMITED_EDGE.limit;
    await fixture.stand.put([unlimited]);
    // Past the policy TTL and the grace after it: the next call reads the table before it is authorized.
    clock.now += POLICY_TTL_MS + AUTHORIZATION_GRACE_MS + STEP_MS;
    const r = await driveInSteps([box!], clock, 1_000, STEP_MS);
    assert.deepEqual({ admitted: r.admitted, refused: r.refused }, { admitted: 100, refused: 0 });
  });
});
