/**
 * Linkerd's retry budget: over a sliding window (10 s), retries are allowed while
 * `retries <= ratio * requests + minPerSecond * windowSeconds`. It caps the extra load retries add
 * (20% by default) so a struggling target is not buried under retry storms, while the floor keeps
 * low-traffic callers able to retry at all.
 *
 * Bounded memory: counts live in fixed per-interval buckets (10 of 1 s), recycled as time moves on.
 * Pure: time comes in as `now` (epoch ms).
 */
import { DEFAULTS } from '../../../shared/policy-rules';

export interface RetryBudgetOptions {
  /** Retries allowed per original request. @default 0.2 */
  readonly ratio?: number;
  /** Retries allowed per second regardless of traffic. @default 10 */
  readonly minPerSecond?: number;
  /** Length of the sliding window. @default 10000 */
  readonly windowMs?: number;
  /** Buckets the window is cut into (its resolution). @default 10 */
  readonly buckets?: number;
}

export interface RetryBudgetSnapshot {
  readonly requests: number;
  readonly retries: number;
  /** Retries the window allows in total: ratio * requests + minPerSecond * window seconds. */
  readonly allowance: number;
}

export const RETRY_BUDGET_WINDOW_MS = 10_000;

export class RetryBudget {
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly windowMs: number;
  private readonly bucketMs: number;
  /** Bucket i holds counts for interval `stamps[i]` (floor(now / bucketMs)). */
  private readonly stamps: number[];
  private readonly requests: number[];
  private readonly retries: number[];

  constructor(options: RetryBudgetOptions = {}) {
    this.ratio = options.ratio ?? DEFAULTS.budget.ratio;
    this.minPerSecond = options.minPerSecond ?? DEFAULTS.budget.minPerSecond;
    this.windowMs = options.windowMs ?? RETRY_BUDGET_WINDOW_MS;
    const n = Math.max(1, Math.floor(options.buckets ?? 10));
    this.bucketMs = this.windowMs / n;
    this.stamps = new Array<number>(n).fill(-Infinity);
    this.requests = new Array<number>(n).fill(0);
    this.retries = new Array<number>(n).fill(0);
  }

  /** Counts one original request (not a retry). */
  recordRequest(now: number): void {
    this.requests[this.bucket(now)]++;
  }

  /** Counts one retry (call it when a retry is actually sent). */
  recordRetry(now: number): void {
    this.retries[this.bucket(now)]++;
  }

  /** Whether one more retry now stays within the budget. */
  canRetry(now: number): boolean {
    const s = this.snapshot(now);
    // Small epsilon: 0.2 * 5 must allow exactly 1 retry despite floating point.
    return s.retries + 1 <= s.allowance + 1e-9;
  }

  /** `canRetry` and, when allowed, `recordRetry`, in one step. */
  tryRetry(now: number): boolean {
    if (!this.canRetry(now)) return false;
    this.recordRetry(now);
    return true;
  }

  /** The window's counts as of `now`. */
  snapshot(now: number): RetryBudgetSnapshot {
    const cur = Math.floor(now / this.bucketMs);
    const oldest = cur - this.stamps.length + 1;
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < this.stamps.length; i++) {
      if (this.stamps[i] >= oldest && this.stamps[i] <= cur) {
        requests += this.requests[i];
        retries += this.retries[i];
      }
    }
    return { requests, retries, allowance: this.ratio * requests + this.minPerSecond * (this.windowMs / 1000) };
  }

  private bucket(now: number): number {
    const stamp = Math.floor(now / this.bucketMs);
    const n = this.stamps.length;
    const i = ((stamp % n) + n) % n;
    if (this.stamps[i] !== stamp) {
      this.stamps[i] = stamp;
      this.requests[i] = 0;
      this.retries[i] = 0;
    }
    return i;
  }
}

/** One budget per target (Linkerd keeps one per route); created on first use. */
export class RetryBudgets {
  private readonly byTarget = new Map<string, RetryBudget>();

  get(target: string, options: RetryBudgetOptions = {}): RetryBudget {
    let b = this.byTarget.get(target);
    if (
      !b ||
      b.ratio !== (options.ratio ?? DEFAULTS.budget.ratio) ||
      b.minPerSecond !== (options.minPerSecond ?? DEFAULTS.budget.minPerSecond)
    ) {
      // The policy changed: start a fresh budget (losing 10 s of counts is harmless).
      b = new RetryBudget(options);
      this.byTarget.set(target, b);
    }
    return b;
  }
}
