/** Small wording helpers shared by the pages. */

/** "1 step", "3 steps": a count with its noun, plural by adding "s" (all our nouns are regular). */
export function countLabel(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
