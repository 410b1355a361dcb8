/**
 * The mesh-wide rate limit's arithmetic: the lease plan on the table's bucket (GCRA over slices) and
 * one sandbox's share of it, on an injected clock. The table write itself is tested on dynalite
 * (test/integration/rate-limit-table.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  LEASE_MS,
  LeasedBucket,
  LeasedBuckets,
  latestLeasedTat,
  planLease,
  RESERVE_MS,
  sliceStart,
} from '../../functions/mesh/resilience/rate-limit';
import { MemoryLeaser } from '../../functions/mesh/resilience/rate-limit-lease';
import { CLOCK_SKEW_S } from '../../shared/names';

const T0 = 1_700_000_000_000;
const LIMIT = { perSecond: 50, burst: 50 };

describe('rate limit: the lease plan', () => {
  test('a bucket never leased holds its burst: the slice is granted, tat moves on by its interval', () => {
    const p = planLease(undefined, T0, LIMIT, 10);
    assert.deepEqual(p, { grant: 10, tat: T0 + 200, fresh: true, startsAt: T0 });
  });

  test('a bucket leased past its burst refuses until one slice has refilled', () => {
    // 50 tokens leased at T0: tat = T0 + 1000, the bucket is empty.
    const p = planLease(T0 + 1000, T0, LIMIT, 10, 5);
    assert.deepEqual(p, { grant: 0, retryAt: T0 + 200 }, 'the ten-token slice takes 200 ms at 50/s');
  });

  test('an empty bucket reserves the next slice within the horizon: it starts when it has refilled', () => {
    assert.deepEqual(planLease(T0 + 1000, T0, LIMIT, 10, 5, 1000), {
      grant: 10,
      tat: T0 + 1200,
      fresh: false,
      startsAt: T0 + 200,
    });
    // Booked 2 s ahead: a 10-token slice would start 1.2 s from now, past a 1 s horizon.
    assert.deepEqual(planLease(T0 + 2000, T0, LIMIT, 10, 5, 1000), { grant: 0, retryAt: T0 + 200 });
  });

  test('a tat further ahead than any lease leaves it (horizon, burst, clock skew) is read as a full bucket', () => {
    // 3 s of reservation horizon, 1 s of burst at 50/s, 2 s of skew.
    const latest = T0 + RESERVE_MS + 1000 + CLOCK_SKEW_S * 1000;
    assert.equal(latestLeasedTat(T0, LIMIT), latest);
    assert.deepEqual(planLease(latest, T0, LIMIT, 10, 5, RESERVE_MS), { grant: 0, retryAt: latest - 800 - RESERVE_MS });
    assert.deepEqual(planLease(latest + 1, T0, LIMIT, 10, 5, RESERVE_MS), {
      grant: 10,
      tat: T0 + 200,
      fresh: true,
      startsAt: T0,
    });
  });

  test('a bucket with fewer tokens than wanted grants what it holds, never below the minimum', () => {
    // tat 900 ms ahead: 5 tokens left.
    assert.deepEqual(planLease(T0 + 900, T0, LIMIT, 10, 2), { grant: 5, tat: T0 + 1000, fresh: false, startsAt: T0 });
    assert.equal(planLease(T0 + 900, T0, LIMIT, 10, 6).grant, 0);
  });

  test('an idle bucket is full again, not fuller: the burst caps what idling saves', () => {
    const p = planLease(T0 - 60_000, T0, LIMIT, 500);
    assert.deepEqual(p, { grant: 50, tat: T0 + 1000, fresh: true, startsAt: T0 });
  });
});

describe('rate limit: one sandbox’s share', () => {
  test('a granted slice is spent without the table, and expires after the lease period', () => {
    const b = new LeasedBucket(LIMIT);
    assert.equal(b.take(T0).kind, 'lease');
    b.granted(T0, 3);
    assert.deepEqual([b.take(T0 + 1).kind, b.take(T0 + 2).kind], ['admit', 'admit']);
    assert.equal(b.take(T0 + 3).kind, 'lease', 'the slice is spent');
    b.granted(T0 + 3, 3);
    assert.equal(b.take(T0 + 3 + LEASE_MS).kind, 'lease', 'unspent tokens of an old lease are not spent late');
  });

  test('the slice follows the sandbox’s demand, at most half the burst', () => {
    const quiet = new LeasedBucket(LIMIT);
    const first = quiet.take(T0);
    assert.deepEqual(
      first,
      { kind: 'lease', want: 4, minGrant: 4 },
      'one call in half a second: 2/s, for a lease period',
    );
    const busy = new LeasedBucket(LIMIT);
    let t: ReturnType<LeasedBucket['take']> = busy.take(T0);
    for (let i = 1; i < 100; i++) t = busy.take(T0 + i);
    assert.deepEqual(t, { kind: 'lease', want: 25, minGrant: 12 });
  });

  test('a reserved slice refuses calls until its turn, then admits them without the table', () => {
    const b = new LeasedBucket(LIMIT);
    b.take(T0);
    assert.equal(b.granted(T0, 3, T0 + 200), false, 'the caller that asked waits for the turn too');
    assert.deepEqual(b.take(T0 + 50), { kind: 'refuse', retryAfterMs: 150 });
    assert.deepEqual(
      [b.take(T0 + 200).kind, b.take(T0 + 201).kind, b.take(T0 + 202).kind],
      ['admit', 'admit', 'admit'],
    );
    assert.equal(b.take(T0 + 203).kind, 'lease');
  });

  test('refused: no table write until the bucket refills, then after a jitter that grows per refusal', () => {
    const b = new LeasedBucket(LIMIT);
    const first = b.refused(T0, T0 + 100, () => 1);
    assert.equal(first, 100 + 1000, 'refill time plus twice a slice’s refill time (25 tokens at 50/s)');
    assert.deepEqual(b.take(T0 + 1099), { kind: 'refuse', retryAfterMs: 1 });
    assert.equal(b.take(T0 + 1100).kind, 'lease');
    assert.equal(
      b.refused(T0 + 1100, T0 + 1200, () => 1),
      100 + 2000,
      'the second refusal in a row doubles the spread',
    );
    b.granted(T0 + 4000, 5);
    assert.equal(
      b.refused(T0 + 4100, T0 + 4200, () => 1),
      100 + 1000,
      'a grant resets the backoff',
    );
  });

  test('a changed limit starts a new share', () => {
    const buckets = new LeasedBuckets();
    const a = buckets.get('payments', 'traffic', LIMIT);
    assert.equal(buckets.get('payments', 'traffic', { ...LIMIT }), a);
    assert.notEqual(buckets.get('payments', 'traffic', { perSecond: 10, burst: 10 }), a);
    assert.notEqual(buckets.get('payments', 'allow#orders', LIMIT), buckets.get('payments', 'traffic', LIMIT));
  });
});

/**
 * Eight sandboxes, each offering 100 calls/s, share a 50/s limit for 30 s of simulated time: the
 * mesh admits 50/s (the burst once on top), and leases take few writes. The memory leaser counts a
 * refused lease as a write, as a refused conditional write costs one on the table.
 */
