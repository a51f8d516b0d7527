/** Edit distance between two strings (Levenshtein), for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** Up to three candidates close to `input`: small edit distance, or one containing the other's key part. */
export function suggest(input: string, candidates: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(input.length / 4));
  const tail = input.split(".").pop() ?? input;
  return candidates
    .map((c) => ({ c, d: editDistance(input, c) }))
    .filter(({ c, d }) => d <= limit || (tail.length >= 4 && c.split(".").pop()?.includes(tail) === true))
    .sort((x, y) => x.d - y.d)
    .slice(0, 3)
    .map(({ c }) => c);
}
