/** Line diff for version comparison: trims common prefix/suffix, LCS in the middle (bounded). */
export interface DiffLine {
  op: ' ' | '+' | '-';
  text: string;
}

export function diffLines(a: string, b: string, maxCells = 4_000_000): DiffLine[] {
  const A = a.split('\n');
  const B = b.split('\n');
  let s = 0;
  while (s < A.length && s < B.length && A[s] === B[s]) s++;
  let ea = A.length;
  let eb = B.length;
  while (ea > s && eb > s && A[ea - 1] === B[eb - 1]) {
    ea--;
    eb--;
  }
  const head: DiffLine[] = A.slice(0, s).map((text) => ({ op: ' ', text }));
  const tail: DiffLine[] = A.slice(ea).map((text) => ({ op: ' ', text }));
  const ma = A.slice(s, ea);
  const mb = B.slice(s, eb);
  let mid: DiffLine[];
  if (ma.length * mb.length > maxCells) {
    mid = [...ma.map((text) => ({ op: '-' as const, text })), ...mb.map((text) => ({ op: '+' as const, text }))];
  } else {
    const n = ma.length;
    const m = mb.length;
    const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = ma[i] === mb[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    mid = [];
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (ma[i] === mb[j]) {
        mid.push({ op: ' ', text: ma[i] });
        i++;
        j++;
      } else if (L[i + 1][j] >= L[i][j + 1]) mid.push({ op: '-', text: ma[i++] });
      else mid.push({ op: '+', text: mb[j++] });
    }
    while (i < n) mid.push({ op: '-', text: ma[i++] });
    while (j < m) mid.push({ op: '+', text: mb[j++] });
  }
  return [...head, ...mid, ...tail];
}

/** Keep only changed lines plus `context` lines around them; gaps become a "…" marker. */
export function compact(lines: DiffLine[], context = 3): Array<DiffLine | null> {
  const keep = new Uint8Array(lines.length);
  lines.forEach((l, i) => {
    if (l.op !== ' ') for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k++) keep[k] = 1;
  });
  const out: Array<DiffLine | null> = [];
  let gap = false;
  lines.forEach((l, i) => {
    if (keep[i]) {
      out.push(l);
      gap = false;
    } else if (!gap) {
      out.push(null);
      gap = true;
    }
  });
  return out;
}