describe('rate limit: eight sandboxes on one bucket (simulated time)', () => {
  test('admits the limit within 10%, with at most one lease per 10 admitted calls', async () => {
    const leaser = new MemoryLeaser();
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const sandboxes = Array.from({ length: 8 }, () => new LeasedBucket(LIMIT));
    let admitted = 0;
    for (let ms = 0; ms < 30_000; ms += 10) {
      for (const [i, b] of sandboxes.entries()) {
        const now = T0 + ms + i; // each sandbox a little apart
        const t = b.take(now);
        if (t.kind === 'admit') admitted++;
        else if (t.kind === 'lease') {
          const r = await leaser.lease({ target: 'payments', scope: 'traffic', limits: LIMIT, ...t, now });
          if (r.granted === 0) b.refused(now, r.retryAt!, random);
          else if (b.granted(now, r.granted, r.startsAt)) admitted++;
        }
      }
    }
    const rate = admitted / 30;
    assert.ok(Math.abs(rate - 50) <= 5, `admitted ${rate.toFixed(2)}/s against 50/s`);
    assert.ok(leaser.writes * 10 <= admitted, `${leaser.writes} leases for ${admitted} admitted calls`);
  });
});

describe('rate limit: edges of the plan', () => {
  test('a tat exactly at now is a full bucket but not a fresh one (the table write conditions on tat < now)', () => {
    assert.deepEqual(planLease(T0, T0, LIMIT, 10), { grant: 10, tat: T0 + 200, fresh: false, startsAt: T0 });
  });

  test('without a horizon, a bucket holding exactly the minimum grants it now', () => {
    // tat 960 ms ahead: 2 tokens (40 ms of the 1 s tolerance, 20 ms each).
    assert.deepEqual(planLease(T0 + 960, T0, LIMIT, 10, 2), { grant: 2, tat: T0 + 1000, fresh: false, startsAt: T0 });
  });

  test('with a horizon, a bucket holding less than the slice reserves the whole slice rather than part now', () => {
    assert.deepEqual(planLease(T0 + 900, T0, LIMIT, 10, 2, 3_000), {
      grant: 10,
      tat: T0 + 1100,
      fresh: false,
      startsAt: T0 + 100,
    });
  });

  test('reserves a slice that starts exactly at the horizon, not one a millisecond later', () => {
    const slow = { perSecond: 1, burst: 10 };
    // Empty bucket (tat 10 s ahead): 3 tokens take 3 s.
    assert.deepEqual(planLease(T0 + 10_000, T0, slow, 3, 3, 3_000), {
      grant: 3,
      tat: T0 + 13_000,
      fresh: false,
      startsAt: T0 + 3_000,
    });
    assert.deepEqual(planLease(T0 + 10_001, T0, slow, 3, 3, 3_000), { grant: 0, retryAt: T0 + 1 });
  });

  test('a slice may be spent from its tat less the tolerance, and never before now', () => {
    assert.equal(sliceStart(T0 + 1_200, LIMIT, T0), T0 + 200);
    assert.equal(sliceStart(T0 + 800, LIMIT, T0), T0);
    assert.equal(sliceStart(T0 + 13_000, { perSecond: 2, burst: 4 }, T0), T0 + 11_000);
  });
});

