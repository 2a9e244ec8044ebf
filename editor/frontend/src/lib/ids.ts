/** Windmill-style step ids: a, b, …, z, aa, ab, … (bijective base 26). */
export function idFromNumber(n: number): string {
  let s = '';
  let k = n + 1;
  while (k > 0) {
    const r = (k - 1) % 26;
    s = String.fromCharCode(97 + r) + s;
    k = Math.floor((k - 1) / 26);
  }
  return s;
}

/** First id in the a, b, … sequence that is not taken. */
export function nextId(taken: Set<string> | Iterable<string>): string {
  const set = taken instanceof Set ? taken : new Set(taken);
  for (let n = 0; ; n++) {
    const id = idFromNumber(n);
    if (!set.has(id)) return id;
  }
}
