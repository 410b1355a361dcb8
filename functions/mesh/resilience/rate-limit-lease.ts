/**
 * Where a sandbox leases rate-limit slices (rate-limit.ts): the shape of a lease, and the leaser that
 * keeps the buckets in memory. The policy table's leaser is rate-limit-table.ts, loaded only where a
 * limit applies.
 */
import { type BucketLimits, planLease, RESERVE_MS } from './rate-limit';
export interface LeaseRequest {
  readonly target: string;
  readonly scope: string;
  readonly limits: BucketLimits;
  readonly want: number;
  readonly minGrant: number;
  readonly now: number;
}

/** `granted` tokens spendable from `startsAt`, or none and when to ask again. */
export interface LeaseResult {
  readonly granted: number;
  readonly startsAt?: number;
  readonly retryAt?: number;
}

/** Where slices are leased from: the policy table, or (tests, no table) memory. */
export interface RateLimitLeaser {
  lease(req: LeaseRequest): Promise<LeaseResult>;
  /** Table writes sent, refused ones included (the bench reports writes per admitted call). */
  readonly writes: number;
}

/**
 * The same buckets in memory: one process's sandboxes share them (tests), or a function without a
 * policy table limits each sandbox on its own.
 */
export class MemoryLeaser implements RateLimitLeaser {
  writes = 0;
  private readonly tats = new Map<string, number>();

  async lease(req: LeaseRequest): Promise<LeaseResult> {
    const key = `${req.target}\0${req.scope}`;
    this.writes++;
    const plan = planLease(this.tats.get(key), req.now, req.limits, req.want, req.minGrant, RESERVE_MS);
    if ('retryAt' in plan) return { granted: 0, retryAt: plan.retryAt };
    this.tats.set(key, plan.tat);
    return { granted: plan.grant, startsAt: plan.startsAt };
  }
}
