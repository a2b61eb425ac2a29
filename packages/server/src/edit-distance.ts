/**
 * Levenshtein distance, for names a few characters long: a model's name against a ref to it, an
 * encoding's against one misspelt. Its own module so models/ and sources/ can both use it.
 */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    row = next;
  }
  return row[b.length] ?? 0;
}

/** The names a letter or two from one of those typed (in any case): the keys a "did you mean" offers. */
export function namesNear(typed: readonly string[], names: readonly string[]): string[] {
  return names.filter((name) =>
    typed.some((key) => key !== name && editDistance(key.toLowerCase(), name) <= 2),
  );
}
