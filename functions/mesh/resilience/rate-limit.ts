/**
 * A mesh-wide rate limit, spent locally. The limit is one token bucket (GCRA: the "theoretical
 * arrival time" `tat` of the next token, epoch ms) kept in the policy table; a sandbox leases a slice
 * of tokens from it with one conditional update and spends the slice without any I/O until it runs
 * out or expires. Pure: time comes in as `now`, randomness as `random`; the table write is
 * rate-limit-lease.ts. The accuracy/cost trade-off is in docs/rate-limits.md.
 */

import { CLOCK_SKEW_S } from '../../../shared/names';

/** How long leased tokens stay spendable: their share of the mesh-wide rate is counted when leased. */
export const LEASE_MS = 2_000;
/** Longest wait between table attempts of a sandbox refused again and again. */
export const MAX_REFUSAL_BACKOFF_MS = 2_000;

/** What the table holds of one bucket, as last seen. */
export interface BucketLimits {
  readonly perSecond: number;
  readonly burst: number;
}

/** How far ahead a slice may be reserved: a sandbox queues for its next slice instead of writing again. */
export const RESERVE_MS = 3_000;

/**
 * The furthest ahead of `now` a lease leaves a bucket's `tat`: a reservation's horizon and a whole
 * burst, plus the clock skew tolerated between sandboxes. A `tat` further ahead was written by no lease
 * (a caller may write its targets' rate-limit partitions, any value): it is read as a full bucket and
 * replaced, so one write cannot refuse every caller until that moment.
 */
export function latestLeasedTat(now: number, limits: BucketLimits): number {
  return now + RESERVE_MS + (limits.burst * 1000) / limits.perSecond + CLOCK_SKEW_S * 1000;
}

/** A lease the table can grant, given its `tat` (undefined: never leased, or long idle). */
export type LeasePlan =
  | { readonly grant: number; readonly tat: number; readonly fresh: boolean; readonly startsAt: number }
  | { readonly grant: 0; readonly retryAt: number };

/**
 * GCRA over slices: `want` tokens (at least `minGrant`), spendable from `startsAt`: now while the
 * bucket holds them, else the moment it will have (a reservation, at most `reserveMs` ahead), so
 * sandboxes queue for slices in turn rather than racing each other's writes. `fresh`: the bucket was
 * full (`tat` in the past, or further ahead than any lease leaves it), so the new `tat` starts from
 * `now` rather than from the old one.
 */
export function planLease(
  stored: number | undefined,
  now: number,
  limits: BucketLimits,
  want: number,
  minGrant = 1,
  reserveMs = 0,
): LeasePlan {
  const interval = 1000 / limits.perSecond;
  const tolerance = limits.burst * interval;
  const fresh = stored === undefined || stored < now || stored > latestLeasedTat(now, limits);
  const base = fresh ? now : stored;
  // Tokens the bucket holds now: each one moves `tat` on by one interval, up to `tolerance` ahead of now.
  const holds = Math.floor((now + tolerance - base) / interval + 1e-9);
  const floor = Math.max(1, Math.min(minGrant, limits.burst));
  const full = Math.min(Math.max(want, floor), limits.burst);
  if (holds >= full || (holds >= floor && reserveMs <= 0)) {
    const grant = Math.min(full, holds);
    return { grant, tat: base + grant * interval, fresh, startsAt: now };
  }
  // The whole slice, from the moment the bucket will hold it: fewer, larger leases than a part now.
  const tat = base + full * interval;
  const startsAt = Math.max(now, tat - tolerance);
  if (startsAt - now > reserveMs) return { grant: 0, retryAt: startsAt - reserveMs };
  return { grant: full, tat, fresh, startsAt };
}

/** When a slice that moved the bucket's `tat` to `tat` may be spent. */
export function sliceStart(tat: number, limits: BucketLimits, now: number): number {
  return Math.max(now, tat - (limits.burst * 1000) / limits.perSecond);
}

/** What a call gets from its sandbox's share of one bucket. */
export type Take =
  | { readonly kind: 'admit' }
  | { readonly kind: 'lease'; readonly want: number; readonly minGrant: number }
  | { readonly kind: 'refuse'; readonly retryAfterMs: number };

/**
 * One sandbox's share of one mesh-wide bucket: leased tokens, when they expire, and after a refusal
 * when the table is worth asking again (no write while the bucket is known to be empty).
 */
