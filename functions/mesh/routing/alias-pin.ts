/**
 * Outlier ejection behind an alias. Lambda applies the alias weights server-side, so the caller
 * cannot leave a bad version out of the draw; what it can do is invoke the healthy version(s) it has
 * seen behind the alias by their version qualifier while the bad one is ejected. Pure: the caller
 * keeps the versions it observed (X-Amz-Executed-Version) and passes the ejected set.
 */

/**
 * The version to pin this call to, or undefined to call the alias: pins only while a version seen
 * behind the alias is ejected and at least one seen version is not (several healthy ones take turns).
 */
export function pinBehindAlias(
  seen: ReadonlySet<string>,
  ejected: ReadonlySet<string>,
  turn: number,
): string | undefined {
  const healthy: string[] = [];
  let anyEjected = false;
  for (const v of seen) {
    if (ejected.has(v)) anyEjected = true;
    else healthy.push(v);
  }
  if (!anyEjected || healthy.length === 0) return undefined;
  return healthy[turn % healthy.length];
}

/**
 * Per target and alias: the versions seen running behind it (X-Amz-Executed-Version), least recently
 * seen first, and whose turn it is among the healthy ones. One per client, shared by its calls.
 */
export class AliasVersions {
  private readonly byAlias = new Map<string, Set<string>>();
  private turn = 0;

  /** The versions seen behind `alias` of `target` (created empty; the caller adds with `saw`). */
  seen(target: string, alias: string): Set<string> {
    const key = `${target}\u0000${alias}`;
    let s = this.byAlias.get(key);
    if (!s) {
      s = new Set();
      this.byAlias.set(key, s);
    }
    return s;
  }

  /** The versions seen behind `alias` of `target`, if any were (creates nothing: for readers). */
  behind(target: string, alias: string): ReadonlySet<string> | undefined {
    return this.byAlias.get(`${target}\u0000${alias}`);
  }

  /** `pinBehindAlias` with this client's turn (each call moves it on, so healthy versions alternate). */
  pin(seen: ReadonlySet<string>, ejected: ReadonlySet<string>): string | undefined {
    return pinBehindAlias(seen, ejected, this.turn++);
  }
}

/** Records that `version` ran. An alias runs at most two versions: the two seen last are kept (a promoted alias drops the old one). */
export function saw(seen: Set<string>, version: string): void {
  seen.delete(version);
  seen.add(version);
  if (seen.size > 2) seen.delete(seen.values().next().value!);
}
