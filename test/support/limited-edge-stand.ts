/**
 * The set-up the rate-limit wire tests share, for one describe block: a stand whose table holds
 * LIMITED_EDGE, started before the block's tests and closed after them, and the simulated clock its
 * sandboxes run on, from a whole second near the wall clock's (the policy reads are signed with it).
 */
import { after, before } from 'node:test';
import { LIMITED_EDGE, type RateLimitStand, type SimulatedClock, startRateLimitStand } from './rate-limit-run';

export interface LimitedEdgeStand {
  /** The stand, once the block's `before` has started it. */
  readonly stand: RateLimitStand;
  readonly clock: SimulatedClock;
}

export function limitedEdgeStand(): LimitedEdgeStand {
  let stand: RateLimitStand | undefined;
  before(async () => {
    stand = await startRateLimitStand();
    await stand.put(Object.values(LIMITED_EDGE));
  });
  after(() => stand?.close());
  return {
    get stand() {
      if (!stand) throw new Error('the stand starts in the describe block’s before hook');
      return stand;
    },
    clock: { now: Math.ceil(Date.now() / 1000) * 1000 },
  };
}
