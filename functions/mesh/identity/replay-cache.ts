/**
 * Nonces seen within the token lifetime. Bounded: expired entries are dropped first; when still full,
 * the oldest entry goes. With tokens living about 10 s, 10,000 entries hold every nonce of some
 * hundreds of verified calls a second per runtime: far beyond a classic sandbox (one invocation at a
 * time); an environment of Lambda Managed Instances serving many invocations at once can pass it, and
 * then forgets its oldest nonces first.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly capacity = 10_000) {}

  /** Records `key` until `expiresAtS`; false when it was already there (a replay). */
  claim(key: string, expiresAtS: number, nowS: number): boolean {
    const known = this.seen.get(key);
    if (known !== undefined && known >= nowS) return false;
    if (this.seen.size >= this.capacity) this.prune(nowS);
    this.seen.set(key, expiresAtS);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(nowS: number): void {
    for (const [k, exp] of this.seen) if (exp < nowS) this.seen.delete(k);
    // Map iterates in insertion order: the first keys are the oldest.
    for (const k of this.seen.keys()) {
      if (this.seen.size < this.capacity) break;
      this.seen.delete(k);
    }
  }
}
