/**
 * Attack: a caller of a rate-limited target may write the target's rate-limit partition
 * (`ratelimit#<target>`: IAM's `dynamodb:LeadingKeys` names the partition, not what the item holds).
 * One write of the shared bucket's `tat` (the moment its next token is due) ten years ahead must not
 * refuse every caller of the target until then. Sandboxes of orders lease from the local endpoint's
 * DynamoDB (conditional UpdateItem on the wire) on a simulated clock.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rateLimitPartition, SORT_KEY } from '../../shared/names';
import { limitedEdgeStand } from '../support/limited-edge-stand';
import { driveInSteps, LIMITED_EDGE } from '../support/rate-limit-run';

const TEN_YEARS_MS = 10 * 365 * 86_400_000;
const STEP_MS = 10;

describe('attack: a rate-limit bucket moved ten years ahead', () => {
  const fixture = limitedEdgeStand();
  const { clock } = fixture;

  test('the limit still admits its rate: the forged bucket is read as full, and one write replaces it', async () => {
    const forgedTat = clock.now + TEN_YEARS_MS;
    await fixture.stand.put([
      {
        pk: rateLimitPartition('payments'),
        sk: SORT_KEY.rateLimitBucket(LIMITED_EDGE.limit.sk),
        tat: forgedTat,
        ttl: Math.ceil(forgedTat / 1000),
      },
    ]);
    const boxes = fixture.stand.sandboxes(4, clock);
    const r = await driveInSteps(boxes, clock, 2_000, STEP_MS);
    // GCRA from a full bucket: the burst, then one token per 20 ms; never more.
    const granted = 50 + Math.floor((2_000 - STEP_MS) / 20);
    assert.ok(r.admitted >= granted - 25, `admitted ${r.admitted} of ${granted}: the forged bucket refused the rest`);
    assert.ok(r.admitted <= granted, `admitted ${r.admitted}: over the limit (${granted})`);
  });
});
