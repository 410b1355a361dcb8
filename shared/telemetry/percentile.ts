/**
 * Exact percentiles over a small window of samples (nearest-rank). The window is bounded by the store,
 * so sorting a copy is cheap and the numbers match what an operator would compute by hand.
 */

/** Nearest-rank percentile of `sorted` (ascending), `p` in 0..100; undefined when there are no samples. */
export function percentileOfSorted(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be between 0 and 100, got ${p}`);
  if (p === 0) return sorted[0];
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1];
}

export interface Percentiles {
  readonly p50: number | undefined;
  readonly p95: number | undefined;
  readonly p99: number | undefined;
}

/** p50/p95/p99 of unsorted samples (the input is not modified). */
export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const arr = Array.from(sorted);
  return { p50: percentileOfSorted(arr, 50), p95: percentileOfSorted(arr, 95), p99: percentileOfSorted(arr, 99) };
}
