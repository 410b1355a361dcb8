/**
 * Weighted rendezvous (highest random weight) hashing: each version scores `-weight / ln(u)` where
 * `u` in (0, 1) is a hash of (key, version); the highest score wins. A key's choice depends only on
 * its own scores, so removing (ejecting) a version moves only the keys that were on it, and each
 * version gets its weight's share of keys.
 * See Schindelhauer & Schomaker, "Weighted distributed hash tables" (2005).
 */

/**
 * The version `key` sticks to among `weights`, skipping `excluded` and zero weights;
 * undefined when none is left.
 */
export function rendezvousPick(
  key: string,
  weights: Readonly<Record<string, number>>,
  excluded?: ReadonlySet<string>,
): string | undefined {
  let best: string | undefined;
  let bestScore = -Infinity;
  for (const version of Object.keys(weights)) {
    const w = weights[version];
    if (!(w > 0) || excluded?.has(version)) continue;
    const u = unitHash(`${key}\u0000${version}`);
    const score = -w / Math.log(u);
    // Ties (practically impossible) break on the version text, so the result never depends on key order.
    if (score > bestScore || (score === bestScore && best !== undefined && version < best)) {
      best = version;
      bestScore = score;
    }
  }
  return best;
}

/** A 53-bit hash of `s` mapped into the open interval (0, 1). */
export function unitHash(s: string): number {
  return (hash53(s) + 0.5) / 2 ** 53;
}

/**
 * cyrb53 (public domain, bryc): a fast, well-mixed 53-bit string hash. Not cryptographic; it only
 * needs to spread keys evenly and be the same in every process (no seed, no randomness).
 */
export function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
