/**
 * Smooth weighted round-robin (nginx's `ngx_http_upstream_get_peer`): every pick adds each version's
 * weight to its running score, takes the highest score and subtracts the total from it. Picks are
 * deterministic and spread evenly (0.9/0.1 gives nine 1s and one 2 in every ten picks, not nine 1s in
 * a row), so any window of n picks is within a few picks of n * weight per version.
 *
 * Pure: no clock, no randomness. One instance per target, kept across calls.
 */

export class WeightedRoundRobin {
  /** The versions in a stable order (sorted), so equal weights give the same sequence everywhere. */
  readonly versions: readonly string[];
  private readonly weights: readonly number[];
  private readonly scores: number[];
  /** The exclusion set the scores were built under; a change restarts the cycle. */
  private excludedKey = '';

  constructor(weights: Readonly<Record<string, number>>) {
    const entries = Object.entries(weights)
      .filter(([, w]) => Number.isFinite(w) && w > 0)
      .sort(([a], [b]) => compareVersions(a, b));
    this.versions = entries.map(([v]) => v);
    this.weights = entries.map(([, w]) => w);
    this.scores = entries.map(() => 0);
    this.signature = signatureOf(weights);
  }

  /** A stable text form of the weights this instance was built from (to tell when they change). */
  readonly signature: string;

  /**
   * The next version, skipping `excluded` ones (ejected): their share goes to the others in
   * proportion to their weights. Undefined when every version with a weight is excluded.
   */
  pick(excluded?: ReadonlySet<string>): string | undefined {
    const key = excluded && excluded.size > 0 ? [...excluded].sort().join(',') : '';
    if (key !== this.excludedKey) {
      // Restart from zero: stale scores of a version coming back would otherwise burst it.
      this.scores.fill(0);
      this.excludedKey = key;
    }
    let best = -1;
    let total = 0;
    for (let i = 0; i < this.versions.length; i++) {
      if (key && excluded!.has(this.versions[i])) continue;
      this.scores[i] += this.weights[i];
      total += this.weights[i];
      if (best < 0 || this.scores[i] > this.scores[best]) best = i;
    }
    if (best < 0) return undefined;
    this.scores[best] -= total;
    return this.versions[best];
  }
}

/** Numeric versions sort as numbers ("2" before "10"); anything else as text. */
export function compareVersions(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isInteger(na) && Number.isInteger(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Text form of a weight map, independent of key order. */
export function signatureOf(weights: Readonly<Record<string, number>>): string {
  return Object.keys(weights)
    .sort(compareVersions)
    .map((v) => `${v}=${weights[v]}`)
    .join(',');
}