describe('rate limit: edges of a sandbox’s share', () => {
  test('a slice that starts now gives its first token to the caller; a reserved one keeps them all', () => {
    const b = new LeasedBucket(LIMIT);
    assert.equal(b.granted(T0, 3), true);
    assert.equal(b.held(T0), 2);
    assert.equal(b.granted(T0, 3, T0 + 100), false);
    assert.equal(b.held(T0), 3);
    assert.equal(b.reservedFrom, T0 + 100);
  });

  test('a token given back returns to its slice while the slice lasts, and is gone with it', () => {
    const b = new LeasedBucket(LIMIT);
    b.granted(T0, 3);
    b.giveBack(T0 + 1);
    assert.equal(b.held(T0 + 1), 3);
    assert.equal(b.held(T0 + LEASE_MS - 1), 3, 'held until the last millisecond of the lease');
    assert.equal(b.held(T0 + LEASE_MS), 0, 'expired with the lease');
    b.giveBack(T0 + LEASE_MS);
    assert.equal(b.held(T0 + LEASE_MS - 1), 3, 'a token given back after the lease is not added');
  });

  test('sizes the lease from the last second’s calls only when that second just ended', () => {
    const limits = { perSecond: 100, burst: 100 };
    const S = 1_700_000_000 * 1_000; // a whole second
    const busy = new LeasedBucket(limits);
    for (let i = 0; i < 10; i++) busy.take(S + i);
    // The next second: 10 calls a second, 20 for a 2 s lease.
    assert.deepEqual(busy.take(S + 1_000), { kind: 'lease', want: 20, minGrant: 20 });
    const idle = new LeasedBucket(limits);
    for (let i = 0; i < 10; i++) idle.take(S + i);
    // A second later than that: the busy second is old, only this call counts (1 in half a second: 2/s).
    assert.deepEqual(idle.take(S + 2_000), { kind: 'lease', want: 4, minGrant: 4 });
  });

  test('starts a new share when the limit’s rate or burst changes', () => {
    const buckets = new LeasedBuckets();
    const a = buckets.get('payments', 'traffic', { perSecond: 10, burst: 10 });
    assert.equal(buckets.get('payments', 'traffic', { perSecond: 10, burst: 10 }), a);
    assert.notEqual(buckets.get('payments', 'traffic', { perSecond: 20, burst: 10 }), a);
    const b = buckets.get('payments', 'traffic', { perSecond: 20, burst: 10 });
    assert.notEqual(buckets.get('payments', 'traffic', { perSecond: 20, burst: 40 }), b);
  });

  test('the memory leaser keeps one bucket per target and scope, and counts its writes', async () => {
    const leaser = new MemoryLeaser();
    const req = { target: 'payments', scope: 'traffic', limits: { perSecond: 1, burst: 2 }, want: 2, minGrant: 2 };
    assert.equal((await leaser.lease({ ...req, now: T0 })).granted, 2);
    assert.equal((await leaser.lease({ ...req, target: 'orders', now: T0 })).granted, 2, 'another target');
    assert.equal((await leaser.lease({ ...req, scope: 'allow#orders', now: T0 })).granted, 2, 'another scope');
    assert.deepEqual(
      await leaser.lease({ ...req, now: T0 }),
      { granted: 2, startsAt: T0 + 2_000 },
      'this bucket is empty: its next slice is reserved for when it has refilled',
    );
    assert.equal(leaser.writes, 4);
  });
});