export class LeasedBucket {
  private tokens = 0;
  private startsAt = 0;
  private expiresAt = 0;
  private refusedUntil = 0;
  private refusals = 0;
  /** Takes in the current and the previous second: the sandbox's demand, which sizes its next lease. */
  private second = Number.NEGATIVE_INFINITY;
  private thisSecond = 0;
  private lastSecond = 0;

  constructor(readonly limits: BucketLimits) {}

  /** Spends a leased token, or says to lease (how many) or to refuse (for how long). */
  take(now: number): Take {
    this.count(now);
    if (this.tokens > 0 && now < this.expiresAt) {
      // A reserved slice: its turn has not come, and the table need not hear from this sandbox.
      if (now < this.startsAt) return { kind: 'refuse', retryAfterMs: this.startsAt - now };
      this.tokens--;
      return { kind: 'admit' };
    }
    if (now < this.refusedUntil) return { kind: 'refuse', retryAfterMs: this.refusedUntil - now };
    const want = this.want(now);
    return { kind: 'lease', want, minGrant: this.minGrant(want) };
  }

  /**
   * The table granted `n` tokens at `now`, spendable from `startsAt` for one lease period. A slice
   * that starts now gives its first token to the caller that asked (true); a reserved one does not.
   */
  granted(now: number, n: number, startsAt = now): boolean {
    this.refusals = 0;
    this.startsAt = startsAt;
    this.expiresAt = startsAt + LEASE_MS;
    if (startsAt > now) {
      this.tokens = n;
      return false;
    }
    this.tokens = n - 1;
    return true;
  }

  /**
   * The table holds too few tokens until `retryAt`. The sandbox asks again only after then plus a
   * jitter that doubles with each refusal in a row, so sandboxes refused together do not all write
   * again at the same moment (the table's writes stay few however many sandboxes wait).
   */
  refused(now: number, retryAt: number, random: () => number): number {
    this.refusals++;
    this.tokens = 0;
    const spread = Math.min(MAX_REFUSAL_BACKOFF_MS, this.sliceMs() * 2 ** this.refusals);
    this.refusedUntil = Math.max(now, retryAt) + random() * spread;
    return this.refusedUntil - now;
  }

  /**
   * Returns a token this call took but did not spend (another bucket of the call refused it, so
   * nothing was sent): back into the slice it came from while that slice lasts; after it, the token
   * would have expired unspent anyway.
   */
  giveBack(now: number): void {
    if (now < this.expiresAt) this.tokens++;
  }

  /** Tokens held now (tests, the bench), reserved ones included. */
  held(now: number): number {
    return now < this.expiresAt ? this.tokens : 0;
  }

  /** When the sandbox's reserved slice may be spent (tests). */
  get reservedFrom(): number {
    return this.startsAt;
  }

  /**
   * The slice to lease: the demand of one lease period, at most half the burst (so one sandbox never
   * takes the whole bucket), at least one token. Demand is the calls of the last second, or of this
   * one so far scaled to a second (from half a second on, so one early call does not lease a lot).
   */
  private want(now: number): number {
    const into = Math.max(0.5, (now - this.second * 1000) / 1000);
    const perSecond = Math.max(this.thisSecond / into, this.lastSecond);
    return Math.max(1, Math.min(this.maxSlice(), Math.ceil((perSecond * LEASE_MS) / 1000)));
  }

  /** A busy sandbox waits for a worthwhile slice rather than writing for one token at a time. */
  private minGrant(want: number): number {
    return Math.min(want, Math.max(1, Math.floor(this.maxSlice() / 2)));
  }

  private maxSlice(): number {
    return Math.max(1, Math.floor(this.limits.burst / 2));
  }

  /** How long the bucket takes to refill one slice. */
  private sliceMs(): number {
    return (this.maxSlice() * 1000) / this.limits.perSecond;
  }

  private count(now: number): void {
    const s = Math.floor(now / 1000);
    if (s !== this.second) {
      this.lastSecond = s === this.second + 1 ? this.thisSecond : 0;
      this.thisSecond = 0;
      this.second = s;
    }
    this.thisSecond++;
  }
}

/** The buckets of one sandbox, by target and scope; a changed limit starts a new share. */
export class LeasedBuckets {
  private readonly byKey = new Map<string, LeasedBucket>();

  get(target: string, scope: string, limits: BucketLimits): LeasedBucket {
    const key = `${target}\0${scope}`;
    let b = this.byKey.get(key);
    if (!b || b.limits.perSecond !== limits.perSecond || b.limits.burst !== limits.burst) {
      b = new LeasedBucket(limits);
      this.byKey.set(key, b);
    }
    return b;
  }
}
