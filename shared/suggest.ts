/**
 * "Did you mean": the closest known word to a mistyped command, flag or service, as git and npm offer
 * it. Pure. Close means within a third of the word's length in edits (at least one), so `stauts` finds
 * `status` while an unrelated word finds nothing rather than a guess.
 */

/** ` (did you mean "status"?)`, or '' when no known word is close. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const best = closest(word, known);
  return best === undefined ? '' : ` (did you mean ${JSON.stringify(best)}?)`;
}

/** The known word fewest edits away from `word`, if within the bound; the first of a tie. */
export function closest(word: string, known: Iterable<string>): string | undefined {
  const bound = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = bound + 1;
  for (const candidate of known) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      const d =
        i === 0
          ? j
          : Math.min(
              rows[i - 1]![j]! + 1,
              rows[i]![j - 1]! + 1,
              rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
            );
      const swapped = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1];
      rows[i]![j] = swapped ? Math.min(d, rows[i - 2]![j - 2]! + 1) : d;
    }
  }
  return rows[a.length]![b.length]!;
}
