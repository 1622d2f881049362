/**
 * Edit distance for "did you mean" hints (config keys, env vars, Debian package names): insertions,
 * deletions, substitutions and swaps of two neighbours each count 1 (optimal string alignment), since a
 * swap (`gti` for `git`) is among the commonest typos.
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, at(i - 2, j - 2) + 1);
      row[j] = d;
    }
  }
  return at(a.length, b.length);
}

/** How far a candidate may be from `word` and still be a likely typo of it. */
export const typoDistance = (word: string): number => Math.max(2, Math.floor(word.length / 3));
