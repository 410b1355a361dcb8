/**
 * Capped exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and
 * Jitter", 2015): delay = random(0, min(maxDelay, base * 2^(attempt - 1))). Full jitter spreads
 * retries of many callers apart, which matters more than the mean delay.
 */
import { DEFAULTS } from '../../../shared/policy-rules';

export interface BackoffOptions {
  /** @default 25 */
  readonly baseDelayMs?: number;
  /** @default 1000 */
  readonly maxDelayMs?: number;
}

/** The upper bound of the delay before retry number `attempt` (1 = the first retry). */
export function backoffCeiling(attempt: number, options: BackoffOptions = {}): number {
  const base = Math.max(0, options.baseDelayMs ?? DEFAULTS.retries.baseDelayMs);
  const max = Math.max(0, options.maxDelayMs ?? DEFAULTS.retries.maxDelayMs);
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  // The exponent is capped: 0 * 2 ** 1024 would be 0 * Infinity = NaN.
  return Math.min(max, base * 2 ** Math.min(n - 1, 64));
}

/**
 * The delay in whole ms before retry number `attempt`, anywhere from 0 to the ceiling inclusive.
 * `random` returns [0, 1) like Math.random (injectable for tests); out-of-range values are clamped.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const ceiling = Math.floor(backoffCeiling(attempt, options));
  let r = random();
  if (!(r >= 0)) r = 0; // NaN or negative
  // r >= 1 gives ceiling + 1 or more here, which the min brings back to the ceiling.
  return Math.min(ceiling, Math.floor(r * (ceiling + 1)));
}
