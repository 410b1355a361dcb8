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
  if (ejected.size === 0 || seen.size < 2) return undefined;
  const healthy: string[] = [];
  let anyEjected = false;
  for (const v of seen) {
    if (ejected.has(v)) anyEjected = true;
    else healthy.push(v);
  }
  if (!anyEjected || healthy.length === 0) return undefined;
  return healthy[turn % healthy.length];
}
